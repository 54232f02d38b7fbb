#include "sib/trial.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <span>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/special_functions/beta.hpp>

#include "sib/finance.hpp"
#include "sib/rng.hpp"

namespace sib {

namespace {

using std::size_t;

constexpr size_t at(int i) {
    return static_cast<size_t>(i);
}

/// Tolerance for "met when improvement ≥ threshold": a relative improvement computed as
/// (155 - 139.5) / 155 must meet a threshold of 0.10 despite rounding in the last digit.
constexpr double threshold_tolerance = 1e-12;

/// Losses smaller than this (money) are rounding, not losses.
constexpr double loss_tolerance = 1e-6;

/// Boost.Math computes in long double by default; double precision is what the draws need and
/// is several times faster (beta quantiles: about 10 µs down to 2 µs).
/// Errors are reported through errno, never thrown: the hot loop throws nothing (parameters are
/// validated at load, so none is expected).
using DoublePolicy = boost::math::policies::policy<
    boost::math::policies::promote_float<false>, boost::math::policies::promote_double<false>,
    boost::math::policies::domain_error<boost::math::policies::errno_on_error>,
    boost::math::policies::overflow_error<boost::math::policies::errno_on_error>,
    boost::math::policies::evaluation_error<boost::math::policies::errno_on_error>,
    boost::math::policies::pole_error<boost::math::policies::errno_on_error>>;
using StandardNormal = boost::math::normal_distribution<double, DoublePolicy>;

double normal_quantile(double u) {
    return boost::math::quantile(StandardNormal(), u);
}
double normal_cdf(double z) {
    return boost::math::cdf(StandardNormal(), z);
}

struct QuantileVisitor {
    double u;
    double operator()(const Fixed& d) const { return d.value; }
    double operator()(const Normal& d) const {
        if (!(d.sd > 0)) return std::clamp(d.mean, d.min.value_or(d.mean), d.max.value_or(d.mean));
        double lo = d.min ? normal_cdf((*d.min - d.mean) / d.sd) : 0.0;
        double hi = d.max ? normal_cdf((*d.max - d.mean) / d.sd) : 1.0;
        double v = lo + u * (hi - lo);
        if (!(v > 0)) return d.min.value_or(d.mean);
        if (!(v < 1)) return d.max.value_or(d.mean);
        double x = d.mean + d.sd * normal_quantile(v);
        return std::clamp(x, d.min.value_or(x), d.max.value_or(x));
    }
    double operator()(const Lognormal& d) const {
        if (!(d.sd > 0)) return d.mean;
        double sigma2 = std::log1p((d.sd / d.mean) * (d.sd / d.mean));
        double mu = std::log(d.mean) - sigma2 / 2;
        return std::exp(mu + std::sqrt(sigma2) * normal_quantile(u));
    }
    double operator()(const Uniform& d) const { return d.min + u * (d.max - d.min); }
    double operator()(const Triangular& d) const {
        double width = d.max - d.min;
        double split = (d.mode - d.min) / width;
        if (u < split) return d.min + std::sqrt(u * width * (d.mode - d.min));
        return d.max - std::sqrt((1 - u) * width * (d.max - d.mode));
    }
    double operator()(const Beta& d) const {
        if (!(d.sd > 0)) return d.mean;
        double k = d.mean * (1 - d.mean) / (d.sd * d.sd) - 1;
        return boost::math::ibeta_inv(d.mean * k, (1 - d.mean) * k, u, DoublePolicy());
    }
};

// ---- draws ----------------------------------------------------------------------------------

void draw_parameters(const Plan& plan, std::uint64_t trial, TrialState& s) {
    for (size_t i = 0; i < plan.parameters.size(); ++i) {
        Stream stream(plan.seed, trial, plan.parameters[i].key);
        s.uniforms[i] = stream.uniform();
    }
    if (!plan.correlated.empty()) {
        // Gaussian copula: independent normals through the Cholesky factor, back to uniforms.
        const auto k = plan.correlated.size();
        for (size_t j = 0; j < k; ++j)
            s.copula_normals[j] = normal_quantile(s.uniforms[at(plan.correlated[j])]);
        for (size_t row = 0; row < k; ++row) {
            double z = 0;
            for (size_t col = 0; col <= row; ++col)
                z += plan.copula_cholesky(static_cast<Eigen::Index>(row),
                                          static_cast<Eigen::Index>(col)) *
                     s.copula_normals[col];
            double u = normal_cdf(z);
            s.uniforms[at(plan.correlated[row])] = std::clamp(u, 0x1.0p-53, 1 - 0x1.0p-53);
        }
    }
    for (size_t i = 0; i < plan.parameters.size(); ++i)
        s.values[i] = std::visit(QuantileVisitor{s.uniforms[i]}, plan.parameters[i].dist);
}

void resolve_means_impl(const Plan& plan, TrialState& s) {
    const size_t outcomes = plan.outcomes.size();
    for (size_t c = 0; c < plan.cohorts.size(); ++c) {
        for (int o : plan.outcome_order) {
            const auto& outcome = plan.outcomes[at(o)];
            const auto& p = plan.parameters_of(static_cast<int>(c), o);
            const double baseline = p.baseline >= 0 ? s.values[at(p.baseline)] : 0.0;
            const double effect = p.effect >= 0 ? s.values[at(p.effect)] : 0.0;
            double mean = p.rate >= 0 ? s.values[at(p.rate)] : baseline * (1 + effect);
            double base = baseline;
            if (outcome.kind == OutcomeKind::binary) {
                mean = std::clamp(mean, 0.0, 1.0);
                base = std::clamp(base, 0.0, 1.0);
                if (outcome.leader >= 0) base *= s.base[c * outcomes + at(outcome.leader)];
            } else {
                mean = std::max(mean, 0.0);
                base = std::max(base, 0.0);
            }
            s.mean[c * outcomes + at(o)] = mean;
            s.base[c * outcomes + at(o)] = base;
        }
    }
}

void add_rate_card_due(const Plan& plan, int rule, int period, double amount, TrialState& s) {
    s.slot_due[at(plan.rate_slot[at(rule) * at(plan.horizon) + at(period)])] += amount;
}

/// Draws one participant's count of events: negative binomial as a gamma-Poisson mixture.
long long draw_individual_count(Stream& rng, double mean, double dispersion) {
    return sample_count_total(rng, 1, mean, dispersion);
}

/// Per-participant cap, binary outcomes: one enrolment batch drawn 64 participants at a time.
/// Participants with fewer paid achievements than can reach the cap are paid in full (counted by
/// popcount); only the others are walked one by one through their payments in order.
void draw_batch_bitsliced(const Plan& plan, Stream& rng, int c, int b, TrialState& s) {
    const auto& cohort = plan.cohorts[at(c)];
    const size_t co = at(c) * plan.outcomes.size();
    const size_t np = plan.pattern_outcomes.size();
    const size_t rules = plan.capped_rate_rules.size();
    const auto k_min = at(plan.min_capped_achievements);
    const long long n = s.batch_size[at(cohort.first_batch + b)];
    std::fill(s.capped_due.begin(), s.capped_due.end(), 0.0);
    for (long long first = 0; first < n; first += 64) {
        const long long lanes = std::min<long long>(64, n - first);
        const std::uint64_t live =
            lanes == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << lanes) - 1;
        std::fill(s.lane_counters.begin(), s.lane_counters.end(), 0);
        for (size_t j = 0; j < np; ++j) {
            const int o = plan.pattern_outcomes[j];
            const int leader = plan.pattern_leader[j];
            const std::uint64_t eligible = leader >= 0 ? s.lane_masks[at(leader)] : live;
            const std::uint64_t mask = bernoulli_lanes(rng, s.mean[co + at(o)], eligible);
            s.lane_masks[j] = mask;
            s.counts[at(plan.count_index(c, o, b))] += static_cast<double>(count_bits(mask));
            if (!plan.pattern_paid[j] || k_min > np) continue;
            for (size_t k = k_min - 1; k > 0; --k)
                s.lane_counters[k] |= s.lane_counters[k - 1] & mask;
            s.lane_counters[0] |= mask;
        }
        std::uint64_t capped = k_min <= np ? s.lane_counters[k_min - 1] : 0;
        if (!plan.capped_price_units.empty() && capped != 0) {
            // Exactly who goes over the cap: add each lane's prices in bit planes (ripple carry),
            // then compare with the cap from the most significant plane.
            std::fill(s.lane_sums.begin(), s.lane_sums.end(), 0);
            for (size_t k = 0; k < rules; ++k) {
                const std::uint64_t mask = s.lane_masks[at(plan.capped_rule_outcome[k])] & capped;
                const std::uint64_t price = plan.capped_price_units[k];
                std::uint64_t carry = 0;
                for (size_t bit = 0; bit < s.lane_sums.size(); ++bit) {
                    const std::uint64_t a = s.lane_sums[bit];
                    const std::uint64_t addend = (price >> bit) & 1 ? mask : 0;
                    s.lane_sums[bit] = a ^ addend ^ carry;
                    carry = (a & addend) | (carry & (a ^ addend));
                }
            }
            std::uint64_t above = 0, equal = ~std::uint64_t{0};
            for (size_t bit = s.lane_sums.size(); bit-- > 0;) {
                if ((plan.cap_units >> bit) & 1) {
                    equal &= s.lane_sums[bit];
                } else {
                    above |= equal & s.lane_sums[bit];
                    equal &= ~s.lane_sums[bit];
                }
            }
            capped &= above;
        }
        for (size_t k = 0; k < rules; ++k) {
            const auto& rule = plan.rules[at(plan.capped_rate_rules[k])];
            s.capped_due[k] +=
                rule.price * static_cast<double>(count_bits(
                                 s.lane_masks[at(plan.capped_rule_outcome[k])] & ~capped));
        }
        for (std::uint64_t left = capped; left != 0; left &= left - 1) {
            const int lane = std::countr_zero(left);
            double paid = 0;
            for (size_t k = 0; k < rules; ++k) {
                if (!((s.lane_masks[at(plan.capped_rule_outcome[k])] >> lane) & 1)) continue;
                const double amount = std::min(plan.rules[at(plan.capped_rate_rules[k])].price,
                                               std::max(0.0, plan.per_participant_cap - paid));
                paid += amount;
                s.capped_due[k] += amount;
            }
        }
    }
    const int enrolled = cohort.enrol_first + b;
    for (size_t k = 0; k < rules; ++k) {
        if (s.capped_due[k] == 0) continue;
        const int r = plan.capped_rate_rules[k];
        const auto& rule = plan.rules[at(r)];
        add_rate_card_due(
            plan, r, enrolled + plan.outcomes[at(rule.outcome)].observed_after + rule.payment_lag,
            s.capped_due[k], s);
    }
}

void draw_cohort(const Plan& plan, std::uint64_t trial, int c, TrialState& s) {
    const auto& cohort = plan.cohorts[at(c)];
    const size_t outcomes = plan.outcomes.size();
    const size_t co = at(c) * outcomes;
    std::fill(s.counts.begin() + cohort.first_count,
              s.counts.begin() + cohort.first_count + cohort.batches * static_cast<int>(outcomes),
              0.0);

    // Outcomes drawn jointly per participant (per-participant cap), in patterns or one by one.
    if (plan.participant_mode == ParticipantMode::patterns) {
        const size_t np = plan.pattern_outcomes.size();
        bool probabilities_ready = false;  // computed only if a batch takes the multinomial
        auto pattern_probabilities = [&] {
            for (size_t k = 0; k < plan.patterns.size(); ++k) {
                double probability = 1;
                for (size_t j = 0; j < np; ++j) {
                    const int leader = plan.pattern_leader[j];
                    if (leader >= 0 && !plan.patterns[k].achieved[at(leader)])
                        continue;  // no choice
                    const double p = s.mean[co + at(plan.pattern_outcomes[j])];
                    probability *= plan.patterns[k].achieved[j] ? p : 1 - p;
                }
                s.pattern_probability[k] = probability;
            }
            probabilities_ready = true;
        };
        Stream rng(plan.seed, trial, cohort.key ^ stream_key("patterns"));
        for (int b = 0; b < cohort.batches; ++b) {
            // A multinomial over patterns costs a binomial per pattern, bit-sliced draws a few
            // nanoseconds per participant: take the cheaper for this batch's size.
            if (plan.patterns.size() * 8 >
                static_cast<size_t>(s.batch_size[at(cohort.first_batch + b)])) {
                draw_batch_bitsliced(plan, rng, c, b, s);
                continue;
            }
            // Multinomial over patterns as a chain of conditional binomials.
            if (!probabilities_ready) pattern_probabilities();
            long long remaining = s.batch_size[at(cohort.first_batch + b)];
            double probability_left = 1;
            for (size_t k = 0; k < plan.patterns.size(); ++k) {
                long long n = 0;
                if (k + 1 == plan.patterns.size()) {
                    n = remaining;
                } else if (remaining > 0 && probability_left > 0) {
                    n = sample_binomial(rng, remaining,
                                        std::min(1.0, s.pattern_probability[k] / probability_left));
                }
                remaining -= n;
                probability_left -= s.pattern_probability[k];
                if (n == 0) continue;
                const auto& pattern = plan.patterns[k];
                for (size_t j = 0; j < np; ++j)
                    if (pattern.achieved[j])
                        s.counts[at(plan.count_index(c, plan.pattern_outcomes[j], b))] +=
                            static_cast<double>(n);
                const int enrolled = cohort.enrol_first + b;
                for (const auto& payment : pattern.payments)
                    if (payment.amount > 0)
                        add_rate_card_due(plan, payment.rule, enrolled + payment.offset,
                                          static_cast<double>(n) * payment.amount, s);
            }
        }
    } else if (plan.participant_mode == ParticipantMode::individuals) {
        Stream rng(plan.seed, trial, cohort.key ^ stream_key("individuals"));
        const size_t np = plan.pattern_outcomes.size();
        for (int b = 0; b < cohort.batches; ++b) {
            const int enrolled = cohort.enrol_first + b;
            for (long long i = 0; i < s.batch_size[at(cohort.first_batch + b)]; ++i) {
                for (size_t j = 0; j < np; ++j) {
                    const int o = plan.pattern_outcomes[j];
                    const auto& outcome = plan.outcomes[at(o)];
                    const double mean = s.mean[co + at(o)];
                    long long value = 0;
                    if (outcome.kind == OutcomeKind::count) {
                        value = draw_individual_count(rng, mean, outcome.dispersion);
                    } else {
                        const int leader = plan.pattern_leader[j];
                        const bool eligible = leader < 0 || s.individual[at(leader)] > 0;
                        value = eligible && rng.uniform() < mean ? 1 : 0;
                    }
                    s.individual[j] = value;
                    s.counts[at(plan.count_index(c, o, b))] += static_cast<double>(value);
                }
                double paid = 0;
                for (size_t k = 0; k < plan.capped_rate_rules.size(); ++k) {
                    const int r = plan.capped_rate_rules[k];
                    const auto& rule = plan.rules[at(r)];
                    const long long achieved = s.individual[at(plan.capped_rule_outcome[k])];
                    if (achieved == 0) continue;
                    double amount = std::min(rule.price * static_cast<double>(achieved),
                                             std::max(0.0, plan.per_participant_cap - paid));
                    paid += amount;
                    if (amount > 0)
                        add_rate_card_due(plan, r,
                                          enrolled +
                                              plan.outcomes[at(rule.outcome)].observed_after +
                                              rule.payment_lag,
                                          amount, s);
                }
            }
        }
    }

    // Every other outcome in aggregate per batch: exact sums of binomials and negative binomials.
    for (int o : plan.outcome_order) {
        if (std::find(plan.pattern_outcomes.begin(), plan.pattern_outcomes.end(), o) !=
            plan.pattern_outcomes.end())
            continue;
        const auto& outcome = plan.outcomes[at(o)];
        Stream rng(plan.seed, trial, cohort.key ^ outcome.key);
        const double mean = s.mean[co + at(o)];
        if (!outcome.per_batch) {
            // Only the cohort's total matters: one exact aggregate draw, kept in batch 0.
            const long long n = s.cohort_size[at(c)];
            long long eligible = n;
            if (outcome.leader >= 0) {
                double leader_total = 0;
                for (int b = 0; b < cohort.batches; ++b)
                    leader_total += s.counts[at(plan.count_index(c, outcome.leader, b))];
                eligible = static_cast<long long>(leader_total);
            }
            s.counts[at(plan.count_index(c, o, 0))] =
                static_cast<double>(outcome.kind == OutcomeKind::count
                                        ? sample_count_total(rng, n, mean, outcome.dispersion)
                                        : sample_binomial(rng, eligible, mean));
            continue;
        }
        for (int b = 0; b < cohort.batches; ++b) {
            const long long n = s.batch_size[at(cohort.first_batch + b)];
            long long value = 0;
            if (outcome.kind == OutcomeKind::count) {
                value = sample_count_total(rng, n, mean, outcome.dispersion);
            } else {
                long long eligible = outcome.leader >= 0
                                         ? static_cast<long long>(
                                               s.counts[at(plan.count_index(c, outcome.leader, b))])
                                         : n;
                value = sample_binomial(rng, eligible, mean);
            }
            s.counts[at(plan.count_index(c, o, b))] = static_cast<double>(value);
        }
    }

    // Cohort totals, aggregate rate-card payments, and the comparison group.
    for (size_t o = 0; o < outcomes; ++o) {
        double total = 0;
        for (int b = 0; b < cohort.batches; ++b)
            total += s.counts[at(plan.count_index(c, static_cast<int>(o), b))];
        s.total[co + o] = total;
    }
    if (plan.participant_mode == ParticipantMode::aggregate) add_rate_card_dues(plan, c, s);
    for (size_t o = 0; o < outcomes; ++o) {
        const auto& outcome = plan.outcomes[o];
        if (!outcome.compared) continue;
        const double base = s.base[co + o];
        if (plan.comparison_kind == ComparisonKind::historical) {
            s.comparison_mean[co + o] = base;
            continue;
        }
        const long long members =
            std::llround(plan.comparison_ratio * static_cast<double>(s.cohort_size[at(c)]));
        Stream rng(plan.seed, trial, cohort.key ^ outcome.key ^ stream_key("comparison"));
        long long total = outcome.kind == OutcomeKind::count
                              ? sample_count_total(rng, members, base, outcome.dispersion)
                              : sample_binomial(rng, members, base);
        s.comparison_mean[co + o] =
            members > 0 ? static_cast<double>(total) / static_cast<double>(members) : 0.0;
    }
}

// ---- rules, caps, payers ----------------------------------------------------------------------

double relative_improvement(Better better, double participants_mean, double comparison_mean) {
    if (!(comparison_mean > 0)) return 0;
    double change = better == Better::lower ? comparison_mean - participants_mean
                                            : participants_mean - comparison_mean;
    return change / comparison_mean;
}

double schedule_payment(const std::vector<SchedulePoint>& schedule, double improvement) {
    if (improvement < schedule.front().improvement - threshold_tolerance) return 0;
    if (improvement >= schedule.back().improvement) return schedule.back().payment;
    for (size_t i = 1; i < schedule.size(); ++i) {
        const auto& lo = schedule[i - 1];
        const auto& hi = schedule[i];
        if (improvement < hi.improvement) {
            double w =
                std::max(0.0, (improvement - lo.improvement) / (hi.improvement - lo.improvement));
            return lo.payment + w * (hi.payment - lo.payment);
        }
    }
    return schedule.back().payment;
}

/// Sums over the cohorts in a slot's scope: participants, realised total and the comparison
/// total weighted by participants.
struct ScopeSums {
    double participants = 0, total = 0, comparison = 0;
};

ScopeSums scope_of(const Plan& plan, const TrialState& s, int outcome, int cohort) {
    ScopeSums scope;
    const size_t outcomes = plan.outcomes.size();
    for (size_t c = 0; c < plan.cohorts.size(); ++c) {
        if (cohort >= 0 && at(cohort) != c) continue;
        const double n = static_cast<double>(s.cohort_size[c]);
        scope.participants += n;
        scope.total += s.total[c * outcomes + at(outcome)];
        scope.comparison += n * s.comparison_mean[c * outcomes + at(outcome)];
    }
    return scope;
}

/// What a group rule owes for one slot before caps, and whether its condition held.
double assess(const Plan& plan, const PlanRule& rule, int cohort, const TrialState& s, bool& met) {
    const ScopeSums scope = scope_of(plan, s, rule.outcome, cohort);
    if (rule.basis == Basis::target) {
        const double needed =
            rule.share_target ? rule.at_least * scope.participants - 1e-9 : rule.at_least;
        met = scope.total >= needed;
        return met ? rule.amount + rule.price * scope.total : 0.0;
    }
    const double n = scope.participants;
    const double t = n > 0 ? scope.total / n : 0.0;
    const double c = n > 0 ? scope.comparison / n : 0.0;
    const double improvement = relative_improvement(plan.outcomes[at(rule.outcome)].better, t, c);
    met = c > 0 && improvement >= rule.threshold - threshold_tolerance;
    if (!met) return 0;
    switch (rule.versus_pay) {
        case VersusPay::price:
            return rule.price * std::abs(c - t) * n;
        case VersusPay::schedule:
            return schedule_payment(rule.schedule, improvement);
        case VersusPay::amount:
            return rule.amount;
    }
    return 0;
}

/// The period in which the last outcome of a group rule's scope is known: the last enrolment
/// period with participants, plus observed_after (SPEC 6.4); -1 when the scope has none.
int assessment_period(const Plan& plan, const PlanRule& rule, int cohort, const TrialState& s) {
    int period = -1;
    for (size_t c = 0; c < plan.cohorts.size(); ++c) {
        if (cohort >= 0 && at(cohort) != c) continue;
        const auto& plan_cohort = plan.cohorts[c];
        // Participants fill enrolment periods from the first (SPEC 3): with n below the number
        // of periods, the last n-th period is the last with anyone in it.
        const long long filled = std::min<long long>(s.cohort_size[c], plan_cohort.batches);
        if (filled == 0) continue;
        period = std::max(period, plan_cohort.enrol_first + static_cast<int>(filled) - 1);
    }
    return period < 0 ? -1 : period + plan.outcomes[at(rule.outcome)].observed_after;
}

void settle_payments(const Plan& plan, TrialState& s) {
    const size_t cohorts = plan.cohorts.size();
    std::fill(s.met.begin(), s.met.end(), 0.0);
    std::fill(s.assessed.begin(), s.assessed.end(), 0);
    // Once per trial: when each group rule's scope is assessed ([rule * (C + 1) + cohort], the
    // pooled scope last).
    for (size_t r = 0; r < plan.rules.size(); ++r) {
        const auto& rule = plan.rules[r];
        if (rule.basis == Basis::rate_card) continue;
        if (rule.per == Scope::all) {
            s.outcome_known[r * (cohorts + 1) + cohorts] = assessment_period(plan, rule, -1, s);
        } else {
            for (size_t c = 0; c < cohorts; ++c)
                s.outcome_known[r * (cohorts + 1) + c] =
                    assessment_period(plan, rule, static_cast<int>(c), s);
        }
    }
    std::fill(s.rule_paid.begin(), s.rule_paid.end(), 0.0);
    std::fill(s.rule_cohort_paid.begin(), s.rule_cohort_paid.end(), 0.0);
    std::fill(s.payments.begin(), s.payments.end(), 0.0);
    double total_paid = 0;
    for (size_t i = 0; i < plan.slots.size(); ++i) {
        const auto& slot = plan.slots[i];
        const auto& rule = plan.rules[at(slot.rule)];
        double due = s.slot_due[i];
        if (rule.basis != Basis::rate_card) {
            // A group rule pays through the slot of the period its last participant's outcome is
            // known (none when its scope has no participants), and only when every cohort in
            // scope has been observed (settle on partial results; in simulation every one is).
            const int outcome_known =
                s.outcome_known[at(slot.rule) * (cohorts + 1) +
                                (slot.cohort >= 0 ? at(slot.cohort) : cohorts)];
            if (outcome_known < 0 || outcome_known + rule.payment_lag != slot.period) {
                s.slot_paid[i] = 0;
                continue;
            }
            bool observed = true;
            for (size_t c = 0; c < cohorts; ++c)
                if (slot.cohort < 0 || at(slot.cohort) == c)
                    observed = observed && s.cohort_observed[c];
            bool met = false;
            due = observed ? assess(plan, rule, slot.cohort, s, met) : 0.0;
            const size_t where = at(slot.rule) * cohorts + (slot.cohort >= 0 ? at(slot.cohort) : 0);
            s.met[where] = met ? 1.0 : 0.0;
            s.assessed[where] = observed ? 1 : 0;
        }
        if (rule.net_of >= 0) {
            // A reconciliation: less what the other rule has paid, within the same cohort when
            // both rules are assessed per cohort.
            const auto& other = plan.rules[at(rule.net_of)];
            double other_paid =
                slot.cohort >= 0 && other.per == Scope::cohort
                    ? s.rule_cohort_paid[at(rule.net_of) * cohorts + at(slot.cohort)]
                    : s.rule_paid[at(rule.net_of)];
            due = std::max(0.0, due - other_paid);
        }
        double paid = std::min(due, std::max(0.0, rule.cap - s.rule_paid[at(slot.rule)]));
        paid = std::min(paid, std::max(0.0, plan.total_cap - total_paid));
        s.slot_paid[i] = paid;
        s.rule_paid[at(slot.rule)] += paid;
        if (slot.cohort >= 0) s.rule_cohort_paid[at(slot.rule) * cohorts + at(slot.cohort)] += paid;
        total_paid += paid;
        s.payments[at(slot.period)] += paid;
    }
}

// ---- investors ------------------------------------------------------------------------------

/// SPEC section 9: recycling, draws pro rata, unfunded costs, waterfall, guarantee.
void run_waterfall(const Plan& plan, const PartyLayout& parties, TrialState& s,
                   double& unfunded_total, double& guarantee_paid) {
    const auto& inv = *plan.investors;
    const size_t horizon = at(plan.horizon);
    const size_t tranches = inv.tranches.size();
    std::fill(s.tranche_balance.begin(), s.tranche_balance.end(), 0.0);
    std::fill(s.tranche_principal.begin(), s.tranche_principal.end(), 0.0);
    std::fill(s.tranche_flows.begin(), s.tranche_flows.end(), 0.0);
    std::fill(s.tranche_drawn.begin(), s.tranche_drawn.end(), 0.0);
    std::fill(s.tranche_received.begin(), s.tranche_received.end(), 0.0);
    double cash = 0, drawn = 0;
    unfunded_total = 0;
    guarantee_paid = 0;
    for (size_t t = 0; t < horizon; ++t) {
        for (size_t j = 0; j < tranches; ++j)
            s.tranche_balance[j] *= 1 + inv.tranches[j].periodic_rate;
        // 1. outcome payments; 2. costs from cash, then drawn, then unfunded.
        cash += s.payments[t];
        const double from_cash = std::min(cash, s.costs[t]);
        cash -= from_cash;
        const double rest = s.costs[t] - from_cash;
        const double draw = std::min(rest, std::max(0.0, inv.capital - drawn));
        const double unfunded = rest - draw;
        drawn += draw;
        unfunded_total += unfunded;
        s.flows[at(parties.provider) * horizon + t] = -unfunded;
        for (size_t j = 0; j < tranches; ++j) {
            const double d = draw * inv.tranches[j].share;
            s.tranche_balance[j] += d;
            s.tranche_principal[j] += d;
            s.tranche_flows[j * horizon + t] -= d;
            s.tranche_drawn[j] += d;
        }
        // 3. cash beyond every cost still to come goes down the waterfall.
        double available = std::max(0.0, cash - s.cost_to_come[t]);
        cash -= available;
        for (size_t j = 0; j < tranches && available > 0; ++j) {
            const bool last = j + 1 == tranches;
            const double owed = s.tranche_balance[j];
            const double paid = last ? available : std::min(available, owed);
            const double to_balance = std::min(paid, owed);
            const double accrued = owed - s.tranche_principal[j];  // return first, then principal
            s.tranche_principal[j] -= std::max(0.0, to_balance - accrued);
            s.tranche_balance[j] -= to_balance;
            s.tranche_flows[j * horizon + t] += paid;
            s.tranche_received[j] += paid;
            available -= paid;
        }
        if (t + 1 == horizon && inv.has_guarantee) {
            double left = inv.guarantee;
            for (size_t j = 0; j < tranches; ++j) {
                const double g = std::min(left, std::max(0.0, s.tranche_principal[j]));
                s.tranche_principal[j] -= g;
                s.tranche_balance[j] -= g;
                s.tranche_flows[j * horizon + t] += g;
                s.tranche_received[j] += g;
                left -= g;
                guarantee_paid += g;
            }
            s.flows[at(parties.guarantor) * horizon + t] = -guarantee_paid;
        }
    }
    for (size_t t = 0; t < horizon; ++t) {
        double flow = 0;
        for (size_t j = 0; j < tranches; ++j) flow += s.tranche_flows[j * horizon + t];
        s.investor_flows[t] = flow;
        s.flows[at(parties.investors) * horizon + t] = flow;
        if (parties.first_tranche >= 0)
            for (size_t j = 0; j < tranches; ++j)
                s.flows[(at(parties.first_tranche) + j) * horizon + t] =
                    s.tranche_flows[j * horizon + t];
    }
}

/// Fills drawn, received, multiple (optional), irr, loss and any_loss style metrics.
void fill_investor_metrics(double drawn, double received, std::span<const double> flows,
                           int periods_per_year, double* out, bool full) {
    const double loss = drawn - received > loss_tolerance ? drawn - received : 0.0;
    out[0] = drawn;
    out[1] = received;
    if (!full) {
        out[2] = irr_annual(flows, periods_per_year);
        return;
    }
    out[2] = drawn > 0 ? received / drawn : 0.0;
    out[3] = irr_annual(flows, periods_per_year);
    out[4] = loss;
    out[5] = loss > 0 ? 1.0 : 0.0;
}

}  // namespace

