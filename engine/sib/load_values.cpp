// The loader's value helpers (load_detail.hpp): reporting, map and list shapes, numbers and
// their ranges, names, choices, references to named entries, and lists of named entries.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <system_error>

#include "sib/load_detail.hpp"

namespace sib::load_detail {

/// Numbers in messages: up to 10 significant digits, locale-free.
std::string fmt(double v) {
    char buf[64];
    auto result = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 10);
    return std::string(buf, result.ptr);
}

/// "a", "a or b", "a, b or c".
std::string one_of(const std::vector<std::string>& options) {
    std::string out;
    for (std::size_t i = 0; i < options.size(); ++i) {
        if (i > 0) out += i + 1 == options.size() ? " or " : ", ";
        out += options[i];
    }
    return out;
}

/// Strict: the whole token must be a decimal number (an optional leading '+' as YAML allows).
NumberParse parse_number(std::string_view s, double& out) {
    std::string_view digits = s;
    if (!digits.empty() && digits.front() == '+') {
        digits.remove_prefix(1);
        if (!digits.empty() && (digits.front() == '+' || digits.front() == '-'))
            return NumberParse::not_a_number;
    }
    std::string_view lower_check = digits;
    if (!lower_check.empty() && lower_check.front() == '-') lower_check.remove_prefix(1);
    // YAML's own spellings of infinity and not-a-number.
    static const std::set<std::string_view> yaml_specials = {".inf", ".Inf", ".INF",
                                                             ".nan", ".NaN", ".NAN"};
    if (yaml_specials.count(lower_check)) return NumberParse::not_finite;
    if (digits.empty()) return NumberParse::not_a_number;
    double v = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (end != digits.data() + digits.size()) return NumberParse::not_a_number;
    if (ec == std::errc::result_out_of_range) return NumberParse::not_finite;
    if (ec != std::errc()) return NumberParse::not_a_number;
    if (!std::isfinite(v)) return NumberParse::not_finite;
    out = v;
    return NumberParse::ok;
}

Range at_least(double lo) {
    return {lo, infinity, false, false};
}
Range greater_than(double lo) {
    return {lo, infinity, true, false};
}
Range between(double lo, double hi) {
    return {lo, hi, false, false};
}

void Loader::error(const Node& at, const std::string& path, std::string message) {
    if (at.from_set) message += " (from --set)";
    sink_.error(at.loc, path, std::move(message));
}

void Loader::error(const Key& at, const std::string& path, std::string message) {
    if (at.from_set) message += " (from --set)";
    sink_.error(at.loc, path, std::move(message));
}

bool Loader::expect_map(const Node& n, const std::string& path) {
    if (n.is_map()) return true;
    error(n, path, "expected a map, got " + describe(n));
    return false;
}

bool Loader::expect_list(const Node& n, const std::string& path) {
    if (n.is_list()) return true;
    error(n, path, "expected a list, got " + describe(n));
    return false;
}

/// Unknown keys, with a hint (keys given twice were reported and dropped before).
void Loader::check_keys(const Node& map, const std::string& path, Section section) {
    for (const Key& key : map.keys)
        if (!find_key(section, key.text))
            error(key, path,
                  "unknown key " + quote(key.text) + did_you_mean(key.text, keys_of(section)));
}

/// A key that must be given; a missing one is reported at its map.
const Node* Loader::require(const Node& map, const std::string& path, const std::string& key) {
    if (const Node* n = map.find(key)) return n;
    error(map, path, "missing required key " + quote(key));
    return nullptr;
}

/// Keys of `section` that have no meaning in `variant` (e.g. `per` on a rate_card rule), as the
/// key table says (load_keys.hpp).
void Loader::reject_keys(const Node& map, const std::string& path, Section section,
                         unsigned variant, const std::string& context) {
    for (const auto& key : map.keys)
        if (const KeySpec* spec = find_key(section, key.text); spec && !(spec->variants & variant))
            error(key, path, key.text + " has no meaning for " + context);
}

std::optional<double> Loader::number(const Node& n, const std::string& path) {
    if (!n.is_scalar() || n.quoted) {
        error(n, path, "expected a number, got " + describe(n));
        return std::nullopt;
    }
    double v = 0;
    switch (parse_number(n.text, v)) {
        case NumberParse::ok:
            return v;
        case NumberParse::not_a_number:
            error(n, path, "expected a number, got " + quote(n.text));
            return std::nullopt;
        case NumberParse::not_finite:
            error(n, path, "must be a finite number, got " + quote(n.text));
            return std::nullopt;
    }
    return std::nullopt;
}

bool Loader::in_range(const Node& n, const std::string& path, double v, const Range& range,
                      const std::string& context) {
    if (range.contains(v)) return true;
    error(n, path, range.describe() + context + ", got " + fmt(v));
    return false;
}

