// Statistical checks of the simulation against closed forms, within 4 standard errors taken from
// the run itself, and the reproducibility promise (byte-identical output for any thread count).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/poisson.hpp>

#include "helpers.hpp"
#include "sib/reports.hpp"
#include "sib/run.hpp"

using namespace sib;
using namespace sib::test;

namespace {

RunResult run_yaml(const std::string& yaml, long long trials, int threads = 2) {
    const Plan plan = compile(scenario_of(yaml));
    RunOptions options;
    options.trials = trials;
    options.seed = plan.seed;
    options.threads = threads;
    return run(plan, options);
}

const MetricSummary& metric(const RunResult& r, const std::string& name) {
    for (const auto& m : r.metrics)
        if (m.name == name) return m;
    FAIL("no metric " << name);
    return r.metrics.front();
}

const TrialValues& values(const RunResult& r, const std::string& name) {
    for (std::size_t i = 0; i < r.metrics.size(); ++i)
        if (r.metrics[i].name == name) return r.values[i];
    FAIL("no metric " << name);
    return r.values.front();
}

}  // namespace

TEST_CASE("probability a per-cohort threshold is met matches the normal approximation") {
    // Poisson counts, baseline 1.0, effect -10% (mean 0.9), n = 4000, matched comparison of 20000.
    // Met when 0.92·c − t ≥ 0: mean 0.02, variance 0.92²·1.0/20000 + 0.9/4000.
    const std::string yaml = R"(
sibsim: 1
name: trigger
horizon: 6
cohorts: [{name: c, size: 4000, enrol: [0, 0]}]
outcomes: [{name: events, kind: count, better: lower, baseline: 1.0, effect: -0.1, observed_after: 1}]
comparison: {kind: matched, ratio: 5}
payments: [{name: trigger, basis: versus_comparison, outcome: events, per: cohort, threshold: 0.08, amount: 1}]
payers: [{name: p, share: 1}]
)";
    const auto result = run_yaml(yaml, 20000);
    const double sd = std::sqrt(0.92 * 0.92 * 1.0 / 20000 + 0.9 / 4000);
    const double expected = boost::math::cdf(boost::math::normal_distribution<double>(), 0.02 / sd);
    const auto& met = metric(result, "rule.trigger.c.met");
    INFO("simulated " << met.moments.mean << " ± " << met.moments.se() << ", closed form "
                      << expected);
    CHECK(std::abs(met.moments.mean - expected) < 4 * met.moments.se());
}

TEST_CASE("mean of a capped rate card equals the enumeration of participants' patterns") {
    // a (p 0.6), b after a (p 0.5 given a), c independent (p 0.3); prices 1000, 2000, 700; paid
    // in order a (period 1), c (period 1, after a in file order), b (period 2); cap 2500.
    const std::string yaml = R"(
sibsim: 1
name: capped
horizon: 8
cohorts: [{name: c, size: 100, enrol: [0, 1]}]
outcomes:
  - {name: a, kind: binary, rate: 0.6, observed_after: 1}
  - {name: b, kind: binary, rate: 0.5, after: a, observed_after: 2}
  - {name: c, kind: binary, rate: 0.3, observed_after: 1}
payments:
  - {name: pay-a, basis: rate_card, outcome: a, price: 1000}
  - {name: pay-b, basis: rate_card, outcome: b, price: 2000}
  - {name: pay-c, basis: rate_card, outcome: c, price: 700}
caps: {per_participant: 2500}
payers: [{name: p, share: 1}]
)";
    double expected = 0;
    for (int a = 0; a < 2; ++a)
        for (int b = 0; b <= a; ++b)
            for (int c = 0; c < 2; ++c) {
                const double p = (a ? 0.6 : 0.4) * (a ? (b ? 0.5 : 0.5) : 1.0) * (c ? 0.3 : 0.7);
                double paid = 0;
                for (double price : {a * 1000.0, c * 700.0, b * 2000.0})
                    paid += std::min(price, 2500 - paid);
                expected += p * paid;
            }
    expected *= 100;  // participants
    CHECK(expected == doctest::Approx(119700));
    CHECK(compile(scenario_of(yaml)).participant_mode == ParticipantMode::patterns);
    const auto result = run_yaml(yaml, 20000);
    const auto& total = metric(result, "payments.total");
    INFO("simulated " << total.moments.mean << " ± " << total.moments.se() << ", enumerated "
                      << expected);
    CHECK(std::abs(total.moments.mean - expected) < 4 * total.moments.se());
    // The cap binds on individuals: no trial can pay more than 2500 per participant.
    CHECK(total.moments.max <= 2500 * 100);
}