double quantile(const Distribution& d, double u) {
    return std::visit(QuantileVisitor{u}, d);
}

void resolve_means(const Plan& plan, TrialState& s) {
    resolve_means_impl(plan, s);
}

void add_rate_card_dues(const Plan& plan, int c, TrialState& s) {
    const auto& cohort = plan.cohorts[at(c)];
    for (size_t r = 0; r < plan.rules.size(); ++r) {
        const auto& rule = plan.rules[r];
        if (rule.basis != Basis::rate_card || rule.price == 0) continue;
        const int offset = plan.outcomes[at(rule.outcome)].observed_after + rule.payment_lag;
        for (int b = 0; b < cohort.batches; ++b) {
            const double count = s.counts[at(plan.count_index(c, rule.outcome, b))];
            if (count > 0)
                add_rate_card_due(plan, static_cast<int>(r), cohort.enrol_first + b + offset,
                                  rule.price * count, s);
        }
    }
}

// ---- layouts -----------------------------------------------------------------------------------

MetricLayout metric_layout(const Plan& plan) {
    MetricLayout m;
    auto add = [&](std::string name) {
        m.names.push_back(std::move(name));
        return static_cast<int>(m.names.size()) - 1;
    };
    m.payments_total = add("payments.total");
    m.first_rule_payment = static_cast<int>(m.names.size());
    for (const auto& r : plan.rules) add("payments." + r.name);
    m.first_payer = static_cast<int>(m.names.size());
    for (const auto& p : plan.payers) {
        add("payer." + p.name + ".paid");
        add("payer." + p.name + ".savings");
        add("payer." + p.name + ".net_cost_pv");
    }
    if (plan.investors) {
        m.investors = add("investors.drawn");
        for (const char* name : {"received", "multiple", "irr", "loss", "any_loss"})
            add(std::string("investors.") + name);
        if (plan.investors->tranches_given) {
            m.first_tranche = static_cast<int>(m.names.size());
            for (const auto& t : plan.investors->tranches) {
                add("tranche." + t.name + ".drawn");
                add("tranche." + t.name + ".received");
                add("tranche." + t.name + ".irr");
            }
        }
        if (plan.investors->has_guarantee) m.guarantee_paid = add("guarantee.paid");
    }
    m.provider_costs = add("provider.costs");
    if (plan.investors) m.provider_unfunded = add("provider.unfunded");
    for (const auto& r : plan.rules) {
        if (r.basis == Basis::rate_card) {
            m.rule_met.push_back(-1);
        } else if (r.per == Scope::all) {
            m.rule_met.push_back(add("rule." + r.name + ".met"));
        } else {
            m.rule_met.push_back(static_cast<int>(m.names.size()));
            for (const auto& c : plan.cohorts) add("rule." + r.name + "." + c.name + ".met");
        }
    }
    for (const auto& o : plan.outcomes) {
        if (!o.compared) {
            m.improvement.push_back(-1);
            continue;
        }
        m.improvement.push_back(add("outcome." + o.name + ".improvement"));
        for (const auto& c : plan.cohorts) add("outcome." + o.name + "." + c.name + ".improvement");
    }
    m.first_caused = static_cast<int>(m.names.size());
    for (const auto& o : plan.outcomes) add("outcome." + o.name + ".caused");
    return m;
}

