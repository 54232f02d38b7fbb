#pragma once
// sweep and compare (docs/outputs.md): grids of overrides and paired comparisons. Every grid
// point and every compared scenario runs on the same seed; random streams follow names (rng.hpp),
// so they share their random numbers trial by trial (common random numbers).
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "sib/plan.hpp"
#include "sib/reports.hpp"
#include "sib/run.hpp"
#include "sib/table.hpp"

namespace sib {

/// A command-line number: the whole text (an optional leading '+' allowed), finite; nothing
/// otherwise. Used by --vary (sweep, solve) and --target.
std::optional<double> strict_number(std::string_view text);

/// One `--vary PATH=SPEC`: the values, as YAML text, that PATH takes.
struct VaryAxis {
    std::string path;
    std::vector<std::string> values;
};

/// Parses "PATH=a:b:step" (inclusive; a floating-point step lands exactly on b when (b-a)/step
/// is whole to 1e-9) or "PATH=v1,v2,...". Errors are InputError located at "--vary".
VaryAxis parse_vary(std::string_view argument);

/// The full factorial grid: each point one value per axis, the last axis varying fastest.
std::vector<std::vector<std::string>> grid_points(const std::vector<VaryAxis>& axes);

/// The sweep table: the varied paths (numbers where they are), then METRIC.mean,METRIC.se in
/// the metric's unit for each chosen metric (all metrics of the first point when `metrics` is
/// empty); a metric a point lacks is blank.
void sweep_table(TableSink& table, const std::vector<VaryAxis>& axes,
                 const std::vector<std::vector<std::string>>& points,
                 const std::vector<RunResult>& results, const std::vector<std::string>& metrics,
                 const MetricUnits& units);

/// sweep.csv: the varied paths, then METRIC.mean,METRIC.se for each chosen metric (all metrics of
/// the first point when `metrics` is empty); a metric a point lacks is left blank.
void write_sweep(std::ostream& out, const std::vector<VaryAxis>& axes,
                 const std::vector<std::vector<std::string>>& points,
                 const std::vector<RunResult>& results, const std::vector<std::string>& metrics);

/// The sweep for a person (docs/outputs.md, "stdout formats"): one row per point, the varied
/// values, then each of `metrics` as a readable mean and standard error (readable.hpp), in blocks
/// of at most `table_width` columns. `plans[p]` is point p's plan (its currency, and the first
/// plan's metric layout says what kind of number each metric is).
void print_sweep(std::ostream& out, const std::vector<VaryAxis>& axes,
                 const std::vector<std::vector<std::string>>& points,
                 const std::vector<RunResult>& results, const std::vector<Plan>& plans,
                 const std::vector<std::string>& metrics);

/// One row of a paired comparison.
struct ComparisonRow {
    std::string metric;
    std::vector<std::optional<double>> means;     ///< per scenario; empty where it lacks the metric
    std::vector<std::optional<double>> diffs;     ///< per later scenario: mean − first's mean
    std::vector<std::optional<double>> diff_ses;  ///< standard error from paired trial differences
};

/// Pairs trial i of every result with trial i of the first: the difference's standard error is
/// sd(x_i − y_i)/√N, far below that of independent runs when the scenarios share random numbers.
std::vector<ComparisonRow> compare_results(const std::vector<RunResult>& results);

/// The compare table: as compare.csv below, each row in its metric's unit.
void compare_table(TableSink& table, const std::vector<std::string>& names,
                   const std::vector<ComparisonRow>& rows, const MetricUnits& units);

/// compare.csv: metric, one mean column per scenario (named by `names`), then diff.NAME and
/// diff_se.NAME for each later scenario.
void write_compare(std::ostream& out, const std::vector<std::string>& names,
                   const std::vector<ComparisonRow>& rows);

/// The comparison for a person: one row per metric, the first scenario's mean, then for each
/// later scenario its mean, its difference to the first and that difference's paired standard
/// error, readable (readable.hpp) in each scenario's currency, in blocks of at most `table_width`
/// columns. `plans` are the compared scenarios' plans, in order.
void print_compare(std::ostream& out, const std::vector<std::string>& names,
                   const std::vector<ComparisonRow>& rows, const std::vector<Plan>& plans);

}  // namespace sib
