// run --precision and --convergence (docs/outputs.md, "Running to a precision"; the stop rule is
// in docs/model.md).
#include "run_stats.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "sib/csv.hpp"
#include "sib/diagnostics.hpp"
#include "sib/readable.hpp"

namespace sib::cli {

namespace {

/// A strict number, the whole token: "0.01", or a percentage "1%" (0.01).
std::optional<double> relative_of(std::string_view text) {
    double scale = 1;
    if (!text.empty() && text.back() == '%') {
        text.remove_suffix(1);
        scale = 0.01;
    }
    double x = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), x);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size() ||
        !std::isfinite(x))
        return std::nullopt;
    return x * scale;
}

/// A strict number, the whole token, finite.
std::optional<double> number_of(std::string_view text) {
    double x = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), x);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size() ||
        !std::isfinite(x))
        return std::nullopt;
    return x;
}

/// "METRIC.pP" with METRIC a known metric: the metric's index and P's text; nullopt otherwise.
std::optional<std::pair<int, std::string>> percentile_name(const std::string& name,
                                                           const MetricLayout& layout) {
    const auto dot = name.rfind(".p");
    if (dot == std::string::npos) return std::nullopt;
    const int index = metric_index(layout, name.substr(0, dot));
    if (index < 0) return std::nullopt;
    return std::pair{index, name.substr(dot + 2)};
}

/// "payments.total" for a mean, "payments.total.p95" for a percentile.
std::string name_of(const MetricLayout& layout, const PrecisionTarget& t) {
    if (!t.on_percentile()) return layout.names[t.metric];
    std::string name = layout.names[t.metric];
    name += ".p";
    name += format_number(100 * t.percentile);
    return name;
}

/// Whether target `t` is met by the watched figures at a convergence point.
bool met_at(const ConvergencePoint& point, const PrecisionTarget& t, std::size_t w) {
    return t.on_percentile() ? precision_met(point.intervals[w], t.absolute)
                             : precision_met(point.moments[w], t.relative);
}

double half_width(const Moments& m) {
    return z95 * m.se();
}

/// "1.3%": a half-width over |mean| as a percentage, two significant figures.
std::string percent(double relative) {
    return two_significant(100 * relative) + "%";
}

bool stops(const RunOptions& options) {
    return std::any_of(options.watch.begin(), options.watch.end(),
                       [](const PrecisionTarget& t) { return t.is_target(); });
}

/// The watched metrics over every trial the run used.
const ConvergencePoint& final_point(const RunResult& result) {
    SIB_ASSERT(!result.convergence.empty());
    return result.convergence.back();
}

}  // namespace

std::vector<PrecisionTarget> parse_precision(const std::vector<std::string>& args,
                                             const MetricLayout& layout) {
    std::vector<PrecisionTarget> targets;
    std::vector<Diagnostic> problems;
    auto problem = [&](const std::string& message) {
        problems.push_back({"--precision", {}, "", message});
    };
    for (const auto& arg : args) {
        const auto eq = arg.find('=');
        if (eq == std::string::npos) {
            problem(
                "expected METRIC=REL (such as payments.total=0.01 or payments.total=1%) or "
                "METRIC.pP=ABS (such as payments.total.p95=50000), got '" +
                arg + "'");
            continue;
        }
        const std::string name = arg.substr(0, eq);
        const std::string value_text = arg.substr(eq + 1);
        const int index = metric_index(layout, name);
        const auto named = index < 0 ? percentile_name(name, layout) : std::nullopt;
        PrecisionTarget target;
        bool good = true;
        if (named) {
            // METRIC.pP=ABS: a percentile's half-width in the metric's unit.
            const auto percent = number_of(named->second);
            if (!percent || !(*percent > 0 && *percent < 100)) {
                problem("'" + name +
                        "': P must be a number above 0 and below 100 (95 for p95, 2.5 for "
                        "p2.5), got '" +
                        named->second + "'");
                good = false;
            }
            const auto absolute = number_of(value_text);
            if (!absolute || *absolute < 0) {
                problem("'" + arg +
                        "': ABS must be a number at or above 0, in the metric's unit, got '" +
                        value_text + "'");
                good = false;
            }
            if (!good) continue;
            target.metric = static_cast<std::size_t>(named->first);
            target.percentile = *percent / 100;
            target.absolute = *absolute;
        } else {
            const auto rel = relative_of(value_text);
            if (index < 0) {
                problem("no metric '" + name + "'" + did_you_mean(name, layout.names));
                good = false;
            }
            if (!rel || *rel <= 0 || *rel >= 1) {
                problem("'" + arg +
                        "': REL must be a number above 0 and below 1, or a percentage such as "
                        "1%, got '" +
                        value_text + "'");
                good = false;
            }
            if (!good) continue;
            target.metric = static_cast<std::size_t>(index);
            target.relative = *rel;
        }
        if (std::any_of(targets.begin(), targets.end(), [&](const PrecisionTarget& t) {
                return t.metric == target.metric && t.percentile == target.percentile;
            })) {
            problem("'" + name + "' is given twice");
            continue;
        }
        targets.push_back(target);
    }
    if (!problems.empty()) throw InputError(problems);
    return targets;
}