PartyLayout party_layout(const Plan& plan) {
    PartyLayout p;
    p.first_payer = 0;
    for (const auto& payer : plan.payers) p.names.push_back(payer.name);
    if (plan.investors) {
        p.investors = static_cast<int>(p.names.size());
        p.names.push_back("investors");
        if (plan.investors->tranches_given) {
            p.first_tranche = static_cast<int>(p.names.size());
            for (const auto& t : plan.investors->tranches) p.names.push_back(t.name);
        }
    }
    p.provider = static_cast<int>(p.names.size());
    p.names.push_back("provider");
    if (plan.investors && plan.investors->has_guarantee) {
        p.guarantor = static_cast<int>(p.names.size());
        p.names.push_back(plan.investors->guarantor);
    }
    return p;
}

TrialState::TrialState(const Plan& plan) {
    const size_t C = plan.cohorts.size(), O = plan.outcomes.size(), H = at(plan.horizon);
    const size_t T = plan.investors ? plan.investors->tranches.size() : 0;
    uniforms.resize(plan.parameters.size());
    copula_normals.resize(plan.correlated.size());
    values.resize(plan.parameters.size());
    cohort_size.resize(C);
    batch_size.resize(at(plan.batches));
    mean.resize(C * O);
    base.resize(C * O);
    counts.resize(at(plan.batch_counts));
    total.resize(C * O);
    comparison_mean.resize(C * O);
    pattern_probability.resize(plan.patterns.size());
    individual.resize(plan.pattern_outcomes.size());
    lane_masks.resize(plan.pattern_outcomes.size());
    lane_counters.resize(plan.pattern_outcomes.size() + 1);
    lane_sums.resize(static_cast<size_t>(plan.sum_bits));
    capped_due.resize(plan.capped_rate_rules.size());
    slot_due.resize(plan.slots.size());
    slot_paid.resize(plan.slots.size());
    rule_paid.resize(plan.rules.size());
    rule_cohort_paid.resize(plan.rules.size() * C);
    met.resize(plan.rules.size() * std::max<size_t>(C, 1));
    assessed.resize(met.size());
    outcome_known.resize(plan.rules.size() * (C + 1));
    cohort_observed.assign(C, 1);
    payments.resize(H);
    costs.resize(H);
    cost_to_come.resize(H);
    tranche_balance.resize(T);
    tranche_principal.resize(T);
    tranche_flows.resize(T * H);
    tranche_drawn.resize(T);
    tranche_received.resize(T);
    investor_flows.resize(H);
    metrics.resize(metric_layout(plan).names.size());
    flows.resize(party_layout(plan).names.size() * H);
}

