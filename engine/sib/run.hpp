#pragma once
// run(plan, options): trials in fixed blocks on threads; per-block accumulators merged in block
// order, per-trial values written to their own slots, so every figure is the same whatever the
// thread count (docs/model.md).
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sib/plan.hpp"
#include "sib/stats.hpp"
#include "sib/trial.hpp"

namespace sib {

struct RunOptions {
    long long trials = 10000;
    std::uint64_t seed = 1;
    int threads = 1;
    /// Called now and then from worker threads with the number of trials finished; may be empty.
    std::function<void(long long)> progress;
    /// Keep every trial's metric values (for quantiles, trials.csv and paired comparisons). Off,
    /// a run keeps only means and standard errors (sweeps), and quantiles are left at 0.
    bool keep_trial_values = true;
    /// Compute the quantiles of summary.csv: exact from the kept values, or, when values are not
    /// kept, from a QuantileSketch fed in block order (rank error under 0.05%).
    bool quantiles = true;
    /// When set to true by another thread (a signal handler), workers stop before their next
    /// trial and quantile selection before its next series; the result is then `cancelled`.
    const std::atomic<bool>* cancel = nullptr;
};

/// Trials per block: the unit of work of a thread and of merging. Fixed, so that results do not
/// depend on the thread count.
inline constexpr long long trials_per_block = 1024;

/// Up to this many trials the CLI keeps every value, so summary quantiles are exact
/// (docs/model.md).
inline constexpr long long exact_quantile_trials = 2000000;

/// Beyond exact_quantile_trials, values are still kept (exact quantiles) while the run's memory
/// estimate stays within this many bytes (2 GiB); past it the quantile sketch takes over.
inline constexpr double exact_quantile_bytes = 2.0 * 1024 * 1024 * 1024;

/// Trials whose per-period cash flows are kept for the p5/p95 of cashflows.csv.
inline constexpr long long cashflow_sample_trials = 100000;

struct MetricSummary {
    std::string name;
    Moments moments;
    std::array<double, 5> quantiles{};  ///< p5, p25, p50, p75, p95 (nearest rank)
};

struct CashflowSummary {
    double mean = 0, p5 = 0, p95 = 0;
};

struct RunResult {
    long long trials = 0;
    std::uint64_t seed = 1;
    bool cancelled = false;
    std::vector<MetricSummary> metrics;
    std::vector<std::string> parties;
    std::vector<CashflowSummary> cashflows;  ///< [party * horizon + period]
    /// Per-trial metric values, metric-major: values[metric][trial].
    std::vector<TrialValues> values;
};

RunResult run(const Plan& plan, const RunOptions& options);

/// Bytes a run will hold at its peak: per-trial metric values (when kept) and their quantile
/// copy, the cash-flow sample, per-block accumulators and per-thread scratch. Used to refuse a
/// run that cannot fit before it starts.
double estimated_bytes(const Plan& plan, const RunOptions& options);

}  // namespace sib
