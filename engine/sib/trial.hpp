#pragma once
// One trial: draw parameters (through the copula), draw participants' outcomes and comparison
// groups, assess the payment rules, apply caps in settlement order, split payments among payers,
// run the investors' waterfall and fill the trial's metrics and cash flows. Everything works in
// TrialState buffers sized once per plan: the hot loop allocates nothing and throws nothing.
#include <cstdint>
#include <string>
#include <vector>

#include "sib/plan.hpp"

namespace sib {

/// Where each metric of SPEC section 14 sits in a trial's metric array, in output order.
struct MetricLayout {
    std::vector<std::string> names;
    int payments_total = 0;
    int first_rule_payment = 0;  ///< payments.RULE, one per rule
    int first_payer = 0;         ///< payer.NAME.paid, .savings, .net_cost_pv per payer
    int investors = -1;          ///< drawn, received, multiple, irr, loss, any_loss
    int first_tranche = -1;      ///< tranche.NAME.drawn, .received, .irr per tranche
    int guarantee_paid = -1;
    int provider_costs = 0;
    int provider_unfunded = -1;
    std::vector<int> rule_met;     ///< per rule: rule.RULE.met, or first rule.RULE.COHORT.met
    std::vector<int> improvement;  ///< per outcome: pooled, then one per cohort; or -1
    int first_caused = 0;          ///< outcome.NAME.caused per outcome
};

/// The parties of cashflows.csv, in output order.
struct PartyLayout {
    std::vector<std::string> names;
    int first_payer = 0;
    int investors = -1;
    int first_tranche = -1;  ///< only when tranches are given
    int provider = 0;
    int guarantor = -1;
};

MetricLayout metric_layout(const Plan& plan);
PartyLayout party_layout(const Plan& plan);

/// Scratch space and results of one trial; reused across trials.
struct TrialState {
    std::vector<double> uniforms;        ///< per parameter
    std::vector<double> copula_normals;  ///< per correlated parameter
    std::vector<double> values;          ///< per parameter: the drawn value

    std::vector<long long> cohort_size;  ///< per cohort
    std::vector<long long> batch_size;   ///< per batch (Plan::cohorts[c].first_batch + b)
    std::vector<double> mean;            ///< [c*O+o] participants' mean (binary: probability,
                                         ///< given the leader for followers)
    std::vector<double> base;            ///< [c*O+o] mean per participant without the intervention,
                                         ///< unconditional (followers: times the leader's)
    std::vector<double> counts;          ///< per batch count (Plan::count_index)
    std::vector<double> total;           ///< [c*O+o] realised total over the cohort
    std::vector<double> comparison_mean;  ///< [c*O+o] comparison mean per member
    std::vector<double> pattern_probability;
    std::vector<long long> individual;         ///< individuals mode: one participant's outcomes
    std::vector<std::uint64_t> lane_masks;     ///< bit-sliced draws: per pattern outcome, 64 lanes
    std::vector<std::uint64_t> lane_counters;  ///< lanes with at least k+1 paid achievements
    std::vector<std::uint64_t> lane_sums;      ///< bit planes of each lane's total in price units
    std::vector<double> capped_due;            ///< per capped rate-card rule, one batch

    std::vector<double> slot_due;          ///< per payment slot, before rule and total caps
    std::vector<double> slot_paid;         ///< per payment slot, after all caps
    std::vector<double> rule_paid;         ///< per rule, running during settlement
    std::vector<double> rule_cohort_paid;  ///< [rule * C + cohort]
    std::vector<double> met;               ///< per rule (per: all) or [rule * C + cohort]
    std::vector<char> assessed;         ///< like `met`: 0 when a cohort in scope was not observed
    std::vector<int> outcome_known;     ///< [rule * (C + 1) + cohort, pooled last]: the period the
                                        ///< scope's last outcome is known; -1: no participants
    std::vector<char> cohort_observed;  ///< per cohort; always 1 in simulation (settle may clear)

    std::vector<double> payments;      ///< per period, after caps
    std::vector<double> costs;         ///< per period, provider costs
    std::vector<double> cost_to_come;  ///< per period: costs after that period
    std::vector<double> tranche_balance, tranche_principal;
    std::vector<double> tranche_flows;                    ///< [tranche * H + period]
    std::vector<double> tranche_drawn, tranche_received;  ///< per tranche, whole contract
    std::vector<double> investor_flows;                   ///< per period

    std::vector<double> metrics;  ///< per metric (MetricLayout)
    std::vector<double> flows;    ///< [party * H + period] (PartyLayout)

    explicit TrialState(const Plan& plan);
};

/// The value of distribution `d` at uniform `u` in (0, 1): its quantile function.
double quantile(const Distribution& d, double u);

/// From the parameter values in `state.values`: participants' mean and the no-intervention mean
/// of every (cohort, outcome), into `state.mean` and `state.base`.
void resolve_means(const Plan& plan, TrialState& state);

/// Adds the rate-card payments due for cohort `c` from its batch counts, each achievement paid
/// at its price in period enrol + observed_after + payment_lag (no per-participant cap).
void add_rate_card_dues(const Plan& plan, int c, TrialState& state);

/// Simulates trial `trial` of the plan into `state` (metrics and flows).
void simulate_trial(const Plan& plan, const MetricLayout& metrics, const PartyLayout& parties,
                    std::uint64_t trial, TrialState& state);

/// The draws of trial `trial`: parameters, cohort sizes, outcomes, comparison groups and the
/// rate-card payments due; what settle_trial then settles. simulate_trial is the two together.
void draw_trial(const Plan& plan, std::uint64_t trial, TrialState& state);

/// Everything after the draws: assesses rules, settles payments through the caps, splits them
/// among payers, runs the waterfall and fills metrics and flows. Expects `cohort_size`,
/// `batch_size`, `mean`, `base`, `counts`, `total`, `comparison_mean` and the rate-card part of
/// `slot_due` to be set. Used by simulate_trial and by `settle` on observed results.
void settle_trial(const Plan& plan, const MetricLayout& metrics, const PartyLayout& parties,
                  TrialState& state);

}  // namespace sib
