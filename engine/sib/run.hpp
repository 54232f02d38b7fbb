#pragma once
// run(plan, options): trials in fixed blocks on threads; per-block accumulators merged in block
// order, per-trial values written to their own slots, so every figure is the same whatever the
// thread count (docs/model.md).
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sib/percentile_window.hpp"
#include "sib/plan.hpp"
#include "sib/stats.hpp"
#include "sib/trial.hpp"

namespace sib {

/// A metric the run watches in block order (docs/model.md, "Running to a precision"): its mean's
/// 95% half-width, 1.96 · se, is checked against `relative` × |mean| after every block; or, with
/// `percentile`, the half-width of a percentile's 95% order-statistic interval against
/// `absolute`.
struct PrecisionTarget {
    std::size_t metric = 0;  ///< index in metric_layout(plan)
    double relative = 0;     ///< wanted half-width over |mean|; 0: watched for convergence only
    /// The percentile watched, as a probability (0.95 for p95), 0 < percentile < 1; 0: the mean.
    double percentile = 0;
    double absolute = 0;  ///< a percentile's wanted half-width, in the metric's unit (≥ 0)

    bool on_percentile() const { return percentile > 0; }
    /// Whether the run stops when this is met (a mean watched for --convergence alone does not).
    bool is_target() const { return on_percentile() || relative > 0; }
};

/// An event whose probability a run counts (run --prob): a metric below or above a value.
struct Threshold {
    enum class Op { less, less_equal, greater, greater_equal };
    std::size_t metric = 0;  ///< index in metric_layout(plan)
    Op op = Op::less;
    double value = 0;  ///< in the metric's own unit (0.05 for 5%)

    bool holds(double x) const {
        switch (op) {
            case Op::less:
                return x < value;
            case Op::less_equal:
                return x <= value;
            case Op::greater:
                return x > value;
            case Op::greater_equal:
                return x >= value;
        }
        return false;
    }
};

struct RunOptions {
    /// Trials to run; with a precision target, the most to run.
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
    /// Metrics watched in block order: their prefix moments are recorded at 1,024 · 2^k trials
    /// (RunResult::convergence) and, when any has a relative target, the run stops after the
    /// first block (from precision_min_trials on) at which every target is met. A stopping run
    /// keeps every value in trial order, so that its outputs are those of a run of exactly the
    /// trials it used.
    std::vector<PrecisionTarget> watch;
    /// run --percentiles: increasing probabilities (0.05 for p5), at most max_percentiles, whose
    /// nearest-rank quantiles go to MetricSummary::percentiles; empty: none beyond the five.
    std::vector<double> percentiles;
    /// Events counted exactly in every trial, block by block (RunResult::threshold_counts).
    std::vector<Threshold> thresholds;
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

/// The stop rule is first checked after this many trials (4 blocks), so that a lucky small
/// prefix cannot stop a run.
inline constexpr long long precision_min_trials = 4 * trials_per_block;

/// The half-width of a 95% confidence interval of a mean, in standard errors: the normal
/// distribution's 97.5% quantile, written "1.96" in the docs (run --precision, solve).
inline constexpr double z95 = 1.959963984540054;

/// Whether a mean with moments `m` is known to within `relative` × |mean| at 95%: 1.96 · se ≤
/// relative × |mean|. A metric that is 0 in every trial meets any target (0 ≤ 0).
inline bool precision_met(const Moments& m, double relative) {
    return z95 * m.se() <= relative * std::abs(m.mean);
}

/// Whether a percentile's 95% interval has half-width at most `absolute` (0 ≤ 0: met when
/// x_(lo) = x_(hi)).
inline bool precision_met(const PercentileInterval& interval, double absolute) {
    return interval.half_width() <= absolute;
}

/// Most values run --percentiles takes (with the summary's five, within RankBrackets' 24).
inline constexpr std::size_t max_percentiles = 16;

/// Trials whose per-period cash flows are kept for the p5/p95 of cashflows.csv.
inline constexpr long long cashflow_sample_trials = 100000;

struct MetricSummary {
    std::string name;
    Moments moments;
    std::array<double, 5> quantiles{};  ///< p5, p25, p50, p75, p95 (nearest rank)
    /// At RunOptions::percentiles, found the same way (empty without them).
    std::vector<double> percentiles;
};

struct CashflowSummary {
    double mean = 0, p5 = 0, p95 = 0;
};

/// The watched metrics' moments over the first `trials` trials.
struct ConvergencePoint {
    long long trials = 0;
    std::vector<Moments> moments;  ///< one per RunOptions::watch
    /// One per RunOptions::watch: a percentile target's interval (all 0 for a mean).
    std::vector<PercentileInterval> intervals;
};

/// Why a run stopped.
enum class StopReason {
    trials,     ///< ran the trials asked for (no precision target)
    precision,  ///< every precision target met
    maximum,    ///< reached the most trials before every target was met
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
    StopReason stop = StopReason::trials;
    /// With RunOptions::watch: the watched metrics at 1,024, 2,048, 4,096, … trials and at the
    /// last trial run (when not a power of two of blocks).
    std::vector<ConvergencePoint> convergence;
    /// Per RunOptions::thresholds: the trials in which the event held.
    std::vector<long long> threshold_counts;
    /// RunOptions::percentiles, copied for the writers (empty: the default p5 … p95 columns).
    std::vector<double> percentiles;
};

RunResult run(const Plan& plan, const RunOptions& options);

/// Bytes a run will hold at its peak: per-trial metric values (when kept) and their quantile
/// copy, the cash-flow sample, per-block accumulators and per-thread scratch. Used to refuse a
/// run that cannot fit before it starts.
double estimated_bytes(const Plan& plan, const RunOptions& options);

/// Whether a run with these options stays within the budget for keeping values (exact
/// quantiles, or every value for trials.csv and the report): at most exact_quantile_trials
/// trials, or an estimated_bytes() within exact_quantile_bytes. The CLI and the Python module
/// both decide by this (docs/model.md, section 10).
bool within_exact_budget(const Plan& plan, const RunOptions& options);

}  // namespace sib
