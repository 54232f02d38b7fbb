// Trials per second on the shipped scenarios, whole trial and its stages.
#include <benchmark/benchmark.h>

#include <string>

#include "sib/distributions.hpp"
#include "sib/finance.hpp"
#include "sib/lanes.hpp"
#include "sib/load.hpp"
#include "sib/plan.hpp"
#include "sib/rng.hpp"
#include "sib/run.hpp"
#include "sib/trial.hpp"

namespace {

/// A shipped scenario by name, or a benchmark scenario with the "bench/" prefix.
sib::Plan plan_of(const std::string& name) {
    const std::string path =
        name.rfind("bench/", 0) == 0 ? "/bench/scenarios/" + name.substr(6) : "/scenarios/" + name;
    return sib::compile(sib::load_scenario_file(std::string(SIBSIM_SOURCE_DIR) + path + ".yaml"));
}

void whole_trial(benchmark::State& bench, const std::string& scenario) {
    const sib::Plan plan = plan_of(scenario);
    const auto metrics = sib::metric_layout(plan);
    const auto parties = sib::party_layout(plan);
    sib::TrialState state(plan);
    std::uint64_t trial = 0;
    for (auto _ : bench) {
        sib::simulate_trial(plan, metrics, parties, trial++, state);
        benchmark::DoNotOptimize(state.metrics.data());
    }
    bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK_CAPTURE(whole_trial, peterborough, std::string("peterborough"));
BENCHMARK_CAPTURE(whole_trial, dwp_innovation_fund, std::string("dwp-innovation-fund"));
BENCHMARK_CAPTURE(whole_trial, augsburg, std::string("augsburg"));
BENCHMARK_CAPTURE(whole_trial, rikers, std::string("rikers"));
BENCHMARK_CAPTURE(whole_trial, rate_card_2000, std::string("bench/rate-card-2000"));
BENCHMARK_CAPTURE(whole_trial, fair_chance_fund, std::string("fair-chance-fund"));
BENCHMARK_CAPTURE(whole_trial, reoffending_3_cohorts, std::string("bench/reoffending-3-cohorts"));

/// The draws of a trial: parameters (and copula), cohort sizes, outcomes, comparison groups.
void draw_stage(benchmark::State& bench, const std::string& scenario) {
    const sib::Plan plan = plan_of(scenario);
    sib::TrialState state(plan);
    std::uint64_t trial = 0;
    for (auto _ : bench) {
        sib::draw(plan, trial++, state.draws, state.outcomes);
        benchmark::DoNotOptimize(state.outcomes.counts.data());
    }
    bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK_CAPTURE(draw_stage, peterborough, std::string("peterborough"));
BENCHMARK_CAPTURE(draw_stage, rate_card_2000, std::string("bench/rate-card-2000"));
BENCHMARK_CAPTURE(draw_stage, reoffending_3_cohorts, std::string("bench/reoffending-3-cohorts"));

/// The draw stage with one kernel of the bit-sliced draws' bookkeeping (sib/lanes.hpp), whatever
/// the machine would choose: the portable kernel, or AVX2 (skipped on a machine without it).
void draw_stage_kernel(benchmark::State& bench, const std::string& scenario,
                       sib::lanes::Kernel kernel) {
    const sib::lanes::Kernel saved = sib::lanes::kernel();
    if (!sib::lanes::use_kernel(kernel)) {
        bench.SkipWithError("this machine has no AVX2");
        return;
    }
    draw_stage(bench, scenario);
    sib::lanes::use_kernel(saved);
}
BENCHMARK_CAPTURE(draw_stage_kernel, rate_card_2000_portable, std::string("bench/rate-card-2000"),
                  sib::lanes::Kernel::portable);
BENCHMARK_CAPTURE(draw_stage_kernel, rate_card_2000_avx2, std::string("bench/rate-card-2000"),
                  sib::lanes::Kernel::avx2);

/// The stage after the draws: rules, caps, payers and waterfall period by period (settle), then
/// savings, IRR and metrics (fill_metrics), on the outcomes of trials 0 to 63 in turn: a mix of
/// trials that pay (and need Newton's IRR) and trials that do not, as a run meets them. (Settling
/// trial 0 alone, as this benchmark once did, measures whichever kind trial 0 happens to be.)
void settlement_stage(benchmark::State& bench, const std::string& scenario) {
    const sib::Plan plan = plan_of(scenario);
    const auto metrics = sib::metric_layout(plan);
    const auto parties = sib::party_layout(plan);
    sib::TrialState state(plan);
    std::vector<sib::Outcomes> drawn;
    for (std::uint64_t trial = 0; trial < 64; ++trial) {
        sib::draw(plan, trial, state.draws, state.outcomes);
        drawn.push_back(state.outcomes);
    }
    std::size_t next = 0;
    for (auto _ : bench) {
        const sib::Outcomes& outcomes = drawn[next++ % drawn.size()];
        sib::settle(plan, outcomes, state.settlement);
        sib::fill_metrics(plan, metrics, parties, outcomes, state.settlement,
                          sib::NotAssessed::zero, state.metrics, state.flows);
        benchmark::DoNotOptimize(state.metrics.data());
    }
    bench.SetItemsProcessed(bench.iterations());
}

/// The same stage on trial 0's outcomes only (the floor's settlement term before it was measured
/// on a mix of trials; bench/README.md).
void settlement_stage_trial_0(benchmark::State& bench, const std::string& scenario) {
    const sib::Plan plan = plan_of(scenario);
    const auto metrics = sib::metric_layout(plan);
    const auto parties = sib::party_layout(plan);
    sib::TrialState state(plan);
    sib::simulate_trial(plan, metrics, parties, 0, state);
    for (auto _ : bench) {
        sib::settle(plan, state.outcomes, state.settlement);
        sib::fill_metrics(plan, metrics, parties, state.outcomes, state.settlement,
                          sib::NotAssessed::zero, state.metrics, state.flows);
        benchmark::DoNotOptimize(state.metrics.data());
    }
    bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK_CAPTURE(settlement_stage_trial_0, reoffending_3_cohorts,
                  std::string("bench/reoffending-3-cohorts"));
BENCHMARK_CAPTURE(settlement_stage, peterborough, std::string("peterborough"));
BENCHMARK_CAPTURE(settlement_stage, rate_card_2000, std::string("bench/rate-card-2000"));
BENCHMARK_CAPTURE(settlement_stage, reoffending_3_cohorts,
                  std::string("bench/reoffending-3-cohorts"));

void beta_quantile(benchmark::State& bench) {
    const sib::Distribution beta = sib::Beta{0.3, 0.08};
    double u = 0.001;
    for (auto _ : bench) {
        benchmark::DoNotOptimize(sib::quantile(beta, u));
        u = u > 0.998 ? 0.001 : u + 0.001;
    }
    bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(beta_quantile);

void normal_quantile(benchmark::State& bench) {
    const sib::Distribution normal = sib::Normal{-0.09, 0.04, std::nullopt, std::nullopt};
    double u = 0.001;
    for (auto _ : bench) {
        benchmark::DoNotOptimize(sib::quantile(normal, u));
        u = u > 0.998 ? 0.001 : u + 0.001;
    }
    bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(normal_quantile);

void bernoulli_64_lanes(benchmark::State& bench) {
    sib::Stream rng(1, 0, 0);
    for (auto _ : bench) benchmark::DoNotOptimize(sib::bernoulli_lanes(rng, 0.3));
    bench.SetItemsProcessed(bench.iterations() * 64);
}
BENCHMARK(bernoulli_64_lanes);

/// The same draws (the same words, the same lanes) by the draw path's fixed-point version.
void bernoulli_64_lanes_fixed(benchmark::State& bench) {
    sib::Stream rng(1, 0, 0);
    for (auto _ : bench) benchmark::DoNotOptimize(sib::lanes::bernoulli(rng, 0.3, ~0ULL));
    bench.SetItemsProcessed(bench.iterations() * 64);
}
BENCHMARK(bernoulli_64_lanes_fixed);

void poisson_draw(benchmark::State& bench) {
    sib::Stream rng(1, 0, 0);
    for (auto _ : bench) benchmark::DoNotOptimize(sib::sample_count_total(rng, 1000, 1.4, 1.0));
    bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(poisson_draw);

void binomial_draw(benchmark::State& bench) {
    sib::Stream rng(1, 0, 0);
    for (auto _ : bench) benchmark::DoNotOptimize(sib::sample_binomial(rng, 1000, 0.3));
    bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(binomial_draw);

void stream_seeding(benchmark::State& bench) {
    std::uint64_t trial = 0;
    for (auto _ : bench) {
        sib::Stream rng(1, trial++, 12345);
        benchmark::DoNotOptimize(rng());
    }
    bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(stream_seeding);

void run_with_accumulation(benchmark::State& bench) {
    const sib::Plan plan = plan_of("peterborough");
    sib::RunOptions options;
    options.trials = 20000;
    options.threads = 1;
    for (auto _ : bench) {
        auto result = sib::run(plan, options);
        benchmark::DoNotOptimize(result.metrics.data());
    }
    bench.SetItemsProcessed(bench.iterations() * options.trials);
}
BENCHMARK(run_with_accumulation)->Unit(benchmark::kMillisecond);

void irr_40_quarters(benchmark::State& bench) {
    std::vector<double> flows(40, 0.0);
    for (int t = 0; t < 12; ++t) flows[static_cast<std::size_t>(t)] = -400000;
    flows[27] = 5200000;
    for (auto _ : bench) benchmark::DoNotOptimize(sib::irr_annual(flows, 4));
    bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(irr_40_quarters);

void negative_binomial_draw(benchmark::State& bench) {
    sib::Stream rng(1, 0, 0);
    for (auto _ : bench) benchmark::DoNotOptimize(sib::sample_count_total(rng, 1000, 1.4, 2.5));
    bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(negative_binomial_draw);

/// A negative binomial total (gamma-Poisson, the engine's sampler) over `range(0)` members at
/// 1.38 events each, dispersion 2.5: a quarterly batch of 100 releases of the three-cohort
/// reoffending bond, and a cohort's matched comparison group of 8,000.
void negative_binomial_members(benchmark::State& bench) {
    sib::Stream rng(1, 0, 0);
    const long long members = bench.range(0);
    for (auto _ : bench) benchmark::DoNotOptimize(sib::sample_count_total(rng, members, 1.38, 2.5));
    bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(negative_binomial_members)->Arg(100)->Arg(8000);

void uniform_draw(benchmark::State& bench) {
    sib::Stream rng(1, 0, 0);
    for (auto _ : bench) benchmark::DoNotOptimize(rng.uniform());
    bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(uniform_draw);

}  // namespace

BENCHMARK_MAIN();