std::vector<PrecisionTarget> watch_key_metrics(const MetricLayout& layout) {
    std::vector<PrecisionTarget> watch;
    for (const auto& name : key_metrics(layout))
        watch.push_back({static_cast<std::size_t>(metric_index(layout, name)), 0.0});
    return watch;
}

void add_stop_provenance(Provenance& provenance, const RunOptions& options, const RunResult& result,
                         const MetricLayout& layout) {
    if (!stops(options)) return;
    for (const auto& t : options.watch)
        provenance.push_back(
            {"precision", name_of(layout, t) + "=" +
                              format_number(t.on_percentile() ? t.absolute : t.relative)});
    provenance.push_back({"max_trials", std::to_string(options.trials)});
    provenance.push_back(
        {"stop", result.stop == StopReason::precision ? "precision_met" : "max_trials"});
}

void print_stop(std::ostream& out, const RunOptions& options, const RunResult& result,
                const MetricLayout& layout, const std::string& currency) {
    if (!stops(options)) return;
    const ConvergencePoint& point = final_point(result);
    const bool percentiles =
        std::any_of(options.watch.begin(), options.watch.end(),
                    [](const PrecisionTarget& t) { return t.on_percentile(); });
    const char* what = percentiles ? "95% half-width:\n" : "95% half-width of the mean:\n";
    if (result.stop == StopReason::precision) {
        out << "\nstopped: precision met at " << result.trials << " trials (of at most "
            << options.trials << "); " << what;
    } else {
        out << "\nstopped: maximum trials reached (" << result.trials
            << ") before every precision was met; " << what;
    }
    for (std::size_t w = 0; w < options.watch.size(); ++w) {
        const PrecisionTarget& t = options.watch[w];
        const bool met = met_at(point, t, w);
        out << "  " << printable(name_of(layout, t)) << ": ";
        if (t.on_percentile()) {
            const MetricKind kind = layout.kinds[t.metric];
            out << "±" << readable_error(point.intervals[w].half_width(), kind, currency)
                << " of the percentile, target ±" << readable_error(t.absolute, kind, currency);
        } else {
            const Moments& m = point.moments[w];
            out << (m.mean != 0 ? "±" + percent(half_width(m) / std::abs(m.mean)) : "±0")
                << " of the mean, target ±" << percent(t.relative);
        }
        out << (met ? "" : " (not met)") << "\n";
    }
}

std::string stop_json(const RunOptions& options, const RunResult& result,
                      const MetricLayout& layout) {
    const ConvergencePoint& point = final_point(result);
    std::string json = "{\"reason\": ";
    json += result.stop == StopReason::precision ? "\"precision_met\"" : "\"max_trials\"";
    json += ", \"trials\": " + std::to_string(result.trials) +
            ", \"max_trials\": " + std::to_string(options.trials) + ", \"targets\": {";
    for (std::size_t w = 0; w < options.watch.size(); ++w) {
        const PrecisionTarget& t = options.watch[w];
        json += (w ? ", " : "") + json_string(name_of(layout, t)) + ": {";
        if (t.on_percentile())
            json += "\"absolute\": " + format_number(t.absolute) +
                    ", \"half_width\": " + format_number(point.intervals[w].half_width());
        else
            json += "\"relative\": " + format_number(t.relative) +
                    ", \"half_width\": " + format_number(half_width(point.moments[w]));
        json += std::string(", \"met\": ") + (met_at(point, t, w) ? "true" : "false") + "}";
    }
    return json + "}}";
}