std::optional<double> Loader::number(const Node& n, const std::string& path, const Range& range,
                                     const std::string& context) {
    auto v = number(n, path);
    if (!v || !in_range(n, path, *v, range, context)) return std::nullopt;
    return v;
}

/// A money value: at least 0 and at most max_money.
std::optional<double> Loader::money(const Node& n, const std::string& path) {
    return number(n, path, between(0, max_money));
}

std::optional<long long> Loader::whole(const Node& n, const std::string& path, long long lo,
                                       long long hi) {
    auto v = number(n, path);
    if (!v) return std::nullopt;
    if (*v != std::floor(*v)) {
        error(n, path, "must be a whole number, got " + fmt(*v));
        return std::nullopt;
    }
    if (!in_range(n, path, *v, between(static_cast<double>(lo), static_cast<double>(hi))))
        return std::nullopt;
    return static_cast<long long>(*v);
}

std::optional<int> Loader::whole_int(const Node& n, const std::string& path, int lo, int hi) {
    auto v = whole(n, path, lo, hi);
    if (!v) return std::nullopt;
    return static_cast<int>(*v);
}

std::optional<std::string> Loader::text(const Node& n, const std::string& path) {
    if (n.is_scalar()) return n.text;
    error(n, path, "expected a string, got " + describe(n));
    return std::nullopt;
}

std::optional<std::string> Loader::name(const Node& n, const std::string& path) {
    auto s = text(n, path);
    if (s && s->empty()) {
        error(n, path, "must not be empty");
        return std::nullopt;
    }
    return s;
}

std::optional<std::size_t> Loader::choice(const Node& n, const std::string& path,
                                          const std::vector<std::string>& options) {
    auto s = text(n, path);
    if (!s) return std::nullopt;
    auto it = std::find(options.begin(), options.end(), *s);
    if (it != options.end()) return static_cast<std::size_t>(it - options.begin());
    error(n, path, "must be " + one_of(options) + ", got " + quote(*s) + did_you_mean(*s, options));
    return std::nullopt;
}

/// A name that must refer to an entry of `names`; unknown names are errors with a hint,
/// unless the list itself was broken (then one error there is enough).
std::optional<std::size_t> Loader::refer(const Node& n, const std::string& path, const Names& names,
                                         const std::string& what) {
    auto s = text(n, path);
    if (!s) return std::nullopt;
    if (const std::size_t* i = names.find(*s)) return *i;
    if (names.complete)
        error(n, path, what + " " + quote(*s) + " is not defined" + did_you_mean(*s, names.names));
    return std::nullopt;
}

std::optional<std::size_t> Loader::refer(const Key& k, const std::string& path, const Names& names,
                                         const std::string& what) {
    if (const std::size_t* i = names.find(k.text)) return *i;
    if (names.complete)
        error(k, path,
              what + " " + quote(k.text) + " is not defined" + did_you_mean(k.text, names.names));
    return std::nullopt;
}

/// The entries of a list of maps with a `name` each; names are checked (present, a
/// non-empty string, unique) and recorded in `names`.
std::vector<Entry> Loader::entries(const Node& list, const std::string& path, Names& names,
                                   bool at_least_one, std::size_t at_most) {
    std::vector<Entry> out;
    if (!expect_list(list, path)) return out;
    if (at_least_one && list.items.empty()) error(list, path, "must have at least one entry");
    if (!check_count(list, path, at_most)) return out;
    names.complete = true;
    std::map<std::string, const Node*> first;
    for (std::size_t i = 0; i < list.items.size(); ++i) {
        const Node& item = list.items[i];
        std::string item_path = index_path(path, i);
        if (!expect_map(item, item_path)) {
            names.complete = false;
            continue;
        }
        Entry e{&item, item_path, "", i};
        const Node* name_node = require(item, item_path, "name");
        std::optional<std::string> n;
        if (name_node) n = name(*name_node, join(item_path, "name"));
        if (!n) {
            names.complete = false;
        } else if (auto it = first.find(*n); it != first.end()) {
            error(*name_node, join(item_path, "name"),
                  "duplicate name " + quote(*n) + " (first at line " +
                      std::to_string(it->second->loc.line) + ")");
            e.name = *n;
        } else {
            first.emplace(*n, name_node);
            e.name = *n;
            e.path = join(path, *n);
            names.names.push_back(*n);
        }
        out.push_back(e);
    }
    return out;
}

/// A list of at most `at_most` entries (docs/limits.md); false, reported, when longer.
bool Loader::check_count(const Node& list, const std::string& path, std::size_t at_most) {
    if (list.items.size() <= at_most) return true;
    error(list, path,
          "must have at most " + std::to_string(at_most) + " entries, got " +
              std::to_string(list.items.size()));
    return false;
}

/// Records `name` as the entry at `position` of the Scenario's vector (first one wins).
void Loader::record(Names& names, const Entry& e, std::size_t position) {
    if (!e.name.empty() && !names.index.count(e.name)) names.index.emplace(e.name, position);
}

}  // namespace sib::load_detail
