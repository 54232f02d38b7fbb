#pragma once
// Metrics and cash flows of one trial (docs/outputs.md, "Metrics"), derived from its Outcomes and
// Settlement. Where each metric and party sits is decided once per plan by the layouts.
#include <string>
#include <vector>

#include "sib/outcomes.hpp"
#include "sib/plan.hpp"
#include "sib/settlement.hpp"
#include "sib/table.hpp"

namespace sib {

/// Where each metric sits in a trial's metric array, in output order.
struct MetricLayout {
    std::vector<std::string> names;
    std::vector<Unit> units;  ///< per metric, beside `names`: how a workbook shows it
    int payments_total = 0;
    int first_rule_payment = 0;  ///< payments.RULE, one per rule
    int first_payer = 0;         ///< payer.NAME.paid, .savings, .net_cost_pv per payer
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
