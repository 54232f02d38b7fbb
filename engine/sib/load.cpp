// YAML text -> Scenario. The only file that includes yaml-cpp.
//
// The YAML text is first copied into a small tree of our own (Node) that keeps 1-based locations
// and whether a value came from `--set`; overrides are applied to that tree; then one pass checks
// every key and builds the Scenario, collecting every problem into a DiagnosticSink. Checks that
// depend on a value that was itself wrong are skipped, so that one mistake gives one message.
#include "sib/load.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>

namespace sib {
namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();
constexpr int max_depth = 64;                      // nesting levels of YAML values
constexpr std::size_t max_nodes = 1'000'000;       // values after alias expansion
constexpr std::size_t max_text_bytes = 64u << 20;  // bytes of keys and scalars after expansion
constexpr double max_size = 10'000'000;            // participants in one cohort
constexpr long long max_period = 1200;             // horizon and every period count
constexpr double share_tolerance = 1e-9;

// Money and counts stay far inside what a double holds exactly, so that every sum, square and
// product the engine forms is finite and exact to the cent (docs/limits.md).
constexpr double max_money = 1e12;          // any money value written in a scenario
constexpr double max_money_product = 1e15;  // the most one rule, saving or cost can come to
constexpr double max_count_mean = 1e6;      // a count outcome's events per participant
constexpr double max_events = 1e13;         // events in one cohort or its comparison group

// Limits on how much a scenario may ask of the engine, so that no input makes it allocate or
// loop absurdly (docs/limits.md). Each is far beyond any real outcomes contract.
constexpr std::size_t max_cohorts = 1000;
constexpr std::size_t max_outcomes = 100;
constexpr std::size_t max_rules = 1000;
constexpr std::size_t max_payers = 100;
constexpr std::size_t max_tranches = 100;
constexpr std::size_t max_correlations = 1000;
constexpr std::size_t max_schedule_points = 1000;
constexpr long long max_batch_counts = 1'000'000;  // enrolment periods over cohorts x outcomes

// ---- Our own copy of the YAML tree ----------------------------------------------------------

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

/// Numbers in messages: up to 10 significant digits, locale-free.
std::string fmt(double v) {
    char buf[64];
    auto result = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 10);
    return std::string(buf, result.ptr);
}

