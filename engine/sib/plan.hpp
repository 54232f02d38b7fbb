#pragma once
// Plan: the scenario compiled for the hot loop. Flat, index-based and immutable: names become
// integers, optional values become plain numbers, timing is resolved to periods, and the order in
// which payments are settled is fixed once here.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "sib/exact.hpp"
#include "sib/scenario.hpp"

namespace sib {

inline constexpr double no_limit = std::numeric_limits<double>::infinity();
/// A cap in minor units that never binds.
inline constexpr long long no_cap_units = std::numeric_limits<long long>::max();

/// One uncertain value, drawn once per trial from its own stream key (its path).
struct PlanParameter {
    Distribution dist;
    std::string path;
    std::uint64_t key = 0;
    int correlated_index = -1;  ///< position in the copula's Cholesky factor, or -1
};

struct PlanCohort {
    std::string name;
    int size_parameter = 0;
    int enrol_first = 0;
    int batches = 1;        ///< enrolment periods (one batch of participants each)
    int first_count = 0;    ///< index of this cohort's first batch count (see Plan::count_index)
    int first_batch = 0;    ///< index of this cohort's first batch in per-batch arrays
    std::uint64_t key = 0;  ///< stream key base, from the name
    /// The cohort's own payer split (`cohorts[].payers`), one exact share per payer; empty: the
    /// payers' shares.
    std::vector<ShareFraction> payer_fractions;
};

struct PlanOutcome {
    std::string name;
    OutcomeKind kind = OutcomeKind::binary;
    Better better = Better::higher;
    double dispersion = 1;
    int observed_after = 0;
    int observed_by = -1;  ///< every participant's outcome known in this period; -1: none
    /// `observed_over`: a count known one part a period over this many periods (1: at once).
    int observed_over = 1;
    /// The period in which the outcome of a participant enrolled in `enrolled` is known (with
    /// observed_over, all of it).
    int known(int enrolled) const {
        return observed_by >= 0 ? observed_by : enrolled + observed_after + observed_over - 1;
    }
    int leader = -1;    ///< `after`: index of the leader outcome
    int excluded = -1;  ///< `instead_of`: index of the outcome it excludes (same leader)
    /// `rate_without`: participants without the leader can achieve it too (probability
    /// DrawScratch::mean_without); otherwise `after` is strict.
    bool leader_optional = false;
    bool compared = false;  ///< used by a versus_comparison rule
    /// Counts are needed per enrolment batch (a rate card pays by batch, or savings are discounted
    /// by the period they are observed in, or a follower needs them); otherwise one aggregate draw
    /// per cohort is exact and enough.
    bool per_batch = false;
    std::uint64_t key = 0;  ///< stream key base, from the name
};

/// Indices into Plan::parameters for one (cohort, outcome); -1 when absent.
struct OutcomeParameters {
    int baseline = -1;
    int effect = -1;
    int rate = -1;
    int rate_without = -1;  ///< probability without the leader (`rate_without`)
};

enum class VersusPay { price, schedule, amount };

struct PlanRule {
    std::string name;
    Basis basis = Basis::rate_card;
    int outcome = 0;
    Scope per = Scope::all;
    int payment_lag = 0;
    long long cap_units = no_cap_units;  ///< the rule's own cap, in whole minor units
    double price = 0;
    double amount = 0;
    VersusPay versus_pay = VersusPay::price;
    bool share_target = false;  ///< target given as share_at_least
    double at_least = 0;        ///< successes, or share when share_target
    double threshold = 0;
    std::vector<SchedulePoint> schedule;
    bool schedule_steps = false;  ///< pay the highest schedule point reached
    /// rate_card: price once the investors have been repaid in an earlier period; < 0: none.
    double price_after_repaid = -1;
    int net_of = -1;
    /// Group rules: assessed in every period from the first outcome known in scope, paying the
    /// rise of the cumulative figure (`assess: every_period`), instead of once.
    bool every_period = false;
    /// With every_period (`assess: each_period`): each assessment pays its own whole amount
    /// instead of the rise above what was claimed before.
    bool each_period = false;
    /// Periods from enrolment until the rule measures its outcome: the rule's own
    /// `observed_after` when given (group rules), else the outcome's.
    int observed_after = 0;
    int observed_by = -1;  ///< the outcome's observed_by (a rule cannot override it), or -1
    /// The outcome's observed_over: the rule's measurement of a participant is complete
    /// observed_over - 1 periods after its first part (docs/model.md section 7.6).
    int observed_over = 1;
    /// The period in which the rule has measured all of a participant enrolled in `enrolled`.
    int known(int enrolled) const {
        return observed_by >= 0 ? observed_by : enrolled + observed_after + observed_over - 1;
    }
    /// The period in which the rule measures the first part of such a participant.
    int first_known(int enrolled) const {
        return observed_by >= 0 ? observed_by : enrolled + observed_after;
    }
    /// The share of such a participant's outcome measured by period `by`: 0 before
    /// first_known, 1 from known on, (by - first_known + 1) / observed_over between.
    double measured_share(int enrolled, int by) const {
        const int first = first_known(enrolled);
        if (by < first) return 0;
        if (by >= known(enrolled)) return 1;
        return static_cast<double>(by - first + 1) / static_cast<double>(observed_over);
    }
    /// Coupon (`coupon: true`): paid straight to the investors as return, never principal.
    bool coupon = false;
    std::vector<double> payer_shares;            ///< one per payer
    std::vector<ShareFraction> payer_fractions;  ///< the same shares as exact fractions
    bool own_payers = false;  ///< the rule's own `payers:`, which win over a cohort's
};

/// A place where a payment can fall: fixed by the plan, filled per trial. Slots are sorted in
/// settlement order: by period, then rule order in the file except that a net_of rule comes just
/// after the rule it names, then cohort.
struct PaymentSlot {
    int period = 0;
    int rule = 0;
    int cohort = -1;  ///< -1: all cohorts (rate cards and `per: all` rules)
};

/// Per-participant cap with binary rate-card outcomes: a participant's capped payments depend only
/// on which outcomes it achieved (its pattern), so they are computed once here and each trial only
/// draws how many participants show each pattern.
struct PatternPayment {
    int rule = 0;
    int offset = 0;     ///< periods from enrolment to payment
    double amount = 0;  ///< after the per-participant cap
};
struct Pattern {
    std::vector<char> achieved;  ///< per pattern outcome (Plan::pattern_outcomes)
    std::vector<PatternPayment> payments;
};

enum class ParticipantMode {
    aggregate,    ///< no per-participant cap: batch totals drawn in aggregate (exact)
    patterns,     ///< per-participant cap, binary outcomes: per batch, a multinomial over patterns
                  ///< or 64 participants at a time with bit-sliced Bernoulli draws (both exact)
    individuals,  ///< per-participant cap with count outcomes: each participant drawn (exact)
};

struct PlanPayer {
    std::string name;
    double share = 0;
    long long max_units = no_cap_units;   ///< most it pays over the contract, in minor units
    std::vector<double> saving_per_unit;  ///< one per outcome
};

struct PlanTranche {
    std::string name;
    double share = 1;
    double periodic_rate = 0;  ///< (1 + annual)^(1/periods per year) - 1
    int rank = 0;  ///< waterfall rank: non-decreasing in list order, equal ranks pro rata
};

struct PlanInvestors {
    double capital = 0;
    std::vector<PlanTranche> tranches;
    bool tranches_given = false;  ///< tranche metrics only when the user named tranches
    bool has_guarantee = false;
    std::string guarantor = "guarantor";
    double guarantee = no_limit;                 ///< most the guarantee pays (money)
    double guarantee_share_of_drawn = no_limit;  ///< and at most this share of capital drawn
    /// Minimum yield: in periods 1..yield_periods, payer `yield_payer` tops up what was
    /// distributed to yield_periodic_rate × principal outstanding; -1: no minimum yield.
    int yield_payer = -1;
    int yield_periods = 0;
    double yield_periodic_rate = 0;  ///< (1 + annual)^(1/periods per year) - 1
    int yield_advance_rule = -1;     ///< rule whose payments recover the top-ups, or -1
    /// Early redemption: at the end of period `redemption_period`, if rule `redemption_rule`
    /// (per: all) was assessed and not met, payer `redemption_payer` pays
    /// `redemption_share` × principal outstanding and the contract ends; -1: no redemption.
    int redemption_payer = -1;
    int redemption_period = -1;
    int redemption_rule = -1;
    double redemption_share = 0;
};

struct Plan {
    std::string name;
    std::string currency;
    PeriodUnit period_unit = PeriodUnit::quarter;
    int periods_per_year = 4;
    int horizon = 1;
    std::optional<YearMonth> start;
    double discount_rate = 0;
    long long trials = 10000;
    std::uint64_t seed = 1;

