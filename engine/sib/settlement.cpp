#include "sib/settlement.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sib {

namespace {

using std::size_t;

constexpr size_t at(int i) {
    return static_cast<size_t>(i);
}

/// Below this distance a double decision (improvement against a threshold or a schedule point,
/// successes against a share) is taken again in exact decimal arithmetic (exact.hpp).
constexpr double near_tie = 1e-9;

/// Sums over the cohorts in a scope (-1: all): participants, realised total, and the comparison
/// group's mean per member weighted by participants (so comparison / participants is the pooled
/// comparison mean).
struct ScopeSums {
    double participants = 0, total = 0, comparison = 0;
};

/// Assessment of every participant in scope (a rule assessed once, or the last assessment of a
/// rule assessed every period).
constexpr int whole_scope = std::numeric_limits<int>::max();

/// Whether all of cohort c's batches are measured by period `by` under `rule`.
bool cohort_known_by(const Plan& plan, const PlanRule& rule, size_t c, int by) {
    const auto& cohort = plan.cohorts[c];
    return by == whole_scope || rule.known(cohort.enrol_first + cohort.batches - 1) <= by;
}

ScopeSums scope_of(const Plan& plan, const Outcomes& out, const PlanRule& rule, int cohort, int by,
                   bool historical = false) {
    ScopeSums scope;
    const size_t O = plan.outcomes.size();
    for (size_t c = 0; c < plan.cohorts.size(); ++c) {
        if (cohort >= 0 && at(cohort) != c) continue;
        const size_t co = c * O + at(rule.outcome);
        double n = static_cast<double>(out.cohort_size[c]);
        double total = out.total[co];
        double compared = n;  // participants' worth of comparison: n, less parts not yet known
        if (!cohort_known_by(plan, rule, c, by)) {
            // Only the batches measured by then (the outcome is per batch: plan.cpp), and of a
            // count observed over several periods the part known by then (observed_over).
            const auto& pc = plan.cohorts[c];
            n = 0;
            total = 0;
            compared = 0;
            for (int b = 0; b < pc.batches; ++b) {
                const double share = rule.measured_share(pc.enrol_first + b, by);
                if (!(share > 0)) break;
                const double members = static_cast<double>(out.batch_size[at(pc.first_batch + b)]);
                n += members;
                compared += share * members;
                total +=
                    share * out.counts[at(plan.count_index(static_cast<int>(c), rule.outcome, b))];
            }
        }
        scope.participants += n;
        scope.total += total;
        // The cohort's comparison mean, applied to the participants measured (pro rata); before
        // comparison.historical_until ends, the baseline instead of the matched group.
        if (historical)
            scope.comparison += compared * out.base[co];
        else if (out.comparison_members[co] > 0)
            scope.comparison += compared * out.comparison_total[co] / out.comparison_members[co];
    }
    return scope;
}

/// The same sums as exact fractions of the numbers as drawn or written.
struct ExactScope {
    Ratio participants, total, comparison;
};

/// The exact share of a participant enrolled in `enrolled` that `rule` has measured by `by`
/// (PlanRule::measured_share): whole periods over observed_over.
Ratio exact_measured_share(const PlanRule& rule, int enrolled, int by) {
    const int first = rule.first_known(enrolled);
    if (by < first) return Ratio{};
    if (by >= rule.known(enrolled)) return ratio_of_integer(1);
    return ratio_of_integer(by - first + 1) / ratio_of_integer(rule.observed_over);
}

ExactScope exact_scope_of(const Plan& plan, const Outcomes& out, const PlanRule& rule, int cohort,
                          int by, bool historical) {
    ExactScope scope;
    const size_t O = plan.outcomes.size();
    for (size_t c = 0; c < plan.cohorts.size(); ++c) {
        if (cohort >= 0 && at(cohort) != c) continue;
        const size_t co = c * O + at(rule.outcome);
        Ratio n = ratio_of_integer(out.cohort_size[c]);
        Ratio total = decimal_of(out.total[co]);
        Ratio compared = n;
        if (!cohort_known_by(plan, rule, c, by)) {
            const auto& pc = plan.cohorts[c];
            long long members = 0;
            total = Ratio{};
            compared = Ratio{};
            for (int b = 0; b < pc.batches; ++b) {
                const Ratio share = exact_measured_share(rule, pc.enrol_first + b, by);
                if (share.num == 0) break;
                const long long batch = out.batch_size[at(pc.first_batch + b)];
                members += batch;
                compared = compared + share * ratio_of_integer(batch);
                total =
                    total +
                    share *
                        decimal_of(
                            out.counts[at(plan.count_index(static_cast<int>(c), rule.outcome, b))]);
            }
            n = ratio_of_integer(members);
        }
        scope.participants = scope.participants + n;
        scope.total = scope.total + total;
        if (historical)
            scope.comparison = scope.comparison + compared * decimal_of(out.base[co]);
        else if (out.comparison_members[co] > 0)
            scope.comparison = scope.comparison + compared * decimal_of(out.comparison_total[co]) /
                                                      decimal_of(out.comparison_members[co]);
    }
    return scope;
}

/// Where the scope's improvement lies against `point` (a threshold or schedule point): -1 below,
/// 0 on it, 1 above. Decided in double when clear, else exactly: with K the comparison and T
/// the participants' total over the same participants, the improvement is (K - T) / K (better:
/// lower) or (T - K) / K, so improvement ≥ point ⇔ gain ≥ point × K.
struct ImprovementTest {
    const Plan& plan;
    const Outcomes& out;
    const PlanRule& rule;
    int cohort;
    int by;           ///< measured by this period (whole_scope: everyone)
    bool historical;  ///< compared with the baseline (comparison.historical_until)
    double improvement;
    bool exact_ready = false;
    Ratio gain, comparison;

