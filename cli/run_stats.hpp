#pragma once
// run --precision and --convergence: the targets parsed from the command line, and what the run
// reports about where it stopped (docs/outputs.md, "Running to a precision").
#include <ostream>
#include <string>
#include <vector>

#include "sib/metrics.hpp"
#include "sib/reports.hpp"
#include "sib/run.hpp"
#include "sib/table.hpp"

namespace sib::cli {

/// The watched metrics of a run: --precision's targets in the order given, or with
/// --convergence alone the key metrics (no target). Every bad argument is reported at once
/// (InputError).
std::vector<PrecisionTarget> parse_precision(const std::vector<std::string>& args,
                                             const MetricLayout& layout);

/// The key metrics of `layout` as watched metrics without a target (--convergence alone).
std::vector<PrecisionTarget> watch_key_metrics(const MetricLayout& layout);

/// run.csv rows of a run with precision targets: one `precision` row per target
/// (METRIC=REL or METRIC.pP=ABS), `max_trials` and `stop` (precision_met or max_trials).
void add_stop_provenance(Provenance& provenance, const RunOptions& options, const RunResult& result,
                         const MetricLayout& layout);

/// The line under the summary table that says why the run stopped, for a run with targets.
void print_stop(std::ostream& out, const RunOptions& options, const RunResult& result,
                const MetricLayout& layout, const std::string& currency);

/// The "stop" member of the JSON summary: reason, trials, max_trials and each target.
std::string stop_json(const RunOptions& options, const RunResult& result,
                      const MetricLayout& layout);

/// convergence: trials,metric,mean,se,half_width; one row per recorded point and metric (for a
/// percentile target: METRIC.pP, its value in `mean`, `se` blank, its interval's half-width).
void convergence_table(TableSink& table, const RunOptions& options, const RunResult& result,
                       const MetricLayout& layout, const MetricUnits& units);

/// The convergence table for a person, below the summary.
void print_convergence(std::ostream& out, const Plan& plan, const RunOptions& options,
                       const RunResult& result, const MetricLayout& layout);

/// --percentiles 1,5,10,90,99: percentages above 0 and below 100, each once, at most
/// max_percentiles, as increasing probabilities (0.01, 0.05, …). Every bad value is reported at
/// once (InputError); empty text: none.
std::vector<double> parse_percentiles(const std::string& text);

/// --prob METRIC<VALUE (also <=, >, >=), repeatable, as events to count. Every bad argument is
/// reported at once (InputError).
std::vector<Threshold> parse_prob(const std::vector<std::string>& args, const MetricLayout& layout);

/// An event as text: METRIC<VALUE, the value written by format_number.
std::string event_text(const Threshold& t, const MetricLayout& layout);

/// probabilities: event,metric,op,value,probability,se,count; one row per --prob.
void probabilities_table(TableSink& table, const RunOptions& options, const RunResult& result,
                         const MetricLayout& layout, const MetricUnits& units);

/// The probabilities for a person, below the summary.
void print_probabilities(std::ostream& out, const RunOptions& options, const RunResult& result,
                         const MetricLayout& layout);

/// The "probabilities" member of the JSON summary: {EVENT: {"p": P, "se": SE, "count": C}}.
std::string probabilities_json(const RunOptions& options, const RunResult& result,
                               const MetricLayout& layout);

}  // namespace sib::cli
