// The YAML tree layer (load_yaml.hpp): the only file that includes yaml-cpp.
#include "sib/load_yaml.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <system_error>
#include <utility>

namespace sib::load_detail {
namespace {

SourceLoc to_loc(const YAML::Mark& mark) {
    if (mark.line < 0 || mark.column < 0) return {};
    return {mark.line + 1, mark.column + 1};
}

/// Copies a yaml-cpp tree, guarding against alias cycles and alias bombs.
class Converter {
  public:
    std::optional<std::string> problem;
    SourceLoc problem_loc;

    Node convert(const YAML::Node& y, int depth = 0) {
        Node n;
        n.loc = to_loc(y.Mark());
        if (problem) return n;
        if (depth > max_depth) {
            fail(n.loc, "values are nested too deeply (more than " + std::to_string(max_depth) +
                            " levels)");
            return n;
        }
        if (++count_ > max_nodes) {
            fail(n.loc, "too many values (more than " + std::to_string(max_nodes) +
                            " once aliases are expanded)");
            return n;
        }
        switch (y.Type()) {
            case YAML::NodeType::Scalar:
                if (!add_bytes(y.Scalar().size(), n.loc)) return n;
                n.kind = Node::Kind::scalar;
                n.text = y.Scalar();
                n.quoted = y.Tag() != "?";
                break;
            case YAML::NodeType::Sequence:
                n.kind = Node::Kind::list;
                for (const auto& item : y) n.items.push_back(convert(item, depth + 1));
                break;
            case YAML::NodeType::Map:
                n.kind = Node::Kind::map;
                for (auto it = y.begin(); it != y.end(); ++it) {
                    Key key{"", to_loc(it->first.Mark()), false};
                    if (!it->first.IsScalar()) {
                        fail(key.loc, "map keys must be plain names");
                        return n;
                    }
                    if (!add_bytes(it->first.Scalar().size(), key.loc)) return n;
                    key.text = it->first.Scalar();
                    Node value = convert(it->second, depth + 1);
                    // yaml-cpp marks an empty value at whatever follows it: point at its key.
                    if (value.kind == Node::Kind::null) value.loc = key.loc;
                    n.keys.push_back(std::move(key));
                    n.items.push_back(std::move(value));
                }
                break;
            default:
                break;
        }
        return n;
    }