    int against(double point) {
        const double gap = improvement - point;
        if (std::abs(gap) > near_tie) return gap < 0 ? -1 : 1;
        if (!exact_ready) {
            const ExactScope e = exact_scope_of(plan, out, rule, cohort, by, historical);
            gain = plan.outcomes[at(rule.outcome)].better == Better::lower ? e.comparison - e.total
                                                                           : e.total - e.comparison;
            comparison = e.comparison;
            exact_ready = true;
        }
        return compare(gain, decimal_of(point) * comparison);
    }
};

/// The schedule's payment at the test's improvement: interpolated linearly between the points
/// around it, or with `steps` the payment of the highest point reached (no interpolation).
double schedule_payment(const std::vector<SchedulePoint>& schedule, bool steps,
                        ImprovementTest& test) {
    if (test.against(schedule.front().improvement) < 0) return 0;
    for (size_t i = 1; i < schedule.size(); ++i) {
        const auto& hi = schedule[i];
        if (test.against(hi.improvement) >= 0) continue;
        const auto& lo = schedule[i - 1];
        if (steps || test.against(lo.improvement) == 0) return lo.payment;
        const double w = std::clamp(
            (test.improvement - lo.improvement) / (hi.improvement - lo.improvement), 0.0, 1.0);
        return lo.payment + w * (hi.payment - lo.payment);
    }
    return schedule.back().payment;
}

/// What a group rule owes for its scope before rounding and caps, and whether its condition held,
/// on the participants measured by period `by` (whole_scope: all of them).
double assess(const Plan& plan, const PlanRule& rule, int cohort, int by, const Outcomes& out,
              bool& met, bool historical = false) {
    const ScopeSums scope = scope_of(plan, out, rule, cohort, by, historical);
    if (rule.basis == Basis::target) {
        if (rule.share_target) {
            const double gap = scope.total - rule.at_least * scope.participants;
            met = std::abs(gap) > near_tie * std::max(1.0, scope.participants)
                      ? gap >= 0
                      : compare(decimal_of(scope.total),
                                decimal_of(rule.at_least) *
                                    ratio_of_integer(static_cast<long long>(scope.participants))) >=
                            0;
        } else {
            met = scope.total >= rule.at_least;  // whole numbers both
        }
        return met ? rule.amount + rule.price * scope.total : 0.0;
    }
    const double n = scope.participants;
    const double t = n > 0 ? scope.total / n : 0.0;
    const double c = n > 0 ? scope.comparison / n : 0.0;
    if (!(c > 0)) {
        met = false;
        return 0;
    }
    ImprovementTest test{plan,
                         out,
                         rule,
                         cohort,
                         by,
                         historical,
                         relative_improvement(plan.outcomes[at(rule.outcome)].better, t, c),
                         false,
                         {},
                         {}};
    met = test.against(rule.threshold) >= 0;
    if (!met) return 0;
    switch (rule.versus_pay) {
        case VersusPay::price:
            return rule.price * std::abs(scope.comparison - scope.total);
        case VersusPay::schedule:
            return schedule_payment(rule.schedule, rule.schedule_steps, test);
        case VersusPay::amount:
            return rule.amount;
    }
    return 0;
}

/// The period in which the last outcome of a group rule's scope is known: the last enrolment
/// period with participants, then when its outcome is known; -1 when the scope has none.
int known_period(const Plan& plan, const PlanRule& rule, int cohort, const Outcomes& out) {
    int period = -1;
    for (size_t c = 0; c < plan.cohorts.size(); ++c) {
        if (cohort >= 0 && at(cohort) != c) continue;
        const auto& plan_cohort = plan.cohorts[c];
        // The last enrolment period with anyone in it. Drawn participants fill periods from the
        // first (with n below the number of periods, the n-th is the last); participant rows
        // in `settle` may leave any period empty.
        for (int b = plan_cohort.batches; b-- > 0;)
            if (out.batch_size[at(plan_cohort.first_batch + b)] > 0) {
                period = std::max(period, plan_cohort.enrol_first + b);
                break;
            }
    }
    return period < 0 ? -1 : rule.known(period);
}

/// The period in which the first outcome of a group rule's scope is measured: the first
/// enrolment period of a cohort with participants, then when the rule measures it; -1 when none.
int first_known_period(const Plan& plan, const PlanRule& rule, int cohort, const Outcomes& out) {
    int period = -1;
    for (size_t c = 0; c < plan.cohorts.size(); ++c) {
        if ((cohort >= 0 && at(cohort) != c) || out.cohort_size[c] == 0) continue;
        const int first = plan.cohorts[c].enrol_first;
        period = period < 0 ? first : std::min(period, first);
    }
    return period < 0 ? -1 : rule.first_known(period);
}

bool scope_observed(const Plan& plan, const PlanRule& rule, int cohort, const Outcomes& out) {
    const size_t O = plan.outcomes.size();
    for (size_t c = 0; c < plan.cohorts.size(); ++c)
        if ((cohort < 0 || at(cohort) == c) && !out.observed[c * O + at(rule.outcome)])
            return false;
    return true;
}

/// Runs through the slots of one period: what each rule owes, rounded to minor units, then the
/// caps in settlement order, then each payer's part.
struct PeriodSettler {
    const Plan& plan;
    const Outcomes& out;
    Settlement& s;

