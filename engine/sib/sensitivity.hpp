#pragma once
// sensitivity (docs/outputs.md, docs/model.md section "Sensitivity analysis"): which uncertain
// input moves a result most. Tornado and spider: each input held at a percentile while the rest
// stays uncertain, on common random numbers. Sobol: first-order and total indices by Saltelli
// (2010) and Jansen on a Sobol' design in SALib's row order. Every evaluation is one trial whose
// chosen inputs take given uniforms (draw_fixing) and whose other draws are that trial's own.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "sib/plan.hpp"
#include "sib/stats.hpp"
#include "sib/table.hpp"
#include "sib/trial.hpp"

namespace sib {

/// Every uncertain input of the plan: the parameters whose distribution is not a fixed value,
/// in plan order.
std::vector<int> uncertain_parameters(const Plan& plan);

/// The parameters named by `names` (`--set` paths), in the order given. An unknown or fixed
/// name, or one given twice, is an InputError located at "--inputs" (all at once, with the
/// closest uncertain input's name).
std::vector<int> choose_inputs(const Plan& plan, const std::vector<std::string>& names);

struct SensitivityOptions {
    long long trials = 10000;  ///< tornado: trials per run; sobol: the base sample N
    std::uint64_t seed = 1;
    int threads = 1;
    /// Called now and then from worker threads with the number of evaluations finished.
    std::function<void(long long)> progress;
    /// Set by another thread (a signal handler): workers stop; the result is then `cancelled`.
    const std::atomic<bool>* cancel = nullptr;
};

/// Evaluations per unit of work of a thread: fixed, so results do not depend on the thread count.
inline constexpr long long evaluations_per_chunk = 1024;

/// The percentiles of the spider table; the tornado uses the first and the last.
inline constexpr std::array<double, 5> spider_levels = {0.10, 0.25, 0.50, 0.75, 0.90};

/// Each input at each spider level: the level's value, and the chosen metrics' moments over the
/// trials with that input held there.
struct SpiderResult {
    std::vector<int> inputs;       ///< parameter indices
    std::vector<int> metrics;      ///< MetricLayout indices
    std::vector<double> value;     ///< [input * 5 + level]: the input's quantile at the level
    std::vector<Moments> moments;  ///< [(input * 5 + level) * metrics + metric]
    bool cancelled = false;
};

/// Runs trials 0..options.trials-1 once per (input, level), each input held at the level's
/// quantile: every run uses the same trials' streams (common random numbers). Under mpirun the
/// blocks of evaluations_per_chunk trials of every run are dealt to the processes and only
/// process 0's result is whole (docs/distributed.md).
SpiderResult spider(const Plan& plan, const std::vector<int>& inputs,
                    const std::vector<int>& metrics, const SensitivityOptions& options);

/// One bar of the tornado.
struct TornadoRow {
    int metric = 0;                        ///< index into SpiderResult::metrics
    int input = 0;                         ///< index into SpiderResult::inputs
    double low_value = 0, high_value = 0;  ///< the input at its 10th and 90th percentiles
    double low = 0, high = 0;              ///< the metric's mean at each
    double swing = 0;                      ///< |high − low|
};

/// The tornado: per metric (in order), its inputs by swing, largest first (ties: input order).
std::vector<TornadoRow> tornado_rows(const SpiderResult& spider);

/// A Sobol' design: SALib's `calc_second_order=False` rows, for each base row j: A_j, then AB_ij
/// (A_j with column i from B_j) for each input i, then B_j; D + 2 rows per base row.
struct SobolDesign {
    long long base = 0;            ///< N
    int inputs = 0;                ///< D
    std::vector<double> uniforms;  ///< [row * D + input]
    long long rows() const { return base * (inputs + 2); }
};

/// A|B from the first N points of Boost's 2D-dimensional Sobol' sequence (which leaves out the
/// all-zero point and starts at (0.5, ..., 0.5)): A from the first D coordinates, B from the last
/// D.
SobolDesign sobol_design(long long base, int inputs);

/// Evaluates design rows [first, last): row r is trial r / (D + 2) (so the D + 2 rows of a base
/// row share its within-trial noise) with the inputs at the row's uniforms; the chosen metrics
/// go to out[(r - first) * metrics + m]. Allocation-free; a range can run anywhere on its own.
void evaluate_rows(const Plan& plan, const MetricLayout& layout, const PartyLayout& parties,
                   const std::vector<int>& inputs, const std::vector<int>& metrics,
                   const SobolDesign& design, long long first, long long last, TrialState& state,
                   std::vector<FixedUniform>& fixed, std::span<double> out);

/// Every row of the design, in chunks of evaluations_per_chunk on threads; [row * metrics + m].
/// Empty when cancelled. Under mpirun the chunks are dealt to the processes and only process 0's
/// outputs are whole (docs/distributed.md).
std::vector<double> evaluate_design(const Plan& plan, const std::vector<int>& inputs,
                                    const std::vector<int>& metrics, const SobolDesign& design,
                                    const SensitivityOptions& options);

/// Sobol' indices of one input for one metric, as SALib's sobol.analyze reports them.
struct SobolIndex {
    int metric = 0;
    int input = 0;
    double s1 = 0, s1_conf = 0, st = 0, st_conf = 0;
};

/// Bootstrap resamples for the confidence half-widths, as SALib's default.
inline constexpr int sobol_resamples = 100;
/// The seed of the bootstrap's base-row resampling: fixed, so the half-widths are reproducible.
inline constexpr std::uint64_t bootstrap_seed = 20100101;

/// S1 (Saltelli 2010) and ST (Jansen) per metric and input, from the outputs of evaluate_design:
/// Y normalised by its mean and (population) sd over all rows, divided by the variance over the
/// A and B rows; conf = 1.959964 × the sd (n − 1) of the indices over `resamples` resamples of
/// the base rows. A metric that does not vary has all indices 0.
std::vector<SobolIndex> sobol_indices(const SobolDesign& design, std::span<const double> outputs,
                                      int metrics, int resamples);

/// tornado.csv: metric,input,low_value,high_value,low,high,swing.
void tornado_table(TableSink& table, const SpiderResult& spider,
                   const std::vector<TornadoRow>& rows, const MetricLayout& layout,
                   const Plan& plan);
/// spider.csv: metric,input, then value_pNN,mean_pNN for each spider level.
void spider_table(TableSink& table, const SpiderResult& spider, const MetricLayout& layout,
                  const Plan& plan);
/// sobol.csv: metric,input,S1,S1_conf,ST,ST_conf.
void sobol_table(TableSink& table, const std::vector<SobolIndex>& indices,
                 const std::vector<int>& inputs, const std::vector<int>& metrics,
                 const MetricLayout& layout, const Plan& plan);
/// The --design file: row,trial, each input's value, each metric's output, in SALib's row order.
void design_table(TableSink& table, const SobolDesign& design, std::span<const double> outputs,
                  const std::vector<int>& inputs, const std::vector<int>& metrics,
                  const MetricLayout& layout, const Plan& plan);

}  // namespace sib
