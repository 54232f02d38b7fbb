#pragma once
// The loader's private parts (load.hpp is its public face): limits, value helpers, and the
// Loader class, which checks every key of a YAML tree (load_yaml.hpp) and builds a Scenario or
// Observed, collecting every problem into a DiagnosticSink. Checks that depend on a value that
// was itself wrong are skipped, so that one mistake gives one message.
//
// Loader's members are defined in one file per part of the file format:
//   load.cpp                the public functions; Loader::load, the top-level keys
//   load_values.cpp         reporting, shapes, numbers, names, references, named lists
//   load_distributions.cpp  uncertain values {dist: ...} and `correlations`
//   load_outcomes.cpp       outcomes, cohorts, comparison, participant_correlations
//   load_payments.cpp       payers, payments (rules), caps, payer shares
//   load_investors.cpp      provider costs and investors
//   load_checks.cpp         checks across sections: references, timing, magnitudes, names
//   load_observed.cpp       observed results for `settle`
// The keys each map allows are listed once, in load_keys.hpp.
#include <cmath>
#include <cstddef>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sib/load_keys.hpp"
#include "sib/load_yaml.hpp"
#include "sib/observed.hpp"
#include "sib/scenario.hpp"

namespace sib::load_detail {

inline constexpr double infinity = std::numeric_limits<double>::infinity();
inline constexpr double max_size = 10'000'000;  // participants in one cohort
inline constexpr long long max_period = 1200;   // horizon and every period count
inline constexpr double share_tolerance = 1e-9;

// Money and counts stay far inside what a double holds exactly, so that every sum, square and
// product the engine forms is finite and exact to the cent (docs/limits.md).
inline constexpr double max_money = 1e12;          // any money value written in a scenario
inline constexpr double max_money_product = 1e15;  // the most one rule, saving or cost can come to
inline constexpr double max_count_mean = 1e6;      // a count outcome's events per participant
inline constexpr double max_events = 1e13;         // events in one cohort or its comparison group

// Limits on how much a scenario may ask of the engine, so that no input makes it allocate or
// loop absurdly (docs/limits.md). Each is far beyond any real outcomes contract.
inline constexpr std::size_t max_cohorts = 1000;
inline constexpr std::size_t max_outcomes = 100;
inline constexpr std::size_t max_rules = 1000;
inline constexpr std::size_t max_payers = 100;
inline constexpr std::size_t max_tranches = 100;
inline constexpr std::size_t max_correlations = 1000;
inline constexpr std::size_t max_schedule_points = 1000;
inline constexpr long long max_batch_counts =
    1'000'000;  // enrolment periods over cohorts x outcomes

// ---- Numbers in messages and in the file (load_values.cpp) ----

/// Numbers in messages: up to 10 significant digits, locale-free.
std::string fmt(double v);

/// "a", "a or b", "a, b or c".
std::string one_of(const std::vector<std::string>& options);

enum class NumberParse { ok, not_a_number, not_finite };

/// Strict: the whole token must be a decimal number (an optional leading '+' as YAML allows).
NumberParse parse_number(std::string_view s, double& out);

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

Range at_least(double lo);
Range greater_than(double lo);
Range between(double lo, double hi);

// ---- What the loader keeps of the entries it has read, for references and later checks ----

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

/// One pass over a YAML tree. Each member is documented at its definition, in the file named
/// above its declaration here.
class Loader {
  public:
    explicit Loader(DiagnosticSink& sink) : sink_(sink) {}

    // load.cpp
    Scenario load(const Node& root, const std::string& file);
    // load_observed.cpp
    Observed load_observed(const Node& root, const std::string& file);

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

    // load.cpp: the top-level keys
    void load_header(const Node& root, Scenario& s);
    void load_start(const Node& n, Scenario& s);
    void load_seed(const Node& n, Scenario& s);