    /// The split a cohort's payments use: its own `payers`, else the rule's (which are the
    /// payers' shares when the rule has none).
    const std::vector<ShareFraction>& fractions_of(const PlanRule& rule, size_t cohort) const {
        const auto& own = plan.cohorts[cohort].payer_fractions;
        return own.empty() ? rule.payer_fractions : own;
    }

    /// Splits a slot's payment into s.parts, one per payer. A rule's own payers win; else a
    /// cohort's slot uses the cohort's payers, and a rate-card slot (all cohorts) is first split
    /// among the cohorts in proportion to their achievements due in the period (whole minor
    /// units, largest remainders, ties in cohort order), each cohort's part then by its payers.
    /// Pooled group rules have their own payers whenever a cohort does (checked at load).
    void split_among_payers(const PaymentSlot& slot, const PlanRule& rule, long long paid) {
        if (rule.own_payers || !plan.cohort_payers) {
            split_units(paid, rule.payer_fractions, s.parts.data());
            return;
        }
        if (slot.cohort >= 0) {
            split_units(paid, fractions_of(rule, at(slot.cohort)), s.parts.data());
            return;
        }
        const size_t C = plan.cohorts.size();
        double weights = 0;
        for (size_t c = 0; c < C; ++c) {
            const auto& cohort = plan.cohorts[c];
            double units = 0;
            for (int b = 0; b < cohort.batches; ++b)
                if (rule.known(cohort.enrol_first + b) + rule.payment_lag == slot.period)
                    units += out.counts[at(plan.count_index(static_cast<int>(c), rule.outcome, b))];
            s.cohort_weight[c] = units;
            weights += units;
        }
        if (!(weights > 0)) {  // nothing achieved: no payment reaches here, but stay whole
            split_units(paid, rule.payer_fractions, s.parts.data());
            return;
        }
        long long left = paid;
        for (size_t c = 0; c < C; ++c) {
            const long double exact = static_cast<long double>(paid) * s.cohort_weight[c] / weights;
            s.cohort_part[c] = static_cast<long long>(std::floor(exact));
            left -= s.cohort_part[c];
            s.cohort_weight[c] = static_cast<double>(exact - std::floor(exact));  // remainder
        }
        for (; left > 0; --left) {
            size_t best = 0;
            for (size_t c = 1; c < C; ++c)
                if (s.cohort_weight[c] > s.cohort_weight[best]) best = c;
            ++s.cohort_part[best];
            s.cohort_weight[best] = -1;  // one unit each
        }
        std::fill(s.parts.begin(), s.parts.end(), 0LL);
        for (size_t c = 0; c < C; ++c) {
            if (s.cohort_part[c] == 0) continue;
            split_units(s.cohort_part[c], fractions_of(rule, c), s.cohort_payer_parts.data());
            for (size_t p = 0; p < plan.payers.size(); ++p) s.parts[p] += s.cohort_payer_parts[p];
        }
    }

