#include "sib/draw.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "sib/distributions.hpp"
#include "sib/lanes.hpp"
#include "sib/rng.hpp"

namespace sib {

namespace {

using std::size_t;

constexpr size_t at(int i) {
    return static_cast<size_t>(i);
}

// ---- draws ----------------------------------------------------------------------------------

void draw_parameters(const Plan& plan, std::uint64_t trial, DrawScratch& s) {
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
        s.values[i] = quantile(plan.parameters[i].dist, s.uniforms[i]);
}

void resolve_means_impl(const Plan& plan, DrawScratch& s, Outcomes& out) {
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
                // Unconditional: the share eligible (with the leader, less those with the outcome
                // this one is instead of) times the probability given eligibility.
                if (outcome.leader >= 0 || outcome.excluded >= 0)
                    base *= std::max(
                        0.0,
                        (outcome.leader >= 0 ? out.base[c * outcomes + at(outcome.leader)] : 1.0) -
                            (outcome.excluded >= 0 ? out.base[c * outcomes + at(outcome.excluded)]
                                                   : 0.0));
            } else {
                mean = std::max(mean, 0.0);
                base = std::max(base, 0.0);
            }
            s.mean[c * outcomes + at(o)] = mean;
            s.mean_without[c * outcomes + at(o)] =
                p.rate_without >= 0 ? std::clamp(s.values[at(p.rate_without)], 0.0, 1.0) : 0.0;
            out.base[c * outcomes + at(o)] = base;
        }
    }
}

/// Outcomes that go together (`participant_correlations`), for cohort offset `co`: achieved when
/// the participant's latent normal is below Φ⁻¹(p), so each still has probability p; the
/// thresholds of probabilities 0 and 1 are infinite, so those are exact.
void joint_thresholds(const Plan& plan, size_t co, DrawScratch& s) {
    for (size_t k = 0; k < plan.joint_outcomes.size(); ++k) {
        const double p = s.mean[co + at(plan.joint_outcomes[k])];
        s.joint_threshold[k] = p <= 0   ? -std::numeric_limits<double>::infinity()
                               : p >= 1 ? std::numeric_limits<double>::infinity()
                                        : normal_quantile(p);
    }
}

/// One participant's correlated latent normals into s.joint_latent: independent standard normals
/// through the Cholesky factor of the correlation matrix.
void draw_latent(const Plan& plan, Stream& rng, DrawScratch& s) {
    const size_t nj = plan.joint_outcomes.size();
    for (size_t k = 0; k < nj; ++k) s.joint_normals[k] = sample_standard_normal(rng);
    for (size_t row = 0; row < nj; ++row) {
        double z = 0;
        for (size_t col = 0; col <= row; ++col)
            z += plan.joint_cholesky(static_cast<Eigen::Index>(row),
                                     static_cast<Eigen::Index>(col)) *
                 s.joint_normals[col];
        s.joint_latent[row] = z;
    }
}

/// Money due (after the per-participant cap) from participants of a capped rate card.
void add_capped_due(const Plan& plan, int rule, int period, double amount, Outcomes& out) {
    out.rate_card_due[at(rule) * at(plan.horizon) + at(period)] += amount;
}

/// Draws one participant's count of events: negative binomial as a gamma-Poisson mixture.
long long draw_individual_count(Stream& rng, double mean, double dispersion) {
    return sample_count_total(rng, 1, mean, dispersion);
}