std::string quote(std::string_view s) {
    return "'" + std::string(s) + "'";
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

enum class NumberParse { ok, not_a_number, not_finite };

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

/// An interval a number must lie in, and its description for messages.
struct Range {
    double lo = -infinity;
    double hi = infinity;
    bool lo_open = false;
    bool hi_open = false;

    bool contains(double v) const {
        bool above = lo_open ? v > lo : v >= lo;
        bool below = hi_open ? v < hi : v <= hi;
        return above && below;
    }
    std::string describe() const {
        bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
        if (has_lo && has_hi && lo_open == hi_open)
            return "must be between " + fmt(lo) + " and " + fmt(hi) +
                   (lo_open ? " (exclusive)" : "");
        std::string lo_part = (lo_open ? "greater than " : "at least ") + fmt(lo);
        std::string hi_part = (hi_open ? "less than " : "at most ") + fmt(hi);
        if (has_lo && has_hi) return "must be " + lo_part + " and " + hi_part;
        if (has_lo) return "must be " + lo_part;
        if (has_hi) return "must be " + hi_part;
        return "";
    }
};

Range at_least(double lo) {
    return {lo, infinity, false, false};
}
Range greater_than(double lo) {
    return {lo, infinity, true, false};
}
Range between(double lo, double hi) {
    return {lo, hi, false, false};
}

double standard_normal_cdf(double x) {
    return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

/// Rounds down to 4 significant digits, so that a printed upper bound is itself allowed.
double round_down_4(double v) {
    if (!(v > 0)) return v;
    double scale = std::pow(10.0, 3 - std::floor(std::log10(v)));
    return std::floor(v * scale) / scale;
}

// ---- The checks -------------------------------------------------------------------------------

/// A list entry: its map, its path (by name, or by index without a usable name) and its name.
struct Entry {
    const Node* node = nullptr;
    std::string path;
    std::string name;  ///< empty when it has no usable name
    std::size_t index = 0;
};

/// What is known of a list of named things, for references to them.
struct Names {
    std::vector<std::string> names;
    std::map<std::string, std::size_t> index;  ///< name -> position in the Scenario's vector
    bool complete = false;  ///< every entry had a usable name: unknown names are errors

    const std::size_t* find(const std::string& name) const {
        auto it = index.find(name);
        return it == index.end() ? nullptr : &it->second;
    }
};

enum class UncertainState { fixed, distribution, invalid };

struct OutcomeInfo {
    const Node* node = nullptr;
    std::string path;
    bool kind_ok = false;
    bool timing_ok = false;  ///< observed_after valid
    const Node* after_node = nullptr;
    const Node* instead_of_node = nullptr;
    const Node* observed_after_node = nullptr;
    bool baseline_given = false;  ///< the key is there (even if its value was wrong)
    bool rate_given = false;
};

struct CohortInfo {
    bool enrol_ok = false;
    const Node* node = nullptr;  ///< the cohort's map, for keys checked after the payers
    std::string path;
};

struct RuleInfo {
    const Node* node = nullptr;
    std::string path;
    bool basis_ok = false;
    bool lag_ok = false;
    std::optional<std::size_t> outcome;  ///< index of a valid outcome
    const Node* net_of_node = nullptr;
};

class Loader {
  public:
    explicit Loader(DiagnosticSink& sink) : sink_(sink) {}

    Scenario load(const Node& root, const std::string& file) {
        Scenario s;
        s.file = file;
        check_keys(
            root, "",
            {"sibsim",  "name",     "description",   "currency",     "period",
             "horizon", "start",    "discount_rate", "minor_unit",   "simulation",
             "cohorts", "outcomes", "payments",      "payers",       "comparison",
             "caps",    "provider", "investors",     "correlations", "participant_correlations"});
        load_header(root, s);
        if (const Node* n = require(root, "", "outcomes")) load_outcomes(*n, s);
        if (const Node* n = require(root, "", "cohorts")) {
            load_cohorts(*n, s);
            check_batch_counts(*n, s);
        }
        if (const Node* n = root.find("comparison")) load_comparison(*n, s);
        if (const Node* n = require(root, "", "payers")) load_payers(*n, s);
        if (const Node* n = require(root, "", "payments")) load_rules(*n, s);
        check_comparison_needed(root, s);
        if (const Node* n = root.find("caps")) load_caps(*n, s);
        load_cohort_payers(s);
        if (const Node* n = root.find("provider")) load_provider(*n, s);
        if (const Node* n = root.find("investors")) load_investors(*n, s);
        if (const Node* n = root.find("correlations")) load_correlations(*n, s);
        if (const Node* n = root.find("participant_correlations"))
            load_participant_correlations(*n, s);
        check_price_after_repaid(root, s);
        check_coupons(s);
        check_observed_over(s);
        check_timing(s);
        check_output_names(root, s);
        check_magnitudes(s);
        return s;
    }

    /// Observed results for `settle` (docs/outputs.md): only the file's own form is checked
    /// here; settle_observed checks names and counts against the scenario.
    Observed load_observed(const Node& root, const std::string& file) {
        Observed observed;
        observed.file = file;
        check_keys(root, "", {"observed"});
        const Node* list = require(root, "", "observed");
        if (!list || !expect_list(*list, "observed")) return observed;
        if (list->items.empty()) error(*list, "observed", "must have at least one entry");
        for (std::size_t i = 0; i < list->items.size(); ++i) {
            const Node& m = list->items[i];
            const std::string path = index_path("observed", i);
            if (!expect_map(m, path)) continue;
            check_keys(
                m, path,
                {"cohort", "outcome", "participants", "mean", "successes", "comparison_mean"});
            Observation o;
            o.loc = m.loc;
            if (const Node* n = require(m, path, "cohort"))
                if (auto v = name(*n, join(path, "cohort"))) o.cohort = *v;
            if (const Node* n = require(m, path, "outcome"))
                if (auto v = name(*n, join(path, "outcome"))) o.outcome = *v;
            if (const Node* n = require(m, path, "participants"))
                if (auto v =
                        whole(*n, join(path, "participants"), 0, static_cast<long long>(max_size)))
                    o.participants = static_cast<double>(*v);
            const Node* mean = m.find("mean");
            const Node* successes = m.find("successes");
            if (mean && successes)
                error(*successes, join(path, "successes"), "give mean or successes, not both");
            else if (!mean && !successes)
                error(m, path, "missing required key 'mean' or 'successes'");
            if (mean) o.mean = number(*mean, join(path, "mean"), between(0, max_count_mean));
            if (successes)
                if (auto v = whole(*successes, join(path, "successes"), 0,
                                   static_cast<long long>(max_size)))
                    o.successes = static_cast<double>(*v);
            if (const Node* n = m.find("comparison_mean"))
                o.comparison_mean =
                    number(*n, join(path, "comparison_mean"), between(0, max_count_mean));
            observed.observations.push_back(std::move(o));
        }
        return observed;
    }

  private:
    DiagnosticSink& sink_;
    std::optional<int> horizon_;
    Names outcome_names_, cohort_names_, rule_names_, payer_names_;
    std::vector<OutcomeInfo> outcome_info_;
    std::vector<CohortInfo> cohort_info_;
    std::vector<RuleInfo> rule_info_;
    std::map<std::string, UncertainState> uncertain_;
    std::vector<std::string> uncertain_paths_;
    std::map<std::string, const Node*> uncertain_nodes_;  ///< path -> the value's node
    const Node* provider_costs_ = nullptr;

    // ---- Reporting ----

    void error(const Node& at, const std::string& path, std::string message) {
        if (at.from_set) message += " (from --set)";
        sink_.error(at.loc, path, std::move(message));
    }
    void error(const Key& at, const std::string& path, std::string message) {
        if (at.from_set) message += " (from --set)";
        sink_.error(at.loc, path, std::move(message));
    }

    // ---- Shapes ----

    bool expect_map(const Node& n, const std::string& path) {
        if (n.is_map()) return true;
        error(n, path, "expected a map, got " + describe(n));
        return false;
    }
    bool expect_list(const Node& n, const std::string& path) {
        if (n.is_list()) return true;
        error(n, path, "expected a list, got " + describe(n));
        return false;
    }

    /// Unknown keys, with a hint (keys given twice were reported and dropped before).
    void check_keys(const Node& map, const std::string& path,
                    const std::vector<std::string>& allowed) {
        for (const Key& key : map.keys)
            if (std::find(allowed.begin(), allowed.end(), key.text) == allowed.end())
                error(key, path,
                      "unknown key " + quote(key.text) + did_you_mean(key.text, allowed));
    }

    /// A key that must be given; a missing one is reported at its map.
    const Node* require(const Node& map, const std::string& path, const std::string& key) {
        if (const Node* n = map.find(key)) return n;
        error(map, path, "missing required key " + quote(key));
        return nullptr;
    }

    /// Keys that have no meaning in this context (e.g. `per` on a rate_card rule).
    void reject_keys(const Node& map, const std::string& path, const std::vector<std::string>& keys,
                     const std::string& context) {
        for (const auto& key : map.keys)
            if (std::find(keys.begin(), keys.end(), key.text) != keys.end())
                error(key, path, key.text + " has no meaning for " + context);
    }

    // ---- Scalars ----

    std::optional<double> number(const Node& n, const std::string& path) {
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

    bool in_range(const Node& n, const std::string& path, double v, const Range& range,
                  const std::string& context = "") {
        if (range.contains(v)) return true;
        error(n, path, range.describe() + context + ", got " + fmt(v));
        return false;
    }

    std::optional<double> number(const Node& n, const std::string& path, const Range& range,
                                 const std::string& context = "") {
        auto v = number(n, path);
        if (!v || !in_range(n, path, *v, range, context)) return std::nullopt;
        return v;
    }

    /// A money value: at least 0 and at most max_money.
    std::optional<double> money(const Node& n, const std::string& path) {
        return number(n, path, between(0, max_money));
    }

    std::optional<long long> whole(const Node& n, const std::string& path, long long lo,
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

    std::optional<int> whole_int(const Node& n, const std::string& path, int lo, int hi) {
        auto v = whole(n, path, lo, hi);
        if (!v) return std::nullopt;
        return static_cast<int>(*v);
    }

    std::optional<std::string> text(const Node& n, const std::string& path) {
        if (n.is_scalar()) return n.text;
        error(n, path, "expected a string, got " + describe(n));
        return std::nullopt;
    }

    std::optional<std::string> name(const Node& n, const std::string& path) {
        auto s = text(n, path);
        if (s && s->empty()) {
            error(n, path, "must not be empty");
            return std::nullopt;
        }
        return s;
    }

    std::optional<std::size_t> choice(const Node& n, const std::string& path,
                                      const std::vector<std::string>& options) {
        auto s = text(n, path);
        if (!s) return std::nullopt;
        auto it = std::find(options.begin(), options.end(), *s);
        if (it != options.end()) return static_cast<std::size_t>(it - options.begin());
        error(n, path,
              "must be " + one_of(options) + ", got " + quote(*s) + did_you_mean(*s, options));
        return std::nullopt;
    }

    /// A name that must refer to an entry of `names`; unknown names are errors with a hint,
    /// unless the list itself was broken (then one error there is enough).
    std::optional<std::size_t> refer(const Node& n, const std::string& path, const Names& names,
                                     const std::string& what) {
        auto s = text(n, path);
        if (!s) return std::nullopt;
        if (const std::size_t* i = names.find(*s)) return *i;
        if (names.complete)
            error(n, path,
                  what + " " + quote(*s) + " is not defined" + did_you_mean(*s, names.names));
        return std::nullopt;
    }
    std::optional<std::size_t> refer(const Key& k, const std::string& path, const Names& names,
                                     const std::string& what) {
        if (const std::size_t* i = names.find(k.text)) return *i;
        if (names.complete)
            error(
                k, path,
                what + " " + quote(k.text) + " is not defined" + did_you_mean(k.text, names.names));
        return std::nullopt;
    }

    // ---- Named lists ----

    /// The entries of a list of maps with a `name` each; names are checked (present, a
    /// non-empty string, unique) and recorded in `names`.
    std::vector<Entry> entries(const Node& list, const std::string& path, Names& names,
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
    bool check_count(const Node& list, const std::string& path, std::size_t at_most) {
        if (list.items.size() <= at_most) return true;
        error(list, path,
              "must have at most " + std::to_string(at_most) + " entries, got " +
                  std::to_string(list.items.size()));
        return false;
    }

    /// Records `name` as the entry at `position` of the Scenario's vector (first one wins).
    static void record(Names& names, const Entry& e, std::size_t position) {
        if (!e.name.empty() && !names.index.count(e.name)) names.index.emplace(e.name, position);
    }

    // ---- Uncertain values (docs/scenario-format.md) ----

    std::optional<Uncertain> uncertain(const Node& n, const std::string& path) {
        std::optional<Uncertain> u = parse_uncertain(n, path);
        UncertainState state = !u ? UncertainState::invalid
                               : std::holds_alternative<Fixed>(u->dist)
                                   ? UncertainState::fixed
                                   : UncertainState::distribution;
        if (!uncertain_.count(path)) uncertain_paths_.push_back(path);
        uncertain_[path] = state;
        uncertain_nodes_[path] = &n;
        return u;
    }

    std::optional<Uncertain> parse_uncertain(const Node& n, const std::string& path) {
        Uncertain u;
        u.path = path;
        u.loc = n.loc;
        if (n.is_scalar()) {
            auto v = number(n, path);
            if (!v) return std::nullopt;
            u.dist = Fixed{*v};
            return u;
        }
        if (!n.is_map()) {
            error(n, path, "expected a number or a distribution {dist: ...}, got " + describe(n));
            return std::nullopt;
        }
        static const std::vector<std::string> all_keys = {"dist", "mean", "sd",
                                                          "min",  "mode", "max"};
        static const std::vector<std::string> dists = {"normal", "lognormal", "uniform",
                                                       "triangular", "beta"};
        static const std::vector<std::vector<std::string>> params = {{"mean", "sd", "min", "max"},
                                                                     {"mean", "sd"},
                                                                     {"min", "max"},
                                                                     {"min", "mode", "max"},
                                                                     {"mean", "sd"}};
        check_keys(n, path, all_keys);
        const Node* dist_node = require(n, path, "dist");
        if (!dist_node) return std::nullopt;
        auto which = choice(*dist_node, join(path, "dist"), dists);
        if (!which) return std::nullopt;
        const auto& allowed = params[*which];
        for (const auto& key : n.keys) {
            if (key.text == "dist" ||
                std::find(allowed.begin(), allowed.end(), key.text) != allowed.end())
                continue;
            if (std::find(all_keys.begin(), all_keys.end(), key.text) != all_keys.end())
                error(key, path,
                      key.text + " has no meaning for a " + dists[*which] + " distribution");
        }
        bool ok = true;
        auto param = [&](const std::string& key, bool required) -> std::optional<double> {
            const Node* p = required ? require(n, path, key) : n.find(key);
            if (!p) {
                if (required) ok = false;
                return std::nullopt;
            }
            auto v = number(*p, join(path, key));
            if (!v) ok = false;
            return v;
        };
        auto node_of = [&](const std::string& key) -> const Node& { return *n.find(key); };
        auto positive_sd = [&](std::optional<double> sd) {
            if (sd && !in_range(node_of("sd"), join(path, "sd"), *sd, greater_than(0),
                                " (use a plain number for a fixed value)"))
                ok = false;
        };
        switch (*which) {
            case 0: {  // normal
                auto mean = param("mean", true), sd = param("sd", true);
                auto lo = param("min", false), hi = param("max", false);
                positive_sd(sd);
                if (lo && hi && !(*lo < *hi)) {
                    error(node_of("max"), join(path, "max"),
                          "must be greater than min (" + fmt(*lo) + "), got " + fmt(*hi));
                    ok = false;
                }
                if (!ok) return std::nullopt;
                double p_lo = lo ? standard_normal_cdf((*lo - *mean) / *sd) : 0.0;
                double p_hi = hi ? standard_normal_cdf((*hi - *mean) / *sd) : 1.0;
                double q_lo = lo ? standard_normal_cdf((*mean - *lo) / *sd) : 1.0;
                double q_hi = hi ? standard_normal_cdf((*mean - *hi) / *sd) : 0.0;
                if (std::max(p_hi - p_lo, q_lo - q_hi) < 1e-9) {
                    error(n, path,
                          "min and max leave almost none of the normal distribution (less than "
                          "1e-9 of it)");
                    return std::nullopt;
                }
                u.dist = Normal{*mean, *sd, lo, hi};
                return u;
            }
            case 1: {  // lognormal
                auto mean = param("mean", true), sd = param("sd", true);
                if (mean && !in_range(node_of("mean"), join(path, "mean"), *mean, greater_than(0),
                                      " for a lognormal"))
                    ok = false;
                positive_sd(sd);
                if (!ok) return std::nullopt;
                u.dist = Lognormal{*mean, *sd};
                return u;
            }
            case 2: {  // uniform
                auto lo = param("min", true), hi = param("max", true);
                if (!ok) return std::nullopt;
                if (!(*lo < *hi)) {
                    error(node_of("max"), join(path, "max"),
                          "must be greater than min (" + fmt(*lo) + "), got " + fmt(*hi));
                    return std::nullopt;
                }
                u.dist = Uniform{*lo, *hi};
                return u;
            }
            case 3: {  // triangular
                auto lo = param("min", true), mode = param("mode", true), hi = param("max", true);
                if (!ok) return std::nullopt;
                if (!(*lo < *hi)) {
                    error(node_of("max"), join(path, "max"),
                          "must be greater than min (" + fmt(*lo) + "), got " + fmt(*hi));
                    return std::nullopt;
                }
                if (!in_range(node_of("mode"), join(path, "mode"), *mode, between(*lo, *hi),
                              " (from min to max)"))
                    return std::nullopt;
                u.dist = Triangular{*lo, *mode, *hi};
                return u;
            }
            default: {  // beta
                auto mean = param("mean", true), sd = param("sd", true);
                if (mean && !in_range(node_of("mean"), join(path, "mean"), *mean,
                                      Range{0, 1, true, true}, " for a beta"))
                    ok = false;
                positive_sd(sd);
                if (!ok) return std::nullopt;
                double variance_limit = *mean * (1 - *mean);
                if (!(*sd * *sd < variance_limit)) {
                    error(node_of("sd"), join(path, "sd"),
                          "must be less than " + fmt(round_down_4(std::sqrt(variance_limit))) +
                              " for a beta with mean " + fmt(*mean) +
                              " (sd^2 < mean*(1-mean)), got " + fmt(*sd));
                    return std::nullopt;
                }
                u.dist = Beta{*mean, *sd};
                return u;
            }
        }
    }

    /// Bounds on a fixed value (a distribution's draws are clamped by the engine instead).
    bool check_fixed(const Node& n, const std::string& path, const Uncertain& u, const Range& range,
                     const std::string& context) {
        if (const auto* f = std::get_if<Fixed>(&u.dist))
            return in_range(n, path, f->value, range, context);
        return true;
    }

    std::optional<Uncertain> outcome_value(const Node& n, const std::string& path,
                                           const std::string& key, const OutcomeInfo* info,
                                           const Outcome* o) {
        auto u = uncertain(n, path);
        if (!u) return u;
        if (key == "effect") {
            check_fixed(n, path, *u, at_least(-1), " (a fall of 100%)");
        } else if (info && info->kind_ok) {
            if (o->kind == OutcomeKind::binary)
                check_fixed(n, path, *u, between(0, 1), " for a binary outcome");
            else
                check_fixed(n, path, *u, between(0, max_count_mean), " for a count outcome");
        }
        return u;
    }

    // ---- Sections ----

    void load_header(const Node& root, Scenario& s) {
        if (const Node* n = require(root, "", "sibsim")) {
            if (auto v = whole(*n, "sibsim", 0, 1'000'000); v && *v != 1)
                error(*n, "sibsim",
                      "unsupported format version " + std::to_string(*v) +
                          "; this sibsim reads version 1");
        }
        if (const Node* n = require(root, "", "name"))
            if (auto v = name(*n, "name")) s.name = *v;
        if (const Node* n = root.find("description"))
            if (auto v = text(*n, "description")) s.description = *v;
        if (const Node* n = root.find("currency"))
            if (auto v = name(*n, "currency")) s.currency = *v;
        if (const Node* n = root.find("period"))
            if (auto v = choice(*n, "period", {"month", "quarter", "year"}))
                s.period = *v == 0   ? PeriodUnit::month
                           : *v == 1 ? PeriodUnit::quarter
                                     : PeriodUnit::year;
        if (const Node* n = require(root, "", "horizon")) {
            horizon_ = whole_int(*n, "horizon", 1, static_cast<int>(max_period));
            if (horizon_) s.horizon = *horizon_;
        }
        if (const Node* n = root.find("start")) load_start(*n, s);
        if (const Node* n = root.find("discount_rate"))
            if (auto v = number(*n, "discount_rate", Range{-1, 1, true, false}))
                s.discount_rate = *v;
        if (const Node* n = root.find("minor_unit")) {
            // Money is paid in whole minor units: a power of ten, so that amounts written in
            // decimals stay exact in it.
            if (auto v = number(*n, "minor_unit", Range{0, 1, true, false})) {
                const double exponent = std::log10(*v);
                if (exponent < -4 - 1e-9 || std::abs(exponent - std::round(exponent)) > 1e-9)
                    error(*n, "minor_unit",
                          "must be a power of ten from 0.0001 to 1 (0.01 for pennies or cents, 1 "
                          "for a currency without a minor unit), got " +
                              fmt(*v));
                else
                    s.minor_unit = std::pow(10.0, std::round(exponent));
            }
        }
        if (const Node* n = root.find("simulation")) {
            if (expect_map(*n, "simulation")) {
                check_keys(*n, "simulation", {"trials", "seed"});
                if (const Node* t = n->find("trials"))
                    if (auto v = whole(*t, "simulation.trials", 1, 1'000'000'000)) s.trials = *v;
                if (const Node* seed = n->find("seed")) load_seed(*seed, s);
            }
        }
    }

    void load_start(const Node& n, Scenario& s) {
        auto v = text(n, "start");
        if (!v) return;
        const std::string& t = *v;
        bool ok = t.size() == 7 && t[4] == '-';
        int year = 0, month = 0;
        if (ok) {
            auto [p1, e1] = std::from_chars(t.data(), t.data() + 4, year);
            auto [p2, e2] = std::from_chars(t.data() + 5, t.data() + 7, month);
            ok = e1 == std::errc() && p1 == t.data() + 4 && e2 == std::errc() &&
                 p2 == t.data() + 7 && std::isdigit(static_cast<unsigned char>(t[0])) &&
                 std::isdigit(static_cast<unsigned char>(t[5])) && month >= 1 && month <= 12;
        }
        if (!ok) {
            error(n, "start", "must be a month as YYYY-MM (month 01 to 12), got " + quote(t));
            return;
        }
        s.start = YearMonth{year, month};
    }

    void load_seed(const Node& n, Scenario& s) {
        // Seeds go up to 2^64 - 1, beyond what a double holds exactly: parse as an integer.
        if (n.is_scalar() && !n.quoted) {
            unsigned long long seed = 0;
            std::string_view t = n.text;
            if (!t.empty() && t.front() == '+') t.remove_prefix(1);
            auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), seed);
            if (ec == std::errc() && end == t.data() + t.size() && !t.empty() && t[0] != '-') {
                s.seed = seed;
                return;
            }
        }
        auto v = number(n, "simulation.seed");
        if (!v) return;
        if (*v != std::floor(*v)) {
            error(n, "simulation.seed", "must be a whole number, got " + fmt(*v));
        } else if (*v < 0) {
            error(n, "simulation.seed", "must be at least 0, got " + fmt(*v));
        } else if (*v >= 18446744073709551616.0) {
            error(n, "simulation.seed", "must be less than 2^64, got " + fmt(*v));
        } else {
            s.seed = static_cast<unsigned long long>(*v);  // whole and in range, e.g. "1e6"
        }
    }

    void load_outcomes(const Node& list, Scenario& s) {
        for (const Entry& e : entries(list, "outcomes", outcome_names_, true, max_outcomes)) {
            const Node& m = *e.node;
            check_keys(m, e.path,
                       {"name", "kind", "better", "baseline", "effect", "rate", "dispersion",
                        "observed_after", "observed_by", "observed_over", "after", "instead_of",
                        "rate_without"});
            Outcome o;
            o.name = e.name;
            o.loc = m.loc;
            OutcomeInfo info;
            info.node = &m;
            info.path = e.path;
            if (const Node* n = require(m, e.path, "kind")) {
                if (auto v = choice(*n, join(e.path, "kind"), {"count", "binary"})) {
                    o.kind = *v == 0 ? OutcomeKind::count : OutcomeKind::binary;
                    info.kind_ok = true;
                }
            }
            if (const Node* n = m.find("better"))
                if (auto v = choice(*n, join(e.path, "better"), {"higher", "lower"}))
                    o.better = *v == 0 ? Better::higher : Better::lower;
            for (const char* key : {"baseline", "rate", "effect"}) {
                const Node* n = m.find(key);
                if (!n) continue;
                auto u = outcome_value(*n, join(e.path, key), key, &info, &o);
                if (std::string_view(key) == "baseline") o.baseline = u;
                if (std::string_view(key) == "rate") o.rate = u;
                if (std::string_view(key) == "effect") o.effect = u;
            }
            info.baseline_given = m.find("baseline") != nullptr;
            info.rate_given = m.find("rate") != nullptr;
            const Node* effect = m.find("effect");
            if (effect && m.find("rate"))
                error(*effect, join(e.path, "effect"),
                      "effect has no meaning with rate; give baseline and effect, or rate");
            if (!m.find("baseline") && !m.find("rate"))
                error(m, e.path, "missing required key 'baseline' or 'rate'");
            if (const Node* n = m.find("dispersion")) {
                if (info.kind_ok && o.kind == OutcomeKind::binary) {
                    error(*n, join(e.path, "dispersion"),
                          "dispersion applies to count outcomes only");
                } else if (auto v = number(*n, join(e.path, "dispersion"), between(1, 1000))) {
                    o.dispersion = *v;
                }
            }
            info.timing_ok = true;
            if (const Node* n = m.find("observed_after")) {
                info.observed_after_node = n;
                auto v =
                    whole_int(*n, join(e.path, "observed_after"), 0, static_cast<int>(max_period));
                if (v)
                    o.observed_after = *v;
                else
                    info.timing_ok = false;
            }
            if (const Node* n = m.find("observed_by")) {
                info.observed_after_node = n;
                if (m.find("observed_after")) {
                    error(*n, join(e.path, "observed_by"),
                          "give observed_after or observed_by, not both");
                    info.timing_ok = false;
                } else if (auto v = whole_int(*n, join(e.path, "observed_by"), 0,
                                              static_cast<int>(max_period))) {
                    o.observed_by = *v;
                } else {
                    info.timing_ok = false;
                }
            }
            if (const Node* n = m.find("observed_over")) load_observed_over(*n, m, e.path, o, info);
            if (const Node* n = m.find("instead_of")) {
                if (o.kind != OutcomeKind::binary) {
                    if (info.kind_ok)
                        error(*n, join(e.path, "instead_of"),
                              "instead_of applies to binary outcomes only");
                } else if (auto v = name(*n, join(e.path, "instead_of"))) {
                    o.instead_of = *v;
                    info.instead_of_node = n;
                }
            }
            if (const Node* n = m.find("after")) {
                if (info.kind_ok && o.kind == OutcomeKind::count) {
                    error(*n, join(e.path, "after"), "after applies to binary outcomes only");
                } else if (auto v = name(*n, join(e.path, "after"))) {
                    o.after = *v;
                    info.after_node = n;
                }
            }
            if (const Node* n = m.find("rate_without")) load_rate_without(*n, m, e.path, info, o);
            record(outcome_names_, e, s.outcomes.size());
            s.outcomes.push_back(std::move(o));
            outcome_info_.push_back(info);
        }
        check_after(s);
    }

    /// `rate_without`: a binary follower's probability for participants without its leader.
    void load_rate_without(const Node& n, const Node& m, const std::string& outcome_path,
                           const OutcomeInfo& info, Outcome& o) {
        const std::string path = join(outcome_path, "rate_without");
        if (info.kind_ok && o.kind != OutcomeKind::binary) {
            error(n, path, "rate_without applies to binary outcomes only");
        } else if (!m.find("after")) {
            error(n, path,
                  "needs 'after': it is the probability for participants without the "
                  "outcome named there");
        } else if (m.find("instead_of")) {
            error(n, path, "cannot be combined with instead_of");
        } else if (m.find("baseline")) {
            // A baseline is given the leader; there would be none for participants without it.
            error(n, path,
                  "cannot be combined with baseline: give rate, and every achievement "
                  "counts as caused");
        } else {
            o.rate_without = outcome_value(n, path, "rate_without", &info, &o);
        }
    }

    /// `after`: names another binary outcome, no cycles, not observed before its leader.
    void check_after(const Scenario& s) {
        std::vector<std::optional<std::size_t>> leader(s.outcomes.size());
        for (std::size_t i = 0; i < s.outcomes.size(); ++i) {
            const OutcomeInfo& info = outcome_info_[i];
            if (!info.after_node) continue;
            std::string path = join(info.path, "after");
            auto j = refer(*info.after_node, path, outcome_names_, "outcome");
            if (!j) continue;
            if (*j == i) {
                error(*info.after_node, path, "an outcome cannot follow itself");
                continue;
            }
            const Outcome& l = s.outcomes[*j];
            if (outcome_info_[*j].kind_ok && l.kind != OutcomeKind::binary) {
                error(*info.after_node, path,
                      "must name a binary outcome; " + quote(l.name) + " is a count outcome");
                continue;
            }
            leader[i] = j;
        }
        // instead_of: an earlier binary outcome with the same leader, so that the participants
        // who can achieve this one are those with the leader (or all) less those with the other.
        for (std::size_t i = 0; i < s.outcomes.size(); ++i) {
            const OutcomeInfo& info = outcome_info_[i];
            if (!info.instead_of_node) continue;
            const std::string path = join(info.path, "instead_of");
            auto j = refer(*info.instead_of_node, path, outcome_names_, "outcome");
            if (!j) continue;
            const Outcome& x = s.outcomes[*j];
            if (*j >= i) {
                error(*info.instead_of_node, path,
                      "must name an outcome listed before this one; " + quote(x.name) +
                          (*j == i ? " is this outcome" : " comes after it"));
            } else if (outcome_info_[*j].kind_ok && x.kind != OutcomeKind::binary) {
                error(*info.instead_of_node, path,
                      "must name a binary outcome; " + quote(x.name) + " is a count outcome");
            } else if (x.after != s.outcomes[i].after) {
                error(*info.instead_of_node, path,
                      "must name an outcome with the same 'after' as this one (" +
                          (s.outcomes[i].after ? quote(*s.outcomes[i].after) : "none") + "); " +
                          quote(x.name) + " has " + (x.after ? quote(*x.after) : "none"));
            }
        }
        // Cycles: follow each chain; report a cycle once, at its first member in the file.
        std::set<std::size_t> reported;
        for (std::size_t i = 0; i < s.outcomes.size(); ++i) {
            std::vector<std::size_t> chain{i};
            std::optional<std::size_t> next = leader[i];
            while (next && *next != i && chain.size() <= s.outcomes.size()) {
                chain.push_back(*next);
                next = leader[*next];
            }
            if (!next || *next != i) continue;
            if (*std::min_element(chain.begin(), chain.end()) != i) continue;
            std::string cycle;
            for (std::size_t k : chain) cycle += s.outcomes[k].name + " -> ";
            cycle += s.outcomes[i].name;
            error(*outcome_info_[i].after_node, join(outcome_info_[i].path, "after"),
                  "outcomes follow each other in a cycle: " + cycle);
            for (std::size_t k : chain) reported.insert(k);
        }
        for (std::size_t i = 0; i < s.outcomes.size(); ++i) {
            if (!leader[i] || reported.count(i)) continue;
            std::size_t j = *leader[i];
            if (!outcome_info_[i].timing_ok || !outcome_info_[j].timing_ok) continue;
            const Outcome& f = s.outcomes[i];
            const Outcome& l = s.outcomes[j];
            const OutcomeInfo& info = outcome_info_[i];
            if (f.observed_by || l.observed_by) {
                // Decided in check_timing, once the cohorts are known.
                continue;
            }
            if (f.observed_after >= l.observed_after) continue;
            const Node& at = info.observed_after_node ? *info.observed_after_node : *info.node;
            error(at, join(info.path, "observed_after"),
                  "must not be earlier than that of " + quote(l.name) + " (" +
                      std::to_string(l.observed_after) + "), the outcome it follows; got " +
                      std::to_string(f.observed_after));
        }
    }

    void load_cohorts(const Node& list, Scenario& s) {
        for (const Entry& e : entries(list, "cohorts", cohort_names_, true, max_cohorts)) {
            const Node& m = *e.node;
            check_keys(m, e.path, {"name", "size", "enrol", "outcomes", "payers"});
            Cohort c;
            c.name = e.name;
            c.loc = m.loc;
            CohortInfo info;
            info.node = &m;
            info.path = e.path;
            if (const Node* n = require(m, e.path, "size")) {
                std::string path = join(e.path, "size");
                if (auto u = uncertain(*n, path)) {
                    if (std::holds_alternative<Fixed>(u->dist))
                        check_fixed(*n, path, *u, between(0, max_size), "");
                    else if (double mean = mean_of(u->dist); mean > max_size)
                        error(*n, path,
                              "mean must be at most " + fmt(max_size) + ", got " + fmt(mean));
                    c.size = *u;
                }
            }
            if (const Node* n = require(m, e.path, "enrol")) info.enrol_ok = load_enrol(*n, e, c);
            if (const Node* n = m.find("outcomes")) load_overrides(*n, e, c, s);
            record(cohort_names_, e, s.cohorts.size());
            s.cohorts.push_back(std::move(c));
            cohort_info_.push_back(info);
        }
    }

    /// Each trial draws one count per enrolment period of each cohort and outcome: bounded, so
    /// that per-trial arrays stay small (docs/limits.md).
    void check_batch_counts(const Node& list, const Scenario& s) {
        long long periods = 0;
        for (std::size_t c = 0; c < s.cohorts.size(); ++c)
            if (cohort_info_[c].enrol_ok)
                periods += s.cohorts[c].enrol_last - s.cohorts[c].enrol_first + 1;
        const auto outcomes = static_cast<long long>(s.outcomes.size());
        if (periods * outcomes <= max_batch_counts) return;
        error(list, "cohorts",
              "enrolment periods over all cohorts (" + std::to_string(periods) +
                  ") times outcomes (" + std::to_string(outcomes) + ") must be at most " +
                  std::to_string(max_batch_counts) + ", got " + std::to_string(periods * outcomes));
    }

    bool load_enrol(const Node& n, const Entry& e, Cohort& c) {
        std::string path = join(e.path, "enrol");
        if (!n.is_list() || n.items.size() != 2) {
            error(n, path,
                  "expected a list [first, last] of two periods, got " +
                      (n.is_list() ? "a list of " + std::to_string(n.items.size()) : describe(n)));
            return false;
        }
        int hi = static_cast<int>(max_period);
        auto first = whole_int(n.items[0], path, 0, hi);
        auto last = whole_int(n.items[1], path, 0, hi);
        if (!first || !last) return false;
        if (*last < *first) {
            error(n.items[1], path,
                  "last period " + std::to_string(*last) + " is before the first " +
                      std::to_string(*first));
            return false;
        }
        c.enrol_first = *first;
        c.enrol_last = *last;
        if (horizon_ && *last >= *horizon_) {
            error(n.items[1], path,
                  "last period " + std::to_string(*last) + " is at or after the horizon (" +
                      std::to_string(*horizon_) + ")");
            return false;
        }
        return true;
    }

    void load_overrides(const Node& map, const Entry& e, Cohort& c, const Scenario& s) {
        std::string path = join(e.path, "outcomes");
        if (!expect_map(map, path)) return;
        for (std::size_t i = 0; i < map.keys.size(); ++i) {
            const Key& key = map.keys[i];
            const Node& value = map.items[i];
            std::string item_path = join(path, key.text);
            auto index = refer(key, path, outcome_names_, "outcome");
            if (!expect_map(value, item_path)) continue;
            check_keys(value, item_path, {"baseline", "effect", "rate"});
            const OutcomeInfo* info = index ? &outcome_info_[*index] : nullptr;
            const Outcome* o = index ? &s.outcomes[*index] : nullptr;
            OutcomeOverride ov;
            ov.outcome = key.text;
            ov.loc = value.loc;
            for (const char* k : {"baseline", "rate", "effect"}) {
                const Node* n = value.find(k);
                if (!n) continue;
                auto u = outcome_value(*n, join(item_path, k), k, info, o);
                if (std::string_view(k) == "baseline") ov.baseline = u;
                if (std::string_view(k) == "rate") ov.rate = u;
                if (std::string_view(k) == "effect") ov.effect = u;
            }
            const Node* effect = value.find("effect");
            bool has_rate = value.find("rate") || (o && o->rate);
            if (effect && has_rate)
                error(*effect, join(item_path, "effect"),
                      "effect has no meaning with rate; give baseline and effect, or rate");
            if (const Node* b = value.find("baseline"); b && o && o->rate_without)
                error(*b, join(item_path, "baseline"),
                      "cannot be combined with the outcome's rate_without");
            if (index) c.overrides.push_back(std::move(ov));
        }
    }

    void load_comparison(const Node& n, Scenario& s) {
        if (!expect_map(n, "comparison")) return;
        check_keys(n, "comparison", {"kind", "ratio", "historical_until"});
        Comparison c;
        c.loc = n.loc;
        const Node* kind = require(n, "comparison", "kind");
        std::optional<std::size_t> k;
        if (kind) k = choice(*kind, "comparison.kind", {"matched", "historical"});
        const Node* ratio = n.find("ratio");
        if (k && *k == 0) {
            c.kind = ComparisonKind::matched;
            if (!ratio) error(n, "comparison", "missing required key 'ratio'");
        } else if (k) {
            c.kind = ComparisonKind::historical;
            if (ratio)
                error(n.keys[static_cast<std::size_t>(ratio - n.items.data())], "comparison",
                      "ratio applies to matched comparisons only");
        }
        if (ratio && (!k || *k == 0))
            if (auto v = number(*ratio, "comparison.ratio", Range{0, 1000, true, false}))
                c.ratio = *v;
        if (const Node* h = n.find("historical_until")) load_historical_until(*h, k, c);
        s.comparison = c;
    }

    void load_payers(const Node& list, Scenario& s) {
        double sum = 0;
        bool all_shares = true;
        for (const Entry& e : entries(list, "payers", payer_names_, true, max_payers)) {
            const Node& m = *e.node;
            check_keys(m, e.path, {"name", "share", "max", "savings"});
            Payer p;
            p.name = e.name;
            p.loc = m.loc;
            std::optional<double> share;
            if (const Node* n = require(m, e.path, "share"))
                share = number(*n, join(e.path, "share"), between(0, 1));
            if (share) {
                p.share = *share;
                sum += *share;
            } else {
                all_shares = false;
            }
            if (const Node* n = m.find("max")) p.max = money(*n, join(e.path, "max"));
            if (const Node* n = m.find("savings")) {
                std::string path = join(e.path, "savings");
                if (expect_map(*n, path)) {
                    for (std::size_t i = 0; i < n->keys.size(); ++i) {
                        const Key& key = n->keys[i];
                        auto index = refer(key, path, outcome_names_, "outcome");
                        auto v = money(n->items[i], join(path, key.text));
                        if (index && v) p.savings.push_back({key.text, *v, n->items[i].loc});
                    }
                }
            }
            record(payer_names_, e, s.payers.size());
            s.payers.push_back(std::move(p));
        }
        if (all_shares && !s.payers.empty() && std::abs(sum - 1) > share_tolerance)
            error(list, "payers", "shares sum to " + fmt(sum) + ", not 1");
    }

    void load_rules(const Node& list, Scenario& s) {
        static const std::vector<std::string> keys = {
            "name",   "basis",  "outcome",     "payment_lag",        "cap",       "per",
            "price",  "amount", "at_least",    "share_at_least",     "threshold", "schedule",
            "net_of", "payers", "interpolate", "price_after_repaid", "assess",    "observed_after",
            "coupon"};
        auto found = entries(list, "payments", rule_names_, true, max_rules);
        for (const Entry& e : found) {
            const Node& m = *e.node;
            check_keys(m, e.path, keys);
            Rule r;
            r.name = e.name;
            r.loc = m.loc;
            RuleInfo info;
            info.node = &m;
            info.path = e.path;
            std::optional<std::size_t> basis;
            if (const Node* n = require(m, e.path, "basis"))
                basis =
                    choice(*n, join(e.path, "basis"), {"rate_card", "target", "versus_comparison"});
            if (basis) {
                r.basis = static_cast<Basis>(*basis);
                info.basis_ok = true;
            }
            const Node* outcome_node = require(m, e.path, "outcome");
            if (outcome_node) {
                if (outcome_node->is_scalar()) r.outcome = outcome_node->text;
                info.outcome =
                    refer(*outcome_node, join(e.path, "outcome"), outcome_names_, "outcome");
            }
            info.lag_ok = true;
            if (const Node* n = m.find("payment_lag")) {
                auto v =
                    whole_int(*n, join(e.path, "payment_lag"), 0, static_cast<int>(max_period));
                if (v)
                    r.payment_lag = *v;
                else
                    info.lag_ok = false;
            }
            if (const Node* n = m.find("cap")) r.cap = money(*n, join(e.path, "cap"));
            if (const Node* n = m.find("per"))
                if (auto v = choice(*n, join(e.path, "per"), {"all", "cohort"}))
                    r.per = *v == 0 ? Scope::all : Scope::cohort;
            if (const Node* n = m.find("price")) r.price = money(*n, join(e.path, "price"));
            if (const Node* n = m.find("amount")) r.amount = money(*n, join(e.path, "amount"));
            if (const Node* n = m.find("at_least"))
                if (auto v = whole(*n, join(e.path, "at_least"), 0, 1'000'000'000'000'000))
                    r.at_least = static_cast<double>(*v);
            if (const Node* n = m.find("share_at_least"))
                r.share_at_least = number(*n, join(e.path, "share_at_least"), between(0, 1));
            if (const Node* n = m.find("threshold"))
                if (auto v = number(*n, join(e.path, "threshold"), at_least(0))) r.threshold = *v;
            if (const Node* n = m.find("schedule")) load_schedule(*n, e, r);
            if (const Node* n = m.find("interpolate"))
                if (auto v = choice(*n, join(e.path, "interpolate"), {"linear", "step"}))
                    r.schedule_steps = *v == 1;
            if (const Node* n = m.find("price_after_repaid"))
                r.price_after_repaid = money(*n, join(e.path, "price_after_repaid"));
            if (const Node* n = m.find("assess"))
                if (auto v = choice(*n, join(e.path, "assess"),
                                    {"once", "every_period", "each_period"})) {
                    r.every_period = *v >= 1;  // both are assessed every period
                    r.each_period = *v == 2;
                }
            if (const Node* n = m.find("observed_after")) {
                if (auto v = whole_int(*n, join(e.path, "observed_after"), 0,
                                       static_cast<int>(max_period)))
                    r.observed_after = *v;
                else
                    info.lag_ok = false;  // no timing check on a measurement time in error
            }
            if (const Node* n = m.find("net_of")) {
                if (auto v = name(*n, join(e.path, "net_of"))) {
                    r.net_of = *v;
                    info.net_of_node = n;
                }
            }
            if (const Node* n = m.find("payers")) load_rule_payers(*n, e, r);
            if (const Node* n = m.find("coupon")) load_coupon(*n, e, r);
            if (basis) check_basis(m, e, r, info, s);
            record(rule_names_, e, s.rules.size());
            s.rules.push_back(std::move(r));
            rule_info_.push_back(info);
        }
        check_net_of(s);
    }

    void load_schedule(const Node& n, const Entry& e, Rule& r) {
        std::string path = join(e.path, "schedule");
        if (!expect_list(n, path)) return;
        if (n.items.empty()) error(n, path, "must have at least one point [improvement, payment]");
        if (!check_count(n, path, max_schedule_points)) return;
        // A plain pair rather than std::optional: GCC 12 at -O2 warns falsely on the optional.
        double previous = 0;
        bool has_previous = false;
        for (std::size_t i = 0; i < n.items.size(); ++i) {
            const Node& point = n.items[i];
            std::string point_path = index_path(path, i);
            if (!point.is_list() || point.items.size() != 2) {
                error(point, point_path,
                      "expected a pair [improvement, payment], got " +
                          (point.is_list() ? "a list of " + std::to_string(point.items.size())
                                           : describe(point)));
                has_previous = false;
                continue;
            }
            auto improvement = number(point.items[0], point_path);
            auto payment = money(point.items[1], point_path);
            if (improvement && has_previous && !(*improvement > previous))
                error(point.items[0], point_path,
                      "improvements must increase, but " + fmt(*improvement) + " follows " +
                          fmt(previous));
            has_previous = improvement.has_value();
            if (improvement) previous = *improvement;
            if (improvement && payment) r.schedule.push_back({*improvement, *payment});
        }
    }

    void load_rule_payers(const Node& n, const Entry& e, Rule& r) {
        load_payer_shares(n, join(e.path, "payers"), r.payers);
    }

    /// `cohorts[].payers`, once the payers and rules are known: the split of the payments that
    /// arise from that cohort, unless a rule has its own. A pooled group rule (per: all) mixes
    /// cohorts, so it needs its own split; and a per-participant cap's money is not kept by
    /// cohort, so the two cannot be combined.
    void load_cohort_payers(Scenario& s) {
        for (std::size_t c = 0; c < s.cohorts.size() && c < cohort_info_.size(); ++c) {
            const CohortInfo& info = cohort_info_[c];
            const Node* n = info.node ? info.node->find("payers") : nullptr;
            if (!n) continue;
            const std::string path = join(info.path, "payers");
            load_payer_shares(*n, path, s.cohorts[c].payers);
            if (s.caps.per_participant)
                error(*n, path,
                      "cannot be combined with caps.per_participant: capped payments are not "
                      "kept by cohort");
            for (std::size_t i = 0; i < s.rules.size() && i < rule_info_.size(); ++i) {
                const Rule& r = s.rules[i];
                if (!rule_info_[i].basis_ok || r.basis == Basis::rate_card || r.per != Scope::all ||
                    !r.payers.empty())
                    continue;
                error(*n, path,
                      "payments." + r.name +
                          " pools every cohort (per: all), so it needs its own payers when a "
                          "cohort has payers");
            }
        }
    }

    void load_payer_shares(const Node& n, const std::string& path, std::vector<PayerShare>& out) {
        if (!expect_map(n, path)) return;
        double sum = 0;
        bool all_ok = true;
        for (std::size_t i = 0; i < n.keys.size(); ++i) {
            const Key& key = n.keys[i];
            auto index = refer(key, path, payer_names_, "payer");
            auto share = number(n.items[i], join(path, key.text), between(0, 1));
            if (!index || !share) {
                all_ok = false;
                continue;
            }
            sum += *share;
            out.push_back({key.text, *share, n.items[i].loc});
        }
        if (all_ok && std::abs(sum - 1) > share_tolerance)
            error(n, path, "shares sum to " + fmt(sum) + ", not 1");
    }

    void check_basis(const Node& m, const Entry& e, const Rule& r, const RuleInfo& info,
                     const Scenario& s) {
        const Outcome* o = info.outcome ? &s.outcomes[*info.outcome] : nullptr;
        bool kind_ok = info.outcome && outcome_info_[*info.outcome].kind_ok;
        const Node* outcome_node = m.find("outcome");
        std::string outcome_path = join(e.path, "outcome");
        switch (r.basis) {
            case Basis::rate_card:
                reject_keys(m, e.path,
                            {"per", "at_least", "share_at_least", "amount", "schedule", "threshold",
                             "net_of", "interpolate", "assess", "observed_after"},
                            "a rate_card rule");
                if (!m.find("price")) error(m, e.path, "missing required key 'price'");
                if (o && o->better == Better::lower)
                    error(*outcome_node, outcome_path,
                          "a rate_card rule cannot pay for " + quote(o->name) +
                              ", whose better is lower");
                break;
            case Basis::target: {
                reject_keys(m, e.path,
                            {"threshold", "schedule", "interpolate", "price_after_repaid"},
                            "a target rule");
                if (kind_ok && o->kind != OutcomeKind::binary)
                    error(*outcome_node, outcome_path,
                          "a target rule needs a binary outcome; " + quote(o->name) +
                              " is a count outcome");
                const Node* at = m.find("at_least");
                const Node* share = m.find("share_at_least");
                if (at && share)
                    error(*share, join(e.path, "share_at_least"),
                          "give at_least or share_at_least, not both");
                if (!at && !share)
                    error(m, e.path, "missing required key 'at_least' or 'share_at_least'");
                if (!m.find("amount") && !m.find("price"))
                    error(m, e.path, "missing required key 'amount' or 'price'");
                break;
            }
            case Basis::versus_comparison: {
                reject_keys(m, e.path, {"at_least", "share_at_least", "price_after_repaid"},
                            "a versus_comparison rule");
                if (const Node* n = m.find("interpolate"); n && !m.find("schedule"))
                    error(*n, join(e.path, "interpolate"), "has no meaning without a schedule");
                std::vector<std::string> given;
                for (const auto& key : m.keys)
                    if ((key.text == "price" || key.text == "schedule" || key.text == "amount") &&
                        std::find(given.begin(), given.end(), key.text) == given.end()) {
                        given.push_back(key.text);
                        if (given.size() == 2)
                            error(key, e.path,
                                  "give only one of price, schedule or amount (" + given[0] +
                                      " is given too)");
                    }
                if (given.empty())
                    error(m, e.path, "missing required key 'price', 'schedule' or 'amount'");
                // Without baseline and rate, the outcome itself has already been reported.
                if (o && !outcome_info_[*info.outcome].baseline_given &&
                    outcome_info_[*info.outcome].rate_given)
                    error(*outcome_node, outcome_path,
                          "outcome " + quote(o->name) +
                              " has no baseline to draw the comparison group from");
                break;
            }
        }
    }

    /// `net_of`: names another rule, and no rule is net of itself through a chain.
    void check_net_of(const Scenario& s) {
        std::vector<std::optional<std::size_t>> target(s.rules.size());
        for (std::size_t i = 0; i < s.rules.size(); ++i) {
            const RuleInfo& info = rule_info_[i];
            if (!info.net_of_node) continue;
            std::string path = join(info.path, "net_of");
            if (info.basis_ok && s.rules[i].basis == Basis::rate_card) continue;  // reported
            auto j = refer(*info.net_of_node, path, rule_names_, "rule");
            if (!j) continue;
            if (*j == i) {
                error(*info.net_of_node, path, "a rule cannot be net of itself");
                continue;
            }
            target[i] = j;
        }
        for (std::size_t i = 0; i < s.rules.size(); ++i) {
            std::vector<std::size_t> chain{i};
            std::optional<std::size_t> next = target[i];
            while (next && *next != i && chain.size() <= s.rules.size()) {
                chain.push_back(*next);
                next = target[*next];
            }
            if (!next || *next != i) continue;
            if (*std::min_element(chain.begin(), chain.end()) != i) continue;
            std::string cycle;
            for (std::size_t k : chain) cycle += s.rules[k].name + " -> ";
            cycle += s.rules[i].name;
            error(*rule_info_[i].net_of_node, join(rule_info_[i].path, "net_of"),
                  "rules are net of each other in a cycle: " + cycle);
        }
    }

    void check_comparison_needed(const Node& root, const Scenario& s) {
        if (root.find("comparison")) return;
        for (std::size_t i = 0; i < s.rules.size(); ++i) {
            if (rule_info_[i].basis_ok && s.rules[i].basis == Basis::versus_comparison) {
                error(root, "",
                      "missing required key 'comparison' (rule " + quote(s.rules[i].name) +
                          " is versus_comparison)");
                return;
            }
        }
    }

    void load_caps(const Node& n, Scenario& s) {
        if (!expect_map(n, "caps")) return;
        check_keys(n, "caps", {"per_participant", "total"});
        if (const Node* v = n.find("per_participant"))
            s.caps.per_participant = money(*v, "caps.per_participant");
        if (const Node* v = n.find("total")) s.caps.total = money(*v, "caps.total");
    }

    void load_provider(const Node& n, Scenario& s) {
        if (!expect_map(n, "provider")) return;
        check_keys(n, "provider", {"costs"});
        const Node* costs = require(n, "provider", "costs");
        if (!costs || !expect_map(*costs, "provider.costs")) return;
        const std::string path = "provider.costs";
        provider_costs_ = costs;
        check_keys(*costs, path, {"per_participant", "per_period", "from", "to"});
        ProviderCosts p;
        if (const Node* v = costs->find("per_participant"))
            if (auto x = money(*v, join(path, "per_participant"))) p.per_participant = *x;
        if (const Node* v = costs->find("per_period"))
            if (auto x = money(*v, join(path, "per_period"))) p.per_period = *x;
        int hi = static_cast<int>(max_period);
        std::optional<int> from = 0;
        if (const Node* v = costs->find("from")) {
            from = whole_int(*v, join(path, "from"), 0, hi);
            if (from) p.from = *from;
        }
        if (const Node* v = costs->find("to")) {
            if (auto to = whole_int(*v, join(path, "to"), 0, hi)) {
                p.to = *to;
                if (from && *to < *from)
                    error(*v, join(path, "to"),
                          "must not be before from (" + std::to_string(*from) + "), got " +
                              std::to_string(*to));
                else if (horizon_ && *to >= *horizon_)
                    error(*v, join(path, "to"),
                          "period " + std::to_string(*to) + " is at or after the horizon (" +
                              std::to_string(*horizon_) + ")");
            }
        } else if (from && horizon_ && *from >= *horizon_) {
            error(*costs->find("from"), join(path, "from"),
                  "period " + std::to_string(*from) + " is at or after the horizon (" +
                      std::to_string(*horizon_) + ")");
        }
        s.provider = p;
    }

    void load_investors(const Node& n, Scenario& s) {
        if (!expect_map(n, "investors")) return;
        check_keys(n, "investors",
                   {"capital", "tranches", "guarantee", "minimum_yield", "redemption"});
        Investors inv;
        inv.loc = n.loc;
        if (const Node* v = require(n, "investors", "capital"))
            if (auto x = money(*v, "investors.capital")) inv.capital = *x;
        if (const Node* list = n.find("tranches")) {
            Names tranche_names;
            std::vector<const Node*> ranked;  // tranches that give a rank
            double sum = 0;
            bool all_shares = true;
            for (const Entry& e :
                 entries(*list, "investors.tranches", tranche_names, true, max_tranches)) {
                const Node& m = *e.node;
                check_keys(m, e.path, {"name", "share", "rate", "rank"});
                Tranche t;
                t.name = e.name;
                t.loc = m.loc;
                std::optional<double> share;
                if (const Node* v = require(m, e.path, "share"))
                    share = number(*v, join(e.path, "share"), between(0, 1));
                if (share) {
                    t.share = *share;
                    sum += *share;
                } else {
                    all_shares = false;
                }
                if (const Node* v = m.find("rate"))
                    if (auto x = number(*v, join(e.path, "rate"), between(0, 1))) t.rate = *x;
                if (const Node* v = m.find("rank")) {
                    t.rank =
                        whole(*v, join(e.path, "rank"), 1, static_cast<long long>(max_tranches));
                    ranked.push_back(&m);
                }
                inv.tranches.push_back(std::move(t));
            }
            check_ranks(*list, inv.tranches, ranked);
            if (all_shares && !inv.tranches.empty() && std::abs(sum - 1) > share_tolerance)
                error(*list, "investors.tranches", "shares sum to " + fmt(sum) + ", not 1");
        }
        if (const Node* g = n.find("guarantee")) {
            const std::string path = "investors.guarantee";
            if (expect_map(*g, path)) {
                check_keys(*g, path, {"name", "amount", "share_of_drawn"});
                Guarantee guarantee;
                if (const Node* v = g->find("name"))
                    if (auto x = name(*v, join(path, "name"))) guarantee.name = *x;
                // A fixed amount, a share of capital drawn, or both (then the lesser binds).
                const Node* amount = g->find("amount");
                const Node* share = g->find("share_of_drawn");
                if (!amount && !share)
                    error(*g, path, "missing required key 'amount' or 'share_of_drawn'");
                if (amount) guarantee.amount = money(*amount, join(path, "amount"));
                if (share)
                    guarantee.share_of_drawn =
                        number(*share, join(path, "share_of_drawn"), between(0, 1));
                inv.guarantee = guarantee;
            }
        }
        if (const Node* y = n.find("minimum_yield")) inv.minimum_yield = load_minimum_yield(*y);
        if (const Node* r = n.find("redemption")) inv.redemption = load_redemption(*r, s);
        s.investors = std::move(inv);
    }

    /// `investors.redemption`: at the end of `period`, if rule `if_not_met` was assessed by then
    /// and not met, `paid_by` pays a share of the principal outstanding and the contract ends
    /// (docs/model.md, section 9.5). The rule must be able to decide by then.
    std::optional<Redemption> load_redemption(const Node& y, const Scenario& s) {
        const std::string path = "investors.redemption";
        if (!expect_map(y, path)) return std::nullopt;
        check_keys(y, path, {"period", "share_of_principal", "paid_by", "if_not_met"});
        Redemption red;
        bool ok = true;
        int period = -1;  // valid period, for the rule's timing check
        if (const Node* v = require(y, path, "period")) {
            auto x = whole_int(*v, join(path, "period"), 1, static_cast<int>(max_period));
            if (x && horizon_ && *x >= *horizon_) {
                error(*v, join(path, "period"),
                      "the redemption falls in period " + std::to_string(*x) +
                          ", at or after the horizon (" + std::to_string(*horizon_) + ")");
                x.reset();
            }
            if (x) red.period = period = *x;
            ok = ok && x;
        } else {
            ok = false;
        }
        if (const Node* v = require(y, path, "share_of_principal")) {
            auto x = number(*v, join(path, "share_of_principal"), between(0, 1));
            if (x) red.share_of_principal = *x;
            ok = ok && x;
        } else {
            ok = false;
        }
        if (const Node* v = require(y, path, "paid_by")) {
            auto payer = refer(*v, join(path, "paid_by"), payer_names_, "payer");
            if (payer) red.paid_by = v->text;
            ok = ok && payer;
        } else {
            ok = false;
        }
        if (const Node* v = require(y, path, "if_not_met")) {
            auto rule = refer(*v, join(path, "if_not_met"), rule_names_, "rule");
            if (rule) {
                red.if_not_met = v->text;
                ok = check_redemption_rule(*v, s, *rule, period) && ok;
            } else {
                ok = false;
            }
        } else {
            ok = false;
        }
        if (!ok) return std::nullopt;
        return red;
    }

    /// The rule a redemption depends on has one condition (a group rule, `per: all`) and is
    /// decided (assessed and its payment slot reached) by the redemption period, when known.
    bool check_redemption_rule(const Node& at, const Scenario& s, std::size_t i, int period) {
        const std::string path = "investors.redemption.if_not_met";
        const Rule& r = s.rules[i];
        const RuleInfo& info = rule_info_[i];
        if (!info.basis_ok) return false;
        if (r.basis == Basis::rate_card || r.per != Scope::all) {
            error(at, path,
                  "rule " + quote(r.name) +
                      " must be a target or versus_comparison rule with per: all, which has one "
                      "condition to be met");
            return false;
        }
        if (period < 0 || !info.lag_ok || !info.outcome || !outcome_info_[*info.outcome].timing_ok)
            return true;
        const int observed_after =
            r.observed_after.value_or(s.outcomes[*info.outcome].observed_after);
        // First decided: assessed every period, when the first participant is measured;
        // assessed once, when the last is.
        std::optional<int> first;
        for (std::size_t c = 0; c < s.cohorts.size(); ++c) {
            if (!cohort_info_[c].enrol_ok) return true;
            const int enrol = r.every_period ? s.cohorts[c].enrol_first : s.cohorts[c].enrol_last;
            const int p = enrol + observed_after + r.payment_lag +
                          (r.every_period ? 0 : s.outcomes[*info.outcome].observed_over - 1);
            if (!first || (r.every_period ? p < *first : p > *first)) first = p;
        }
        if (!first || *first <= period) return true;
        error(at, path,
              "rule " + quote(r.name) + " is first decided in period " + std::to_string(*first) +
                  ", after the redemption period (" + std::to_string(period) +
                  "); assess it every period or earlier");
        return false;
    }

    /// `investors.minimum_yield`: a coupon floor paid by a payer in periods 1..periods, as an
    /// advance on a rule's payments or in addition to them (docs/model.md, section 9.4).
    std::optional<MinimumYield> load_minimum_yield(const Node& y) {
        const std::string path = "investors.minimum_yield";
        if (!expect_map(y, path)) return std::nullopt;
        check_keys(y, path, {"rate", "periods", "paid_by", "advance_on"});
        MinimumYield my;
        bool ok = true;
        if (const Node* v = require(y, path, "rate")) {
            auto x = number(*v, join(path, "rate"), between(0, 1));
            if (x) my.rate = *x;
            ok = ok && x;
        } else {
            ok = false;
        }
        if (const Node* v = require(y, path, "periods")) {
            auto x = whole_int(*v, join(path, "periods"), 1, static_cast<int>(max_period));
            if (x && horizon_ && *x >= *horizon_) {
                error(*v, join(path, "periods"),
                      "the last coupon falls in period " + std::to_string(*x) +
                          ", at or after the horizon (" + std::to_string(*horizon_) + ")");
                x.reset();
            }
            if (x) my.periods = *x;
            ok = ok && x;
        } else {
            ok = false;
        }
        if (const Node* v = require(y, path, "paid_by")) {
            auto payer = refer(*v, join(path, "paid_by"), payer_names_, "payer");
            if (payer) my.paid_by = v->text;
            ok = ok && payer;
        } else {
            ok = false;
        }
        if (const Node* v = y.find("advance_on")) {
            auto rule = refer(*v, join(path, "advance_on"), rule_names_, "rule");
            if (rule) my.advance_on = v->text;
            ok = ok && rule;
        }
        if (!ok) return std::nullopt;
        return my;
    }

    /// `rank`: on every tranche or on none, and never decreasing down the list, so that list
    /// order stays the order of payment.
    void check_ranks(const Node& list, const std::vector<Tranche>& tranches,
                     const std::vector<const Node*>& ranked) {
        if (ranked.empty()) return;
        if (ranked.size() != tranches.size()) {
            error(list, "investors.tranches", "give rank on every tranche or on none");
            return;
        }
        for (std::size_t j = 1; j < tranches.size(); ++j)
            if (tranches[j].rank && tranches[j - 1].rank &&
                *tranches[j].rank < *tranches[j - 1].rank)
                error(*ranked[j]->find("rank"), "investors.tranches." + tranches[j].name + ".rank",
                      "tranches must be listed in rank order, but rank " +
                          std::to_string(*tranches[j].rank) + " follows rank " +
                          std::to_string(*tranches[j - 1].rank));
    }

    // ---- observed_over, historical_until, coupon (docs/scenario-format.md, 4.4, 5.1, 6.10) ----

    /// `outcomes[].observed_over`: a count known one period's part at a time, over this many
    /// periods from observed_after on. Count outcomes only, not with observed_by.
    void load_observed_over(const Node& n, const Node& m, const std::string& path, Outcome& o,
                            OutcomeInfo& info) {
        const std::string key = join(path, "observed_over");
        if (info.kind_ok && o.kind != OutcomeKind::count) {
            error(n, key, "observed_over applies to count outcomes only");
            return;
        }
        if (m.find("observed_by")) {
            error(n, key,
                  "cannot be combined with observed_by: give observed_after, the period after "
                  "enrolment in which the first part is known");
            info.timing_ok = false;
            return;
        }
        if (auto v = whole_int(n, key, 1, static_cast<int>(max_period)))
            o.observed_over = *v;
        else
            info.timing_ok = false;
    }

    /// `comparison.historical_until`: matched comparisons only, a period before the horizon.
    void load_historical_until(const Node& n, std::optional<std::size_t> kind, Comparison& c) {
        const std::string key = "comparison.historical_until";
        if (kind && *kind != 0) {
            error(n, key,
                  "applies to matched comparisons only: a historical comparison uses the "
                  "baseline throughout");
            return;
        }
        // A period before the horizon (later would never switch to the matched group).
        const int last = horizon_ ? *horizon_ - 1 : static_cast<int>(max_period);
        if (auto v = whole_int(n, key, 0, last)) c.historical_until = *v;
    }

    /// `payments[].coupon`: true or false.
    void load_coupon(const Node& n, const Entry& e, Rule& r) {
        if (auto v = choice(n, join(e.path, "coupon"), {"false", "true"})) r.coupon = *v == 1;
    }

    /// A coupon is paid to the investors: it needs them.
    void check_coupons(const Scenario& s) {
        for (std::size_t i = 0; i < s.rules.size() && i < rule_info_.size(); ++i) {
            if (!s.rules[i].coupon || !rule_info_[i].node || s.investors) continue;
            error(*rule_info_[i].node->find("coupon"), join(rule_info_[i].path, "coupon"),
                  "needs investors: a coupon is a return paid to them");
        }
    }

    /// A count observed over several periods is paid by group rules as each part is known; a
    /// rate card would pay events of a period that the draws do not time.
    void check_observed_over(const Scenario& s) {
        for (std::size_t i = 0; i < s.rules.size() && i < rule_info_.size(); ++i) {
            const RuleInfo& info = rule_info_[i];
            if (!info.basis_ok || !info.outcome || s.rules[i].basis != Basis::rate_card) continue;
            const Outcome& o = s.outcomes[*info.outcome];
            if (o.observed_over <= 1) continue;
            error(*info.node->find("outcome"), join(info.path, "outcome"),
                  "a rate_card rule cannot pay for " + quote(o.name) + ", which is observed over " +
                      std::to_string(o.observed_over) +
                      " periods; use a versus_comparison rule with assess: every_period");
        }
    }

    /// `price_after_repaid` needs investors to be repaid, and cannot be settled exactly under a
    /// per-participant cap: a participant's capped total would depend on the period in which
    /// the investors happen to be repaid, which the draws do not know.
    void check_price_after_repaid(const Node& root, const Scenario& s) {
        const Node* list = root.find("payments");
        if (!list || !list->is_list()) return;
        for (std::size_t i = 0; i < s.rules.size() && i < rule_info_.size(); ++i) {
            // Other bases have had it reported as meaningless already.
            if (!s.rules[i].price_after_repaid || !rule_info_[i].node ||
                s.rules[i].basis != Basis::rate_card)
                continue;
            const Node& key = *rule_info_[i].node->find("price_after_repaid");
            const std::string path = join(rule_info_[i].path, "price_after_repaid");
            if (!s.investors)
                error(key, path, "needs investors: the price changes once they are repaid");
            if (s.caps.per_participant)
                error(key, path,
                      "cannot be combined with caps.per_participant: a participant's capped "
                      "payments would depend on when the investors are repaid");
        }
    }

    /// `participant_correlations`: [OUTCOME, OUTCOME, rho], binary outcomes without `after` or
    /// `instead_of` (their latent normals decide them on their own), each pair once, and a
    /// positive definite matrix over all of them.
    void load_participant_correlations(const Node& list, Scenario& s) {
        const std::string key = "participant_correlations";
        if (!expect_list(list, key)) return;
        if (!check_count(list, key, max_correlations)) return;
        std::map<std::pair<std::size_t, std::size_t>, int> seen;  // pair -> line
        bool all_ok = true;
        for (std::size_t i = 0; i < list.items.size(); ++i) {
            const Node& item = list.items[i];
            const std::string path = index_path(key, i);
            if (!item.is_list() || item.items.size() != 3) {
                error(item, path,
                      "expected [OUTCOME, OUTCOME, correlation], got " +
                          (item.is_list() ? "a list of " + std::to_string(item.items.size())
                                          : describe(item)));
                all_ok = false;
                continue;
            }
            bool ok = true;
            std::size_t index[2] = {0, 0};
            for (std::size_t k = 0; k < 2; ++k) {
                auto j = refer(item.items[k], path, outcome_names_, "outcome");
                if (!j) {
                    ok = false;
                    continue;
                }
                index[k] = *j;
                const Outcome& o = s.outcomes[*j];
                std::string why;
                if (outcome_info_[*j].kind_ok && o.kind != OutcomeKind::binary)
                    why = quote(o.name) + " is a count outcome";
                else if (o.after)
                    why = quote(o.name) + " follows " + quote(*o.after);
                else if (o.instead_of)
                    why = quote(o.name) + " is instead of " + quote(*o.instead_of);
                if (!why.empty()) {
                    error(item.items[k], path,
                          "must name a binary outcome without 'after' or 'instead_of'; " + why);
                    ok = false;
                }
            }
            auto rho = number(item.items[2], path, Range{-1, 1, true, true});
            if (!ok || !rho) {
                all_ok = false;
                continue;
            }
            if (index[0] == index[1]) {
                error(item, path, "an outcome cannot be correlated with itself");
                all_ok = false;
                continue;
            }
            const auto pair = std::minmax(index[0], index[1]);
            if (auto it = seen.find(pair); it != seen.end()) {
                error(item, path,
                      quote(s.outcomes[index[0]].name) + " and " +
                          quote(s.outcomes[index[1]].name) + " are already correlated at line " +
                          std::to_string(it->second));
                all_ok = false;
                continue;
            }
            seen.emplace(pair, item.loc.line);
            s.participant_correlations.push_back(
                {s.outcomes[index[0]].name, s.outcomes[index[1]].name, *rho, item.loc});
        }
        if (!all_ok || seen.empty()) return;
        // One joint normal distribution must have all the pairs' correlations.
        std::map<std::size_t, Eigen::Index> local;
        for (const auto& [pair, line] : seen) {
            local.emplace(pair.first, 0);
            local.emplace(pair.second, 0);
        }
        Eigen::Index next = 0;
        std::string names;
        for (auto& [outcome, k] : local) {
            k = next++;
            names += (names.empty() ? "" : ", ") + s.outcomes[outcome].name;
        }
        Eigen::MatrixXd m = Eigen::MatrixXd::Identity(next, next);
        for (const auto& c : s.participant_correlations) {
            const Eigen::Index a = local[*outcome_names_.find(c.first)];
            const Eigen::Index b = local[*outcome_names_.find(c.second)];
            m(a, b) = m(b, a) = c.rho;
        }
        if (Eigen::LLT<Eigen::MatrixXd>(m).info() != Eigen::Success)
            error(list, key, "matrix is not positive definite (outcomes: " + names + ")");
    }

    void load_correlations(const Node& list, Scenario& s) {
        if (!expect_list(list, "correlations")) return;
        if (!check_count(list, "correlations", max_correlations)) return;
        std::map<std::pair<std::string, std::string>, int> seen;  // pair -> line
        for (std::size_t i = 0; i < list.items.size(); ++i) {
            const Node& item = list.items[i];
            std::string path = index_path("correlations", i);
            if (!item.is_list() || item.items.size() != 3) {
                error(item, path,
                      "expected [PATH, PATH, correlation], got " +
                          (item.is_list() ? "a list of " + std::to_string(item.items.size())
                                          : describe(item)));
                continue;
            }
            bool ok = true;
            std::string names[2];
            for (std::size_t k = 0; k < 2; ++k) {
                const Node& p = item.items[k];
                auto t = text(p, path);
                if (!t) {
                    ok = false;
                    continue;
                }
                names[k] = *t;
                auto it = uncertain_.find(*t);
                if (it == uncertain_.end()) {
                    error(p, path,
                          quote(*t) + " names no uncertain value" +
                              did_you_mean(*t, uncertain_paths_));
                    ok = false;
                } else if (it->second == UncertainState::fixed) {
                    error(p, path,
                          quote(*t) + " is a fixed number; only distributions can be correlated");
                    ok = false;
                } else if (it->second == UncertainState::invalid) {
                    ok = false;  // already reported where it is defined
                }
            }
            auto rho = number(item.items[2], path, Range{-1, 1, true, true});
            if (!ok || !rho) continue;
            if (names[0] == names[1]) {
                error(item, path, "a value cannot be correlated with itself");
                continue;
            }
            auto key = std::minmax(names[0], names[1]);
            auto pair = std::make_pair(key.first, key.second);
            if (auto it = seen.find(pair); it != seen.end()) {
                error(item, path,
                      quote(names[0]) + " and " + quote(names[1]) +
                          " are already correlated at line " + std::to_string(it->second));
                continue;
            }
            seen.emplace(pair, item.loc.line);
            s.correlations.push_back({names[0], names[1], *rho, item.loc});
        }
        check_positive_definite(list, s);
    }

    /// Each group of values joined by correlations must have a positive definite matrix.
    void check_positive_definite(const Node& list, const Scenario& s) {
        std::vector<std::string> vars;
        std::map<std::string, std::size_t> index;
        auto id = [&](const std::string& p) {
            auto [it, added] = index.emplace(p, vars.size());
            if (added) vars.push_back(p);
            return it->second;
        };
        for (const auto& c : s.correlations) {
            id(c.first);
            id(c.second);
        }
        // Connected groups, so the message names only the values involved.
        std::vector<std::size_t> parent(vars.size());
        for (std::size_t i = 0; i < parent.size(); ++i) parent[i] = i;
        auto root = [&](std::size_t i) {
            while (parent[i] != i) i = parent[i] = parent[parent[i]];
            return i;
        };
        for (const auto& c : s.correlations) parent[root(id(c.first))] = root(id(c.second));
        std::map<std::size_t, std::vector<std::size_t>> groups;  // keyed by smallest member
        std::map<std::size_t, std::size_t> group_of_root;
        for (std::size_t i = 0; i < vars.size(); ++i) {
            std::size_t r = root(i);
            auto [it, added] = group_of_root.emplace(r, i);
            groups[it->second].push_back(i);
        }
        for (const auto& [first, members] : groups) {
            const auto n = static_cast<Eigen::Index>(members.size());
            Eigen::MatrixXd m = Eigen::MatrixXd::Identity(n, n);
            std::map<std::size_t, Eigen::Index> local;
            for (Eigen::Index k = 0; k < n; ++k) local[members[static_cast<std::size_t>(k)]] = k;
            bool any = false;
            for (const auto& c : s.correlations) {
                auto a = local.find(index[c.first]);
                auto b = local.find(index[c.second]);
                if (a == local.end() || b == local.end()) continue;
                m(a->second, b->second) = m(b->second, a->second) = c.rho;
                any = true;
            }
            if (!any) continue;
            Eigen::LLT<Eigen::MatrixXd> llt(m);
            if (llt.info() == Eigen::Success) continue;
            std::string names;
            for (std::size_t k : members) names += (names.empty() ? "" : ", ") + vars[k];
            error(list, "correlations", "matrix is not positive definite (entries: " + names + ")");
        }
    }

    // ---- Magnitudes: counts and money far inside exact double range (docs/limits.md) ----

    /// The most a value can be in a trial: its fixed value, or the top of its distribution (a
    /// normal quantile of the engine's uniform draws never exceeds 9 standard deviations).
    static double top_of(const Distribution& d) {
        struct Visitor {
            double operator()(const Fixed& x) const { return x.value; }
            double operator()(const Normal& x) const {
                const double top = x.mean + 9 * x.sd;
                return x.max ? std::min(*x.max, top) : top;
            }
            double operator()(const Lognormal& x) const {
                const double sigma2 = std::log1p((x.sd / x.mean) * (x.sd / x.mean));
                return std::exp(std::log(x.mean) - sigma2 / 2 + 9 * std::sqrt(sigma2));
            }
            double operator()(const Uniform& x) const { return x.max; }
            double operator()(const Triangular& x) const { return x.max; }
            double operator()(const Beta&) const { return 1; }
        };
        const double top = std::visit(Visitor{}, d);
        return std::isfinite(top) ? top : infinity;
    }

    void too_large(const Uncertain& u, std::string message) {
        auto it = uncertain_nodes_.find(u.path);
        if (it != uncertain_nodes_.end())
            error(*it->second, u.path, std::move(message));
        else
            sink_.error(u.loc, u.path, std::move(message));
    }

    void check_magnitudes(const Scenario& s) {
        const std::size_t C = s.cohorts.size(), O = s.outcomes.size();
        std::vector<double> size_top(C);
        for (std::size_t c = 0; c < C; ++c)
            size_top[c] = std::clamp(top_of(s.cohorts[c].size.dist), 0.0, max_size);
        const double ratio = s.comparison && s.comparison->kind == ComparisonKind::matched
                                 ? std::max(1.0, s.comparison->ratio)
                                 : 1.0;
        // events[c][o]: the most events (or achievements) of outcome o in cohort c.
        std::vector<std::vector<double>> events(C, std::vector<double>(O, 0));
        std::vector<double> mean_top(O, 0);  // per participant, over cohorts
        std::set<std::string> reported;
        for (std::size_t o = 0; o < O; ++o) {
            const Outcome& out = s.outcomes[o];
            const bool count = outcome_info_[o].kind_ok && out.kind == OutcomeKind::count;
            for (std::size_t c = 0; c < C; ++c) {
                const Uncertain* baseline = out.baseline ? &*out.baseline : nullptr;
                const Uncertain* effect = out.effect ? &*out.effect : nullptr;
                const Uncertain* rate = out.rate ? &*out.rate : nullptr;
                for (const auto& ov : s.cohorts[c].overrides) {
                    if (ov.outcome != out.name) continue;
                    if (ov.baseline) baseline = &*ov.baseline;
                    if (ov.effect) effect = &*ov.effect;
                    if (ov.rate) rate = &*ov.rate;
                }
                double m = count ? 0 : 1;
                if (count) {
                    // Each value's top, and the participants' mean baseline × (1 + effect).
                    // A fixed baseline or rate out of range was reported where it is given.
                    const Uncertain* worst = nullptr;
                    bool own_fixed = false;
                    auto consider = [&](const Uncertain* u, double v, bool own) {
                        if (u && v > m) {
                            m = v;
                            worst = u;
                            own_fixed = own && std::holds_alternative<Fixed>(u->dist);
                        }
                    };
                    const double b = baseline ? std::max(0.0, top_of(baseline->dist)) : 0;
                    consider(baseline, b, true);
                    consider(rate, rate ? top_of(rate->dist) : 0, true);
                    if (!rate && effect)
                        consider(effect, b * std::max(1.0, 1 + top_of(effect->dist)), false);
                    if (worst && !own_fixed && m > max_count_mean &&
                        reported.insert(worst->path).second)
                        too_large(*worst, "a count outcome's mean may reach " + fmt(m) +
                                              " events per participant here (at the top of its "
                                              "distributions), more than " +
                                              fmt(max_count_mean));
                    m = std::min(m, max_count_mean);
                }
                mean_top[o] = std::max(mean_top[o], m);
                events[c][o] = size_top[c] * m;
                const bool compared = count && baseline;
                const double group = size_top[c] * m * (compared ? ratio : 1.0);
                if (count && group > max_events && s.cohorts[c].size.path.size() > 0 &&
                    reported.insert(s.cohorts[c].size.path).second)
                    too_large(s.cohorts[c].size,
                              "outcome " + quote(out.name) + " may count up to " + fmt(group) +
                                  " events in this cohort" +
                                  (compared && ratio > 1 ? " or its comparison group" : "") +
                                  ", more than " + fmt(max_events));
            }
        }
        auto total = [&](std::size_t o) {
            double sum = 0;
            for (std::size_t c = 0; c < C; ++c) sum += events[c][o];
            return sum;
        };
        double participants = 0;
        for (double n : size_top) participants += n;
        auto product = [&](const Node* at, const std::string& path, double value, double quantity,
                           const std::string& what) {
            if (!at || value * quantity <= max_money_product) return;
            error(*at, path,
                  fmt(value) + " times " + what + " (" + fmt(quantity) + ") may come to " +
                      fmt(value * quantity) + ", more than " + fmt(max_money_product));
        };
        for (std::size_t i = 0; i < s.rules.size(); ++i) {
            const Rule& r = s.rules[i];
            const RuleInfo& info = rule_info_[i];
            if (!info.basis_ok || !info.outcome || !r.price) continue;
            const std::size_t o = *info.outcome;
            const Node* at = info.node->find("price");
            const std::string path = join(info.path, "price");
            switch (r.basis) {
                case Basis::rate_card:
                    product(at, path, *r.price, total(o), "the most achievements it pays for");
                    if (r.price_after_repaid)
                        product(info.node->find("price_after_repaid"),
                                join(info.path, "price_after_repaid"), *r.price_after_repaid,
                                total(o), "the most achievements it pays for");
                    break;
                case Basis::target:
                    product(at, path, *r.price, participants, "the most participants");
                    break;
                case Basis::versus_comparison:
                    product(at, path, *r.price, participants * mean_top[o],
                            "the most participants times the largest difference of means");
                    break;
            }
        }
        for (std::size_t p = 0; p < s.payers.size(); ++p) {
            for (const auto& saving : s.payers[p].savings) {
                const std::size_t* o = outcome_names_.find(saving.outcome);
                if (!o) continue;
                const std::string path =
                    join(join(join("payers", s.payers[p].name), "savings"), saving.outcome);
                Node at;
                at.loc = saving.loc;
                product(&at, path, saving.value_per_unit, total(*o), "the most units caused");
            }
        }
        if (s.provider && provider_costs_) {
            const int periods = s.provider->to.value_or(s.horizon - 1) - s.provider->from + 1;
            product(provider_costs_->find("per_participant"), "provider.costs.per_participant",
                    s.provider->per_participant, participants, "the most participants");
            product(provider_costs_->find("per_period"), "provider.costs.per_period",
                    s.provider->per_period, std::max(0, periods), "the periods costs run");
        }
    }

    /// Names that share a namespace in the output must differ: payers, tranches, the guarantor,
    /// `investors` and `provider` name the columns of cashflows.csv, and rules, cohorts and
    /// outcomes are joined with dots into metric names (docs/limits.md).
    void check_output_names(const Node& root, const Scenario& s) {
        struct Use {
            const Node* at;
            std::string path;
            std::string what;
        };
        std::map<std::string, Use> parties;
        auto party = [&](const std::string& name, const Node* at, const std::string& path,
                         const std::string& what) {
            if (name.empty()) return;
            auto [it, added] = parties.emplace(name, Use{at, path, what});
            if (added || !at) return;
            const Use& first = it->second;
            error(*at, path,
                  (first.at ? "name " + quote(name) + " is already " + first.what + " (line " +
                                  std::to_string(first.at->loc.line) + ")"
                            : "name " + quote(name) + " is reserved for " + first.what) +
                      "; payers, tranches, the guarantor, the investors and the provider share "
                      "the columns of cashflows.csv, so their names must differ");
        };
        auto named = [&](const Node* list, const std::string& path, const std::string& what) {
            if (!list || !list->is_list()) return;
            for (const Node& item : list->items) {
                const Node* n = item.find("name");
                if (n && n->is_scalar()) party(n->text, n, join(join(path, n->text), "name"), what);
            }
        };
        const Node* inv = root.find("investors");
        if (s.investors) party("investors", nullptr, "", "the investors' cash flows");
        party("provider", nullptr, "", "the provider's cash flows");
        named(root.find("payers"), "payers", "a payer's");
        if (s.investors) named(inv->find("tranches"), "investors.tranches", "a tranche's");
        if (s.investors && s.investors->guarantee)
            if (const Node* g = inv->find("guarantee"))
                if (const Node* n = g->find("name"); n && n->is_scalar())
                    party(n->text, n, "investors.guarantee.name", "a payer's or a tranche's");

        // Metric names, as the engine forms them from rules, cohorts and outcomes. Only when
        // their text is of a sane size: a larger run is refused by its memory estimate anyway.
        double metric_bytes = 0;
        for (const auto& r : s.rules)
            metric_bytes +=
                static_cast<double>(r.name.size() + 16) * static_cast<double>(s.cohorts.size() + 1);
        for (const auto& o : s.outcomes)
            metric_bytes +=
                static_cast<double>(o.name.size() + 24) * static_cast<double>(s.cohorts.size() + 2);
        for (const auto& c : s.cohorts)
            metric_bytes += static_cast<double>(c.name.size()) *
                            static_cast<double>(s.rules.size() + s.outcomes.size());
        if (metric_bytes > static_cast<double>(max_text_bytes)) return;
        std::map<std::string, std::pair<const Node*, std::string>> metrics;
        auto metric = [&](const std::string& name, const Node* at, const std::string& path) {
            auto [it, added] = metrics.emplace(name, std::make_pair(at, path));
            if (added || !at) return;
            error(*at, path,
                  "makes the metric " + quote(name) + ", which " +
                      (it->second.first
                           ? "line " + std::to_string(it->second.first->loc.line) + " makes too"
                           : "sibsim reports itself") +
                      "; rename one");
        };
        metric("payments.total", nullptr, "");
        // A name given twice was reported as such: only the first of each counts here.
        auto first_of = [](const Names& names, const std::string& name, std::size_t i) {
            const std::size_t* at = names.find(name);
            return at && *at == i;
        };
        std::vector<std::string> cohorts;
        for (std::size_t c = 0; c < s.cohorts.size(); ++c)
            if (first_of(cohort_names_, s.cohorts[c].name, c)) cohorts.push_back(s.cohorts[c].name);
        for (std::size_t i = 0; i < s.rules.size(); ++i) {
            const Rule& r = s.rules[i];
            const Node* at = rule_info_[i].node ? rule_info_[i].node->find("name") : nullptr;
            if (!first_of(rule_names_, r.name, i) || !at) continue;
            const std::string path = join(rule_info_[i].path, "name");
            metric("payments." + r.name, at, path);
            if (!rule_info_[i].basis_ok || r.basis == Basis::rate_card) continue;
            if (r.per == Scope::all) {
                metric("rule." + r.name + ".met", at, path);
            } else {
                for (const auto& c : cohorts) metric("rule." + r.name + "." + c + ".met", at, path);
            }
        }
        for (std::size_t o = 0; o < s.outcomes.size(); ++o) {
            const std::string& name = s.outcomes[o].name;
            const Node* at = outcome_info_[o].node ? outcome_info_[o].node->find("name") : nullptr;
            if (!first_of(outcome_names_, name, o) || !at) continue;
            const std::string path = join(outcome_info_[o].path, "name");
            bool compared = false;
            for (std::size_t i = 0; i < s.rules.size(); ++i)
                compared |= rule_info_[i].basis_ok && rule_info_[i].outcome == o &&
                            s.rules[i].basis == Basis::versus_comparison;
            if (compared) {
                metric("outcome." + name + ".improvement", at, path);
                for (const auto& c : cohorts)
                    metric("outcome." + name + "." + c + ".improvement", at, path);
            }
            metric("outcome." + name + ".caused", at, path);
        }
    }

    static int index_of_outcome(const Scenario& s, const std::string& name) {
        for (std::size_t o = 0; o < s.outcomes.size(); ++o)
            if (s.outcomes[o].name == name) return static_cast<int>(o);
        return -1;
    }
    static std::size_t at(int i) { return static_cast<std::size_t>(i); }

    /// The period in which the outcome of a participant enrolled in `enrolled` is known.
    static int known_period(const Outcome& o, int enrolled) {
        return o.observed_by ? *o.observed_by : enrolled + o.observed_after + o.observed_over - 1;
    }

    /// Every payment must fall before the horizon (docs/model.md).
    void check_timing(const Scenario& s) {
        if (!horizon_) return;
        // observed_by: every participant is enrolled by then.
        for (std::size_t o = 0; o < s.outcomes.size(); ++o) {
            if (!s.outcomes[o].observed_by || !outcome_info_[o].timing_ok) continue;
            for (std::size_t c = 0; c < s.cohorts.size(); ++c) {
                if (!cohort_info_[c].enrol_ok ||
                    s.cohorts[c].enrol_last <= *s.outcomes[o].observed_by)
                    continue;
                error(*outcome_info_[o].observed_after_node,
                      join(outcome_info_[o].path, "observed_by"),
                      "period " + std::to_string(*s.outcomes[o].observed_by) +
                          " is before the last enrolment period of cohort " +
                          quote(s.cohorts[c].name) + " (" +
                          std::to_string(s.cohorts[c].enrol_last) + ")");
                break;
            }
        }
        // A follower of an outcome with observed_by, or with observed_by itself: known no
        // earlier than its leader for any participant. Known periods are straight lines in the
        // enrolment period, so each cohort's first and last enrolment decide.
        for (std::size_t i = 0; i < s.outcomes.size(); ++i) {
            const Outcome& f = s.outcomes[i];
            if (!f.after) continue;
            const int j = index_of_outcome(s, *f.after);
            if (j < 0 || !outcome_info_[i].timing_ok || !outcome_info_[at(j)].timing_ok) continue;
            const Outcome& l = s.outcomes[at(j)];
            if (!f.observed_by && !l.observed_by) continue;
            const OutcomeInfo& info = outcome_info_[i];
            for (std::size_t c = 0; c < s.cohorts.size(); ++c) {
                if (!cohort_info_[c].enrol_ok) continue;
                bool early = false;
                for (int e : {s.cohorts[c].enrol_first, s.cohorts[c].enrol_last})
                    early = early || known_period(f, e) < known_period(l, e);
                if (!early) continue;
                error(info.observed_after_node ? *info.observed_after_node : *info.node,
                      join(info.path, f.observed_by ? "observed_by" : "observed_after"),
                      "is known before " + quote(l.name) +
                          ", the outcome it follows, for participants of cohort " +
                          quote(s.cohorts[c].name));
                break;
            }
        }
        for (std::size_t i = 0; i < s.rules.size(); ++i) {
            const Rule& r = s.rules[i];
            const RuleInfo& info = rule_info_[i];
            if (!info.basis_ok || !info.lag_ok || !info.outcome) continue;
            if (!outcome_info_[*info.outcome].timing_ok) continue;
            const Outcome& outcome = s.outcomes[*info.outcome];
            if (outcome.observed_by && r.basis == Basis::rate_card && s.caps.per_participant)
                error(*info.node, info.path,
                      "a rate card on an outcome with observed_by cannot be combined with "
                      "caps.per_participant");
            if (r.observed_after && outcome.observed_by) {
                // One date for everyone: a second, later measurement needs a second outcome.
                error(*info.node->find("observed_after"), join(info.path, "observed_after"),
                      "has no meaning for an outcome with observed_by (" + quote(outcome.name) +
                          " is known in period " + std::to_string(*outcome.observed_by) + ")");
                continue;
            }
            if (r.observed_after && *r.observed_after < outcome.observed_after) {
                // A rule measures what the outcome is once known: not before it is known.
                error(*info.node->find("observed_after"), join(info.path, "observed_after"),
                      "must be at least the outcome's observed_after (" +
                          std::to_string(outcome.observed_after) + "), when " +
                          quote(outcome.name) + " is first known; got " +
                          std::to_string(*r.observed_after));
                continue;
            }
            // When the rule measures a participant enrolled in period e.
            auto rule_known = [&](int e) {
                return r.observed_after ? e + *r.observed_after + outcome.observed_over - 1
                                        : known_period(outcome, e);
            };
            std::optional<std::size_t> latest;
            int period = 0;
            for (std::size_t c = 0; c < s.cohorts.size(); ++c) {
                if (!cohort_info_[c].enrol_ok) continue;
                int p = rule_known(s.cohorts[c].enrol_last) + r.payment_lag;
                if (!latest || p > period) {
                    latest = c;
                    period = p;
                }
            }
            if (!latest || period < *horizon_) continue;
            bool pooled = r.basis != Basis::rate_card && r.per == Scope::all;
            std::string scope = pooled ? "all cohorts" : "cohort " + s.cohorts[*latest].name;
            error(*info.node, info.path,
                  "pays in period " + std::to_string(period) + " for " + scope +
                      ", at or after the horizon (" + std::to_string(*horizon_) + ")");
        }
    }
};

// ---- Text checks, parsing and overrides -------------------------------------------------------

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

}  // namespace

Override parse_override(std::string_view argument) {
    auto fail = [&](std::string message) {
        throw InputError({Diagnostic{"--set", {}, "", std::move(message)}});
    };
    auto eq = argument.find('=');
    if (eq == std::string_view::npos) fail("expected PATH=VALUE, got " + quote(argument));
    std::string_view path = argument.substr(0, eq);
    while (!path.empty() && (path.front() == ' ' || path.front() == '\t')) path.remove_prefix(1);
    while (!path.empty() && (path.back() == ' ' || path.back() == '\t')) path.remove_suffix(1);
    if (path.empty()) fail("expected PATH=VALUE with a path, got " + quote(argument));
    return Override{std::string(path), std::string(argument.substr(eq + 1))};
}

namespace {

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

}  // namespace

Scenario load_scenario(std::string_view text, const std::string& file,
                       const std::vector<Override>& overrides) {
    DiagnosticSink sink;
    sink.file = file;
    Node root = parse_file(text, sink);
    for (const auto& o : overrides) apply_override(root, o, sink);
    drop_duplicate_keys(root, PathStep{}, sink);
    if (!root.is_map()) {
        sink.error(root.loc, "", "expected a map of scenario keys, got " + describe(root));
        sink.throw_if_any();
    }
    Loader loader(sink);
    Scenario scenario = loader.load(root, file);
    throw_sorted(sink);
    return scenario;
}

Scenario load_scenario_file(const std::string& path, const std::vector<Override>& overrides) {
    return load_scenario(read_file(path), path, overrides);
}

Observed load_observed(std::string_view text, const std::string& file) {
    DiagnosticSink sink;
    sink.file = file;
    Node root = parse_file(text, sink);
    drop_duplicate_keys(root, PathStep{}, sink);
    if (!root.is_map()) {
        sink.error(root.loc, "", "expected a map with the key 'observed', got " + describe(root));
        sink.throw_if_any();
    }
    Loader loader(sink);
    Observed observed = loader.load_observed(root, file);
    throw_sorted(sink);
    return observed;
}

Observed load_observed_file(const std::string& path) {
    return load_observed(read_file(path), path);
}

}  // namespace sib