    // load_values.cpp: reporting, shapes, scalars, references, named lists
    void error(const Node& at, const std::string& path, std::string message);
    void error(const Key& at, const std::string& path, std::string message);
    bool expect_map(const Node& n, const std::string& path);
    bool expect_list(const Node& n, const std::string& path);
    void check_keys(const Node& map, const std::string& path, Section section);
    const Node* require(const Node& map, const std::string& path, const std::string& key);
    void reject_keys(const Node& map, const std::string& path, Section section, unsigned variant,
                     const std::string& context);
    std::optional<double> number(const Node& n, const std::string& path);
    bool in_range(const Node& n, const std::string& path, double v, const Range& range,
                  const std::string& context = "");
    std::optional<double> number(const Node& n, const std::string& path, const Range& range,
                                 const std::string& context = "");
    std::optional<double> money(const Node& n, const std::string& path);
    std::optional<long long> whole(const Node& n, const std::string& path, long long lo,
                                   long long hi);
    std::optional<int> whole_int(const Node& n, const std::string& path, int lo, int hi);
    std::optional<std::string> text(const Node& n, const std::string& path);
    std::optional<std::string> name(const Node& n, const std::string& path);
    std::optional<std::size_t> choice(const Node& n, const std::string& path,
                                      const std::vector<std::string>& options);
    std::optional<std::size_t> refer(const Node& n, const std::string& path, const Names& names,
                                     const std::string& what);
    std::optional<std::size_t> refer(const Key& k, const std::string& path, const Names& names,
                                     const std::string& what);
    std::vector<Entry> entries(const Node& list, const std::string& path, Names& names,
                               bool at_least_one, std::size_t at_most);
    bool check_count(const Node& list, const std::string& path, std::size_t at_most);
    static void record(Names& names, const Entry& e, std::size_t position);

    // load_distributions.cpp: uncertain values and their correlations
    std::optional<Uncertain> uncertain(const Node& n, const std::string& path);
    std::optional<Uncertain> parse_uncertain(const Node& n, const std::string& path);
    bool check_fixed(const Node& n, const std::string& path, const Uncertain& u, const Range& range,
                     const std::string& context);
    std::optional<Uncertain> outcome_value(const Node& n, const std::string& path,
                                           const std::string& key, const OutcomeInfo* info,
                                           const Outcome* o);
    void load_correlations(const Node& list, Scenario& s);
    void check_positive_definite(const Node& list, const Scenario& s);

    // load_outcomes.cpp
    void load_outcomes(const Node& list, Scenario& s);
    void load_rate_without(const Node& n, const Node& m, const std::string& outcome_path,
                           const OutcomeInfo& info, Outcome& o);
    void load_cohorts(const Node& list, Scenario& s);
    bool load_enrol(const Node& n, const Entry& e, Cohort& c);
    void load_overrides(const Node& map, const Entry& e, Cohort& c, const Scenario& s);
    void load_comparison(const Node& n, Scenario& s);
    void load_participant_correlations(const Node& list, Scenario& s);
    void load_observed_over(const Node& n, const Node& m, const std::string& path, Outcome& o,
                            OutcomeInfo& info);
    void load_historical_until(const Node& n, std::optional<std::size_t> kind, Comparison& c);

    // load_payments.cpp
    void load_payers(const Node& list, Scenario& s);
    void load_rules(const Node& list, Scenario& s);
    void load_schedule(const Node& n, const Entry& e, Rule& r);
    void load_rule_payers(const Node& n, const Entry& e, Rule& r);
    void load_coupon(const Node& n, const Entry& e, Rule& r);
    void load_cohort_payers(Scenario& s);
    void load_payer_shares(const Node& n, const std::string& path, std::vector<PayerShare>& out);
    void check_basis(const Node& m, const Entry& e, const Rule& r, const RuleInfo& info,
                     const Scenario& s);
    void load_caps(const Node& n, Scenario& s);

    // load_investors.cpp
    void load_provider(const Node& n, Scenario& s);
    void load_investors(const Node& n, Scenario& s);
    std::optional<Redemption> load_redemption(const Node& y, const Scenario& s);
    std::optional<MinimumYield> load_minimum_yield(const Node& y);
    void check_ranks(const Node& list, const std::vector<Tranche>& tranches,
                     const std::vector<const Node*>& ranked);

    // load_checks.cpp: checks across sections
    void check_after(const Scenario& s);
    void check_batch_counts(const Node& list, const Scenario& s);
    void check_net_of(const Scenario& s);
    void check_comparison_needed(const Node& root, const Scenario& s);
    bool check_redemption_rule(const Node& at, const Scenario& s, std::size_t i, int period);
    void check_price_after_repaid(const Node& root, const Scenario& s);
    void check_coupons(const Scenario& s);
    void check_observed_over(const Scenario& s);
    static double top_of(const Distribution& d);
    void too_large(const Uncertain& u, std::string message);
    void check_magnitudes(const Scenario& s);
    void check_output_names(const Node& root, const Scenario& s);
    static int index_of_outcome(const Scenario& s, const std::string& name);
    static std::size_t at(int i);
    static int known_period(const Outcome& o, int enrolled);
    void check_timing(const Scenario& s);
};

}  // namespace sib::load_detail
