#pragma once
// run(plan, options): trials in fixed blocks on threads; per-block accumulators merged in block
// order, per-trial values written to their own slots, so every figure is the same whatever the
// thread count (docs/model.md).
#include <algorithm>
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
    /// Keep every trial's metric values in trial order, in RunResult::values (for trials.csv and
    /// paired comparisons).
    bool keep_trial_values = true;
    /// Compute the quantiles of summary.csv (off: left at 0, as sweeps do).
    bool quantiles = true;
    /// Without values kept in trial order: exact quantiles, from brackets a pilot of the first
    /// trials places (beyond bracket_min_trials; docs/model.md), or, when false, from a
    /// QuantileSketch fed in block order (rank error under 0.05%).
    bool exact_quantiles = true;
    /// Scales the pilot's bracket half-widths: 1. Tests pass 0, so that brackets miss and the
    /// run takes its second look.
    double bracket_width_scale = 1.0;
    /// Keep the sampled trials' cash flows in RunResult::cashflow_sample (for the HTML report's
    /// fan chart of cumulative flows). Off, the sample is freed once p5/p95 are selected.
    bool keep_cashflow_sample = false;
    /// When set to true by another thread (a signal handler), workers stop before their next
    /// trial and quantile selection before its next series; the result is then `cancelled`.
    const std::atomic<bool>* cancel = nullptr;
    /// Under mpirun: deal the blocks to the processes (distributed.hpp), every one of which calls
    /// run() alike; process 0 merges them in block order and alone gets the result (the others
    /// get one with no metrics). Off, or with one process: this process runs every block.
    bool spread = false;
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

/// From this many trials, exact quantiles without trials.csv come from a pilot's brackets
/// (RankBrackets) instead of every value kept: four times the smallest pilot.
inline constexpr long long bracket_min_trials = 65536;

/// The pilot of bracketed quantiles: 1/64 of the trials, at least 16,384 and at most 2^20, in
/// whole blocks. A larger pilot places narrower brackets: the values kept near the five summary
/// ranks are about 15% of all at 16,384, shrinking as 1/sqrt(pilot).
inline long long pilot_trials(long long trials) {
    const long long wanted = std::clamp(trials / 64, 16384LL, 1LL << 20);
    return std::min(trials, (wanted + trials_per_block - 1) / trials_per_block * trials_per_block);
}

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
    /// Per-trial metric values, metric-major: values[metric][trial]; empty (size 0) unless
    /// kept (RunOptions::keep_trial_values, or exact quantiles under bracket_min_trials).
    std::vector<TrialValues> values;
    /// Metrics whose bracketed quantiles needed the second look (normally 0).
    long long second_look = 0;
    /// With RunOptions::keep_cashflow_sample: the first `sampled_trials` trials' cash flows,
    /// flow-major: cashflow_sample[(party * horizon + period) * sampled_trials + trial].
    BulkDoubles cashflow_sample;
    long long sampled_trials = 0;
};

RunResult run(const Plan& plan, const RunOptions& options);

/// Bytes a run will hold at its peak: per-trial metric values (when kept) and their quantile
/// copy, the cash-flow sample, per-block accumulators and per-thread scratch. Used to refuse a
/// run that cannot fit before it starts.
double estimated_bytes(const Plan& plan, const RunOptions& options);

}  // namespace sib