TEST_CASE(
    "a per-participant cap over a count outcome is drawn participant by participant, exactly") {
    // a binary (p 0.6, 1000, period 1), d count Poisson(0.5) at 400 per event (period 2); cap 1500.
    const std::string yaml = R"(
sibsim: 1
name: capped-count
horizon: 8
cohorts: [{name: c, size: 50, enrol: [0, 0]}]
outcomes:
  - {name: a, kind: binary, rate: 0.6, observed_after: 1}
  - {name: d, kind: count, rate: 0.5, observed_after: 2}
payments:
  - {name: pay-a, basis: rate_card, outcome: a, price: 1000}
  - {name: pay-d, basis: rate_card, outcome: d, price: 400}
caps: {per_participant: 1500}
payers: [{name: p, share: 1}]
)";
    CHECK(compile(scenario_of(yaml)).participant_mode == ParticipantMode::individuals);
    boost::math::poisson_distribution<double> poisson(0.5);
    double expected = 0;
    for (int k = 0; k < 60; ++k) {
        const double pk = boost::math::pdf(poisson, k);
        expected +=
            pk * (0.6 * (1000 + std::min(400.0 * k, 500.0)) + 0.4 * std::min(400.0 * k, 1500.0));
    }
    expected *= 50;
    const auto result = run_yaml(yaml, 20000);
    const auto& total = metric(result, "payments.total");
    INFO("simulated " << total.moments.mean << " ± " << total.moments.se() << ", closed form "
                      << expected);
    CHECK(std::abs(total.moments.mean - expected) < 4 * total.moments.se());
}

TEST_CASE("count totals: Poisson and negative binomial mean and variance") {
    for (double dispersion : {1.0, 2.5}) {
        CAPTURE(dispersion);
        // 200 participants, mean 1.5 each (no baseline: every event counts as caused), spread
        // over 4 enrolment batches.
        const std::string yaml = R"(
sibsim: 1
name: counts
horizon: 8
cohorts: [{name: c, size: 200, enrol: [0, 3]}]
outcomes: [{name: events, kind: count, rate: 1.5, dispersion: )" +
                                 std::to_string(dispersion) + R"(, observed_after: 1}]
payments: [{name: pay, basis: rate_card, outcome: events, price: 1}]
payers: [{name: p, share: 1}]
)";
        const auto result = run_yaml(yaml, 20000);
        const auto& caused = metric(result, "outcome.events.caused");
        const double mean = 300, variance = 300 * dispersion;
        CHECK(std::abs(caused.moments.mean - mean) < 4 * caused.moments.se());
        // Standard error of the sample variance from the run's own fourth central moment.
        const auto& x = values(result, "outcome.events.caused");
        double m4 = 0;
        for (double v : x) m4 += std::pow(v - caused.moments.mean, 4);
        m4 /= static_cast<double>(x.size());
        const double s2 = caused.moments.variance();
        const double se_s2 = std::sqrt((m4 - s2 * s2) / static_cast<double>(x.size()));
        INFO("variance " << s2 << " ± " << se_s2 << ", expected " << variance);
        CHECK(std::abs(s2 - variance) < 4 * se_s2);
        // The rate card pays 1 per event: payments equal the events.
        CHECK(metric(result, "payments.pay").moments.mean == doctest::Approx(caused.moments.mean));
    }
}