/// Per-participant cap, binary outcomes: one enrolment batch drawn 64 participants at a time,
/// four such blocks (256 lanes) to a group. Participants with fewer paid achievements than can
/// reach the cap are paid in full (counted by popcount); only the others are walked one by one
/// through their payments in order. The draws go block by block in order; the bookkeeping of a
/// group (counts, who reaches the cap) is lanes::process, portable or AVX2, which draws nothing.
void draw_batch_bitsliced(const Plan& plan, Stream& rng, int c, int b, DrawScratch& s,
                          Outcomes& out) {
    constexpr size_t G = lanes::group_blocks;
    const auto& cohort = plan.cohorts[at(c)];
    const size_t co = at(c) * plan.outcomes.size();
    const size_t np = plan.pattern_outcomes.size();
    const size_t rules = plan.capped_rate_rules.size();
    const long long n = out.batch_size[at(cohort.first_batch + b)];
    lanes::Group group{
        s.lane_masks.data(),
        G,
        np,
        plan.pattern_paid.data(),
        at(plan.min_capped_achievements),
        plan.capped_rule_outcome.data(),
        rules,
        plan.capped_price_units.empty() ? nullptr : plan.capped_price_units.data(),
        plan.cap_units,
        at(plan.sum_bits),
        s.lane_scratch.data(),
        s.lane_capped.data(),
        s.lane_counts.data(),
        s.lane_uncapped.data(),
    };
    std::fill(s.capped_due.begin(), s.capped_due.end(), 0.0);
    for (long long start = 0; start < n; start += 64 * static_cast<long long>(G)) {
        size_t blocks = 0;
        for (; blocks < G; ++blocks) {
            const long long first = start + 64 * static_cast<long long>(blocks);
            if (first >= n) break;
            const long long in_block = std::min<long long>(64, n - first);
            const std::uint64_t live =
                in_block == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << in_block) - 1;
            if (!plan.joint_outcomes.empty()) {
                // Outcomes that go together: each lane's latent normals decide them (their bits).
                std::fill(s.joint_masks.begin(), s.joint_masks.end(), 0);
                for (long long lane = 0; lane < in_block; ++lane) {
                    draw_latent(plan, rng, s);
                    for (size_t k = 0; k < s.joint_masks.size(); ++k)
                        if (s.joint_latent[k] < s.joint_threshold[k])
                            s.joint_masks[k] |= std::uint64_t{1} << lane;
                }
            }
            for (size_t j = 0; j < np; ++j) {
                const int o = plan.pattern_outcomes[j];
                const int leader = plan.pattern_leader[j];
                std::uint64_t eligible = leader >= 0 ? s.lane_masks[at(leader) * G + blocks] : live;
                if (plan.pattern_excluded[j] >= 0)
                    eligible &= ~s.lane_masks[at(plan.pattern_excluded[j]) * G + blocks];
                std::uint64_t mask = plan.pattern_joint[j] >= 0  // no leader: every live lane
                                         ? s.joint_masks[at(plan.pattern_joint[j])]
                                         : lanes::bernoulli(rng, s.mean[co + at(o)], eligible);
                if (leader >= 0 && plan.outcomes[at(o)].leader_optional)  // lanes without it
                    mask |= lanes::bernoulli(rng, s.mean_without[co + at(o)], live & ~eligible);
                s.lane_masks[j * G + blocks] = mask;
            }
        }
        for (size_t blk = blocks; blk < G; ++blk)
            for (size_t j = 0; j < np; ++j) s.lane_masks[j * G + blk] = 0;
        group.blocks = blocks;
        lanes::process(group);
        for (size_t blk = 0; blk < blocks; ++blk) {
            for (size_t j = 0; j < np; ++j)
                out.counts[at(plan.count_index(c, plan.pattern_outcomes[j], b))] +=
                    static_cast<double>(s.lane_counts[j * G + blk]);
            for (size_t k = 0; k < rules; ++k)
                s.capped_due[k] += plan.rules[at(plan.capped_rate_rules[k])].price *
                                   static_cast<double>(s.lane_uncapped[k * G + blk]);
            for (std::uint64_t left = s.lane_capped[blk]; left != 0; left &= left - 1) {
                const int lane = std::countr_zero(left);
                double paid = 0;
                for (size_t k = 0; k < rules; ++k) {
                    if (!((s.lane_masks[at(plan.capped_rule_outcome[k]) * G + blk] >> lane) & 1))
                        continue;
                    const double amount = std::min(plan.rules[at(plan.capped_rate_rules[k])].price,
                                                   std::max(0.0, plan.per_participant_cap - paid));
                    paid += amount;
                    s.capped_due[k] += amount;
                }
            }
        }
    }
    const int enrolled = cohort.enrol_first + b;
    for (size_t k = 0; k < rules; ++k) {
        if (s.capped_due[k] == 0) continue;
        const int r = plan.capped_rate_rules[k];
        const auto& rule = plan.rules[at(r)];
        add_capped_due(plan, r, plan.outcomes[at(rule.outcome)].known(enrolled) + rule.payment_lag,
                       s.capped_due[k], out);
    }
}

