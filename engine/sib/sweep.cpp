#include "sib/sweep.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "sib/csv.hpp"
#include "sib/diagnostics.hpp"
#include "sib/metrics.hpp"
#include "sib/readable.hpp"

namespace sib {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& message) {
    throw InputError({Diagnostic{"--vary", {}, path, message}});
}

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto at = text.find(separator, start);
        parts.emplace_back(
            text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
        if (at == std::string_view::npos) return parts;
        start = at + 1;
    }
}

/// Most grid values one axis may take: a typo in a step should not start a week-long run.
constexpr double max_axis_values = 100000;

void check_count(const std::string& path, double count) {
    if (!std::isfinite(count))  // b - a beyond the range of a double: far too many anyway
        fail(path, "a:b:step gives more values than can be counted; at most " +
                       format_number(max_axis_values) + " are allowed");
    if (count > max_axis_values)
        fail(path, "a:b:step gives " + format_number(count) + " values; at most " +
                       format_number(max_axis_values) + " are allowed");
}

/// A whole number written as one ("12345678901", "-3", "+7"; not "1e3" nor "2.0").
std::optional<long long> strict_integer(std::string_view text) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    long long value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

/// a, a+step, ... up to b, in exact integer arithmetic (seeds beyond 2^53 stay distinct).
std::vector<std::string> integer_steps(const std::string& path, long long a, long long b,
                                       long long step) {
    // b ≥ a and step > 0 were checked; the difference fits in unsigned arithmetic.
    const unsigned long long span =
        static_cast<unsigned long long>(b) - static_cast<unsigned long long>(a);
    const unsigned long long intervals = span / static_cast<unsigned long long>(step);
    check_count(path, static_cast<double>(intervals) + 1);
    std::vector<std::string> values;
    for (unsigned long long i = 0; i <= intervals; ++i)
        values.push_back(std::to_string(static_cast<long long>(
            static_cast<unsigned long long>(a) + i * static_cast<unsigned long long>(step))));
    return values;
}

/// Digits after the decimal point of a number written without an exponent ("0.025" → 3); −1
/// for one written with an exponent, whose values are then printed shortest round-trip.
int decimal_places(std::string_view text) {
    if (text.find_first_of("eE") != std::string_view::npos) return -1;
    const auto dot = text.find('.');
    return dot == std::string_view::npos ? 0 : static_cast<int>(text.size() - dot - 1);
}

/// The grid value as the text that is simulated and printed: with the decimals of the bounds and
/// step (0.05 + 3 × 0.025 → "0.125", not "0.12500000000000001"), trailing zeros dropped; the
/// shortest text that reads back as `v` when an input had an exponent or too many digits.
std::string decimal_text(double v, int decimals) {
    std::array<char, 400> buf{};
    const bool fixed = decimals >= 0 && decimals <= 17 && std::abs(v) < 1e17;
    const auto result = fixed ? std::to_chars(buf.data(), buf.data() + buf.size(), v,
                                              std::chars_format::fixed, decimals)
                              : std::to_chars(buf.data(), buf.data() + buf.size(), v);
    std::string text(buf.data(), result.ptr);
    if (fixed && text.find('.') != std::string::npos) {
        while (text.back() == '0') text.pop_back();
        if (text.back() == '.') text.pop_back();
    }
    if (text == "-0") text = "0";
    return text;
}

}  // namespace

VaryAxis parse_vary(std::string_view argument) {
    const auto eq = argument.find('=');
    if (eq == std::string_view::npos || eq == 0)
        fail("", "expected PATH=a:b:step or PATH=v1,v2,..., got '" + std::string(argument) + "'");
    VaryAxis axis;
    axis.path = std::string(argument.substr(0, eq));
    const std::string_view spec = argument.substr(eq + 1);
    if (spec.empty()) fail(axis.path, "no values given");
    const auto parts = split(spec, ':');
    if (parts.size() == 3 && spec.find(',') == std::string_view::npos) {
        const auto a = strict_number(parts[0]), b = strict_number(parts[1]),
                   step = strict_number(parts[2]);
        if (!a || !b || !step)
            fail(axis.path, "a:b:step needs three finite numbers, got '" + std::string(spec) + "'");
        if (!(*step > 0)) fail(axis.path, "step must be positive, got " + format_number(*step));
        if (*b < *a)
            fail(axis.path,
                 "a:b:step needs a ≤ b, got " + format_number(*a) + " > " + format_number(*b));
        const auto ia = strict_integer(parts[0]), ib = strict_integer(parts[1]),
                   istep = strict_integer(parts[2]);
        if (ia && ib && istep) {
            axis.values = integer_steps(axis.path, *ia, *ib, *istep);
            return axis;
        }
        const double intervals = (*b - *a) / *step;
        const double whole = std::round(intervals);
        const bool lands = std::abs(intervals - whole) <= 1e-9 * std::max(1.0, whole);
        const double count = (lands ? whole : std::floor(intervals)) + 1;
        check_count(axis.path, count);
        const int decimals = std::max(
            {decimal_places(parts[0]), decimal_places(parts[1]), decimal_places(parts[2])});
        for (long long i = 0; i < static_cast<long long>(count); ++i) {
            // a + i·step, with the last value exactly b when the steps land on it.
            const double v = (lands && i + 1 == static_cast<long long>(count))
                                 ? *b
                                 : *a + static_cast<double>(i) * *step;
            axis.values.push_back(decimal_text(v, decimals));
        }
        return axis;
    }
    if (parts.size() != 1)
        fail(axis.path, "expected a:b:step or v1,v2,..., got '" + std::string(spec) + "'");
    for (auto& v : split(spec, ',')) {
        if (v.empty()) fail(axis.path, "empty value in '" + std::string(spec) + "'");
        axis.values.push_back(v);
    }
    return axis;
}