TEST_CASE("correlated draws have the Gaussian copula's rank correlation") {
    // Spearman's rho of a Gaussian copula with correlation r is (6/π)·asin(r/2).
    const std::string yaml = R"(
sibsim: 1
name: copula
horizon: 4
cohorts:
  - {name: a, size: {dist: uniform, min: 100, max: 200}, enrol: [0, 0]}
  - {name: b, size: {dist: lognormal, mean: 100, sd: 30}, enrol: [0, 0]}
outcomes: [{name: o, kind: binary, rate: 0.5, observed_after: 1}]
payments: [{name: pay, basis: rate_card, outcome: o, price: 1}]
payers: [{name: p, share: 1}]
correlations:
  - [cohorts.a.size, cohorts.b.size, 0.6]
)";
    const Plan plan = compile(scenario_of(yaml));
    const MetricLayout layout = metric_layout(plan);
    const PartyLayout parties = party_layout(plan);
    TrialState state(plan);
    const int batches = 20, per_batch = 1000;
    auto ranks = [](const std::vector<double>& v) {
        std::vector<std::size_t> order(v.size());
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(),
                  [&](std::size_t i, std::size_t j) { return v[i] < v[j]; });
        std::vector<double> r(v.size());
        for (std::size_t k = 0; k < order.size(); ++k) r[order[k]] = static_cast<double>(k);
        return r;
    };
    std::vector<double> rhos;
    std::uint64_t trial = 0;
    for (int b = 0; b < batches; ++b) {
        std::vector<double> x, y;
        for (int i = 0; i < per_batch; ++i) {
            simulate_trial(plan, layout, parties, trial++, state);
            x.push_back(state.draws.values[0]);
            y.push_back(state.draws.values[1]);
        }
        const auto rx = ranks(x), ry = ranks(y);
        const double mean = (per_batch - 1) / 2.0;
        double sxy = 0, sxx = 0;
        for (int i = 0; i < per_batch; ++i) {
            sxy +=
                (rx[static_cast<std::size_t>(i)] - mean) * (ry[static_cast<std::size_t>(i)] - mean);
            sxx +=
                (rx[static_cast<std::size_t>(i)] - mean) * (rx[static_cast<std::size_t>(i)] - mean);
        }
        rhos.push_back(sxy / sxx);
    }
    Moments m;
    for (double r : rhos) m.add(r);
    const double expected = 6 / M_PI * std::asin(0.3);
    INFO("Spearman " << m.mean << " ± " << m.se() << ", expected " << expected);
    CHECK(std::abs(m.mean - expected) < 4 * m.se());
    // Uncorrelated parameters stay uncorrelated: draws follow the names, not positions.
    CHECK(m.se() > 0);
}

TEST_CASE("output files are byte-identical for 1 and 2 threads") {
    for (const char* name : {"peterborough", "dwp-innovation-fund", "rikers"}) {
        CAPTURE(name);
        const Plan plan = compile(
            load_scenario_file(std::string(SIBSIM_SOURCE_DIR) + "/scenarios/" + name + ".yaml"));
        auto outputs = [&](int threads) {
            RunOptions options;
            options.trials = 3 * trials_per_block + 17;  // several blocks, a ragged last one
            options.seed = 7;
            options.threads = threads;
            const RunResult result = run(plan, options);
            std::ostringstream out;
            write_summary(out, result);
            write_cashflows(out, plan, result);
            write_trials(out, result);
            return out.str();
        };
        const std::string one = outputs(1);
        CHECK(one == outputs(2));
        CHECK(one.size() > 1000);
    }
}

TEST_CASE("cashflows.csv p5 and p95 are the nearest ranks over every sampled trial's flow") {
    // The run stores a flow's values only in blocks where they are not all equal and fills in
    // the others before selecting; here every trial is simulated on its own and each flow's
    // quantiles taken by sorting. Blocks where a flow is constant and blocks where it varies
    // must both occur (counted below), so that both paths are checked.
    long long mixed_flows = 0;  // flows constant (not 0) in some blocks and not in others
    // Peterborough with thresholds so high that a payment, which changes the investors' flow
    // while costs are still drawn, comes in about one trial in a thousand: three of its flows are
    // then constant (at -200,000) in 6 of the 9 blocks and vary in the others.
    const std::vector<Override> rare = {{"payments.cohort-trigger.threshold", "0.27"},
                                        {"payments.final-pooled.threshold", "0.9"}};
    for (const char* name : {"peterborough", "rikers", "essex", "newpin", "peterborough-rare"}) {
        CAPTURE(name);
        const bool rare_payments = std::string(name) == "peterborough-rare";
        const Plan plan = compile(load_scenario_file(
            std::string(SIBSIM_SOURCE_DIR) + "/scenarios/" +
                (rare_payments ? std::string("peterborough") : std::string(name)) + ".yaml",
            rare_payments ? rare : std::vector<Override>{}));
        RunOptions options;
        options.trials = 8 * trials_per_block + 17;  // several blocks, a ragged last one
        options.seed = 5;
        options.threads = 2;
        const RunResult result = run(plan, options);
        const MetricLayout layout = metric_layout(plan);
        const PartyLayout parties = party_layout(plan);
        Plan seeded = plan;
        seeded.seed = options.seed;
        TrialState state(seeded);
        const auto trials = static_cast<std::size_t>(options.trials);
        const std::size_t flow_count =
            parties.names.size() * static_cast<std::size_t>(plan.horizon);
        std::vector<std::vector<double>> flows(flow_count, std::vector<double>(trials));
        for (std::size_t t = 0; t < trials; ++t) {
            simulate_trial(seeded, layout, parties, t, state);
            for (std::size_t f = 0; f < flow_count; ++f) flows[f][t] = state.flows[f];
        }
        REQUIRE(result.cashflows.size() == flow_count);
        for (std::size_t f = 0; f < flow_count; ++f) {
            CAPTURE(f);
            std::vector<char> block_constant;
            for (std::size_t from = 0; from < trials;
                 from += static_cast<std::size_t>(trials_per_block)) {
                const std::size_t to =
                    std::min(trials, from + static_cast<std::size_t>(trials_per_block));
                block_constant.push_back(std::all_of(flows[f].begin() + static_cast<long>(from),
                                                     flows[f].begin() + static_cast<long>(to),
                                                     [&](double x) { return x == flows[f][0]; }));
            }
            const auto constant_blocks =
                std::count(block_constant.begin(), block_constant.end(), 1);
            // Mixed, and constant at a value a fresh (zero) page would not give by chance.
            if (constant_blocks > 0 && constant_blocks < static_cast<long>(block_constant.size()) &&
                flows[f][0] != 0)
                ++mixed_flows;
            std::vector<double> sorted = flows[f];
            std::sort(sorted.begin(), sorted.end());
            CHECK(result.cashflows[f].p5 == sorted[nearest_rank(0.05, trials) - 1]);
            CHECK(result.cashflows[f].p95 == sorted[nearest_rank(0.95, trials) - 1]);
        }
    }
    CHECK(mixed_flows > 0);
}