    /// False when slot i certainly pays nothing this trial and changes nothing (no achievements
    /// due in a rate card's period; a group rule assessed once, in another period): most slots
    /// of most trials, skipped before settle_slot's full work.
    bool may_pay(size_t i) const {
        const auto& slot = plan.slots[i];
        const auto& rule = plan.rules[at(slot.rule)];
        const size_t C = plan.cohorts.size();
        if (rule.basis == Basis::rate_card) {
            const size_t cell = at(slot.rule) * at(plan.horizon) + at(slot.period);
            return (plan.participant_mode == ParticipantMode::aggregate
                        ? out.rate_card_units[cell]
                        : out.rate_card_due[cell]) != 0;
        }
        if (rule.every_period) return true;
        const size_t scope = slot.cohort >= 0 ? at(slot.cohort) : C;
        return s.known[at(slot.rule) * (C + 1) + scope] == slot.period - rule.payment_lag;
    }

    void settle_slot(size_t i) {
        const auto& slot = plan.slots[i];
        const auto& rule = plan.rules[at(slot.rule)];
        const size_t C = plan.cohorts.size(), H = at(plan.horizon);
        s.slot_paid[i] = 0;
        double due_money = 0;
        if (rule.basis == Basis::rate_card) {
            const size_t cell = at(slot.rule) * H + at(slot.period);
            // The price after repayment applies from the period after the one in which the
            // waterfall repaid the investors (the loader refuses it with a per-participant cap).
            const bool after_repaid = rule.price_after_repaid >= 0 && s.repaid_period >= 0 &&
                                      s.repaid_period < slot.period;
            due_money = plan.participant_mode == ParticipantMode::aggregate
                            ? (after_repaid ? rule.price_after_repaid : rule.price) *
                                  out.rate_card_units[cell]
                            : out.rate_card_due[cell];
        } else {
            const size_t scope = slot.cohort >= 0 ? at(slot.cohort) : C;
            const int known = s.known[at(slot.rule) * (C + 1) + scope];
            const int assessed_in = slot.period - rule.payment_lag;
            int by = whole_scope;
            if (rule.every_period) {
                // Every period from the first outcome measured in scope to the last; before the
                // last, on the participants measured so far.
                if (known < 0 || assessed_in > known ||
                    assessed_in < first_known_period(plan, rule, slot.cohort, out))
                    return;
                if (assessed_in < known) by = assessed_in;
            } else if (known < 0 || known != assessed_in) {
                return;
            }
            if (!s.scope_observed[at(slot.rule) * (C + 1) + scope]) return;  // not assessed
            const size_t where = at(slot.rule) * C + (slot.cohort >= 0 ? at(slot.cohort) : 0);
            bool met = false;
            // comparison.historical_until: assessed by then, against the baseline.
            const bool historical =
                plan.historical_until >= 0 && assessed_in <= plan.historical_until;
            due_money = assess(plan, rule, slot.cohort, by, out, met, historical);
            s.met[where] = met ? 1 : 0;
            s.assessed[where] = 1;
        }
        // Redeemed early: the contract is over for everyone, so nothing more is paid (a group
        // rule is still assessed above, so its `met` is reported).
        if (s.redeemed_period >= 0) return;
        // Nothing owed: nothing to reduce, cap or split (most rate-card slots of most periods).
        if (due_money == 0) return;
        long long due = round_to_units(due_money, plan.minor_unit);
        if (rule.net_of >= 0) {
            // A reconciliation: less what the other rule has paid, within the same cohort when
            // both rules are assessed per cohort.
            const auto& other = plan.rules[at(rule.net_of)];
            const long long other_paid =
                slot.cohort >= 0 && other.per == Scope::cohort
                    ? s.rule_cohort_paid[at(rule.net_of) * C + at(slot.cohort)]
                    : s.rule_paid[at(rule.net_of)];
            due = std::max(0LL, due - other_paid);
        }
        if (rule.every_period && !rule.each_period && rule.basis != Basis::rate_card) {
            // A cumulative figure (each_period pays every assessment in full instead): pay its rise
            // above the highest figure claimed before, so payments add up to it; a fall is not
            // clawed back, and what caps or payer maxima cut from an earlier claim stays cut.
            const size_t scope = slot.cohort >= 0 ? at(slot.cohort) : C;
            long long& claimed = s.claimed[at(slot.rule) * (C + 1) + scope];
            const long long rise = std::max(0LL, due - claimed);
            claimed = std::max(claimed, due);
            due = rise;
        }
        if (plan.investors && plan.investors->yield_advance_rule == slot.rule) {
            // The minimum-yield top-ups were an advance on this rule: recovered from what it owes,
            // before its caps.
            const long long recovered = std::min(due, s.yield_unrecovered);
            due -= recovered;
            s.yield_unrecovered -= recovered;
        }
        long long paid = std::min(due, std::max(0LL, rule.cap_units - s.rule_paid[at(slot.rule)]));
        paid = std::min(paid, std::max(0LL, plan.total_cap_units - s.total_paid));
        if (paid <= 0) return;
        // Payer maxima, in settlement order: a payer's part beyond what it has left to pay is not
        // paid by anyone, so the payment shrinks by it.
        split_among_payers(slot, rule, paid);
        for (size_t p = 0; p < plan.payers.size(); ++p) {
            const long long left = std::max(0LL, plan.payers[p].max_units - s.payer_paid[p]);
            if (s.parts[p] > left) {
                paid -= s.parts[p] - left;
                s.parts[p] = left;
            }
        }
        if (paid <= 0) return;
        s.slot_paid[i] = paid;
        s.rule_paid[at(slot.rule)] += paid;
        if (slot.cohort >= 0) s.rule_cohort_paid[at(slot.rule) * C + at(slot.cohort)] += paid;
        s.total_paid += paid;
        const size_t t = at(slot.period);
        s.payments[t] += money_of(paid, plan.minor_unit);
        if (rule.coupon) s.coupons[t] += money_of(paid, plan.minor_unit);
        if (!s.slot_parts.empty())  // kept for settle's payments.csv only
            std::copy(s.parts.begin(), s.parts.end(),
                      s.slot_parts.begin() + static_cast<std::ptrdiff_t>(i * plan.payers.size()));
        for (size_t p = 0; p < plan.payers.size(); ++p) {
            if (s.parts[p] == 0) continue;
            const double part = money_of(s.parts[p], plan.minor_unit);
            s.payer_paid[p] += s.parts[p];
            s.payer_flows[p * H + t] -= part;
            s.payer_pv[p] += part * plan.discount[t];
        }
    }
};

/// The investors' vehicle (docs/model.md, "Provider and investors"), one period at a time:
/// payments in, costs out of cash then drawn, the rest unfunded; cash beyond costs to come down
/// the waterfall; the guarantee in the last period.
struct Waterfall {
    const Plan& plan;
    Settlement& s;
    double cash = 0, drawn = 0;

