#pragma once
// The YAML tree layer of the loader (load.hpp): text -> a small tree of our own (Node) that keeps
// 1-based locations and whether a value came from `--set`. Here are the text checks (empty,
// binary), the limits on nesting, values and bytes once aliases are expanded, duplicate keys,
// `--set` overrides applied to the tree, and reading a file. load_yaml.cpp is the only file that
// includes yaml-cpp; the checks of what the keys mean are in load_detail.hpp.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sib/diagnostics.hpp"
#include "sib/load.hpp"

namespace sib::load_detail {

inline constexpr int max_depth = 64;                 // nesting levels of YAML values
inline constexpr std::size_t max_nodes = 1'000'000;  // values after alias expansion
inline constexpr std::size_t max_text_bytes = 64u
                                              << 20;  // bytes of keys and scalars after expansion

struct Key {
    std::string text;
    SourceLoc loc;
    bool from_set = false;
};

struct Node {
    enum class Kind { null, scalar, list, map };
    Kind kind = Kind::null;
    std::string text;         ///< scalar text
    bool quoted = false;      ///< quoted or tagged scalar: a string, never a number
    std::vector<Key> keys;    ///< map keys, parallel to items
    std::vector<Node> items;  ///< list entries, or map values
    SourceLoc loc;
    bool from_set = false;  ///< replaced by `--set`: loc is that of the node it replaced

    bool is_map() const { return kind == Kind::map; }
    bool is_list() const { return kind == Kind::list; }
    bool is_scalar() const { return kind == Kind::scalar; }

    /// The value of the first `key` in a map, or nullptr.
    const Node* find(std::string_view key) const {
        if (!is_map()) return nullptr;
        for (std::size_t i = 0; i < keys.size(); ++i)
            if (keys[i].text == key) return &items[i];
        return nullptr;
    }
};

/// One step of the path to a node: a map key, or a list entry (by its name when it has one).
/// Paths are spelled out only for a message, so long keys cost nothing when all is well.
struct PathStep {
    const PathStep* parent = nullptr;
    const Node* list_item = nullptr;  ///< a list entry, else a map key
    const std::string* key = nullptr;
    std::size_t index = 0;

    std::string spell() const {
        if (!parent) return "";
        std::string path = parent->spell();
        if (list_item) {
            const Node* name = list_item->find("name");
            if (name && name->is_scalar() && !name->text.empty())
                return path.empty() ? name->text : path + "." + name->text;
            return path + "[" + std::to_string(index) + "]";
        }
        return path.empty() ? *key : path + "." + *key;
    }
};

/// Reports every key given twice in a map, anywhere in the tree, and drops the later ones.
void drop_duplicate_keys(Node& n, const PathStep& at, DiagnosticSink& sink);

/// Applies one `--set` to the tree; a path that names nothing or a value that is not YAML is
/// reported to `sink`.
void apply_override(Node& root, const Override& o, DiagnosticSink& sink);

/// Text checks and parsing shared by scenario and observed files; throws on any problem.
Node parse_file(std::string_view text, DiagnosticSink& sink);

/// Throws every collected problem, in file order.
void throw_sorted(DiagnosticSink& sink);

/// The whole file, or an InputError naming it with the system's reason.
std::string read_file(const std::string& path);

// ---- Paths and descriptions for messages ----

/// "path.key" (just "key" at the top level).
std::string join(std::string_view path, std::string_view key);
/// "path[i]".
std::string index_path(std::string_view path, std::size_t i);
std::string quote(std::string_view s);
/// What a node is, for "expected ..., got ..." messages.
std::string describe(const Node& n);

}  // namespace sib::load_detail