void convergence_table(TableSink& table, const RunOptions& options, const RunResult& result,
                       const MetricLayout& layout, const MetricUnits& units) {
    table.header({"trials", "metric", "mean", "se", "half_width"});
    for (const auto& point : result.convergence)
        for (std::size_t w = 0; w < options.watch.size(); ++w) {
            const std::string name = name_of(layout, options.watch[w]);
            const Unit unit = units.of(layout.names[options.watch[w].metric]);
            const Moments& m = point.moments[w];
            table.integer(point.trials);
            table.text(name);
            if (options.watch[w].on_percentile()) {
                // A percentile: its value in `mean`, no standard error, the interval's half-width.
                table.number(point.intervals[w].value, unit);
                table.blank();
                table.number(point.intervals[w].half_width(), unit);
            } else {
                table.number(m.mean, unit);
                table.number(m.se(), unit);
                table.number(half_width(m), unit);
            }
            table.end_row();
        }
}

void print_convergence(std::ostream& out, const Plan& plan, const RunOptions& options,
                       const RunResult& result, const MetricLayout& layout) {
    TextTable table{{"trials"}, {1}, {}};
    for (const auto& t : options.watch) {
        table.header.push_back(name_of(layout, t));
        table.header.push_back("±95%");
        table.right_aligned.push_back(1);
        table.right_aligned.push_back(1);
    }
    table.group = 2;
    for (const auto& point : result.convergence) {
        std::vector<std::string> row = {
            readable_value(static_cast<double>(point.trials), MetricKind::count, plan.currency)};
        for (std::size_t w = 0; w < options.watch.size(); ++w) {
            const MetricKind kind = layout.kinds[options.watch[w].metric];
            if (options.watch[w].on_percentile()) {
                row.push_back(readable_value(point.intervals[w].value, kind, plan.currency));
                row.push_back(readable_error(point.intervals[w].half_width(), kind, plan.currency));
                continue;
            }
            row.push_back(readable_value(point.moments[w].mean, kind, plan.currency));
            row.push_back(readable_error(half_width(point.moments[w]), kind, plan.currency));
        }
        table.rows.push_back(std::move(row));
    }
    const bool percentiles =
        std::any_of(options.watch.begin(), options.watch.end(),
                    [](const PrecisionTarget& t) { return t.on_percentile(); });
    out << (percentiles ? "\nconvergence (mean or percentile, and 95% half-width):\n"
                        : "\nconvergence (mean and 95% half-width, 1.96 se):\n");
    print_text_table(out, table, table_width);
}

namespace {

const char* op_text(Threshold::Op op) {
    switch (op) {
        case Threshold::Op::less:
            return "<";
        case Threshold::Op::less_equal:
            return "<=";
        case Threshold::Op::greater:
            return ">";
        case Threshold::Op::greater_equal:
            return ">=";
    }
    return "?";
}

/// The share of trials in which event `i` held, and its standard error √(p(1−p)/N).
std::pair<double, double> probability_of(const RunResult& result, std::size_t i) {
    if (result.trials <= 0) return {0.0, 0.0};
    const double n = static_cast<double>(result.trials);
    const double p = static_cast<double>(result.threshold_counts[i]) / n;
    return {p, std::sqrt(p * (1 - p) / n)};
}

}  // namespace

std::vector<double> parse_percentiles(const std::string& text) {
    std::vector<double> percentiles;
    if (text.empty()) return percentiles;
    std::vector<Diagnostic> problems;
    auto problem = [&](const std::string& message) {
        problems.push_back({"--percentiles", {}, "", message});
    };
    std::vector<double> percents;
    std::size_t start = 0;
    for (;;) {
        const auto comma = std::min(text.find(',', start), text.size());
        const std::string item = text.substr(start, comma - start);
        double x = 0;
        const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), x);
        if (item.empty() || error != std::errc{} || end != item.data() + item.size() ||
            !(x > 0 && x < 100))
            problem(
                "each percentile must be a number above 0 and below 100 (5 for p5, 2.5 for "
                "p2.5), got '" +
                item + "'");
        else if (std::find(percents.begin(), percents.end(), x) != percents.end())
            problem("percentile " + item + " is given twice");
        else
            percents.push_back(x);
        if (comma == text.size()) break;
        start = comma + 1;
    }
    if (percents.size() > max_percentiles)
        problem("at most " + std::to_string(max_percentiles) + " percentiles, got " +
                std::to_string(percents.size()));
    if (!problems.empty()) throw InputError(problems);
    std::sort(percents.begin(), percents.end());
    for (double x : percents) percentiles.push_back(x / 100);
    return percentiles;
}