    void start() {
        std::fill(s.tranche_balance.begin(), s.tranche_balance.end(), 0.0);
        std::fill(s.tranche_principal.begin(), s.tranche_principal.end(), 0.0);
        std::fill(s.tranche_flows.begin(), s.tranche_flows.end(), 0.0);
        std::fill(s.tranche_drawn.begin(), s.tranche_drawn.end(), 0.0);
        std::fill(s.tranche_received.begin(), s.tranche_received.end(), 0.0);
    }

    /// Splits `amount` down the ranks into s.tranche_part against each tranche's `claim`: a rank
    /// is paid min(amount left, its claims), shared pro rata to the claims (exactly the claim when
    /// covered). With `residual`, the last rank also takes what is left over, shared pro rata to
    /// the tranches' shares of capital.
    void pay_down(double amount, const std::vector<double>& claim, bool residual) {
        const auto& ts = plan.investors->tranches;
        const size_t n = ts.size();
        for (size_t first = 0; first < n;) {
            size_t end = first;
            double claims = 0, shares = 0;
            for (; end < n && ts[end].rank == ts[first].rank; ++end) {
                claims += claim[end];
                shares += ts[end].share;
            }
            const bool last = end == n;
            const double paid = std::min(amount, claims);
            const double over = residual && last ? amount - paid : 0.0;
            for (size_t j = first; j < end; ++j) {
                double part = paid >= claims     ? claim[j]
                              : end - first == 1 ? paid
                              : claims > 0       ? paid * claim[j] / claims
                                                 : 0.0;
                if (over > 0)
                    part += shares > 0 ? over * ts[j].share / shares
                                       : over / static_cast<double>(end - first);
                s.tranche_part[j] = part;
            }
            amount -= paid + over;
            first = end;
        }
    }