TEST_CASE(
    "bracketed exact quantiles: the values every-value-kept gives, for any thread count, "
    "and after a second look when the pilot's brackets miss") {
    // 70,000 trials: beyond bracket_min_trials, so a run without trials.csv keeps no values but
    // a pilot of 16,384 trials and the values its brackets hold.
    for (const std::string name : {"peterborough", "rikers"}) {
        CAPTURE(name);
        const Plan plan = compile(
            load_scenario_file(std::string(SIBSIM_SOURCE_DIR) + "/scenarios/" + name + ".yaml"));
        auto run_with = [&](bool keep, int threads, double width) {
            RunOptions options;
            options.trials = 70000;
            options.seed = 3;
            options.threads = threads;
            options.keep_trial_values = keep;
            options.bracket_width_scale = width;
            return run(plan, options);
        };
        const RunResult kept = run_with(true, 2, 1.0);
        REQUIRE(kept.values.size() == kept.metrics.size());
        CHECK(kept.values.front().size() == 70000);
        int selected = 0;  // metrics whose quantiles needed selecting (not all 0/1 or equal)
        for (const auto& m : kept.metrics) selected += m.moments.min != m.moments.max;
        CHECK(selected > 5);
        for (const auto& [threads, width] : {std::pair{1, 1.0}, {3, 1.0}, {2, 0.0}}) {
            const int thread_count = threads;
            const double width_scale = width;
            CAPTURE(thread_count);
            CAPTURE(width_scale);
            const RunResult bracketed = run_with(false, thread_count, width_scale);
            CHECK(bracketed.values.front().empty());
            // Zero-width brackets miss every rank that is not on a tie.
            if (width_scale == 0.0) CHECK(bracketed.second_look > 0);
            if (width_scale == 1.0) CHECK(bracketed.second_look == 0);
            REQUIRE(bracketed.metrics.size() == kept.metrics.size());
            for (std::size_t m = 0; m < kept.metrics.size(); ++m) {
                CAPTURE(kept.metrics[m].name);
                CHECK(bracketed.metrics[m].quantiles == kept.metrics[m].quantiles);
                CHECK(bracketed.metrics[m].moments.mean == kept.metrics[m].moments.mean);
                CHECK(bracketed.metrics[m].moments.m2 == kept.metrics[m].moments.m2);
            }
            for (std::size_t f = 0; f < kept.cashflows.size(); ++f) {
                CHECK(bracketed.cashflows[f].mean == kept.cashflows[f].mean);
                CHECK(bracketed.cashflows[f].p5 == kept.cashflows[f].p5);
                CHECK(bracketed.cashflows[f].p95 == kept.cashflows[f].p95);
            }
        }
    }
}