std::vector<Threshold> parse_prob(const std::vector<std::string>& args,
                                  const MetricLayout& layout) {
    std::vector<Threshold> events;
    std::vector<Diagnostic> problems;
    for (const auto& arg : args) {
        const auto at = arg.find_first_of("<>");
        if (at == std::string::npos) {
            problems.push_back({"--prob",
                                {},
                                "",
                                "expected METRIC<VALUE or METRIC>VALUE (also <=, >=), such as "
                                "'investors.multiple<0.5', got '" +
                                    arg + "'"});
            continue;
        }
        Threshold t;
        const bool equal = at + 1 < arg.size() && arg[at + 1] == '=';
        t.op = arg[at] == '<' ? (equal ? Threshold::Op::less_equal : Threshold::Op::less)
                              : (equal ? Threshold::Op::greater_equal : Threshold::Op::greater);
        const std::string name = arg.substr(0, at);
        const std::string value_text = arg.substr(at + (equal ? 2 : 1));
        const int index = metric_index(layout, name);
        if (index < 0)
            problems.push_back(
                {"--prob", {}, "", "no metric '" + name + "'" + did_you_mean(name, layout.names)});
        double value = 0;
        const auto [end, error] =
            std::from_chars(value_text.data(), value_text.data() + value_text.size(), value);
        const bool number = !value_text.empty() && error == std::errc{} &&
                            end == value_text.data() + value_text.size() && std::isfinite(value);
        if (!number)
            problems.push_back({"--prob",
                                {},
                                "",
                                "'" + arg +
                                    "': VALUE must be a number in the metric's unit "
                                    "(0.05 for 5%), got '" +
                                    value_text + "'"});
        if (index < 0 || !number) continue;
        t.metric = static_cast<std::size_t>(index);
        t.value = value;
        events.push_back(t);
    }
    if (!problems.empty()) throw InputError(problems);
    return events;
}

std::string event_text(const Threshold& t, const MetricLayout& layout) {
    return layout.names[t.metric] + op_text(t.op) + format_number(t.value);
}

void probabilities_table(TableSink& table, const RunOptions& options, const RunResult& result,
                         const MetricLayout& layout, const MetricUnits& units) {
    table.header({"event", "metric", "op", "value", "probability", "se", "count"});
    for (std::size_t i = 0; i < options.thresholds.size(); ++i) {
        const Threshold& t = options.thresholds[i];
        const auto [p, se] = probability_of(result, i);
        table.text(event_text(t, layout));
        table.text(layout.names[t.metric]);
        table.text(op_text(t.op));
        table.number(t.value, units.of(layout.names[t.metric]));
        table.number(p, Unit::percent);
        table.number(se, Unit::percent);
        table.integer(result.threshold_counts[i]);
        table.end_row();
    }
}

void print_probabilities(std::ostream& out, const RunOptions& options, const RunResult& result,
                         const MetricLayout& layout) {
    if (options.thresholds.empty()) return;
    TextTable table{{"event", "probability", "se"}, {0, 1, 1}, {}};
    for (std::size_t i = 0; i < options.thresholds.size(); ++i) {
        const auto [p, se] = probability_of(result, i);
        table.rows.push_back({"P(" + event_text(options.thresholds[i], layout) + ")",
                              readable_value(p, MetricKind::probability, ""),
                              readable_error(se, MetricKind::probability, "")});
    }
    out << "\n";
    print_text_table(out, table, std::numeric_limits<std::size_t>::max());
}

std::string probabilities_json(const RunOptions& options, const RunResult& result,
                               const MetricLayout& layout) {
    std::string json = "{";
    for (std::size_t i = 0; i < options.thresholds.size(); ++i) {
        const auto [p, se] = probability_of(result, i);
        json += (i ? ", " : "") + json_string(event_text(options.thresholds[i], layout)) +
                ": {\"p\": " + format_number(p) + ", \"se\": " + format_number(se) +
                ", \"count\": " + std::to_string(result.threshold_counts[i]) + "}";
    }
    return json + "}";
}

}  // namespace sib::cli