  private:
    std::size_t count_ = 0;
    std::size_t bytes_ = 0;
    /// Counts the bytes an alias expands to too, so that one long scalar reused through many
    /// aliases cannot fill memory (docs/limits.md).
    bool add_bytes(std::size_t bytes, SourceLoc loc) {
        bytes_ += bytes;
        if (bytes_ <= max_text_bytes) return true;
        fail(loc, "too much text (more than " + std::to_string(max_text_bytes >> 20) +
                      " MiB of keys and values once aliases are expanded)");
        return false;
    }
    void fail(SourceLoc loc, std::string message) {
        problem = std::move(message);
        problem_loc = loc;
    }
};

/// Marks a value given by `--set`: every part of it is reported at `loc`.
void mark_from_set(Node& n, SourceLoc loc) {
    n.loc = loc;
    n.from_set = true;
    for (auto& k : n.keys) {
        k.loc = loc;
        k.from_set = true;
    }
    for (auto& item : n.items) mark_from_set(item, loc);
}

}  // namespace

/// Reports every key given twice in a map, anywhere in the tree, and drops the later ones, so
/// that no later check sees (or silently prefers) either value.
void drop_duplicate_keys(Node& n, const PathStep& at, DiagnosticSink& sink) {
    if (n.is_map()) {
        std::vector<bool> keep(n.keys.size(), true);
        std::map<std::string_view, int> first;  // key -> line of its first use
        for (std::size_t i = 0; i < n.keys.size(); ++i) {
            auto [it, added] = first.emplace(n.keys[i].text, n.keys[i].loc.line);
            if (added) continue;
            keep[i] = false;
            std::string message = "duplicate key '" + n.keys[i].text + "' (first at line " +
                                  std::to_string(it->second) + ")";
            if (n.keys[i].from_set) message += " (from --set)";
            sink.error(n.keys[i].loc, at.spell(), std::move(message));
        }
        if (std::find(keep.begin(), keep.end(), false) != keep.end()) {
            std::vector<Key> keys;
            std::vector<Node> items;
            for (std::size_t i = 0; i < n.keys.size(); ++i) {
                if (!keep[i]) continue;
                keys.push_back(std::move(n.keys[i]));
                items.push_back(std::move(n.items[i]));
            }
            n.keys = std::move(keys);
            n.items = std::move(items);
        }
        for (std::size_t i = 0; i < n.keys.size(); ++i)
            drop_duplicate_keys(n.items[i], PathStep{&at, nullptr, &n.keys[i].text, i}, sink);
    } else if (n.is_list()) {
        for (std::size_t i = 0; i < n.items.size(); ++i)
            drop_duplicate_keys(n.items[i], PathStep{&at, &n.items[i], nullptr, i}, sink);
    }
}

// ---- Small text helpers ---------------------------------------------------------------------

std::string join(std::string_view path, std::string_view key) {
    if (path.empty()) return std::string(key);
    std::string out(path);
    out += '.';
    out += key;
    return out;
}

std::string index_path(std::string_view path, std::size_t i) {
    return std::string(path) + "[" + std::to_string(i) + "]";
}

std::string quote(std::string_view s) {
    // Built up rather than "'" + std::string(s) + "'", on which GCC 12 warns falsely
    // (-Wrestrict) once quote is compiled on its own.
    std::string out;
    out.reserve(s.size() + 2);
    out += '\'';
    out += s;
    out += '\'';
    return out;
}

std::string describe(const Node& n) {
    switch (n.kind) {
        case Node::Kind::null:
            return "an empty value";
        case Node::Kind::list:
            return "a list";
        case Node::Kind::map:
            return "a map";
        case Node::Kind::scalar:
            return n.quoted ? "the string " + quote(n.text) : quote(n.text);
    }
    return "";
}

// ---- Text checks, parsing and overrides -------------------------------------------------------

namespace {

/// The location of the first NUL byte or invalid UTF-8 sequence, if any.
std::optional<SourceLoc> find_binary(std::string_view text) {
    int line = 1, column = 1;
    std::size_t i = 0;
    auto continuation = [&](std::size_t k) {
        return k < text.size() && (static_cast<unsigned char>(text[k]) & 0xC0) == 0x80;
    };
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        if (c == 0) return SourceLoc{line, column};
        if (c < 0x80) {
            length = 1;
        } else if (c >= 0xC2 && c <= 0xDF) {
            length = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            length = 3;
            auto c1 = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
            if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F))
                return SourceLoc{line, column};
        } else if (c >= 0xF0 && c <= 0xF4) {
            length = 4;
            auto c1 = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
            if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
                return SourceLoc{line, column};
        } else {
            return SourceLoc{line, column};
        }
        for (std::size_t k = 1; k < length; ++k)
            if (!continuation(i + k)) return SourceLoc{line, column};
        if (c == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
        i += length;
    }
    return std::nullopt;
}