void draw_cohort(const Plan& plan, std::uint64_t trial, int c, DrawScratch& s, Outcomes& out) {
    const auto& cohort = plan.cohorts[at(c)];
    const size_t outcomes = plan.outcomes.size();
    const size_t co = at(c) * outcomes;
    std::fill(out.counts.begin() + cohort.first_count,
              out.counts.begin() + cohort.first_count + cohort.batches * static_cast<int>(outcomes),
              0.0);

    // Outcomes drawn jointly per participant (per-participant cap), in patterns or one by one.
    if (plan.participant_mode == ParticipantMode::patterns) {
        const size_t np = plan.pattern_outcomes.size();
        bool probabilities_ready = false;  // computed only if a batch takes the multinomial
        auto pattern_probabilities = [&] {
            for (size_t k = 0; k < plan.patterns.size(); ++k) {
                double probability = 1;
                for (size_t j = 0; j < np; ++j) {
                    const int o = plan.pattern_outcomes[j];
                    const int leader = plan.pattern_leader[j];
                    const bool without = leader >= 0 && !plan.patterns[k].achieved[at(leader)];
                    if (without && !plan.outcomes[at(o)].leader_optional) continue;  // no choice
                    const int excluded = plan.pattern_excluded[j];
                    if (excluded >= 0 && plan.patterns[k].achieved[at(excluded)])
                        continue;  // no choice either
                    const double p = without ? s.mean_without[co + at(o)] : s.mean[co + at(o)];
                    probability *= plan.patterns[k].achieved[j] ? p : 1 - p;
                }
                s.pattern_probability[k] = probability;
            }
            probabilities_ready = true;
        };
        Stream rng(plan.seed, trial, cohort.key ^ stream_key("patterns"));
        joint_thresholds(plan, co, s);
        for (int b = 0; b < cohort.batches; ++b) {
            // A multinomial over patterns costs a binomial per pattern, bit-sliced draws a few
            // nanoseconds per participant: take the cheaper for this batch's size.
            // Too many patterns to list (plan.cpp leaves none): always bit-sliced.
            if (plan.patterns.empty() ||
                plan.patterns.size() * 8 >
                    static_cast<size_t>(out.batch_size[at(cohort.first_batch + b)])) {
                draw_batch_bitsliced(plan, rng, c, b, s, out);
                continue;
            }
            // Multinomial over patterns as a chain of conditional binomials.
            if (!probabilities_ready) pattern_probabilities();
            long long remaining = out.batch_size[at(cohort.first_batch + b)];
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
                        out.counts[at(plan.count_index(c, plan.pattern_outcomes[j], b))] +=
                            static_cast<double>(n);
                const int enrolled = cohort.enrol_first + b;
                for (const auto& payment : pattern.payments)
                    if (payment.amount > 0)
                        add_capped_due(plan, payment.rule, enrolled + payment.offset,
                                       static_cast<double>(n) * payment.amount, out);
            }
        }
    } else if (plan.participant_mode == ParticipantMode::individuals) {
        Stream rng(plan.seed, trial, cohort.key ^ stream_key("individuals"));
        const size_t np = plan.pattern_outcomes.size();
        const size_t nj = plan.joint_outcomes.size();
        joint_thresholds(plan, co, s);
        for (int b = 0; b < cohort.batches; ++b) {
            const int enrolled = cohort.enrol_first + b;
            for (long long i = 0; i < out.batch_size[at(cohort.first_batch + b)]; ++i) {
                // A million participants with count outcomes take seconds: stay interruptible.
                if ((i & 4095) == 0 && s.cancel && s.cancel->load(std::memory_order_relaxed))
                    return;
                if (nj > 0) draw_latent(plan, rng, s);
                for (size_t j = 0; j < np; ++j) {
                    const int o = plan.pattern_outcomes[j];
                    const auto& outcome = plan.outcomes[at(o)];
                    const double mean = s.mean[co + at(o)];
                    long long value = 0;
                    if (outcome.kind == OutcomeKind::count) {
                        value = draw_individual_count(rng, mean, outcome.dispersion);
                    } else {
                        const int leader = plan.pattern_leader[j];
                        const int excluded = plan.pattern_excluded[j];
                        const bool eligible = (leader < 0 || s.individual[at(leader)] > 0) &&
                                              (excluded < 0 || s.individual[at(excluded)] == 0);
                        const int joint = plan.pattern_joint[j];
                        if (joint >= 0)  // no leader: always eligible
                            value =
                                s.joint_latent[at(joint)] < s.joint_threshold[at(joint)] ? 1 : 0;
                        else if (eligible)
                            value = rng.uniform() < mean ? 1 : 0;
                        else if (outcome.leader_optional)  // without the leader
                            value = rng.uniform() < s.mean_without[co + at(o)] ? 1 : 0;
                    }
                    s.individual[j] = value;
                    out.counts[at(plan.count_index(c, o, b))] += static_cast<double>(value);
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
                        add_capped_due(
                            plan, r,
                            plan.outcomes[at(rule.outcome)].known(enrolled) + rule.payment_lag,
                            amount, out);
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
            const long long n = out.cohort_size[at(c)];
            long long eligible = n;
            if (outcome.leader >= 0 || outcome.excluded >= 0) {
                // With the leader (or everyone), less those with the outcome this is instead of.
                double total = outcome.leader >= 0 ? 0.0 : static_cast<double>(n);
                for (int b = 0; b < cohort.batches; ++b) {
                    if (outcome.leader >= 0)
                        total += out.counts[at(plan.count_index(c, outcome.leader, b))];
                    if (outcome.excluded >= 0)
                        total -= out.counts[at(plan.count_index(c, outcome.excluded, b))];
                }
                eligible = static_cast<long long>(total);
            }
            out.counts[at(plan.count_index(c, o, 0))] =
                static_cast<double>(outcome.kind == OutcomeKind::count
                                        ? sample_count_total(rng, n, mean, outcome.dispersion)
                                        : sample_binomial(rng, eligible, mean));
            if (outcome.leader_optional)  // those without the leader, at their own probability
                out.counts[at(plan.count_index(c, o, 0))] += static_cast<double>(
                    sample_binomial(rng, n - eligible, s.mean_without[co + at(o)]));
            continue;
        }
        for (int b = 0; b < cohort.batches; ++b) {
            const long long n = out.batch_size[at(cohort.first_batch + b)];
            long long value = 0;
            if (outcome.kind == OutcomeKind::count) {
                value = sample_count_total(rng, n, mean, outcome.dispersion);
            } else {
                long long eligible =
                    outcome.leader >= 0
                        ? static_cast<long long>(
                              out.counts[at(plan.count_index(c, outcome.leader, b))])
                        : n;
                if (outcome.excluded >= 0)
                    eligible -= static_cast<long long>(
                        out.counts[at(plan.count_index(c, outcome.excluded, b))]);
                value = sample_binomial(rng, eligible, mean);
                if (outcome.leader_optional)  // those without the leader
                    value += sample_binomial(rng, n - eligible, s.mean_without[co + at(o)]);
            }
            out.counts[at(plan.count_index(c, o, b))] = static_cast<double>(value);
        }
    }

    // Cohort totals, aggregate rate-card payments, and the comparison group.
    for (size_t o = 0; o < outcomes; ++o) {
        double total = 0;
        for (int b = 0; b < cohort.batches; ++b)
            total += out.counts[at(plan.count_index(c, static_cast<int>(o), b))];
        out.total[co + o] = total;
    }
    if (plan.participant_mode == ParticipantMode::aggregate) add_rate_card_units(plan, c, out);
    for (size_t o = 0; o < outcomes; ++o) {
        const auto& outcome = plan.outcomes[o];
        if (!outcome.compared) continue;
        const double base = out.base[co + o];
        if (plan.comparison_kind == ComparisonKind::historical) {
            out.comparison_total[co + o] = base;
            out.comparison_members[co + o] = 1;
            continue;
        }
        const long long members =
            std::llround(plan.comparison_ratio * static_cast<double>(out.cohort_size[at(c)]));
        Stream rng(plan.seed, trial, cohort.key ^ outcome.key ^ stream_key("comparison"));
        long long total = outcome.kind == OutcomeKind::count
                              ? sample_count_total(rng, members, base, outcome.dispersion)
                              : sample_binomial(rng, members, base);
        out.comparison_total[co + o] = static_cast<double>(total);
        out.comparison_members[co + o] = static_cast<double>(members);
    }
}

}  // namespace