    std::vector<PlanParameter> parameters;
    Eigen::MatrixXd copula_cholesky;  ///< lower factor over correlated parameters
    std::vector<int> correlated;      ///< parameter index of each copula row

    std::vector<PlanCohort> cohorts;
    std::vector<PlanOutcome> outcomes;
    std::vector<int> outcome_order;                     ///< leaders before followers
    std::vector<OutcomeParameters> outcome_parameters;  ///< [cohort * outcomes + outcome]
    int batch_counts = 0;                               ///< total length of per-batch count arrays
    int batches = 0;                                    ///< batches over all cohorts

    bool has_comparison = false;
    ComparisonKind comparison_kind = ComparisonKind::matched;
    double comparison_ratio = 1;
    /// `comparison.historical_until`: assessments in periods up to this one compare with the
    /// drawn baseline (Outcomes::base) instead of the matched group; -1: none.
    int historical_until = -1;

    std::vector<PlanRule> rules;
    std::vector<int> settlement_order;  ///< rule indices in settlement order
    std::vector<PaymentSlot> slots;

    MinorUnit minor_unit;  ///< money is paid in whole units of it
    double per_participant_cap = no_limit;
    long long total_cap_units = no_cap_units;
    ParticipantMode participant_mode = ParticipantMode::aggregate;
    std::vector<int> pattern_outcomes;  ///< outcomes whose joint pattern is drawn (leaders first)
    std::vector<Pattern> patterns;
    std::vector<int> capped_rate_rules;  ///< rate-card rules in a participant's payment order
    std::vector<int> pattern_leader;     ///< per pattern outcome: its leader's index there, or -1
    std::vector<int> pattern_excluded;   ///< per pattern outcome: its `instead_of` there, or -1
    std::vector<char> pattern_paid;      ///< per pattern outcome: a capped rate card pays for it
    /// `participant_correlations` under a per-participant cap (then bit-sliced or individuals): the
    /// outcomes with a latent normal per participant, the Cholesky factor of their correlation
    /// matrix, and per pattern outcome its row there, or -1. Empty without a cap: totals per
    /// outcome are then drawn exactly in aggregate, and nothing depends on the joint.
    std::vector<int> joint_outcomes;
    Eigen::MatrixXd joint_cholesky;
    std::vector<int> pattern_joint;
    std::vector<int>
        capped_rule_outcome;  ///< per capped rule: its outcome's index in pattern_outcomes
    /// Fewest achieved (paid) outcomes that can reach the per-participant cap: participants with
    /// fewer are paid in full, so only the others need a look one by one.
    int min_capped_achievements = 0;
    /// When every capped price and the cap are whole multiples of one unit (money), each price
    /// in those units, and the cap: the bit-sliced draws then add up each participant's payments
    /// exactly, 64 at a time, and find exactly who goes over the cap. Empty otherwise.
    std::vector<std::uint64_t> capped_price_units;
    std::uint64_t cap_units = 0;
    int sum_bits = 0;  ///< bits that hold a participant's total in those units

    std::vector<PlanPayer> payers;
    bool cohort_payers = false;  ///< some cohort has its own payer split
    double cost_per_participant = 0;
    std::vector<double> cost_per_period;  ///< fixed provider costs, one per period
    std::optional<PlanInvestors> investors;

    std::vector<double> discount;  ///< present-value factor per period, over horizon + longest lag

    /// Index of the batch count of (cohort, outcome, batch) in per-trial arrays.
    int count_index(int cohort, int outcome, int batch) const {
        const auto& c = cohorts[static_cast<std::size_t>(cohort)];
        return c.first_count + outcome * c.batches + batch;
    }
    const OutcomeParameters& parameters_of(int cohort, int outcome) const {
        return outcome_parameters[static_cast<std::size_t>(cohort) * outcomes.size() +
                                  static_cast<std::size_t>(outcome)];
    }
};

/// Stream key of the parameter at `path`: its random numbers follow its name, not its position.
std::uint64_t stream_key_of_parameter(const std::string& path);

/// Compiles a validated Scenario (as returned by load_scenario) into a Plan.
Plan compile(const Scenario& scenario);

/// The period label "YYYY-MM-01" of period `period`, or "" when the scenario has no start.
std::string period_date(const Plan& plan, int period);

}  // namespace sib