    /// Minimum yield: the payer pays what the period's distribution `distributed` fell short of
    /// the `coupon` owed (money), in whole minor units, to the tranches pro rata to their coupons
    /// (s.tranche_claim). It pays accrued return first and never repays principal.
    void top_up_yield(size_t t, double coupon, double distributed) {
        const auto& inv = *plan.investors;
        const long long units =
            round_to_units(std::max(0.0, coupon - distributed), plan.minor_unit);
        if (units <= 0 || !(coupon > 0)) return;
        const double money = money_of(units, plan.minor_unit);
        const size_t H = at(plan.horizon);
        for (size_t j = 0; j < inv.tranches.size(); ++j) {
            const double part = money * s.tranche_claim[j] / coupon;
            const double accrued = std::max(0.0, s.tranche_balance[j] - s.tranche_principal[j]);
            s.tranche_balance[j] -= std::min(part, accrued);
            s.tranche_flows[j * H + t] += part;
            s.tranche_received[j] += part;
        }
        const size_t p = at(inv.yield_payer);
        s.payer_flows[p * H + t] -= money;
        s.payer_pv[p] += money * plan.discount[t];
        s.yield_paid += units;
        s.yield_unrecovered += units;
    }

    /// Principal not yet repaid, over all tranches.
    double principal_outstanding() const {
        double principal = 0;
        for (const double p : s.tranche_principal) principal += std::max(0.0, p);
        return principal;
    }

    /// 3b. Coupons (rules with `coupon: true`) paid in period t go straight to the tranches, pro
    /// rata to their principal outstanding (to their shares of capital when none is), as return:
    /// they pay the return accrued first and never repay principal. Returns what was paid.
    double pay_coupons(size_t t) {
        const auto& inv = *plan.investors;
        const size_t H = at(plan.horizon);
        const double principal = principal_outstanding();
        const double money = s.coupons[t];
        for (size_t j = 0; j < inv.tranches.size(); ++j) {
            const double part = principal > 0
                                    ? money * std::max(0.0, s.tranche_principal[j]) / principal
                                    : money * inv.tranches[j].share;
            const double accrued = std::max(0.0, s.tranche_balance[j] - s.tranche_principal[j]);
            s.tranche_balance[j] -= std::min(part, accrued);
            s.tranche_flows[j * H + t] += part;
            s.tranche_received[j] += part;
        }
        return money;
    }

    /// Early redemption at the end of period t: the payer pays `redemption_share` of the
    /// principal outstanding, in whole minor units, pro rata to each tranche's principal; every
    /// balance (principal and return owed) is then closed.
    void redeem(size_t t) {
        const auto& inv = *plan.investors;
        const size_t H = at(plan.horizon);
        const double principal = principal_outstanding();
        const long long units = round_to_units(inv.redemption_share * principal, plan.minor_unit);
        const double money = units > 0 ? money_of(units, plan.minor_unit) : 0.0;
        for (size_t j = 0; j < inv.tranches.size(); ++j) {
            const double part =
                principal > 0 ? money * std::max(0.0, s.tranche_principal[j]) / principal : 0.0;
            s.tranche_flows[j * H + t] += part;
            s.tranche_received[j] += part;
            s.tranche_principal[j] = 0;
            s.tranche_balance[j] = 0;
        }
        if (units > 0) {
            const size_t p = at(inv.redemption_payer);
            s.payer_flows[p * H + t] -= money;
            s.payer_pv[p] += money * plan.discount[t];
            s.redemption_paid = units;
        }
        s.redeemed_period = static_cast<int>(t);
    }

    /// After a redemption the vehicle is closed: costs are the provider's, nothing is drawn or
    /// distributed.
    void closed_step(size_t t) {
        s.unfunded += s.costs[t];
        s.provider_flows[t] = -s.costs[t];
        s.investor_flows[t] = 0;
    }

