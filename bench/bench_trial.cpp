// Trials per second on the shipped scenarios, whole trial and its stages.
#include <benchmark/benchmark.h>

#include <string>

#include "sib/finance.hpp"
#include "sib/load.hpp"
#include "sib/plan.hpp"
#include "sib/rng.hpp"
#include "sib/run.hpp"
#include "sib/trial.hpp"

namespace {

/// A shipped scenario by name, or a benchmark scenario with the "bench/" prefix.
sib::Plan plan_of(const std::string& name) {
    const std::string path = name.rfind("bench/", 0) == 0 ? "/bench/scenarios/" + name.substr(6) : "/scenarios/" + name;
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
    for (auto _ : bench) benchmark::DoNotOptimize(sib::sample_count_total(rng, 143, 1.4, 2.5));
    bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(negative_binomial_draw);

void uniform_draw(benchmark::State& bench) {
    sib::Stream rng(1, 0, 0);
    for (auto _ : bench) benchmark::DoNotOptimize(rng.uniform());
    bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(uniform_draw);

}  // namespace

BENCHMARK_MAIN();