// ---- one trial ----------------------------------------------------------------------------------

void simulate_trial(const Plan& plan, const MetricLayout& metrics, const PartyLayout& parties,
                    std::uint64_t trial, TrialState& s) {
    draw_trial(plan, trial, s);
    settle_trial(plan, metrics, parties, s);
}

void draw_trial(const Plan& plan, std::uint64_t trial, TrialState& s) {
    draw_parameters(plan, trial, s);
    for (size_t c = 0; c < plan.cohorts.size(); ++c) {
        const auto& cohort = plan.cohorts[c];
        // Sizes: rounded to whole participants, at least 0 and at most the validated limit.
        double size = std::round(s.values[at(cohort.size_parameter)]);
        long long n = static_cast<long long>(std::clamp(size, 0.0, 1e7));
        s.cohort_size[c] = n;
        const long long k = cohort.batches;
        for (long long b = 0; b < k; ++b)
            s.batch_size[at(cohort.first_batch) + static_cast<size_t>(b)] =
                n / k + (b < n % k ? 1 : 0);
    }
    resolve_means_impl(plan, s);
    std::fill(s.slot_due.begin(), s.slot_due.end(), 0.0);
    for (size_t c = 0; c < plan.cohorts.size(); ++c)
        draw_cohort(plan, trial, static_cast<int>(c), s);
}