DrawScratch::DrawScratch(const Plan& plan) {
    const size_t C = plan.cohorts.size(), O = plan.outcomes.size();
    uniforms.resize(plan.parameters.size());
    copula_normals.resize(plan.correlated.size());
    values.resize(plan.parameters.size());
    mean.resize(C * O);
    mean_without.resize(C * O);
    pattern_probability.resize(plan.patterns.size());
    individual.resize(plan.pattern_outcomes.size());
    joint_normals.resize(plan.joint_outcomes.size());
    joint_latent.resize(plan.joint_outcomes.size());
    joint_threshold.resize(plan.joint_outcomes.size());
    joint_masks.resize(plan.joint_outcomes.size());
    const size_t np = plan.pattern_outcomes.size();
    lane_masks.resize(np * lanes::group_blocks);
    lane_scratch.resize(lanes::scratch_words(np, static_cast<size_t>(plan.sum_bits)));
    lane_capped.resize(lanes::group_blocks);
    lane_counts.resize(np * lanes::group_blocks);
    lane_uncapped.resize(plan.capped_rate_rules.size() * lanes::group_blocks);
    capped_due.resize(plan.capped_rate_rules.size());
}

Outcomes::Outcomes(const Plan& plan) {
    const size_t C = plan.cohorts.size(), O = plan.outcomes.size();
    const size_t rate_cells = plan.rules.size() * at(plan.horizon);
    cohort_size.resize(C);
    batch_size.resize(at(plan.batches));
    counts.resize(at(plan.batch_counts));
    total.resize(C * O);
    comparison_total.resize(C * O);
    comparison_members.resize(C * O);
    base.resize(C * O);
    observed.assign(C * O, 1);
    rate_card_units.resize(rate_cells);
    rate_card_due.resize(rate_cells);
}

