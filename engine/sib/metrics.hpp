#pragma once
// Metrics and cash flows of one trial (docs/outputs.md, "Metrics"), derived from its Outcomes and
// Settlement. Where each metric and party sits is decided once per plan by the layouts.
#include <string>
#include <string_view>
#include <vector>

#include "sib/outcomes.hpp"
#include "sib/plan.hpp"
#include "sib/settlement.hpp"

namespace sib {

/// What kind of number a metric is, which decides how a table shows it (docs/outputs.md,
/// "Metrics", the unit column): CSV and JSON print every kind in full alike.
enum class MetricKind {
    money,        ///< in the scenario's currency
    probability,  ///< 0 or 1 in each trial; its mean is a probability
    rate,         ///< an annual rate such as an IRR, 0.05 = 5% a year
    relative,     ///< a relative improvement, 0.1 = 10% better than the comparison
    ratio,        ///< a multiple such as received / drawn
    count,        ///< successes or events
};

/// Where each metric sits in a trial's metric array, in output order, with what each one is.
struct MetricLayout {
    std::vector<std::string> names;
    std::vector<MetricKind> kinds;      ///< one per name
    std::vector<std::string> meanings;  ///< one per name: a one-line meaning for `sibsim metrics`
    int payments_total = 0;
    int first_rule_payment = 0;  ///< payments.RULE, one per rule
    int first_payer = 0;         ///< payer.NAME.paid, .savings, .net_cost_pv per payer
    int payers = 0;              ///< how many payers, three metrics each from first_payer
    int investors = -1;          ///< drawn, received, multiple, irr, loss, any_loss
    int first_tranche = -1;      ///< tranche.NAME.drawn, .received, .irr per tranche
    int guarantee_paid = -1;
    int minimum_yield_paid = -1;  ///< minimum_yield.paid, with investors.minimum_yield
    int redemption = -1;  ///< redemption.redeemed, redemption.paid, with investors.redemption
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

/// The position of metric `name` in `layout`, or -1 when the layout has no such metric.
int metric_index(const MetricLayout& layout, std::string_view name);

/// The metrics a table shows first, and by default alone, for sweep and compare: payments.total,
/// each payer's net_cost_pv, then investors.multiple, .irr and .any_loss when there are investors.
std::vector<std::string> key_metrics(const MetricLayout& layout);
PartyLayout party_layout(const Plan& plan);

/// What a `rule.*.met` metric holds for a scope that was not assessed: 0 in simulation (a scope
/// without participants does not pay), NaN for `settle`, whose reports print "not assessed".
enum class NotAssessed { zero, nan };

/// Fills `metrics` (one per MetricLayout name) and `flows` ([party * H + period], PartyLayout)
/// from a settled trial.
void fill_metrics(const Plan& plan, const MetricLayout& layout, const PartyLayout& parties,
                  const Outcomes& outcomes, const Settlement& settlement, NotAssessed not_assessed,
                  std::vector<double>& metrics, std::vector<double>& flows);

}  // namespace sib
