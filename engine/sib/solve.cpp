#include "sib/solve.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include "sib/csv.hpp"
#include "sib/diagnostics.hpp"
#include "sib/reports.hpp"
#include "sib/run.hpp"
#include "sib/sweep.hpp"

namespace sib {

namespace {

[[noreturn]] void fail(const char* option, const std::string& path, const std::string& message) {
    throw InputError({Diagnostic{option, {}, path, message}});
}

/// The search stops once the mean changes across the bracket by at most this many standard
/// errors: the bracket is then narrower than a tenth of the interval's half-width (z95 / 10).
constexpr double stop_se = z95 / 10;

/// The slope is taken over a bracket across which the mean moves by at least this many standard
/// errors, so that it measures the trend rather than one step or the noise.
constexpr double slope_se = 2;

/// f changes sign between a and b (or is zero at one of them).
bool brackets(double fa, double fb) {
    return (fa <= 0 && fb >= 0) || (fa >= 0 && fb <= 0);
}

}  // namespace

SolveInterval parse_solve_interval(std::string_view argument) {
    const auto eq = argument.find('=');
    if (eq == std::string_view::npos || eq == 0)
        fail("--vary", "", "expected PATH=LO:HI, got '" + std::string(argument) + "'");
    SolveInterval interval;
    interval.path = std::string(argument.substr(0, eq));
    const std::string_view spec = argument.substr(eq + 1);
    const auto colon = spec.find(':');
    if (colon == std::string_view::npos || spec.find(':', colon + 1) != std::string_view::npos)
        fail("--vary", interval.path,
             "solve searches an interval: expected LO:HI, got '" + std::string(spec) + "'");
    const auto lo = strict_number(spec.substr(0, colon));
    const auto hi = strict_number(spec.substr(colon + 1));
    if (!lo || !hi)
        fail("--vary", interval.path,
             "LO:HI needs two finite numbers, got '" + std::string(spec) + "'");
    if (!(*lo < *hi))
        fail("--vary", interval.path,
             "LO must be below HI, got " + format_number(*lo) + ":" + format_number(*hi));
    interval.lo = *lo;
    interval.hi = *hi;
    return interval;
}

SolveTarget parse_solve_target(std::string_view argument) {
    const auto eq = argument.find('=');
    if (eq == std::string_view::npos || eq == 0)
        fail("--target", "", "expected METRIC=VALUE, got '" + std::string(argument) + "'");
    SolveTarget target;
    target.metric = std::string(argument.substr(0, eq));
    const auto value = strict_number(argument.substr(eq + 1));
    if (!value)
        fail("--target", target.metric,
             "VALUE must be a finite number, got '" + std::string(argument.substr(eq + 1)) + "'");
    target.value = *value;
    return target;
}

SolveResult solve(const SolveInterval& interval, double target, const SolveEvaluate& evaluate) {
    SolveResult result;
    auto eval = [&](double x) {
        result.points.push_back(evaluate(x));
        return result.points.back();
    };
    SolvePoint a = eval(interval.lo);
    SolvePoint b = eval(interval.hi);
    auto f = [&](const SolvePoint& p) { return p.mean - target; };
    if (!brackets(f(a), f(b))) return result;
    result.bracketed = true;

    // Every bracket in turn, widest first; the slope is read from one of them at the end.
    std::vector<std::pair<SolvePoint, SolvePoint>> brackets_seen = {{a, b}};
    const double min_width = 1e-9 * (interval.hi - interval.lo);
    std::optional<SolvePoint> exact;  // an evaluation exactly on the target
    if (f(a) == 0) exact = a;
    if (f(b) == 0) exact = b;
    while (!exact && static_cast<int>(result.points.size()) < max_solve_evaluations - 1) {
        const double se = std::max(a.se, b.se);
        if (std::abs(b.mean - a.mean) <= stop_se * se || b.x - a.x <= min_width) break;
        const SolvePoint m = eval(a.x + (b.x - a.x) / 2);
        if (f(m) == 0) {
            exact = m;
            break;
        }
        if (brackets(f(a), f(m)))
            b = m;
        else
            a = m;
        brackets_seen.push_back({a, b});
    }

    // The slope: across the narrowest bracket over which the mean moves by at least slope_se
    // standard errors; the first bracket when none does.
    auto [sa, sb] = brackets_seen.front();
    for (const auto& [pa, pb] : brackets_seen)
        if (std::abs(pb.mean - pa.mean) >= slope_se * std::max(pa.se, pb.se)) {
            sa = pa;
            sb = pb;
        }
    result.slope = (sb.mean - sa.mean) / (sb.x - sa.x);

    if (exact) {
        result.value = exact->x;
        result.at_value = *exact;
    } else {
        // The zero of the line through the final bracket's ends; a and b differ in sign, so the
        // line is not flat and its zero lies in [a, b].
        const double x = a.x - f(a) * (b.x - a.x) / (b.mean - a.mean);
        result.value = std::min(std::max(x, a.x), b.x);
        result.at_value = eval(result.value);
    }
    // A mean that meets the target at both ends and does not move between them locates no
    // root within [LO, HI]: the interval is all of it.
    const double half = result.slope == 0 ? std::numeric_limits<double>::infinity()
                                          : z95 * result.at_value.se / std::abs(result.slope);
    result.ci_lo = std::isfinite(half) ? result.value - half : interval.lo;
    result.ci_hi = std::isfinite(half) ? result.value + half : interval.hi;
    return result;
}

std::string solve_value_text(double x) {
    std::array<char, 64> buf{};
    const auto end = std::to_chars(buf.data(), buf.data() + buf.size(), x).ptr;
    std::string text(buf.data(), end);
    return text == "-0" ? "0" : text;
}

void solve_table(TableSink& table, const SolveInterval& interval, const SolveTarget& target,
                 const SolveResult& result, Unit metric_unit) {
    table.header({"input", "metric", "target", "value", "ci_lo", "ci_hi", "evaluations"});
    table.text(interval.path);
    table.text(target.metric);
    table.number(target.value, metric_unit);
    table.number(result.value, Unit::number);
    table.number(result.ci_lo, Unit::number);
    table.number(result.ci_hi, Unit::number);
    table.integer(static_cast<long long>(result.points.size()));
    table.end_row();
}

void solve_points_table(TableSink& table, const SolveInterval& interval, const SolveTarget& target,
                        const SolveResult& result, Unit metric_unit) {
    table.header({"evaluation", interval.path, target.metric + ".mean", target.metric + ".se"});
    long long k = 0;
    for (const auto& p : result.points) {
        table.integer(++k);
        table.number(p.x, Unit::number);
        table.number(p.mean, metric_unit);
        table.number(p.se, metric_unit);
        table.end_row();
    }
}

void print_solve_json(std::ostream& out, const SolveInterval& interval, const SolveTarget& target,
                      const SolveResult& result) {
    out << "{\"input\": " << json_string(interval.path)
        << ", \"metric\": " << json_string(target.metric)
        << ", \"target\": " << format_number(target.value)
        << ", \"value\": " << format_number(result.value) << ", \"ci\": ["
        << format_number(result.ci_lo) << ", " << format_number(result.ci_hi)
        << "], \"evaluations\": " << result.points.size() << "}\n";
}

}  // namespace sib