void resolve_means(const Plan& plan, DrawScratch& s, Outcomes& out) {
    resolve_means_impl(plan, s, out);
}

void add_rate_card_units(const Plan& plan, int c, Outcomes& out) {
    const auto& cohort = plan.cohorts[at(c)];
    for (size_t r = 0; r < plan.rules.size(); ++r) {
        const auto& rule = plan.rules[r];
        if (rule.basis != Basis::rate_card) continue;
        const auto& outcome = plan.outcomes[at(rule.outcome)];
        for (int b = 0; b < cohort.batches; ++b) {
            const double count = out.counts[at(plan.count_index(c, rule.outcome, b))];
            if (count > 0)
                out.rate_card_units[r * at(plan.horizon) +
                                    at(outcome.known(cohort.enrol_first + b) + rule.payment_lag)] +=
                    count;
        }
    }
}

namespace {

/// Everything of trial `trial` after its parameter values (in s.values) are known.
void draw_after_parameters(const Plan& plan, std::uint64_t trial, DrawScratch& s, Outcomes& out) {
    for (size_t c = 0; c < plan.cohorts.size(); ++c) {
        const auto& cohort = plan.cohorts[c];
        // Sizes: rounded to whole participants, at least 0 and at most the validated limit.
        double size = std::round(s.values[at(cohort.size_parameter)]);
        long long n = static_cast<long long>(std::clamp(size, 0.0, 1e7));
        out.cohort_size[c] = n;
        const long long k = cohort.batches;
        for (long long b = 0; b < k; ++b)
            out.batch_size[at(cohort.first_batch) + static_cast<size_t>(b)] =
                n / k + (b < n % k ? 1 : 0);
    }
    resolve_means_impl(plan, s, out);
    if (plan.participant_mode == ParticipantMode::aggregate)
        std::fill(out.rate_card_units.begin(), out.rate_card_units.end(), 0.0);
    else
        std::fill(out.rate_card_due.begin(), out.rate_card_due.end(), 0.0);
    for (size_t c = 0; c < plan.cohorts.size(); ++c)
        draw_cohort(plan, trial, static_cast<int>(c), s, out);
}

}  // namespace

void draw(const Plan& plan, std::uint64_t trial, DrawScratch& s, Outcomes& out) {
    draw_parameters(plan, trial, s);
    draw_after_parameters(plan, trial, s, out);
}

void draw_fixing(const Plan& plan, std::uint64_t trial, std::span<const FixedUniform> fixed,
                 DrawScratch& s, Outcomes& out) {
    draw_parameters(plan, trial, s);
    for (const FixedUniform& f : fixed)
        s.values[at(f.parameter)] = quantile(plan.parameters[at(f.parameter)].dist, f.uniform);
    draw_after_parameters(plan, trial, s, out);
}

}  // namespace sib