std::vector<std::vector<std::string>> grid_points(const std::vector<VaryAxis>& axes) {
    std::vector<std::vector<std::string>> points(1);
    for (const auto& axis : axes) {
        std::vector<std::vector<std::string>> next;
        for (const auto& point : points)
            for (const auto& value : axis.values) {
                next.push_back(point);
                next.back().push_back(value);
            }
        points = std::move(next);
    }
    return points;
}

void sweep_table(TableSink& table, const std::vector<VaryAxis>& axes,
                 const std::vector<std::vector<std::string>>& points,
                 const std::vector<RunResult>& results, const std::vector<std::string>& metrics,
                 const MetricUnits& units) {
    std::vector<std::string> chosen = metrics;
    if (chosen.empty() && !results.empty())
        for (const auto& m : results.front().metrics) chosen.push_back(m.name);
    std::vector<std::string> columns;
    for (const auto& axis : axes) columns.push_back(axis.path);
    for (const auto& m : chosen) {
        columns.push_back(m + ".mean");
        columns.push_back(m + ".se");
    }
    table.header(columns);
    for (std::size_t p = 0; p < points.size(); ++p) {
        for (const auto& value : points[p]) table.value(value);
        for (const auto& name : chosen) {
            const MetricSummary* found = nullptr;
            for (const auto& m : results[p].metrics)
                if (m.name == name) found = &m;
            if (found) {
                const Unit unit = units.of(name);
                table.number(found->moments.mean, unit);
                table.number(found->moments.se(), unit);
            } else {
                table.blank();
                table.blank();
            }
        }
        table.end_row();
    }
}

void write_sweep(std::ostream& out, const std::vector<VaryAxis>& axes,
                 const std::vector<std::vector<std::string>>& points,
                 const std::vector<RunResult>& results, const std::vector<std::string>& metrics) {
    CsvSink csv(out);
    sweep_table(csv, axes, points, results, metrics, MetricUnits());
}

namespace {
/// The kind of metric `name` in the first of `layouts` that has it; every metric shown comes
/// from one of them.
MetricKind kind_in(const std::vector<MetricLayout>& layouts, const std::string& name) {
    for (const auto& layout : layouts) {
        const int i = metric_index(layout, name);
        if (i >= 0) return layout.kinds[static_cast<std::size_t>(i)];
    }
    assertion_failed("the metric comes from one of the layouts", __FILE__, __LINE__);
}
}  // namespace

void print_sweep(std::ostream& out, const std::vector<VaryAxis>& axes,
                 const std::vector<std::vector<std::string>>& points,
                 const std::vector<RunResult>& results, const std::vector<Plan>& plans,
                 const std::vector<std::string>& metrics) {
    const std::vector<MetricLayout> layouts = {metric_layout(plans.front())};
    TextTable table;
    table.leading = axes.size();
    table.group = 2;
    for (std::size_t a = 0; a < axes.size(); ++a) {
        table.header.push_back(axes[a].path);
        // Varied numbers line up on the right; varied text (names, YAML lists) on the left.
        table.right_aligned.push_back(looks_like_number(points.front()[a]));
    }
    for (const auto& name : metrics) {
        table.header.insert(table.header.end(), {name, "se"});
        table.right_aligned.insert(table.right_aligned.end(), {1, 1});
    }
    for (std::size_t p = 0; p < points.size(); ++p) {
        std::vector<std::string> row = points[p];
        for (const auto& name : metrics) {
            const MetricSummary* found = nullptr;
            for (const auto& m : results[p].metrics)
                if (m.name == name) found = &m;
            if (!found) {
                row.insert(row.end(), {"", ""});  // a metric this point lacks
                continue;
            }
            const MetricKind kind = kind_in(layouts, name);
            row.push_back(readable_value(found->moments.mean, kind, plans[p].currency));
            row.push_back(readable_error(found->moments.se(), kind, plans[p].currency));
        }
        table.rows.push_back(std::move(row));
    }
    print_text_table(out, table, table_width);
}

