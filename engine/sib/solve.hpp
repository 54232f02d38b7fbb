#pragma once
// solve (docs/model.md, section 13; docs/outputs.md, "solve"): the value of one scenario input at
// which a metric's mean reaches a target, found by bracketing root-finding on common random
// numbers. The engine holds the search and the confidence interval; the command line supplies the
// evaluations (load the scenario at PATH = x, run it on the same seed and trials).
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "sib/table.hpp"

namespace sib {

/// `--vary PATH=LO:HI` of solve: the input searched and its interval (LO < HI).
struct SolveInterval {
    std::string path;
    double lo = 0;
    double hi = 0;
};

/// Parses "PATH=LO:HI" (two finite numbers, LO < HI). Errors are InputError located at "--vary".
SolveInterval parse_solve_interval(std::string_view argument);

/// `--target METRIC=VALUE`: the metric whose mean is to reach `value` (in the metric's own unit,
/// as summary.csv writes it: a probability as 0.8, money in currency units).
struct SolveTarget {
    std::string metric;
    double value = 0;
};

/// Parses "METRIC=VALUE" (VALUE a finite number). Errors are InputError located at "--target";
/// the metric's name is checked later, against the scenario's metrics.
SolveTarget parse_solve_target(std::string_view argument);

/// One evaluation: the metric's mean and standard error with the input at x.
struct SolvePoint {
    double x = 0;
    double mean = 0;
    double se = 0;
};

/// Runs the scenario with the input at x and returns the metric's mean and standard error.
using SolveEvaluate = std::function<SolvePoint(double x)>;

/// The search's outcome. When `bracketed` is false only `points` (the two ends) is filled.
struct SolveResult {
    bool bracketed = false;
    double value = 0;  ///< the input at which the mean reaches the target
    double ci_lo = 0;  ///< 95% confidence interval of `value`
    double ci_hi = 0;
    double slope = 0;     ///< d mean / d input used for the interval (metric unit per input unit)
    SolvePoint at_value;  ///< the evaluation at `value` (its se gives the interval)
    std::vector<SolvePoint> points;  ///< every evaluation, in the order run
};

/// Most evaluations one search may make: the bracket then is 2^-30 of the interval or narrower.
inline constexpr int max_solve_evaluations = 40;

/// Finds x in [lo, hi] with mean(x) = target. Both ends first: when mean − target has the same
/// sign at both (neither zero), returns bracketed = false. Otherwise bisection keeps a bracket
/// [a, b] with a sign change and stops when the mean changes across it by at most 0.196 standard
/// errors (the bracket is then narrower than a tenth of the 95% interval's half-width), when it is
/// narrower than 1e-9 of hi − lo, when an evaluation hits the target exactly, or after
/// max_solve_evaluations. The value is the zero of the straight line through the final bracket's
/// ends, evaluated once more for its standard error se. The interval is value ± 1.96·se/|slope|,
/// the slope taken across the narrowest bracket over which the mean moves by at least two
/// standard errors (the first bracket when none does), so that one step of a stepwise mean does
/// not pass for the slope. A flat mean (slope 0: the target met at both ends) gives [lo, hi].
SolveResult solve(const SolveInterval& interval, double target, const SolveEvaluate& evaluate);

/// The input as the YAML text that is simulated: the shortest text that reads back as x.
std::string solve_value_text(double x);

/// solve.csv: one row, input,metric,target,value,ci_lo,ci_hi,evaluations; the target in the
/// metric's unit, the value and its interval in the input's.
void solve_table(TableSink& table, const SolveInterval& interval, const SolveTarget& target,
                 const SolveResult& result, Unit metric_unit);

/// evaluations.csv: evaluation (1, 2, ...), the input, METRIC.mean and METRIC.se, in the order
/// run.
void solve_points_table(TableSink& table, const SolveInterval& interval, const SolveTarget& target,
                        const SolveResult& result, Unit metric_unit);

/// The JSON object of docs/outputs.md: {"input", "metric", "target", "value", "ci", "evaluations"}.
void print_solve_json(std::ostream& out, const SolveInterval& interval, const SolveTarget& target,
                      const SolveResult& result);

}  // namespace sib
