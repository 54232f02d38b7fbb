#include "sib/sweep.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "sib/csv.hpp"
#include "sib/diagnostics.hpp"

namespace sib {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& message) {
    throw InputError({Diagnostic{"--vary", {}, path, message}});
}

std::optional<double> strict_number(std::string_view text) {
    double value = 0;
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
        return std::nullopt;
    return value;
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
        const double intervals = (*b - *a) / *step;
        if (intervals + 1 > max_axis_values)
            fail(axis.path, "a:b:step gives " + format_number(std::floor(intervals) + 1) +
                                " values, more than " + format_number(max_axis_values));
        const double whole = std::round(intervals);
        const bool lands = std::abs(intervals - whole) <= 1e-9 * std::max(1.0, whole);
        const long long count = static_cast<long long>(lands ? whole : std::floor(intervals)) + 1;
        for (long long i = 0; i < count; ++i) {
            // a + i·step, with the last value exactly b when the steps land on it.
            const double v = (lands && i + 1 == count) ? *b : *a + static_cast<double>(i) * *step;
            axis.values.push_back(format_number(v));
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

void write_sweep(std::ostream& out, const std::vector<VaryAxis>& axes,
                 const std::vector<std::vector<std::string>>& points,
                 const std::vector<RunResult>& results, const std::vector<std::string>& metrics) {
    std::vector<std::string> chosen = metrics;
    if (chosen.empty() && !results.empty())
        for (const auto& m : results.front().metrics) chosen.push_back(m.name);
    std::vector<std::string> columns;
    for (const auto& axis : axes) columns.push_back(axis.path);
    for (const auto& m : chosen) {
        columns.push_back(m + ".mean");
        columns.push_back(m + ".se");
    }
    CsvWriter csv(out, columns);
    for (std::size_t p = 0; p < points.size(); ++p) {
        for (const auto& value : points[p]) csv.add(value);
        for (const auto& name : chosen) {
            const MetricSummary* found = nullptr;
            for (const auto& m : results[p].metrics)
                if (m.name == name) found = &m;
            if (found) {
                csv.add(found->moments.mean);
                csv.add(found->moments.se());
            } else {
                csv.add("");
                csv.add("");
            }
        }
        csv.end_row();
    }
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

void write_compare(std::ostream& out, const std::vector<std::string>& names,
                   const std::vector<ComparisonRow>& rows) {
    std::vector<std::string> columns = {"metric"};
    for (const auto& n : names) columns.push_back(n);
    for (std::size_t k = 1; k < names.size(); ++k) {
        columns.push_back("diff." + names[k]);
        columns.push_back("diff_se." + names[k]);
    }
    CsvWriter csv(out, columns);
    auto add = [&](const std::optional<double>& v) {
        if (v) {
            csv.add(*v);
        } else {
            csv.add("");
        }
    };
    for (const auto& row : rows) {
        csv.add(row.metric);
        for (const auto& m : row.means) add(m);
        for (std::size_t k = 0; k < row.diffs.size(); ++k) {
            add(row.diffs[k]);
            add(row.diff_ses[k]);
        }
        csv.end_row();
    }
}

}  // namespace sib