void print_compare(std::ostream& out, const std::vector<std::string>& names,
                   const std::vector<ComparisonRow>& rows, const std::vector<Plan>& plans) {
    std::vector<MetricLayout> layouts;
    for (const auto& plan : plans) layouts.push_back(metric_layout(plan));
    TextTable table;
    table.leading = 2;
    table.group = 3;
    table.header = {"metric", names.front()};
    table.right_aligned = {0, 1};
    for (std::size_t k = 1; k < names.size(); ++k) {
        table.header.insert(table.header.end(), {names[k], "diff", "se"});
        table.right_aligned.insert(table.right_aligned.end(), {1, 1, 1});
    }
    for (const auto& r : rows) {
        const MetricKind kind = kind_in(layouts, r.metric);
        auto value = [&](const std::optional<double>& v, const std::string& currency) {
            return v ? readable_value(*v, kind, currency) : std::string();
        };
        std::vector<std::string> row = {r.metric, value(r.means[0], plans[0].currency)};
        for (std::size_t k = 1; k < names.size(); ++k) {
            row.push_back(value(r.means[k], plans[k].currency));
            // A difference is in the first scenario's units.
            row.push_back(value(r.diffs[k - 1], plans[0].currency));
            row.push_back(r.diff_ses[k - 1]
                              ? readable_error(*r.diff_ses[k - 1], kind, plans[0].currency)
                              : std::string());
        }
        table.rows.push_back(std::move(row));
    }
    print_text_table(out, table, table_width);
}

std::vector<ComparisonRow> compare_results(const std::vector<RunResult>& results) {
    std::vector<std::string> names;
    for (const auto& r : results)
        for (const auto& m : r.metrics)
            if (std::find(names.begin(), names.end(), m.name) == names.end())
                names.push_back(m.name);
    auto index_in = [](const RunResult& r, const std::string& name) -> long {
        for (std::size_t i = 0; i < r.metrics.size(); ++i)
            if (r.metrics[i].name == name) return static_cast<long>(i);
        return -1;
    };
    std::vector<ComparisonRow> rows;
    for (const auto& name : names) {
        ComparisonRow row;
        row.metric = name;
        for (const auto& r : results) {
            const long i = index_in(r, name);
            row.means.push_back(
                i >= 0 ? std::optional(r.metrics[static_cast<std::size_t>(i)].moments.mean)
                       : std::nullopt);
        }
        const long first = index_in(results.front(), name);
        for (std::size_t k = 1; k < results.size(); ++k) {
            const long other = index_in(results[k], name);
            if (first < 0 || other < 0) {
                row.diffs.push_back(std::nullopt);
                row.diff_ses.push_back(std::nullopt);
                continue;
            }
            const auto& x = results[k].values[static_cast<std::size_t>(other)];
            const auto& y = results.front().values[static_cast<std::size_t>(first)];
            Moments d;
            for (std::size_t t = 0; t < std::min(x.size(), y.size()); ++t) d.add(x[t] - y[t]);
            row.diffs.push_back(d.mean);
            row.diff_ses.push_back(d.se());
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

void compare_table(TableSink& table, const std::vector<std::string>& names,
                   const std::vector<ComparisonRow>& rows, const MetricUnits& units) {
    std::vector<std::string> columns = {"metric"};
    for (const auto& n : names) columns.push_back(n);
    for (std::size_t k = 1; k < names.size(); ++k) {
        columns.push_back("diff." + names[k]);
        columns.push_back("diff_se." + names[k]);
    }
    table.header(columns);
    for (const auto& row : rows) {
        const Unit unit = units.of(row.metric);
        auto add = [&](const std::optional<double>& v) {
            if (v) {
                table.number(*v, unit);
            } else {
                table.blank();
            }
        };
        table.text(row.metric);
        for (const auto& m : row.means) add(m);
        for (std::size_t k = 0; k < row.diffs.size(); ++k) {
            add(row.diffs[k]);
            add(row.diff_ses[k]);
        }
        table.end_row();
    }
}

void write_compare(std::ostream& out, const std::vector<std::string>& names,
                   const std::vector<ComparisonRow>& rows) {
    CsvSink csv(out);
    compare_table(csv, names, rows, MetricUnits());
}

std::optional<double> strict_number(std::string_view text) {
    double value = 0;
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
        return std::nullopt;
    return value;
}

}  // namespace sib