void settle_trial(const Plan& plan, const MetricLayout& m, const PartyLayout& parties,
                  TrialState& s) {
    const size_t H = at(plan.horizon), C = plan.cohorts.size(), O = plan.outcomes.size();
    settle_payments(plan, s);
    std::fill(s.metrics.begin(), s.metrics.end(), 0.0);
    std::fill(s.flows.begin(), s.flows.end(), 0.0);

    // Payments by rule, and the payers' shares of them.
    double total = 0;
    for (size_t i = 0; i < plan.slots.size(); ++i) {
        const auto& slot = plan.slots[i];
        const double paid = s.slot_paid[i];
        if (paid == 0) continue;
        total += paid;
        s.metrics[at(m.first_rule_payment + slot.rule)] += paid;
        const auto& shares = plan.rules[at(slot.rule)].payer_shares;
        for (size_t p = 0; p < plan.payers.size(); ++p) {
            const double part = paid * shares[p];
            s.metrics[at(m.first_payer) + 3 * p] += part;
            s.metrics[at(m.first_payer) + 3 * p + 2] += part * plan.discount[at(slot.period)];
            s.flows[(at(parties.first_payer) + p) * H + at(slot.period)] -= part;
        }
    }
    s.metrics[at(m.payments_total)] = total;

    // Units truly caused, and the savings they bring each payer when they are observed.
    for (size_t o = 0; o < O; ++o) {
        const auto& outcome = plan.outcomes[o];
        double caused = 0;
        for (size_t c = 0; c < C; ++c) {
            const auto& cohort = plan.cohorts[c];
            for (int b = 0; b < cohort.batches; ++b) {
                const double n = static_cast<double>(s.batch_size[at(cohort.first_batch + b)]);
                const double realised =
                    s.counts[at(plan.count_index(static_cast<int>(c), static_cast<int>(o), b))];
                const double expected = n * s.base[c * O + o];
                const double units =
                    outcome.better == Better::lower ? expected - realised : realised - expected;
                caused += units;
                const int observed = cohort.enrol_first + b + outcome.observed_after;
                for (size_t p = 0; p < plan.payers.size(); ++p) {
                    const double saving = units * plan.payers[p].saving_per_unit[o];
                    s.metrics[at(m.first_payer) + 3 * p + 1] += saving;
                    s.metrics[at(m.first_payer) + 3 * p + 2] -=
                        saving * plan.discount[at(observed)];
                }
            }
        }
        s.metrics[at(m.first_caused) + o] = caused;
    }

    // Whether each group rule's condition held, and measured improvements.
    for (size_t r = 0; r < plan.rules.size(); ++r) {
        if (m.rule_met[r] < 0) continue;
        const size_t cohorts = plan.rules[r].per == Scope::all ? 1 : C;
        for (size_t c = 0; c < cohorts; ++c) s.metrics[at(m.rule_met[r]) + c] = s.met[r * C + c];
    }
    for (size_t o = 0; o < O; ++o) {
        if (m.improvement[o] < 0) continue;
        const Better better = plan.outcomes[o].better;
        const ScopeSums pooled = scope_of(plan, s, static_cast<int>(o), -1);
        if (pooled.participants > 0)
            s.metrics[at(m.improvement[o])] =
                relative_improvement(better, pooled.total / pooled.participants,
                                     pooled.comparison / pooled.participants);
        for (size_t c = 0; c < C; ++c) {
            const double n = static_cast<double>(s.cohort_size[c]);
            if (n > 0)
                s.metrics[at(m.improvement[o]) + 1 + c] = relative_improvement(
                    better, s.total[c * O + o] / n, s.comparison_mean[c * O + o]);
        }
    }

    // Provider costs: fixed per period plus per participant at enrolment.
    std::copy(plan.cost_per_period.begin(), plan.cost_per_period.end(), s.costs.begin());
    for (size_t c = 0; c < C; ++c) {
        const auto& cohort = plan.cohorts[c];
        for (int b = 0; b < cohort.batches; ++b)
            s.costs[at(cohort.enrol_first + b)] +=
                plan.cost_per_participant *
                static_cast<double>(s.batch_size[at(cohort.first_batch + b)]);
    }
    double costs = 0;
    for (size_t t = H; t-- > 0;) {
        s.cost_to_come[t] = costs;
        costs += s.costs[t];
    }
    s.metrics[at(m.provider_costs)] = costs;

    if (!plan.investors) {
        for (size_t t = 0; t < H; ++t)
            s.flows[at(parties.provider) * H + t] = s.payments[t] - s.costs[t];
        return;
    }
    double unfunded = 0, guarantee = 0;
    run_waterfall(plan, parties, s, unfunded, guarantee);
    s.metrics[at(m.provider_unfunded)] = unfunded;
    if (m.guarantee_paid >= 0) s.metrics[at(m.guarantee_paid)] = guarantee;

    double drawn = 0, received = 0;
    for (size_t j = 0; j < plan.investors->tranches.size(); ++j) {
        drawn += s.tranche_drawn[j];
        received += s.tranche_received[j];
        if (m.first_tranche >= 0)
            fill_investor_metrics(s.tranche_drawn[j], s.tranche_received[j],
                                  std::span<const double>(s.tranche_flows.data() + j * H, H),
                                  plan.periods_per_year, &s.metrics[at(m.first_tranche) + 3 * j],
                                  false);
    }
    fill_investor_metrics(drawn, received, std::span<const double>(s.investor_flows.data(), H),
                          plan.periods_per_year, &s.metrics[at(m.investors)], true);
}

}  // namespace sib