    void step(size_t t) {
        const auto& inv = *plan.investors;
        const size_t H = at(plan.horizon);
        const size_t tranches = inv.tranches.size();
        if (s.redeemed_period >= 0) {
            closed_step(t);
            return;
        }
        // Early redemption this period: the rule was assessed by now and its latest assessment
        // (per: all, so one scope) was not met. Then all cash is distributed, costs to come
        // become the provider's, and the rest of the principal is redeemed below.
        const size_t rr =
            at(std::max(inv.redemption_rule, 0)) * std::max<size_t>(plan.cohorts.size(), 1);
        const bool redeem_now = inv.redemption_payer >= 0 &&
                                static_cast<int>(t) == inv.redemption_period && s.assessed[rr] &&
                                !s.met[rr];
        // Minimum yield owed this period on the principal outstanding at the end of the last.
        const bool yield_due = inv.yield_payer >= 0 && t >= 1 && t <= at(inv.yield_periods);
        double coupon = 0;
        if (yield_due) {
            for (size_t j = 0; j < tranches; ++j) {
                s.tranche_claim[j] =
                    inv.yield_periodic_rate * std::max(0.0, s.tranche_principal[j]);
                coupon += s.tranche_claim[j];
            }
        }
        // A quiet period (nothing paid in, no cost, no cash held, no return accruing, no term
        // due): nothing moves. Most periods after the service ends are quiet.
        if (s.payments[t] == 0 && s.costs[t] == 0 && cash == 0 && !redeem_now && !yield_due &&
            t + 1 != H) {
            bool accruing = false;
            for (size_t j = 0; j < tranches; ++j)
                accruing =
                    accruing || (inv.tranches[j].periodic_rate != 0 && s.tranche_balance[j] != 0);
            if (!accruing) {
                s.provider_flows[t] = 0;
                s.investor_flows[t] = 0;
                return;
            }
        }
        for (size_t j = 0; j < tranches; ++j)
            s.tranche_balance[j] *= 1 + inv.tranches[j].periodic_rate;
        // 1. outcome payments (coupons go to the investors in step 3b); 2. costs from cash, then
        // drawn, then unfunded.
        cash += s.payments[t] - s.coupons[t];
        const double from_cash = std::min(cash, s.costs[t]);
        cash -= from_cash;
        const double rest = s.costs[t] - from_cash;
        const double draw = std::min(rest, std::max(0.0, inv.capital - drawn));
        const double unfunded = rest - draw;
        drawn += draw;
        s.unfunded += unfunded;
        s.provider_flows[t] = -unfunded;
        for (size_t j = 0; j < tranches; ++j) {
            const double d = draw * inv.tranches[j].share;
            s.tranche_balance[j] += d;
            s.tranche_principal[j] += d;
            s.tranche_flows[j * H + t] -= d;
            s.tranche_drawn[j] += d;
        }
        // 3. cash beyond every cost still to come goes down the waterfall, rank by rank.
        double available = std::max(0.0, cash - (redeem_now ? 0.0 : s.cost_to_come[t]));
        cash -= available;
        if (available > 0) {
            pay_down(available, s.tranche_balance, true);
            for (size_t j = 0; j < tranches; ++j) {
                const double paid = s.tranche_part[j];
                const double owed = s.tranche_balance[j];
                const double to_balance = std::min(paid, owed);
                const double accrued = owed - s.tranche_principal[j];  // return first
                s.tranche_principal[j] -= std::max(0.0, to_balance - accrued);
                s.tranche_balance[j] -= to_balance;
                s.tranche_flows[j * H + t] += paid;
                s.tranche_received[j] += paid;
            }
        }
        const double coupons = s.coupons[t] > 0 ? pay_coupons(t) : 0.0;
        if (yield_due) top_up_yield(t, coupon, std::max(0.0, available) + coupons);
        // Repaid: something was drawn and every balance is cleared (a balance paid in full is
        // set to exactly 0 above). No draw follows a distribution, so this is final.
        if (s.repaid_period < 0 && drawn > 0 &&
            std::all_of(s.tranche_balance.begin(), s.tranche_balance.end(),
                        [](double b) { return b <= 0; }))
            s.repaid_period = static_cast<int>(t);
        if (redeem_now) redeem(t);
        if (t + 1 == H && inv.has_guarantee) {
            // Unrepaid principal, rank by rank, up to the amount and the share of capital drawn.
            const double limit = inv.guarantee_share_of_drawn < no_limit
                                     ? std::min(inv.guarantee, inv.guarantee_share_of_drawn * drawn)
                                     : inv.guarantee;
            for (size_t j = 0; j < tranches; ++j)
                s.tranche_part[j] = std::max(0.0, s.tranche_principal[j]);  // claims
            std::copy(s.tranche_part.begin(), s.tranche_part.end(), s.tranche_claim.begin());
            pay_down(limit, s.tranche_claim, false);
            for (size_t j = 0; j < tranches; ++j) {
                const double g = s.tranche_part[j];
                s.tranche_principal[j] -= g;
                s.tranche_balance[j] -= g;
                s.tranche_flows[j * H + t] += g;
                s.tranche_received[j] += g;
                s.guarantee_paid += g;
            }
        }
        double flow = 0;
        for (size_t j = 0; j < tranches; ++j) flow += s.tranche_flows[j * H + t];
        s.investor_flows[t] = flow;
    }
};

}  // namespace

double relative_improvement(Better better, double participants_mean, double comparison_mean) {
    if (!(comparison_mean > 0)) return 0;
    double change = better == Better::lower ? comparison_mean - participants_mean
                                            : participants_mean - comparison_mean;
    return change / comparison_mean;
}