/// Notes where each document starts, building nothing.
class DocumentCounter : public YAML::EventHandler {
  public:
    SourceLoc last_start;
    void OnDocumentStart(const YAML::Mark& mark) override { last_start = to_loc(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

/// yaml-cpp 0.7 reads some malformed text (",:", found by fuzzing) as an endless stream of
/// documents, which LoadAll collects until memory runs out. A real stream has at most one
/// document per line (each after a "---" line), so more than that is reported where the parser
/// got stuck. Parse errors are thrown as by LoadAll.
bool documents_end(const std::string& text, DiagnosticSink& sink) {
    const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentCounter counter;
    for (std::size_t documents = 0; parser.HandleNextDocument(counter);) {
        if (++documents > lines) {
            sink.error(counter.last_start, "", "the YAML parser cannot get past this point");
            return false;
        }
    }
    return true;
}

/// Parses YAML text into our tree; problems go to `sink` (and the result is then empty).
std::optional<Node> parse_yaml(std::string_view text, DiagnosticSink& sink, bool whole_file) {
    try {
        if (!documents_end(std::string(text), sink)) return std::nullopt;
        std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
        if (docs.empty()) return Node{};
        if (whole_file && docs.size() > 1) {
            sink.error(to_loc(docs[1].Mark()), "",
                       "file holds " + std::to_string(docs.size()) +
                           " YAML documents; a scenario file holds one");
            return std::nullopt;
        }
        Converter converter;
        Node root = converter.convert(docs.front());
        if (converter.problem) {
            sink.error(converter.problem_loc, "", *converter.problem);
            return std::nullopt;
        }
        return root;
    } catch (const YAML::Exception& e) {
        sink.error(to_loc(e.mark), "", e.msg);
        return std::nullopt;
    }
}

/// The names a path can take below `n`: map keys, or the `name` of list entries.
std::vector<std::string> children(const Node& n) {
    std::vector<std::string> out;
    if (n.is_map()) {
        for (const auto& k : n.keys) out.push_back(k.text);
    } else if (n.is_list()) {
        for (const auto& item : n.items)
            if (const Node* name = item.find("name"); name && name->is_scalar())
                out.push_back(name->text);
    }
    return out;
}

}  // namespace

/// Applies one `--set` to the tree (docs/model.md). Names may contain dots: the longest name that
/// matches the rest of the path wins.
void apply_override(Node& root, const Override& o, DiagnosticSink& sink) {
    Node* current = &root;
    std::string walked;
    std::string_view rest = o.path;
    Node* target = nullptr;
    bool created = false;
    while (!target) {
        std::vector<std::string> names = children(*current);
        std::optional<std::size_t> best;
        for (std::size_t i = 0; i < names.size(); ++i) {
            const std::string& c = names[i];
            bool match = rest == c || (rest.size() > c.size() && rest.substr(0, c.size()) == c &&
                                       rest[c.size()] == '.');
            if (match && (!best || c.size() > names[*best].size())) best = i;
        }
        if (best) {
            const std::string& c = names[*best];
            Node* next = nullptr;
            if (current->is_map()) {
                next = &current->items[*best];
            } else {
                std::size_t seen = 0;
                for (auto& item : current->items) {
                    const Node* name = item.find("name");
                    if (name && name->is_scalar() && seen++ == *best) {
                        next = &item;
                        break;
                    }
                }
            }
            walked = join(walked, c);
            if (rest.size() == c.size()) {
                target = next;
            } else {
                rest.remove_prefix(c.size() + 1);
                current = next;
            }
            continue;
        }
        std::string segment(rest.substr(0, rest.find('.')));
        if (current->is_map() && segment.size() == rest.size() && !segment.empty()) {
            current->keys.push_back({segment, current->loc, true});
            current->items.emplace_back();
            target = &current->items.back();
            target->loc = current->loc;
            created = true;
            walked = join(walked, segment);
            break;
        }
        std::string message = "--set names nothing" + did_you_mean(segment, names);
        if (current->from_set) message += " (from --set)";
        sink.error(current->loc, join(walked, segment), message);
        return;
    }
    SourceLoc loc = target->loc;
    DiagnosticSink value_sink;
    std::optional<Node> value = parse_yaml(o.value, value_sink, false);
    if (!value) {
        sink.error(loc, walked,
                   "--set value is not valid YAML: " + value_sink.diagnostics.front().message);
        if (created) {
            current->keys.pop_back();
            current->items.pop_back();
        }
        return;
    }
    mark_from_set(*value, loc);
    *target = std::move(*value);
}

/// Text checks and parsing shared by scenario and observed files; throws on any problem.
Node parse_file(std::string_view text, DiagnosticSink& sink) {
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        sink.error({1, 1}, "", "file is empty");
        sink.throw_if_any();
    }
    if (auto where = find_binary(text)) {
        sink.error(*where, "", "not a text file");
        sink.throw_if_any();
    }
    std::optional<Node> root = parse_yaml(text, sink, true);
    sink.throw_if_any();
    if (root->kind == Node::Kind::null) {
        sink.error({1, 1}, "", "file is empty");
        sink.throw_if_any();
    }
    return std::move(*root);
}

/// Throws every collected problem, in file order.
void throw_sorted(DiagnosticSink& sink) {
    std::stable_sort(sink.diagnostics.begin(), sink.diagnostics.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                         return std::make_pair(a.loc.line, a.loc.column) <
                                std::make_pair(b.loc.line, b.loc.column);
                     });
    sink.throw_if_any();
}

/// The whole file, or an InputError naming it with the system's reason.
std::string read_file(const std::string& path) {
    std::string text;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    int failure = f ? 0 : errno;
    if (f) {
        char buf[65536];
        std::size_t got = 0;
        while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, got);
        if (std::ferror(f)) failure = errno ? errno : EIO;
        std::fclose(f);
    }
    if (failure) {
        std::string reason = std::error_code(failure, std::generic_category()).message();
        throw InputError({Diagnostic{path, {1, 1}, "", "cannot read file: " + reason}});
    }
    return text;
}

}  // namespace sib::load_detail
