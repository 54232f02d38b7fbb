#include "sib/plan.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numeric>

#include <Eigen/Cholesky>

#include "sib/finance.hpp"
#include "sib/rng.hpp"

namespace sib {

namespace {

template <class T>
int index_of(const std::vector<T>& items, const std::string& name) {
    for (std::size_t i = 0; i < items.size(); ++i)
        if (items[i].name == name) return static_cast<int>(i);
    SIB_ASSERT(false && "name validated by load");
    return -1;
}

/// Most patterns drawn as a multinomial; beyond this, participants are drawn one by one.
constexpr std::size_t max_patterns = 4096;

int add_parameter(Plan& plan, const Uncertain& value) {
    PlanParameter parameter;
    parameter.dist = value.dist;
    parameter.path = value.path;
    parameter.key = stream_key_of_parameter(value.path);
    plan.parameters.push_back(std::move(parameter));
    return static_cast<int>(plan.parameters.size()) - 1;
}

int add_optional(Plan& plan, const std::optional<Uncertain>& value) {
    return value ? add_parameter(plan, *value) : -1;
}

// Enumerates the patterns of achieved outcomes over `outcomes` (leaders before followers) that
// respect `after`: a follower is achieved only by participants who achieved its leader (unless it
// has `rate_without`).
void enumerate_patterns(const Plan& plan, std::size_t next, std::vector<char>& achieved,
                        std::vector<Pattern>& out) {
    if (out.size() > max_patterns) return;  // too many: every batch is drawn bit-sliced
    if (next == plan.pattern_outcomes.size()) {
        out.push_back({achieved, {}});
        return;
    }
    const auto& outcome = plan.outcomes[static_cast<std::size_t>(plan.pattern_outcomes[next])];
    bool leader_achieved = true;
    if (outcome.leader >= 0 && !outcome.leader_optional) {
        auto at =
            std::find(plan.pattern_outcomes.begin(), plan.pattern_outcomes.end(), outcome.leader);
        leader_achieved =
            achieved[static_cast<std::size_t>(at - plan.pattern_outcomes.begin())] != 0;
    }
    if (outcome.excluded >= 0) {  // either/or: not with the outcome it is instead of
        auto at =
            std::find(plan.pattern_outcomes.begin(), plan.pattern_outcomes.end(), outcome.excluded);
        leader_achieved =
            leader_achieved &&
            achieved[static_cast<std::size_t>(at - plan.pattern_outcomes.begin())] == 0;
    }
    achieved[next] = 0;
    enumerate_patterns(plan, next + 1, achieved, out);
    if (leader_achieved) {
        achieved[next] = 1;
        enumerate_patterns(plan, next + 1, achieved, out);
        achieved[next] = 0;
    }
}

// Leaders (and their leaders) of `outcome`, and the outcome it is instead of, added to `set`
// before it.
void add_with_leaders(const Plan& plan, int outcome, std::vector<int>& set) {
    if (std::find(set.begin(), set.end(), outcome) != set.end()) return;
    int leader = plan.outcomes[static_cast<std::size_t>(outcome)].leader;
    if (leader >= 0) add_with_leaders(plan, leader, set);
    int excluded = plan.outcomes[static_cast<std::size_t>(outcome)].excluded;
    if (excluded >= 0) add_with_leaders(plan, excluded, set);
    set.push_back(outcome);
}

}  // namespace

std::uint64_t stream_key_of_parameter(const std::string& path) {
    return stream_key("param:" + path);
}

Plan compile(const Scenario& s) {
    Plan plan;
    plan.name = s.name;
    plan.currency = s.currency;
    plan.minor_unit.per_currency = std::round(1 / s.minor_unit);
    plan.period_unit = s.period;
    plan.periods_per_year = periods_per_year(s.period);
    plan.horizon = s.horizon;
    plan.start = s.start;
    plan.discount_rate = s.discount_rate;
    plan.trials = s.trials;
    plan.seed = s.seed;

    // Outcomes, with leaders resolved and a leaders-first order.
    for (const auto& o : s.outcomes) {
        PlanOutcome outcome;
        outcome.name = o.name;
        outcome.kind = o.kind;
        outcome.better = o.better;
        outcome.dispersion = o.dispersion;
        outcome.observed_after = o.observed_after;
        outcome.observed_by = o.observed_by.value_or(-1);
        outcome.observed_over = o.observed_over;
        outcome.key = stream_key("outcome:" + o.name);
        plan.outcomes.push_back(outcome);
    }
    for (std::size_t i = 0; i < s.outcomes.size(); ++i) {
        if (s.outcomes[i].after)
            plan.outcomes[i].leader = index_of(s.outcomes, *s.outcomes[i].after);
        if (s.outcomes[i].instead_of)
            plan.outcomes[i].excluded = index_of(s.outcomes, *s.outcomes[i].instead_of);
        plan.outcomes[i].leader_optional = s.outcomes[i].rate_without.has_value();
    }
    for (std::size_t i = 0; i < plan.outcomes.size(); ++i)
        add_with_leaders(plan, static_cast<int>(i), plan.outcome_order);

    // Cohorts and every uncertain value as a parameter.
    for (const auto& c : s.cohorts) {
        PlanCohort cohort;
        cohort.name = c.name;
        cohort.size_parameter = add_parameter(plan, c.size);
        cohort.enrol_first = c.enrol_first;
        cohort.batches = c.enrol_last - c.enrol_first + 1;
        cohort.first_count = plan.batch_counts;
        cohort.first_batch = plan.batches;
        cohort.key = stream_key("cohort:" + c.name);
        plan.batches += cohort.batches;
        plan.batch_counts += cohort.batches * static_cast<int>(s.outcomes.size());
        plan.cohorts.push_back(cohort);
    }
    std::vector<OutcomeParameters> shared(s.outcomes.size());
    for (std::size_t o = 0; o < s.outcomes.size(); ++o) {
        shared[o].baseline = add_optional(plan, s.outcomes[o].baseline);
        shared[o].effect = add_optional(plan, s.outcomes[o].effect);
        shared[o].rate = add_optional(plan, s.outcomes[o].rate);
        shared[o].rate_without = add_optional(plan, s.outcomes[o].rate_without);
    }
    for (const auto& c : s.cohorts) {
        for (std::size_t o = 0; o < s.outcomes.size(); ++o) {
            OutcomeParameters p = shared[o];
            for (const auto& override_ : c.overrides) {
                if (override_.outcome != s.outcomes[o].name) continue;
                if (override_.baseline) p.baseline = add_parameter(plan, *override_.baseline);
                if (override_.effect) p.effect = add_parameter(plan, *override_.effect);
                if (override_.rate) p.rate = add_parameter(plan, *override_.rate);
            }
            plan.outcome_parameters.push_back(p);
        }
    }

    // Copula over the correlated parameters.
    if (!s.correlations.empty()) {
        auto copula_row = [&](const std::string& path) {
            for (std::size_t i = 0; i < plan.parameters.size(); ++i) {
                auto& parameter = plan.parameters[i];
                if (parameter.path != path) continue;
                if (parameter.correlated_index < 0) {
                    parameter.correlated_index = static_cast<int>(plan.correlated.size());
                    plan.correlated.push_back(static_cast<int>(i));
                }
                return parameter.correlated_index;
            }
            SIB_ASSERT(false && "correlation path validated by load");
            return -1;
        };
        std::vector<std::pair<std::pair<int, int>, double>> entries;
        for (const auto& c : s.correlations)
            entries.push_back({{copula_row(c.first), copula_row(c.second)}, c.rho});
        const auto n = static_cast<Eigen::Index>(plan.correlated.size());
        Eigen::MatrixXd matrix = Eigen::MatrixXd::Identity(n, n);
        for (const auto& [ij, rho] : entries) {
            matrix(ij.first, ij.second) = rho;
            matrix(ij.second, ij.first) = rho;
        }
        Eigen::LLT<Eigen::MatrixXd> llt(matrix);
        SIB_ASSERT(llt.info() == Eigen::Success);
        plan.copula_cholesky = llt.matrixL();
    }

    // Comparison.
    if (s.comparison) {
        plan.has_comparison = true;
        plan.comparison_kind = s.comparison->kind;
        plan.comparison_ratio = s.comparison->ratio;
        plan.historical_until = s.comparison->historical_until.value_or(-1);
    }

    // Payers.
    for (const auto& p : s.payers) {
        PlanPayer payer;
        payer.name = p.name;
        payer.share = p.share;
        if (p.max) payer.max_units = floor_to_units(*p.max, plan.minor_unit);
        payer.saving_per_unit.assign(s.outcomes.size(), 0.0);
        for (const auto& saving : p.savings)
            payer.saving_per_unit[static_cast<std::size_t>(index_of(s.outcomes, saving.outcome))] =
                saving.value_per_unit;
        plan.payers.push_back(payer);
    }
    // Cohorts' own payer splits.
    for (std::size_t c = 0; c < s.cohorts.size(); ++c) {
        if (s.cohorts[c].payers.empty()) continue;
        std::vector<double> shares(plan.payers.size(), 0.0);
        for (const auto& share : s.cohorts[c].payers)
            shares[static_cast<std::size_t>(index_of(s.payers, share.payer))] = share.share;
        for (double share : shares)
            plan.cohorts[c].payer_fractions.push_back(share_fraction(share));
        plan.cohort_payers = true;
    }

    // Rules.
    for (const auto& r : s.rules) {
        PlanRule rule;
        rule.name = r.name;
        rule.basis = r.basis;
        rule.outcome = index_of(s.outcomes, r.outcome);
        rule.per = r.basis == Basis::rate_card ? Scope::all : r.per;
        rule.payment_lag = r.payment_lag;
        if (r.cap) rule.cap_units = floor_to_units(*r.cap, plan.minor_unit);
        rule.price = r.price.value_or(0.0);
        rule.amount = r.amount.value_or(0.0);
        if (r.basis == Basis::versus_comparison)
            rule.versus_pay = r.price               ? VersusPay::price
                              : !r.schedule.empty() ? VersusPay::schedule
                                                    : VersusPay::amount;
        rule.share_target = r.share_at_least.has_value();
        rule.at_least = r.share_at_least ? *r.share_at_least : r.at_least.value_or(0.0);
        rule.threshold = r.threshold;
        rule.schedule = r.schedule;
        rule.schedule_steps = r.schedule_steps;
        if (r.price_after_repaid) rule.price_after_repaid = *r.price_after_repaid;
        if (r.net_of) rule.net_of = index_of(s.rules, *r.net_of);
        rule.every_period = r.every_period;
        rule.each_period = r.each_period;
        rule.observed_after = r.observed_after.value_or(
            s.outcomes[static_cast<std::size_t>(rule.outcome)].observed_after);
        rule.observed_by =
            s.outcomes[static_cast<std::size_t>(rule.outcome)].observed_by.value_or(-1);
        rule.observed_over = s.outcomes[static_cast<std::size_t>(rule.outcome)].observed_over;
        rule.coupon = r.coupon;
        rule.payer_shares.resize(plan.payers.size());
        for (std::size_t p = 0; p < plan.payers.size(); ++p)
            rule.payer_shares[p] = plan.payers[p].share;
        rule.own_payers = !r.payers.empty();
        if (!r.payers.empty()) {
            std::fill(rule.payer_shares.begin(), rule.payer_shares.end(), 0.0);
            for (const auto& share : r.payers)
                rule.payer_shares[static_cast<std::size_t>(index_of(s.payers, share.payer))] =
                    share.share;
        }
        for (double share : rule.payer_shares)
            rule.payer_fractions.push_back(share_fraction(share));
        if (rule.basis == Basis::versus_comparison)
            plan.outcomes[static_cast<std::size_t>(rule.outcome)].compared = true;
        plan.rules.push_back(std::move(rule));
    }

    // Which outcomes need counts per enrolment batch (followers' needs pass to their leaders).
    for (const auto& rule : plan.rules)
        if (rule.basis == Basis::rate_card)
            plan.outcomes[static_cast<std::size_t>(rule.outcome)].per_batch = true;
    // A rule assessed every period sums the batches known so far.
    for (const auto& rule : plan.rules)
        if (rule.every_period)
            plan.outcomes[static_cast<std::size_t>(rule.outcome)].per_batch = true;
    if (plan.discount_rate != 0)
        for (const auto& payer : plan.payers)
            for (std::size_t o = 0; o < payer.saving_per_unit.size(); ++o)
                if (payer.saving_per_unit[o] != 0) plan.outcomes[o].per_batch = true;
    for (auto it = plan.outcome_order.rbegin(); it != plan.outcome_order.rend(); ++it) {
        const auto& outcome = plan.outcomes[static_cast<std::size_t>(*it)];
        if (outcome.per_batch && outcome.leader >= 0)
            plan.outcomes[static_cast<std::size_t>(outcome.leader)].per_batch = true;
        if (outcome.per_batch && outcome.excluded >= 0)
            plan.outcomes[static_cast<std::size_t>(outcome.excluded)].per_batch = true;
    }

    // Settlement order of rules: file order, except that a net_of rule comes just after the rule it
    // names (and a rule net of that one just after it, and so on); unrelated rules keep their
    // places. net_of chains have no cycles (refused at load).
    {
        std::function<void(int)> place = [&](int r) {
            plan.settlement_order.push_back(r);
            for (std::size_t other = 0; other < plan.rules.size(); ++other)
                if (plan.rules[other].net_of == r) place(static_cast<int>(other));
        };
        for (std::size_t r = 0; r < plan.rules.size(); ++r)
            if (plan.rules[r].net_of < 0) place(static_cast<int>(r));
    }
    std::vector<int> rank(plan.rules.size(), -1);
    for (std::size_t k = 0; k < plan.settlement_order.size(); ++k)
        rank[static_cast<std::size_t>(plan.settlement_order[k])] = static_cast<int>(k);

    // Payment slots: every (period, rule, cohort) where a payment can fall.
    for (std::size_t r = 0; r < plan.rules.size(); ++r) {
        const auto& rule = plan.rules[r];
        const int rule_index = static_cast<int>(r);
        if (rule.basis == Basis::rate_card) {
            for (int p = 0; p < plan.horizon; ++p) plan.slots.push_back({p, rule_index, -1});
            continue;
        }
        // A group rule is assessed when the last participant in scope is known (docs/model.md):
        // the last enrolment period that has participants, which depends on the drawn sizes.
        // One slot for each period it can be; each trial pays through the one that applies.
        std::vector<int> periods;
        for (std::size_t c = 0; c < plan.cohorts.size(); ++c) {
            const auto& cohort = plan.cohorts[c];
            std::vector<int> cohort_periods;
            for (int b = 0; b < cohort.batches; ++b) {
                // With observed_over, each period in which a part is measured (every_period).
                const int e = cohort.enrol_first + b;
                const int from = rule.every_period ? rule.first_known(e) : rule.known(e);
                for (int known = from; known <= rule.known(e); ++known) {
                    const int paid = known + rule.payment_lag;
                    auto& list = rule.per == Scope::cohort ? cohort_periods : periods;
                    if (std::find(list.begin(), list.end(), paid) == list.end())
                        list.push_back(paid);
                }
            }
            for (int paid : cohort_periods)
                plan.slots.push_back({paid, rule_index, static_cast<int>(c)});
        }
        for (int paid : periods) plan.slots.push_back({paid, rule_index, -1});
    }
    std::stable_sort(plan.slots.begin(), plan.slots.end(),
                     [&](const PaymentSlot& a, const PaymentSlot& b) {
                         if (a.period != b.period) return a.period < b.period;
                         if (a.rule != b.rule)
                             return rank[static_cast<std::size_t>(a.rule)] <
                                    rank[static_cast<std::size_t>(b.rule)];
                         return a.cohort < b.cohort;
                     });
    // Caps and the way participants are drawn.
    plan.per_participant_cap = s.caps.per_participant.value_or(no_limit);
    if (s.caps.total) plan.total_cap_units = floor_to_units(*s.caps.total, plan.minor_unit);
    std::vector<int> rate_rules;
    for (std::size_t r = 0; r < plan.rules.size(); ++r)
        if (plan.rules[r].basis == Basis::rate_card) rate_rules.push_back(static_cast<int>(r));
    if (s.caps.per_participant && !rate_rules.empty()) {
        // Rate-card payments of one participant in payment order (ties in file order).
        std::stable_sort(rate_rules.begin(), rate_rules.end(), [&](int a, int b) {
            const auto& ra = plan.rules[static_cast<std::size_t>(a)];
            const auto& rb = plan.rules[static_cast<std::size_t>(b)];
            return plan.outcomes[static_cast<std::size_t>(ra.outcome)].observed_after +
                       ra.payment_lag <
                   plan.outcomes[static_cast<std::size_t>(rb.outcome)].observed_after +
                       rb.payment_lag;
        });
        plan.capped_rate_rules = rate_rules;
        bool all_binary = true;
        for (int r : rate_rules) {
            int o = plan.rules[static_cast<std::size_t>(r)].outcome;
            all_binary = all_binary &&
                         plan.outcomes[static_cast<std::size_t>(o)].kind == OutcomeKind::binary;
            add_with_leaders(plan, o, plan.pattern_outcomes);
        }
        // Outcomes that go together within a person are drawn with the capped ones.
        for (const auto& c : s.participant_correlations) {
            for (const std::string* name : {&c.first, &c.second}) {
                const int o = index_of(s.outcomes, *name);
                if (std::find(plan.joint_outcomes.begin(), plan.joint_outcomes.end(), o) ==
                    plan.joint_outcomes.end())
                    plan.joint_outcomes.push_back(o);
                add_with_leaders(plan, o, plan.pattern_outcomes);
            }
        }
        if (!plan.joint_outcomes.empty()) {
            const auto n = static_cast<Eigen::Index>(plan.joint_outcomes.size());
            Eigen::MatrixXd matrix = Eigen::MatrixXd::Identity(n, n);
            auto row = [&](const std::string& name) {
                const int o = index_of(s.outcomes, name);
                return static_cast<Eigen::Index>(
                    std::find(plan.joint_outcomes.begin(), plan.joint_outcomes.end(), o) -
                    plan.joint_outcomes.begin());
            };
            for (const auto& c : s.participant_correlations)
                matrix(row(c.first), row(c.second)) = matrix(row(c.second), row(c.first)) = c.rho;
            Eigen::LLT<Eigen::MatrixXd> llt(matrix);
            SIB_ASSERT(llt.info() == Eigen::Success);
            plan.joint_cholesky = llt.matrixL();
        }
        // Keep the pattern outcomes in the global leaders-first order.
        std::sort(plan.pattern_outcomes.begin(), plan.pattern_outcomes.end(), [&](int a, int b) {
            auto pos = [&](int o) {
                return std::find(plan.outcome_order.begin(), plan.outcome_order.end(), o) -
                       plan.outcome_order.begin();
            };
            return pos(a) < pos(b);
        });
        std::vector<Pattern> patterns;
        if (all_binary && plan.joint_outcomes.empty()) {
            std::vector<char> achieved(plan.pattern_outcomes.size(), 0);
            enumerate_patterns(plan, 0, achieved, patterns);
        }
        for (int o : plan.pattern_outcomes) {
            const int leader = plan.outcomes[static_cast<std::size_t>(o)].leader;
            const auto at =
                std::find(plan.pattern_outcomes.begin(), plan.pattern_outcomes.end(), leader);
            plan.pattern_leader.push_back(
                leader >= 0 ? static_cast<int>(at - plan.pattern_outcomes.begin()) : -1);
            const int excluded = plan.outcomes[static_cast<std::size_t>(o)].excluded;
            const auto x =
                std::find(plan.pattern_outcomes.begin(), plan.pattern_outcomes.end(), excluded);
            plan.pattern_excluded.push_back(
                excluded >= 0 ? static_cast<int>(x - plan.pattern_outcomes.begin()) : -1);
            const auto joint = std::find(plan.joint_outcomes.begin(), plan.joint_outcomes.end(), o);
            plan.pattern_joint.push_back(joint != plan.joint_outcomes.end()
                                             ? static_cast<int>(joint - plan.joint_outcomes.begin())
                                             : -1);
        }
        plan.pattern_paid.assign(plan.pattern_outcomes.size(), 0);
        for (int r : rate_rules) {
            const int o = plan.rules[static_cast<std::size_t>(r)].outcome;
            plan.pattern_paid[static_cast<std::size_t>(
                std::find(plan.pattern_outcomes.begin(), plan.pattern_outcomes.end(), o) -
                plan.pattern_outcomes.begin())] = 1;
            plan.capped_rule_outcome.push_back(static_cast<int>(
                std::find(plan.pattern_outcomes.begin(), plan.pattern_outcomes.end(), o) -
                plan.pattern_outcomes.begin()));
        }
        {
            // Price of each paid outcome (all its rules), largest first: the fewest achievements
            // whose payments can exceed the cap.
            std::vector<double> outcome_price(plan.pattern_outcomes.size(), 0.0);
            for (std::size_t k = 0; k < rate_rules.size(); ++k)
                outcome_price[static_cast<std::size_t>(plan.capped_rule_outcome[k])] +=
                    plan.rules[static_cast<std::size_t>(rate_rules[k])].price;
            std::sort(outcome_price.rbegin(), outcome_price.rend());
            double sum = 0;
            plan.min_capped_achievements =
                static_cast<int>(outcome_price.size()) + 1;  // never capped
            for (std::size_t k = 0; k < outcome_price.size(); ++k) {
                sum += outcome_price[k];
                if (sum > plan.per_participant_cap) {
                    plan.min_capped_achievements = static_cast<int>(k) + 1;
                    break;
                }
            }
        }
        {
            // Whole units for exact bit-sliced sums: prices and cap as integers, divided by their
            // greatest common divisor, with a total that fits in 32 bits.
            std::vector<std::uint64_t> whole;
            bool integral = std::isfinite(plan.per_participant_cap);
            for (int r : rate_rules) {
                const double price = plan.rules[static_cast<std::size_t>(r)].price;
                integral = integral && price == std::floor(price) && price >= 0 && price < 4e9;
                if (integral) whole.push_back(static_cast<std::uint64_t>(price));
            }
            integral = integral &&
                       plan.per_participant_cap == std::floor(plan.per_participant_cap) &&
                       plan.per_participant_cap < 4e9;
            if (integral) {
                std::uint64_t unit = static_cast<std::uint64_t>(plan.per_participant_cap);
                for (auto w : whole) unit = std::gcd(unit, w);
                if (unit == 0) unit = 1;
                std::uint64_t total = 0;
                for (auto& w : whole) total += (w /= unit);
                const std::uint64_t cap =
                    static_cast<std::uint64_t>(plan.per_participant_cap) / unit;
                if (total < (std::uint64_t{1} << 32)) {
                    plan.capped_price_units = whole;
                    plan.cap_units = cap;
                    plan.sum_bits =
                        std::max(1, static_cast<int>(std::bit_width(std::max(total, cap))));
                }
            }
        }
        if (all_binary) {
            // Patterns are listed only while few, and only for independent outcomes (a pattern's
            // probability is then a product); otherwise every batch is drawn bit-sliced.
            plan.participant_mode = ParticipantMode::patterns;
            if (patterns.size() > max_patterns) patterns.clear();
            for (auto& pattern : patterns) {
                double paid = 0;
                for (int r : rate_rules) {
                    const auto& rule = plan.rules[static_cast<std::size_t>(r)];
                    auto at = std::find(plan.pattern_outcomes.begin(), plan.pattern_outcomes.end(),
                                        rule.outcome);
                    if (!pattern.achieved[static_cast<std::size_t>(at -
                                                                   plan.pattern_outcomes.begin())])
                        continue;
                    double amount =
                        std::min(rule.price, std::max(0.0, plan.per_participant_cap - paid));
                    paid += amount;
                    int offset =
                        plan.outcomes[static_cast<std::size_t>(rule.outcome)].observed_after +
                        rule.payment_lag;
                    pattern.payments.push_back({r, offset, amount});
                }
            }
            plan.patterns = std::move(patterns);
        } else {
            // pattern_outcomes stay: they are drawn participant by participant.
            plan.participant_mode = ParticipantMode::individuals;
        }
    }

    // Provider costs.
    plan.cost_per_period.assign(static_cast<std::size_t>(plan.horizon), 0.0);
    if (s.provider) {
        plan.cost_per_participant = s.provider->per_participant;
        int last = s.provider->to.value_or(plan.horizon - 1);
        for (int p = s.provider->from; p <= last && p < plan.horizon; ++p)
            plan.cost_per_period[static_cast<std::size_t>(p)] = s.provider->per_period;
    }

    // Investors.
    if (s.investors) {
        PlanInvestors investors;
        investors.capital = s.investors->capital;
        investors.tranches_given = !s.investors->tranches.empty();
        if (investors.tranches_given) {
            // Without `rank`, each tranche ranks alone, in list order (the loader checks that
            // given ranks are on every tranche and never decrease down the list).
            int position = 0;
            for (const auto& t : s.investors->tranches)
                investors.tranches.push_back(
                    {t.name, t.share, std::pow(1.0 + t.rate, 1.0 / plan.periods_per_year) - 1.0,
                     t.rank ? static_cast<int>(*t.rank) : ++position});
        } else {
            investors.tranches.push_back({"investors", 1.0, 0.0, 1});
        }
        if (s.investors->guarantee) {
            const Guarantee& g = *s.investors->guarantee;
            investors.has_guarantee = true;
            investors.guarantor = g.name;
            investors.guarantee = g.amount.value_or(no_limit);
            investors.guarantee_share_of_drawn = g.share_of_drawn.value_or(no_limit);
        }
        if (s.investors->minimum_yield) {
            const MinimumYield& y = *s.investors->minimum_yield;
            investors.yield_payer = index_of(s.payers, y.paid_by);
            investors.yield_periods = y.periods;
            investors.yield_periodic_rate =
                std::pow(1.0 + y.rate, 1.0 / plan.periods_per_year) - 1.0;
            if (y.advance_on) investors.yield_advance_rule = index_of(s.rules, *y.advance_on);
        }
        if (s.investors->redemption) {
            const Redemption& r = *s.investors->redemption;
            investors.redemption_payer = index_of(s.payers, r.paid_by);
            investors.redemption_period = r.period;
            investors.redemption_rule = index_of(s.rules, r.if_not_met);
            investors.redemption_share = r.share_of_principal;
        }
        plan.investors = std::move(investors);
    }

    // Present-value factors, long enough for savings observed after the horizon.
    int longest = plan.horizon;
    for (const auto& o : plan.outcomes) {
        for (const auto& c : plan.cohorts)
            longest = std::max(longest, o.known(c.enrol_first + c.batches - 1) + 1);
    }
    for (int p = 0; p < longest; ++p)
        plan.discount.push_back(discount_factor(plan.discount_rate, p, plan.periods_per_year));
    return plan;
}

std::string period_date(const Plan& plan, int period) {
    if (!plan.start) return "";
    int months_per_period = 12 / plan.periods_per_year;
    int months = (plan.start->year * 12 + plan.start->month - 1) + period * months_per_period;
    int year = months / 12;
    int month = months % 12 + 1;
    std::string text = "0000-00-01";  // ISO date of the period's first day
    for (int i = 3; i >= 0; --i, year /= 10)
        text[static_cast<std::size_t>(i)] = static_cast<char>('0' + year % 10);
    text[5] = static_cast<char>('0' + month / 10);
    text[6] = static_cast<char>('0' + month % 10);
    return text;
}

}  // namespace sib