Settlement::Settlement(const Plan& plan) {
    const size_t C = plan.cohorts.size(), H = at(plan.horizon), P = plan.payers.size();
    const size_t R = plan.rules.size();
    const size_t T = plan.investors ? plan.investors->tranches.size() : 0;
    slot_paid.resize(plan.slots.size());
    rule_paid.resize(R);
    rule_cohort_paid.resize(R * C);
    payer_paid.resize(P);
    met.resize(R * std::max<size_t>(C, 1));
    assessed.resize(met.size());
    payments.resize(H);
    coupons.resize(H);
    payer_flows.resize(P * H);
    payer_pv.resize(P);
    costs.resize(H);
    provider_flows.resize(H);
    tranche_flows.resize(T * H);
    tranche_drawn.resize(T);
    tranche_received.resize(T);
    investor_flows.resize(H);
    known.resize(R * (C + 1));
    scope_observed.resize(R * (C + 1));
    claimed.resize(R * (C + 1));
    cohort_weight.resize(C);
    cohort_part.resize(C);
    cohort_payer_parts.resize(P);
    cost_to_come.resize(H);
    tranche_balance.resize(T);
    tranche_principal.resize(T);
    tranche_part.resize(T);
    tranche_claim.resize(T);
    parts.resize(P);
}

void settle(const Plan& plan, const Outcomes& out, Settlement& s) {
    const size_t C = plan.cohorts.size(), H = at(plan.horizon);
    std::fill(s.rule_paid.begin(), s.rule_paid.end(), 0);
    std::fill(s.rule_cohort_paid.begin(), s.rule_cohort_paid.end(), 0);
    std::fill(s.payer_paid.begin(), s.payer_paid.end(), 0);
    std::fill(s.met.begin(), s.met.end(), 0);
    std::fill(s.assessed.begin(), s.assessed.end(), 0);
    std::fill(s.claimed.begin(), s.claimed.end(), 0);
    std::fill(s.payments.begin(), s.payments.end(), 0.0);
    std::fill(s.coupons.begin(), s.coupons.end(), 0.0);
    std::fill(s.payer_flows.begin(), s.payer_flows.end(), 0.0);
    std::fill(s.payer_pv.begin(), s.payer_pv.end(), 0.0);
    s.total_paid = 0;
    s.unfunded = 0;
    s.guarantee_paid = 0;
    s.repaid_period = -1;
    s.yield_paid = 0;
    s.yield_unrecovered = 0;
    s.redeemed_period = -1;
    s.redemption_paid = 0;

    // When each group rule's scope is known ([rule * (C + 1) + cohort], the pooled scope last),
    // and whether all of it was observed.
    for (size_t r = 0; r < plan.rules.size(); ++r) {
        const auto& rule = plan.rules[r];
        if (rule.basis == Basis::rate_card) continue;
        for (size_t scope = 0; scope <= C; ++scope) {
            if ((rule.per == Scope::all) != (scope == C)) continue;
            const int cohort = scope == C ? -1 : static_cast<int>(scope);
            s.known[r * (C + 1) + scope] = known_period(plan, rule, cohort, out);
            s.scope_observed[r * (C + 1) + scope] = scope_observed(plan, rule, cohort, out);
        }
    }

    // Provider costs: fixed per period plus per participant at enrolment.
    std::copy(plan.cost_per_period.begin(), plan.cost_per_period.end(), s.costs.begin());
    for (size_t c = 0; c < C; ++c) {
        const auto& cohort = plan.cohorts[c];
        for (int b = 0; b < cohort.batches; ++b)
            s.costs[at(cohort.enrol_first + b)] +=
                plan.cost_per_participant *
                static_cast<double>(out.batch_size[at(cohort.first_batch + b)]);
    }
    double costs = 0;
    for (size_t t = H; t-- > 0;) {
        s.cost_to_come[t] = costs;
        costs += s.costs[t];
    }
    s.provider_costs = costs;

    PeriodSettler period{plan, out, s};
    Waterfall waterfall{plan, s};
    if (plan.investors) waterfall.start();
    size_t i = 0;
    for (size_t t = 0; t < H; ++t) {
        for (; i < plan.slots.size() && at(plan.slots[i].period) == t; ++i) {
            if (period.may_pay(i))
                period.settle_slot(i);
            else
                s.slot_paid[i] = 0;
        }
        if (plan.investors)
            waterfall.step(t);
        else
            s.provider_flows[t] = s.payments[t] - s.costs[t];
    }
    for (; i < plan.slots.size(); ++i) s.slot_paid[i] = 0;  // beyond the horizon: refused at load
}

}  // namespace sib
