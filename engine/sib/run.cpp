#include "sib/run.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <thread>

namespace sib {

namespace {

using std::size_t;

struct BlockAccumulators {
    std::vector<Moments> metrics;
    std::vector<Moments> flows;
};

}  // namespace

RunResult run(const Plan& plan, const RunOptions& options) {
    const MetricLayout metric_names = metric_layout(plan);
    const PartyLayout parties = party_layout(plan);
    const size_t metric_count = metric_names.names.size();
    const size_t flow_count = parties.names.size() * static_cast<size_t>(plan.horizon);
    const long long trials = std::max(0LL, options.trials);
    const long long blocks = (trials + trials_per_block - 1) / trials_per_block;
    const long long sampled = std::min(trials, cashflow_sample_trials);

    RunResult result;
    result.trials = trials;
    result.seed = options.seed;
    result.parties = parties.names;
    const size_t kept = options.keep_trial_values ? static_cast<size_t>(trials) : 0;
    result.values.assign(metric_count, std::vector<double>(kept));
    std::vector<std::vector<double>> flow_samples(flow_count, std::vector<double>(static_cast<size_t>(sampled)));
    std::vector<BlockAccumulators> accumulators(static_cast<size_t>(blocks));

    Plan seeded_plan = plan;
    seeded_plan.seed = options.seed;
    std::atomic<long long> next_block{0};
    std::atomic<long long> finished{0};
    std::atomic<bool> stopped{false};

    auto work = [&] {
        TrialState state(seeded_plan);
        for (;;) {
            if (options.cancel && options.cancel->load()) {
                stopped = true;
                return;
            }
            const long long block = next_block.fetch_add(1);
            if (block >= blocks) return;
            auto& acc = accumulators[static_cast<size_t>(block)];
            acc.metrics.assign(metric_count, Moments{});
            acc.flows.assign(flow_count, Moments{});
            const long long first = block * trials_per_block;
            const long long last = std::min(trials, first + trials_per_block);
            for (long long trial = first; trial < last; ++trial) {
                simulate_trial(seeded_plan, metric_names, parties, static_cast<std::uint64_t>(trial), state);
                const auto t = static_cast<size_t>(trial);
                for (size_t m = 0; m < metric_count; ++m) {
                    acc.metrics[m].add(state.metrics[m]);
                    if (kept) result.values[m][t] = state.metrics[m];
                }
                for (size_t f = 0; f < flow_count; ++f) {
                    acc.flows[f].add(state.flows[f]);
                    if (trial < sampled) flow_samples[f][t] = state.flows[f];
                }
            }
            const long long done = finished.fetch_add(last - first) + (last - first);
            if (options.progress) options.progress(done);
        }
    };
    const int threads = std::max(1, std::min<int>(options.threads, static_cast<int>(std::max(1LL, blocks))));
    {
        std::vector<std::jthread> pool;
        for (int i = 1; i < threads; ++i) pool.emplace_back(work);
        work();
    }
    result.cancelled = stopped.load();
    if (result.cancelled) return result;

    // Merge in block order: the same sums whatever thread ran which block.
    std::vector<Moments> metric_moments(metric_count), flow_moments(flow_count);
    for (const auto& acc : accumulators) {
        for (size_t m = 0; m < metric_count; ++m) metric_moments[m].merge(acc.metrics[m]);
        for (size_t f = 0; f < flow_count; ++f) flow_moments[f].merge(acc.flows[f]);
    }
    for (size_t m = 0; m < metric_count; ++m) {
        MetricSummary summary;
        summary.name = metric_names.names[m];
        summary.moments = metric_moments[m];
        if (kept) {
            Quantiles q;
            q.values = result.values[m];
            summary.quantiles = q.quantiles();
        }
        result.metrics.push_back(std::move(summary));
    }
    result.cashflows.resize(flow_count);
    for (size_t f = 0; f < flow_count; ++f) {
        Quantiles q;
        q.values = std::move(flow_samples[f]);
        result.cashflows[f] = {flow_moments[f].mean, q.quantile(0.05), q.quantile(0.95)};
    }
    return result;
}

double estimated_bytes(const Plan& plan, const RunOptions& options) {
    const double metrics = static_cast<double>(metric_layout(plan).names.size());
    const double flows = static_cast<double>(party_layout(plan).names.size()) * plan.horizon;
    const double trials = static_cast<double>(std::max(0LL, options.trials));
    const double blocks = std::ceil(trials / static_cast<double>(trials_per_block));
    const double kept = options.keep_trial_values ? trials : 0.0;
    const double sampled = std::min(trials, static_cast<double>(cashflow_sample_trials));
    return 8.0 * metrics * kept                        // per-trial values
           + 8.0 * (kept > 0 ? trials : 0.0)           // one metric's copy while taking quantiles
           + 8.0 * flows * sampled                     // cash-flow sample
           + sizeof(Moments) * (metrics + flows) * blocks  // block accumulators
           + 1e6 * std::max(1, options.threads);       // scratch per thread (generous)
}

}  // namespace sib
