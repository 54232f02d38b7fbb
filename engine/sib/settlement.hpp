#pragma once
// settle: Outcomes → Settlement, one period at a time (docs/model.md, "The settlement loop"). In
// each period, in order: the rules' payments due then (rate cards from achievements; group rules
// assessed when their scope's last outcome is known), each rounded to whole minor units and cut
// by the caps in settlement order, split among payers; then the investors' waterfall for that
// period. The same function settles a simulated trial and observed results, so `run` and
// `settle` cannot disagree. Buffers are sized once per plan: allocation-free, throws nothing.
#include <vector>

#include "sib/exact.hpp"
#include "sib/outcomes.hpp"
#include "sib/plan.hpp"

namespace sib {

struct Settlement {
    // Payments, in whole minor units (Plan::minor_unit).
    std::vector<long long> slot_paid;  ///< per payment slot, after all caps
    /// [slot * P + payer]: each payer's part of a slot's payment (cohort payers and payer maxima
    /// applied); meaningful only where slot_paid is not 0, so never cleared. Empty, and not
    /// filled, unless the caller sizes it (settle on observed results, for payments.csv): a
    /// simulation does not pay for slots × payers per trial.
    std::vector<long long> slot_parts;
    std::vector<long long> rule_paid;         ///< per rule
    std::vector<long long> rule_cohort_paid;  ///< [rule * C + cohort], per-cohort rules
    std::vector<long long> payer_paid;        ///< per payer
    long long total_paid = 0;

    // Group rules, per rule (`per: all`) or [rule * C + cohort]: whether the condition held, and
    // whether the scope was assessed at all (it has participants, and every cohort in it was
    // observed). A rule not assessed pays nothing and its `met` is 0.
    std::vector<char> met;
    std::vector<char> assessed;

    // Money per period, in currency units.
    std::vector<double> payments;  ///< outcome payments, after caps
    /// Per period: the part of `payments` made by rules with `coupon: true`, which the
    /// waterfall pays straight to the investors as return (docs/model.md section 9.6).
    std::vector<double> coupons;
    std::vector<double> payer_flows;     ///< [payer * H + period], payments (negative)
    std::vector<double> payer_pv;        ///< per payer: present value of its payments
    std::vector<double> costs;           ///< provider costs
    std::vector<double> provider_flows;  ///< unfunded costs (negative), or with no investors
                                         ///< payments less costs
    std::vector<double> tranche_flows;   ///< [tranche * H + period], draws negative
    std::vector<double> tranche_drawn, tranche_received;  ///< per tranche, whole contract
    std::vector<double> investor_flows;                   ///< per period, all tranches
    double provider_costs = 0;                            ///< whole contract
    double unfunded = 0;                                  ///< whole contract
    double guarantee_paid = 0;                            ///< in the last period
    /// The period in which the investors were fully repaid (every tranche's principal and return),
    /// -1 if never: rate cards with `price_after_repaid` use that price in later periods.
    int repaid_period = -1;
    /// Minimum yield (investors.minimum_yield): top-ups paid by its payer, whole minor units, and
    /// the part not yet recovered from its `advance_on` rule.
    long long yield_paid = 0;
    long long yield_unrecovered = 0;
    /// Early redemption (investors.redemption): the period in which it happened (-1: never) and
    /// what its payer paid the investors, whole minor units. From the next period on the
    /// contract is over: no slot pays and later provider costs are the provider's.
    int redeemed_period = -1;
    long long redemption_paid = 0;

    // Working space.
    std::vector<int> known;  ///< [rule * (C + 1) + scope]: period its scope's outcome is known
    std::vector<char> scope_observed;  ///< like `known`
    /// Rules assessed every period, like `known`: the highest cumulative figure claimed so far
    /// (minor units, after net_of, before caps).
    std::vector<long long> claimed;
    std::vector<double> cost_to_come;  ///< per period: costs after that period
    std::vector<double> tranche_balance, tranche_principal;
    std::vector<double> tranche_part;           ///< per tranche: one distribution's part
    std::vector<double> tranche_claim;          ///< per tranche: what the guarantee covers
    std::vector<long long> parts;               ///< per payer: one payment's split
    std::vector<double> cohort_weight;          ///< per cohort: a rate-card slot's achievements
    std::vector<long long> cohort_part;         ///< per cohort: its part of a slot (minor units)
    std::vector<long long> cohort_payer_parts;  ///< per payer: one cohort part's split

    explicit Settlement(const Plan& plan);
};

/// Settles `outcomes` under the plan's rules, caps, payers and waterfall into `settlement`.
void settle(const Plan& plan, const Outcomes& outcomes, Settlement& settlement);

/// A rule's measured relative improvement against the comparison: (c - t) / c for `better:
/// lower`, (t - c) / c for `better: higher`; 0 when c is not positive.
double relative_improvement(Better better, double participants_mean, double comparison_mean);

}  // namespace sib
