#pragma once
// Scenario: the contract as the user wrote it (docs/scenario-format.md). Plain data, no behaviour.
// Produced by load.hpp, turned into a Plan by plan.hpp. Every element keeps its SourceLoc so that
// later stages can still point at the user's file.
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "sib/diagnostics.hpp"

namespace sib {

// ---- Uncertain values (docs/scenario-format.md)
// -------------------------------------------------------

struct Fixed {
    double value = 0;
};
/// Normal, optionally truncated to [min, max].
struct Normal {
    double mean = 0, sd = 0;
    std::optional<double> min, max;
};
/// Lognormal whose own mean and sd are `mean` and `sd` (not those of the log).
struct Lognormal {
    double mean = 0, sd = 0;
};
struct Uniform {
    double min = 0, max = 0;
};
struct Triangular {
    double min = 0, mode = 0, max = 0;
};
/// Beta on [0, 1] with the given mean and sd.
struct Beta {
    double mean = 0, sd = 0;
};
using Distribution = std::variant<Fixed, Normal, Lognormal, Uniform, Triangular, Beta>;

/// The value a distribution stands for when nothing is drawn: its mean (a truncated normal's
/// `mean` parameter; a fixed value itself). Used for bounds at load and by `settle`.
inline double mean_of(const Distribution& d) {
    struct Visitor {
        double operator()(const Fixed& x) const { return x.value; }
        double operator()(const Normal& x) const { return x.mean; }
        double operator()(const Lognormal& x) const { return x.mean; }
        double operator()(const Uniform& x) const { return (x.min + x.max) / 2; }
        double operator()(const Triangular& x) const { return (x.min + x.mode + x.max) / 3; }
        double operator()(const Beta& x) const { return x.mean; }
    };
    return std::visit(Visitor{}, d);
}

/// A value drawn once per trial (or fixed). `path` is its docs/scenario-format.md path, used by
/// `correlations` ("outcomes.reconviction.effect", "cohorts.cohort-1.size").
struct Uncertain {
    Distribution dist = Fixed{};
    std::string path;
    SourceLoc loc;
};

// ---- Cohorts and outcomes (docs/scenario-format.md)
// ------------------------------------------------

/// One payer's share of a split (a rule's or a cohort's `payers:`).
struct PayerShare {
    std::string payer;
    double share = 0;
    SourceLoc loc;
};

/// Per-cohort override of an outcome's baseline, effect or rate.
struct OutcomeOverride {
    std::string outcome;
    std::optional<Uncertain> baseline, effect, rate;
    SourceLoc loc;
};

struct Cohort {
    std::string name;
    Uncertain size;       ///< participants; rounded to nearest whole number, at least 0
    int enrol_first = 0;  ///< first enrolment period, inclusive
    int enrol_last = 0;   ///< last enrolment period, inclusive
    std::vector<OutcomeOverride> overrides;
    /// The split of payments arising from this cohort, when it differs from the payers' shares
    /// (a rule's own `payers` still win). Empty: the payers' shares.
    std::vector<PayerShare> payers;
    SourceLoc loc;
};

enum class OutcomeKind { binary, count };
enum class Better { higher, lower };

struct Outcome {
    std::string name;
    OutcomeKind kind = OutcomeKind::binary;
    Better better = Better::higher;
    std::optional<Uncertain>
        baseline;                     ///< mean per participant without intervention (binary: prob.)
    std::optional<Uncertain> effect;  ///< relative change: mean = baseline × (1 + effect)
    std::optional<Uncertain> rate;    ///< participants' mean given directly (then effect unused)
    double dispersion = 1;            ///< count only: variance / mean, ≥ 1
    int observed_after = 0;           ///< periods from enrolment until the outcome is known
    /// Every participant's outcome is known in this period (achieved by then), instead of
    /// observed_after periods after enrolment.
    std::optional<int> observed_by;
    /// count only (`observed_over`): the count covers this many periods, one more of them known
    /// each period from observed_after on (spread evenly); 1: known all at once.
    int observed_over = 1;
    std::optional<std::string> after;  ///< binary only: leader outcome that must be achieved first
    /// binary only: an earlier outcome with the same `after`; only participants who did not
    /// achieve it can achieve this one (either/or).
    std::optional<std::string> instead_of;
    /// binary with `after` only: probability for participants WITHOUT the leader (a prerequisite
    /// that is not strict); `rate` stays the probability given the leader.
    std::optional<Uncertain> rate_without;
    SourceLoc loc;
};

// ---- Comparison (docs/scenario-format.md)
// --------------------------------------------------------------

enum class ComparisonKind { matched, historical };

struct Comparison {
    ComparisonKind kind = ComparisonKind::matched;
    double ratio = 1;  ///< matched only: comparison members per participant
    /// matched only (`historical_until`): assessments in periods up to this one compare with the
    /// outcome's baseline (as `historical`), later ones with the matched group.
    std::optional<int> historical_until;
    SourceLoc loc;
};

// ---- Payment rules (docs/scenario-format.md)
// -----------------------------------------------------------

enum class Basis { rate_card, target, versus_comparison };
enum class Scope { all, cohort };  ///< `per:` all cohorts pooled, or each cohort on its own

struct SchedulePoint {
    double improvement = 0;  ///< relative improvement, e.g. 0.10
    double payment = 0;      ///< money
};

struct Rule {
    std::string name;
    Basis basis = Basis::rate_card;
    std::string outcome;
    int payment_lag = 0;             ///< periods from assessment (or observation) to payment
    std::optional<double> cap;       ///< most this rule pays in total
    Scope per = Scope::all;          ///< target, versus_comparison
    std::optional<double> price;     ///< rate_card: per achievement; target: per success when met;
                                     ///< versus_comparison: per unit improved
    std::optional<double> amount;    ///< target, versus_comparison: fixed sum when met
    std::optional<double> at_least;  ///< target: successes needed (whole number)
    std::optional<double> share_at_least;      ///< target: share of participants needed
    double threshold = 0;                      ///< versus_comparison: least relative improvement
    std::vector<SchedulePoint> schedule;       ///< versus_comparison: payment by improvement
    bool schedule_steps = false;               ///< schedule: pay the highest point reached, no
                                               ///< interpolation (`interpolate: step`)
    std::optional<double> price_after_repaid;  ///< rate_card: price per achievement falling due
                                               ///< after the investors were fully repaid
    std::optional<std::string> net_of;         ///< pays its amount less what that rule paid
    /// target, versus_comparison: assessed once, when the scope's last outcome is known, or
    /// in every period from the first (`assess: every_period`), paying the rise of its
    /// cumulative figure on the participants known by then.
    bool every_period = false;
    /// With every_period (`assess: each_period`): each assessment pays its own whole amount, not
    /// the rise of a cumulative figure (a yearly coupon set on the results to date).
    bool each_period = false;
    /// target, versus_comparison: periods from enrolment to the rule's measurement, when it is
    /// not the outcome's own observed_after (a second measurement time of the same outcome).
    std::optional<int> observed_after;
    /// Paid to the investors as a coupon (`coupon: true`): a return that never repays principal,
    /// not recycled into provider costs.
    bool coupon = false;
    std::vector<PayerShare> payers;  ///< rule-level override of the payer split
    SourceLoc loc;
};

// ---- Caps and payers (docs/scenario-format.md)
// ------------------------------------------------------

struct Caps {
    std::optional<double> per_participant;  ///< all rate_card rules together, per participant
    std::optional<double> total;            ///< all rules together
};

struct Saving {
    std::string outcome;
    double value_per_unit = 0;  ///< money per unit truly caused
    SourceLoc loc;
};

struct Payer {
    std::string name;
    double share = 0;
    std::optional<double> max;  ///< most this payer pays over the contract (money)
    std::vector<Saving> savings;
    SourceLoc loc;
};

// ---- Provider and investors (docs/model.md) --------------------------------------------------

struct ProviderCosts {
    double per_participant = 0;  ///< money, at each participant's enrolment period
    double per_period = 0;       ///< money, in each period from..to inclusive
    int from = 0;
    std::optional<int> to;  ///< default: horizon - 1
};

struct Tranche {
    std::string name;
    double share = 1;               ///< share of capital
    double rate = 0;                ///< annual rate owed before later tranches, e.g. 0.05
    std::optional<long long> rank;  ///< tranches of one rank are paid pro rata; default: list order
    SourceLoc loc;
};

struct Guarantee {
    std::string name = "guarantor";
    std::optional<double> amount;          ///< most it pays (money)
    std::optional<double> share_of_drawn;  ///< most it pays, as a share of capital drawn
};

/// A floor on the investors' yield in the first periods (docs/model.md, "Minimum yield"): in each
/// period 1..periods, `paid_by` tops up what the waterfall distributed to the coupon owed at
/// `rate` on principal outstanding.
struct MinimumYield {
    double rate = 0;      ///< annual yield, e.g. 0.05
    int periods = 1;      ///< owed in periods 1..periods
    std::string paid_by;  ///< a payer
    /// A rule whose later payments are reduced by the top-ups paid (an advance); none: additional.
    std::optional<std::string> advance_on;
};

/// Early redemption (docs/model.md, "Early redemption"): at the end of `period`, if rule
/// `if_not_met` was assessed by then and its latest assessment was not met, `paid_by` pays the
/// investors `share_of_principal` of their principal outstanding and the contract ends.
struct Redemption {
    int period = 1;                 ///< period at whose end the condition is checked
    double share_of_principal = 0;  ///< share of principal outstanding paid back, e.g. 0.75
    std::string paid_by;            ///< a payer
    std::string if_not_met;         ///< a group rule with `per: all`
};

struct Investors {
    double capital = 0;             ///< committed money
    std::vector<Tranche> tranches;  ///< empty: one tranche called "investors"
    std::optional<Guarantee> guarantee;
    std::optional<MinimumYield> minimum_yield;
    std::optional<Redemption> redemption;
    SourceLoc loc;
};

// ---- Correlations (docs/scenario-format.md)
// -----------------------------------------------------------

struct Correlation {
    std::string first, second;  ///< paths of uncertain values
    double rho = 0;
    SourceLoc loc;
};

// ---- The scenario -----------------------------------------------------------------------------

enum class PeriodUnit { month, quarter, year };

/// Periods per year of a period unit (12, 4, 1).
constexpr int periods_per_year(PeriodUnit unit) {
    return unit == PeriodUnit::month ? 12 : unit == PeriodUnit::quarter ? 4 : 1;
}

struct YearMonth {
    int year = 0;
    int month = 1;  ///< 1..12
};

struct Scenario {
    std::string file;  ///< as given by the user, for messages
    std::string name;
    std::string description;
    std::string currency = "GBP";
    PeriodUnit period = PeriodUnit::quarter;
    int horizon = 0;
    std::optional<YearMonth> start;
    double discount_rate = 0;  ///< annual
    double minor_unit = 0.01;  ///< money is paid in whole units of it (a power of ten, 0.0001 to 1)
    long long trials = 10000;
    unsigned long long seed = 1;
    std::vector<Cohort> cohorts;
    std::vector<Outcome> outcomes;
    std::optional<Comparison> comparison;
    std::vector<Rule> rules;
    Caps caps;
    std::vector<Payer> payers;
    std::optional<ProviderCosts> provider;
    std::optional<Investors> investors;
    std::vector<Correlation> correlations;
    /// Outcomes of one participant that go together: pairs of binary outcome names (without
    /// `after` or `instead_of`) and the correlation of their latent normals (a Gaussian copula).
    std::vector<Correlation> participant_correlations;
};

}  // namespace sib
