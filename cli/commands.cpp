// The sibsim command line: subcommands parse their options (CLI11), load and validate scenarios,
// run the engine and write the outputs. Only this directory sees CLI11.
#include "commands.hpp"

#include "command_support.hpp"
#include "sensitivity_command.hpp"

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>

#include "progress.hpp"
#include "run_stats.hpp"
#include "sib/csv.hpp"
#include "sib/distributed.hpp"
#include "sib/indigo.hpp"
#include "sib/load.hpp"
#include "sib/participants.hpp"
#include "sib/plan.hpp"
#include "sib/plan_size.hpp"
#include "sib/readable.hpp"
#include "sib/report_html.hpp"
#include "sib/reports.hpp"
#include "sib/run.hpp"
#include "sib/settle.hpp"
#include "sib/sha256.hpp"
#include "sib/sweep.hpp"
#include "sib/xlsx.hpp"
#include "solve_command.hpp"

namespace sib::cli {

namespace {

/// run's own options beyond SimulationOptions.
struct RunStatsOptions {
    std::vector<std::string> precision;  ///< --precision METRIC=REL or METRIC.pP=ABS, repeatable
    bool convergence = false;            ///< --convergence
    std::vector<std::string> prob;       ///< --prob METRIC<VALUE, repeatable
    std::string percentiles;             ///< --percentiles 1,5,...
};

int run_command(const std::string& file, const SimulationOptions& o, bool per_trial,
                const std::string& quantiles, const RunStatsOptions& stats, std::ostream& out,
                std::ostream& err) {
    if (quantiles == "sketch" && !stats.precision.empty())
        throw RefusedRun(
            "--quantiles sketch cannot stop at a precision: a run that stops keeps every "
            "trial's values, so that its quantiles are exactly those of the trials it used; "
            "drop --quantiles sketch");
    // Under mpirun the blocks are dealt out in advance; a run that may stop early, or that
    // watches its blocks in order, is run as one process (docs/distributed.md).
    if (processes().count > 1 && (!stats.precision.empty() || stats.convergence))
        throw RefusedRun(std::string(stats.precision.empty() ? "--convergence" : "--precision") +
                         " is not available under mpirun: the blocks are dealt to the "
                         "processes in advance, so a run cannot stop at a precision or watch "
                         "its blocks in order; run it as one process (without mpirun)");
    // A usage error, reported before the scenario is read: trials.csv needs every trial's values.
    if (quantiles == "sketch" && per_trial)
        throw RefusedRun(
            "--quantiles sketch keeps no per-trial values, so it cannot write trials.csv "
            "(--per-trial); drop --per-trial or use --quantiles exact");
    const auto overrides = parse_overrides(o.sets);
    const std::string text = read_input(file);
    const Scenario scenario = load_scenario(text, file, overrides);
    check_memory(estimated_plan_bytes(scenario, o.threads), "use fewer cohorts, rules or periods");
    const Plan plan = compile(scenario);

    RunOptions options = run_options_of(scenario, o);
    const MetricLayout layout = metric_layout(plan);
    options.watch = parse_precision(stats.precision, layout);
    if (stats.convergence && options.watch.empty()) options.watch = watch_key_metrics(layout);
    options.thresholds = parse_prob(stats.prob, layout);
    options.percentiles = parse_percentiles(stats.percentiles);
    const double metric_count = static_cast<double>(layout.names.size());
    check_sheet_fits(o, "summary", metric_count + 1, 11, "use fewer cohorts or rules");
    if (per_trial)
        check_sheet_fits(o, "trials", static_cast<double>(options.trials) + 1, metric_count + 1,
                         "use -n " + std::to_string(xlsx_max_rows - 1) +
                             " or fewer, or write trials.csv alone (drop --xlsx)");
    // Exact quantiles (auto, the default, and exact) keep every value in trial order with
    // trials.csv or under 65,536 trials, and otherwise the values near the wanted ranks (about a
    // sixth of them at 1M trials, fewer beyond). They are taken up to 2,000,000 trials, with
    // trials.csv, or while the run fits in 2 GiB; beyond that auto takes the quantile sketch
    // (memory stops growing with trials) and exact refuses. docs/model.md, section 10.
    // --format indigo counts each trial's repayment category from its kept values.
    const bool keep_values = per_trial || o.format == "indigo";
    options.keep_trial_values = keep_values;
    options.exact_quantiles = true;
    const bool within_budget = keep_values || within_exact_budget(plan, options);
    if (quantiles == "exact" && !within_budget)
        throw RefusedRun("--quantiles exact would need about " +
                         gib_text(estimated_bytes(plan, options)) +
                         " GiB for this run, beyond the " + gib_text(exact_quantile_bytes) +
                         " GiB budget for exact quantiles; use --quantiles sketch (memory stays "
                         "flat, rank error under 0.05%) or fewer trials (-n)");
    options.exact_quantiles = quantiles != "sketch" && within_budget;
    // The report's fan chart of cumulative cash flows needs the sampled trials' flows. Its
    // histograms draw every trial's value: kept in trial order (as for --per-trial) while the run
    // with them stays within 2,000,000 trials or 2 GiB; beyond that the report draws each
    // distribution from its quantiles (docs/outputs.md, "report").
    options.keep_cashflow_sample = !o.report.empty();
    if (!o.report.empty() && options.exact_quantiles && !options.keep_trial_values) {
        RunOptions keeping = options;
        keeping.keep_trial_values = true;
        options.keep_trial_values = within_exact_budget(plan, keeping);
    }
    const std::string report = report_path(o.report);
    check_memory(estimated_bytes(plan, options),
                 per_trial ? "use fewer trials (-n) or drop --per-trial" : "use fewer trials (-n)");
    Progress progress(options.trials, !o.quiet, err, stderr_is_terminal(err));
    options.progress = [&](long long done) { progress.update(done); };
    SignalGuard signals;
    OutputFolder folder(o.out_dir);  // checked and locked before any trial
    check_workbook_directory(o);     // after -o, which may create it
    start_together();                // under mpirun: blocks dealt to the processes
    options.spread = true;
    const RunResult result = run(plan, options);
    progress.finish();  // the line is cleared before anything else is printed
    if (result.cancelled) {
        err << "sibsim: interrupted; no output written\n";
        return interrupted_status();
    }
    if (!writes_outputs()) return exit_ok;

    {
        RunOptions used = options;  // run.csv's `trials`: those used, when a precision stopped
        used.trials = result.trials;
        Provenance provenance = provenance_of(file, text, o.sets, used);
        provenance.push_back({"quantiles", options.exact_quantiles ? "exact" : "sketch"});
        add_stop_provenance(provenance, options, result, layout);
        const MetricUnits units(plan);
        std::vector<Table> tables = {
            {"summary", [&](TableSink& t) { summary_table(t, result, units); }},
            {"cashflows", [&](TableSink& t) { cashflows_table(t, plan, result); }}};
        if (per_trial)
            tables.push_back({"trials", [&](TableSink& t) { trials_table(t, result, units); }});
        if (stats.convergence)
            tables.push_back({"convergence", [&](TableSink& t) {
                                  convergence_table(t, options, result, layout, units);
                              }});
        if (!options.thresholds.empty())
            tables.push_back({"probabilities", [&](TableSink& t) {
                                  probabilities_table(t, options, result, layout, units);
                              }});
        tables.push_back({"run", [&](TableSink& t) { provenance_table(t, provenance); }});
        WorkbookStyle style = workbook_style(plan);
        style.large = per_trial;
        OutputFiles files = output_files(tables, o, style);
        if (!report.empty())
            files.push_back(
                {report, [&](std::ostream& s) { write_run_report(s, plan, result, provenance); }});
        folder.write(files);
    }
    if (!o.quiet) {
        if (o.format == "json") {
            Provenance extra;
            if (!stats.precision.empty())
                extra.push_back({"stop", stop_json(options, result, layout)});
            if (!options.thresholds.empty())
                extra.push_back({"probabilities", probabilities_json(options, result, layout)});
            print_json(out, result, extra);
        } else if (o.format == "indigo") {
            print_indigo(out, plan, result);
        } else if (o.format == "csv") {
            write_summary(out, result);
        } else {
            print_table(out, plan, result);
            print_probabilities(out, options, result, layout);
            print_stop(out, options, result, layout, plan.currency);
            if (stats.convergence) print_convergence(out, plan, options, result, layout);
        }
    }
    return exit_ok;
}

/// Most points a sweep's grid may have, and most trials over all its points (ten runs of the
/// largest size): checked before the grid is built, so a typo cannot start an endless sweep or
/// exhaust memory listing the points (docs/limits.md).
constexpr double max_grid_points = 100000;
constexpr double max_sweep_trials = 1e10;

[[noreturn]] void refuse_grid_trials(double trials) {
    throw RefusedRun("--vary: the sweep would run " + format_number(trials) +
                     " trials over all its points, more than " + format_number(max_sweep_trials) +
                     "; use fewer trials (-n) or vary fewer values");
}

void check_grid_size(const std::vector<VaryAxis>& axes, const std::optional<long long>& trials) {
    double points = 1;
    std::string sizes;
    for (const auto& axis : axes) {
        points *= static_cast<double>(axis.values.size());
        sizes += (sizes.empty() ? "" : " × ") + std::to_string(axis.values.size());
    }
    if (points > max_grid_points)
        throw RefusedRun("--vary: the grid has " + format_number(points) + " points (" + sizes +
                         " values), more than " + format_number(max_grid_points) +
                         "; vary fewer values or use larger steps");
    if (trials && points * static_cast<double>(*trials) > max_sweep_trials)
        refuse_grid_trials(points * static_cast<double>(*trials));
}

int sweep_command(const std::string& file, const std::vector<std::string>& varies,
                  const std::string& metrics_arg, const SimulationOptions& o, std::ostream& out,
                  std::ostream& err) {
    const auto overrides = parse_overrides(o.sets);
    const std::vector<VaryAxis> axes =
        parse_all(varies, [](const std::string& v) { return parse_vary(v); });
    check_grid_size(axes, o.trials);
    const auto points = grid_points(axes);
    const std::string text = read_input(file);

    // Every point is loaded and checked before any is run: a bad value fails the sweep at once.
    std::vector<Plan> plans;
    std::vector<RunOptions> options;
    double plan_bytes = 0;
    long long total_trials = 0;
    for (const auto& point : points) {
        std::vector<Override> point_overrides = overrides;
        for (std::size_t a = 0; a < axes.size(); ++a)
            point_overrides.push_back({axes[a].path, point[a]});
        const Scenario scenario = load_scenario(text, file, point_overrides);
        plan_bytes += estimated_plan_bytes(scenario, o.threads);  // every point's plan is kept
        check_memory(plan_bytes, "use fewer cohorts, rules or periods");
        plans.push_back(compile(scenario));
        options.push_back(run_options_of(scenario, o));
        options.back().keep_trial_values = false;
        options.back().quantiles = false;  // sweep.csv reports means and standard errors
        total_trials += options.back().trials;
        // Trials from the scenario (no -n): the sum is known only now, still before any runs.
        if (static_cast<double>(total_trials) > max_sweep_trials)
            refuse_grid_trials(static_cast<double>(total_trials));
    }
    const std::vector<std::string> metrics =
        parse_metrics(metrics_arg, metric_layout(plans.front()).names);
    const double sweep_metrics_count = static_cast<double>(
        metrics.empty() ? metric_layout(plans.front()).names.size() : metrics.size());
    check_sheet_fits(o, "sweep", static_cast<double>(points.size()) + 1,
                     static_cast<double>(axes.size()) + 2 * sweep_metrics_count,
                     "choose fewer metrics (--metrics)");
    const std::string report = report_path(o.report);

    // Points in parallel (one thread each) when there are at least as many points as threads;
    // otherwise one point at a time on all threads. Either way every figure is the same.
    const bool by_point = static_cast<int>(points.size()) >= o.threads;
    double needed = 0;  // points run at once: up to one per thread, or one on all threads
    for (std::size_t p = 0; p < points.size(); ++p) {
        RunOptions opt = options[p];
        opt.threads = by_point ? 1 : o.threads;
        needed = std::max(needed, estimated_bytes(plans[p], opt) * (by_point ? o.threads : 1));
    }
    check_memory(needed, "use fewer trials (-n) or fewer threads (-j)");
    Progress progress(total_trials, !o.quiet, err, stderr_is_terminal(err));
    std::atomic<long long> finished_trials{0};
    std::vector<RunResult> results(points.size());
    std::atomic<std::size_t> next{0};
    SignalGuard signals;
    OutputFolder folder(o.out_dir);  // checked and locked before any point runs
    check_workbook_directory(o);     // after -o, which may create it
    start_together();                // under mpirun: points dealt to the processes
    auto work = [&] {
        for (std::size_t p = next++; p < points.size(); p = next++) {
            if (!owns_row(p)) continue;
            RunOptions opt = options[p];
            opt.threads = by_point ? 1 : o.threads;
            // Called from every thread of this point's run, and not in order: only a larger
            // count than the one reported so far is added (a data race before, under -j > 1).
            std::atomic<long long> reported{0};
            opt.progress = [&](long long done) {
                long long before = reported.load();
                while (done > before && !reported.compare_exchange_weak(before, done)) {
                }
                if (done > before) progress.update(finished_trials += done - before);
            };
            results[p] = run(plans[p], opt);
        }
    };
    {
        std::vector<std::jthread> pool;
        for (int t = 1; by_point && t < o.threads; ++t) pool.emplace_back(work);
        work();
    }
    share_rows(results);
    progress.finish();
    for (const auto& r : results)
        if (r.cancelled) {
            err << "sibsim: interrupted; no output written\n";
            return interrupted_status();
        }

    {
        Provenance provenance = provenance_of(file, text, o.sets, options.front());
        for (const auto& v : varies) provenance.push_back({"vary", v});
        MetricUnits units;
        for (const auto& plan : plans) units.add(plan);
        const std::vector<Table> tables = {
            {"sweep", [&](TableSink& t) { sweep_table(t, axes, points, results, metrics, units); }},
            {"run", [&](TableSink& t) { provenance_table(t, provenance); }}};
        OutputFiles files = output_files(tables, o, workbook_style(plans.front()));
        if (!report.empty())
            files.push_back({report, [&](std::ostream& s) {
                                 write_sweep_report(s, plans.front(), axes, points, results,
                                                    metrics, provenance);
                             }});
        folder.write(files);
    }
    if (!o.quiet) {
        if (o.format == "json") {
            out << "[";
            for (std::size_t p = 0; p < points.size(); ++p) {
                out << (p ? ",\n " : "\n ") << "{";
                for (std::size_t a = 0; a < axes.size(); ++a)
                    out << json_string(axes[a].path) << ": " << json_string(points[p][a]) << ", ";
                // Means and standard errors of the chosen metrics (all by default), as sweep.csv.
                out << "\"metrics\": {";
                const char* separator = "";
                for (const auto& m : results[p].metrics) {
                    if (!metrics.empty() &&
                        std::find(metrics.begin(), metrics.end(), m.name) == metrics.end())
                        continue;
                    out << separator << json_string(m.name)
                        << ": {\"mean\": " << format_number(m.moments.mean)
                        << ", \"se\": " << format_number(m.moments.se()) << "}";
                    separator = ", ";
                }
                out << "}}";
            }
            out << "\n]\n";
        } else if (o.format == "csv") {
            write_sweep(out, axes, points, results, metrics);
        } else {
            const MetricLayout layout = metric_layout(plans.front());
            const auto shown = metrics.empty() ? key_metrics(layout) : metrics;
            out << printable(plans.front().name) << ": " << points.size() << " points, "
                << options.front().trials << " trials each, seed " << options.front().seed
                << ", money in " << printable(plans.front().currency) << "\n\n";
            print_sweep(out, axes, points, results, plans, shown);
            if (metrics.empty())
                print_key_metrics_note(out, shown.size(), layout.names.size(), file, "sweep.csv");
        }
    }
    return exit_ok;
}

int compare_command(const std::vector<std::string>& files, const std::string& metrics_arg,
                    const SimulationOptions& o, std::ostream& out, std::ostream& err) {
    const auto overrides = parse_overrides(o.sets);
    std::vector<std::string> texts;  // read once: hashed in run.csv as loaded
    const std::vector<Scenario> scenarios = parse_all(files, [&](const std::string& file) {
        texts.push_back(read_input(file));
        return load_scenario(texts.back(), file, overrides);
    });

    // Same trials and seed for all: the first scenario's unless given on the command line.
    RunOptions options = run_options_of(scenarios.front(), o);
    // compare.csv holds means and paired differences only: every value is kept for the pairing,
    // and no quantiles are selected from them.
    options.quantiles = false;
    std::vector<Plan> plans;
    double plan_bytes = 0;
    for (const auto& scenario : scenarios) plan_bytes += estimated_plan_bytes(scenario, o.threads);
    check_memory(plan_bytes, "use fewer cohorts, rules or periods");
    double needed = 0;  // every scenario's values are kept for the paired differences
    for (const auto& scenario : scenarios) {
        plans.push_back(compile(scenario));
        needed += estimated_bytes(plans.back(), options);
    }
    std::vector<std::string> known;      // every metric of any scenario, in first-seen order
    std::vector<std::string> key_names;  // and the key ones
    for (const auto& plan : plans) {
        const MetricLayout layout = metric_layout(plan);
        for (const auto& m : layout.names)
            if (std::find(known.begin(), known.end(), m) == known.end()) known.push_back(m);
        for (const auto& m : key_metrics(layout))
            if (std::find(key_names.begin(), key_names.end(), m) == key_names.end())
                key_names.push_back(m);
    }
    const std::vector<std::string> chosen = parse_metrics(metrics_arg, known);
    // --metrics chooses the rows of compare.csv and of every format, in its order.
    auto rows_of = [&](const std::vector<ComparisonRow>& all,
                       const std::vector<std::string>& names) {
        std::vector<ComparisonRow> picked;
        for (const auto& name : names)
            for (const auto& row : all)
                if (row.metric == name) picked.push_back(row);
        return picked;
    };
    check_memory(needed, "use fewer trials (-n)");
    MetricUnits units;  // also counts compare.csv's rows: every metric of any scenario
    std::vector<std::string> all_metrics;
    for (const auto& plan : plans) {
        units.add(plan);
        for (const auto& name : metric_layout(plan).names)
            if (std::find(all_metrics.begin(), all_metrics.end(), name) == all_metrics.end())
                all_metrics.push_back(name);
    }
    check_sheet_fits(o, "compare", static_cast<double>(all_metrics.size()) + 1,
                     3.0 * static_cast<double>(plans.size()) - 1, "compare fewer scenarios");
    const std::string report = report_path(o.report);
    Progress progress(options.trials * static_cast<long long>(scenarios.size()), !o.quiet, err,
                      stderr_is_terminal(err));
    SignalGuard signals;
    OutputFolder folder(o.out_dir);  // checked and locked before any trial
    check_workbook_directory(o);     // after -o, which may create it
    start_together();                // under mpirun: each scenario's blocks dealt out
    options.spread = true;
    std::vector<RunResult> results;
    std::vector<std::string> names;
    for (std::size_t i = 0; i < scenarios.size(); ++i) {
        const long long before = options.trials * static_cast<long long>(i);
        options.progress = [&](long long done) { progress.update(before + done); };
        results.push_back(run(plans[i], options));
        if (results.back().cancelled) {
            progress.finish();
            err << "sibsim: interrupted; no output written\n";
            return interrupted_status();
        }
        // Columns are named by file stem; a repeated stem gets a number appended until unique.
        std::string name = stem_of(files[i]);
        for (std::size_t k = i + 1; std::find(names.begin(), names.end(), name) != names.end(); ++k)
            name = stem_of(files[i]) + "-" + std::to_string(k);
        names.push_back(name);
    }
    progress.finish();
    if (!writes_outputs()) return exit_ok;
    const auto all_rows = compare_results(results);
    const auto rows = chosen.empty() ? all_rows : rows_of(all_rows, chosen);
    {
        Provenance provenance = {{"sibsim_version", SIBSIM_VERSION}};
        for (std::size_t i = 0; i < files.size(); ++i) {
            provenance.push_back({"scenario", files[i]});
            provenance.push_back({"scenario_sha256", sha256_hex(texts[i])});
        }
        for (const auto& s : o.sets) provenance.push_back({"set", s});
        provenance.push_back({"seed", std::to_string(options.seed)});
        provenance.push_back({"trials", std::to_string(options.trials)});
        const std::vector<Table> tables = {
            {"compare", [&](TableSink& t) { compare_table(t, names, rows, units); }},
            {"run", [&](TableSink& t) { provenance_table(t, provenance); }}};
        OutputFiles outputs = output_files(tables, o, workbook_style(plans.front()));
        if (!report.empty())
            outputs.push_back({report, [&](std::ostream& s) {
                                   write_compare_report(s, plans, names, results, rows, provenance);
                               }});
        folder.write(outputs);
    }
    if (!o.quiet) {
        if (o.format == "json") {
            out << "{";
            for (std::size_t r = 0; r < rows.size(); ++r) {
                out << (r ? ",\n  " : "\n  ") << json_string(rows[r].metric) << ": {";
                const char* sep = "";
                auto field = [&](const std::string& key, const std::optional<double>& v) {
                    if (!v) return;
                    out << sep << json_string(key) << ": " << format_number(*v);
                    sep = ", ";
                };
                for (std::size_t k = 0; k < names.size(); ++k) field(names[k], rows[r].means[k]);
                for (std::size_t k = 1; k < names.size(); ++k) {
                    field("diff." + names[k], rows[r].diffs[k - 1]);
                    field("diff_se." + names[k], rows[r].diff_ses[k - 1]);
                }
                out << "}";
            }
            out << "\n}\n";
        } else if (o.format == "csv") {
            write_compare(out, names, rows);
        } else {
            const std::string first = printable(names.front());
            out << "Compared with " << first << " on common random numbers: " << options.trials
                << " trials, seed " << options.seed << ", money in "
                << printable(plans.front().currency) << "\ndiff: the scenario's mean less " << first
                << "'s; se: the standard error of diff, from paired trials\n\n";
            print_compare(out, names, chosen.empty() ? rows_of(all_rows, key_names) : rows, plans);
            if (chosen.empty())
                print_key_metrics_note(out, key_names.size(), known.size(), files.front(),
                                       "compare.csv");
        }
    }
    return exit_ok;
}

/// The name of a metric kind, as `sibsim metrics` and docs/outputs.md write it.
const char* kind_name(MetricKind kind) {
    switch (kind) {
        case MetricKind::money:
            return "money";
        case MetricKind::probability:
            return "probability";
        case MetricKind::rate:
            return "annual rate";
        case MetricKind::relative:
            return "relative";
        case MetricKind::ratio:
            return "ratio";
        case MetricKind::count:
            return "count";
    }
    return "";
}

/// `sibsim metrics SCENARIO`: every metric the scenario produces, in summary.csv's order, with
/// its kind and a one-line meaning.
int metrics_command(const std::string& file, const SimulationOptions& o, std::ostream& out) {
    const auto overrides = parse_overrides(o.sets);
    const Scenario scenario = load_scenario(read_input(file), file, overrides);
    check_memory(estimated_plan_bytes(scenario), "use fewer cohorts, rules or periods");
    const MetricLayout layout = metric_layout(compile(scenario));
    if (o.format == "csv") {
        CsvWriter csv(out, {"metric", "unit", "meaning"});
        for (std::size_t m = 0; m < layout.names.size(); ++m) {
            csv.add(layout.names[m]);
            csv.add(layout.kinds[m] == MetricKind::money
                        ? std::string("money (") + scenario.currency + ")"
                        : std::string(kind_name(layout.kinds[m])));
            csv.add(layout.meanings[m]);
            csv.end_row();
        }
        return exit_ok;
    }
    TextTable table{{"metric", "unit", "meaning"}, {0, 0, 0}, {}};
    for (std::size_t m = 0; m < layout.names.size(); ++m)
        table.rows.push_back({layout.names[m],
                              layout.kinds[m] == MetricKind::money
                                  ? std::string("money (") + scenario.currency + ")"
                                  : std::string(kind_name(layout.kinds[m])),
                              layout.meanings[m]});
    // One block: the meanings are the last column and may run past any width.
    print_text_table(out, table, std::numeric_limits<std::size_t>::max());
    return exit_ok;
}

int settle_command(const std::string& file, const std::string& observed_file,
                   const std::string& participants_file, bool partial, const SimulationOptions& o,
                   std::ostream& out, std::ostream& err) {
    const auto overrides = parse_overrides(o.sets);
    std::vector<Diagnostic> problems;
    std::optional<Scenario> scenario;
    std::optional<Observed> observed;
    std::optional<Participants> participants;
    // Read once: hashed in run.csv as loaded.
    std::string text, observed_text, participants_text;
    try {
        text = read_input(file);
        scenario = load_scenario(text, file, overrides);
    } catch (const InputError& e) {
        problems.insert(problems.end(), e.diagnostics().begin(), e.diagnostics().end());
    }
    try {
        if (observed_file.empty()) {
            observed = Observed{};  // participant rows only
        } else {
            observed_text = read_input(observed_file);
            observed = load_observed(observed_text, observed_file);
        }
    } catch (const InputError& e) {
        problems.insert(problems.end(), e.diagnostics().begin(), e.diagnostics().end());
    }
    if (!participants_file.empty()) {
        try {
            participants_text = read_input(participants_file);
            participants = load_participants(participants_text, participants_file);
        } catch (const InputError& e) {
            problems.insert(problems.end(), e.diagnostics().begin(), e.diagnostics().end());
        }
    }
    if (!problems.empty()) throw InputError(problems);
    const std::string report = report_path(o.report);

    check_memory(estimated_plan_bytes(*scenario), "use fewer cohorts, rules or periods");
    const Plan plan = compile(*scenario);
    const MetricLayout metrics = metric_layout(plan);
    SignalGuard signals;  // a signal while writing: no file left half-written (OutputFolder)
    OutputFolder folder(o.out_dir);  // checked and locked before the settlement
    check_workbook_directory(o);
    TrialState state(plan);
    std::vector<std::string> notes;
    settle_observed(plan, *observed,
                    SettleOptions{partial, participants ? &*participants : nullptr}, metrics,
                    party_layout(plan), state, notes);
    if (interrupted) throw Interrupted{};
    for (const auto& note : notes) err << "sibsim: note: " << note << "\n";

    {
        Provenance provenance = {{"sibsim_version", SIBSIM_VERSION},
                                 {"scenario", file},
                                 {"scenario_sha256", sha256_hex(text)}};
        if (!observed_file.empty()) {
            provenance.push_back({"observed", observed_file});
            provenance.push_back({"observed_sha256", sha256_hex(observed_text)});
        }
        if (!participants_file.empty()) {
            provenance.push_back({"participants", participants_file});
            provenance.push_back({"participants_sha256", sha256_hex(participants_text)});
        }
        for (const auto& s : o.sets) provenance.push_back({"set", s});
        const std::vector<Table> tables = {
            {"payments", [&](TableSink& t) { payments_table(t, plan, state); }},
            {"cashflows", [&](TableSink& t) { settled_cashflows_table(t, plan, state); }},
            {"run", [&](TableSink& t) { provenance_table(t, provenance); }}};
        OutputFiles files = output_files(tables, o, workbook_style(plan));
        if (!report.empty())
            files.push_back({report, [&](std::ostream& s) {
                                 write_settle_report(s, plan, metrics, state, provenance);
                             }});
        folder.write(files);
    }
    if (!o.quiet) {
        if (o.format == "csv") {
            write_payments(out, plan, state);
        } else if (o.format == "json") {
            out << "{";
            for (std::size_t m = 0; m < metrics.names.size(); ++m)
                out << (m ? ",\n  " : "\n  ") << json_string(metrics.names[m]) << ": "
                    << (std::isnan(state.metrics[m]) ? std::string("null")
                                                     : format_number(state.metrics[m]));
            out << "\n}\n";
        } else {
            print_settlement(out, plan, metrics, state);
        }
    }
    return exit_ok;
}

}  // namespace

int main(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
    CLI::App app{
        "sibsim: Monte Carlo simulation of Social Impact Bond and outcomes-contract payments"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("sibsim ") + SIBSIM_VERSION);

    std::vector<std::string> validate_files;
    auto* validate_cmd =
        app.add_subcommand("validate", "Check scenario files; print 'ok' per valid file");
    validate_cmd->add_option("SCENARIO", validate_files, "Scenario files")->required();
    validate_cmd->footer("Example: sibsim validate scenarios/*.yaml");

    std::string run_file;
    SimulationOptions run_options;
    bool per_trial = false;
    auto* run_cmd =
        app.add_subcommand("run", "Simulate a scenario; print a summary, write CSV with -o");
    run_cmd->add_option("SCENARIO", run_file, "Scenario file")->required();
    add_simulation_options(*run_cmd, run_options);
    // run alone also prints the INDIGO figures (docs/outputs.md, "INDIGO figures").
    run_cmd->get_option("--format")->get_validator(0)->active(false);
    run_cmd->get_option("--format")
        ->check(CLI::IsMember({"table", "csv", "json", "indigo"}))
        ->description(
            "Summary on stdout: table (rounded for reading), csv or json (in full), or "
            "indigo (the INDIGO data standard's fields, JSON)");
    run_cmd->add_flag("--per-trial", per_trial,
                      "Also write trials.csv (one row per trial), or the trials sheet of --xlsx; "
                      "needs -o or --xlsx");
    std::string run_quantiles = "auto";
    run_cmd
        ->add_option("--quantiles", run_quantiles,
                     "Summary quantiles: auto (default: exact while the run fits in 2 GiB "
                     "or up to 2,000,000 trials, else sketch), exact (refuse beyond that "
                     "budget) or sketch (flat memory, rank error under 0.05%; not with "
                     "--per-trial); docs/outputs.md")
        ->check(CLI::IsMember({"auto", "exact", "sketch"}));
    RunStatsOptions run_stats;
    repeatable(run_cmd->add_option(
        "--precision", run_stats.precision,
        "METRIC=REL (repeatable): stop once every named metric's mean is known to within "
        "REL x |mean| at 95% (1.96 standard errors), checked after each block of 1,024 trials "
        "from 4,096 on; -n is then the most trials; REL as 0.01 or 1%. METRIC.pP=ABS: "
        "the same for percentile P (p95, p2.5), stopping once its 95% order-statistic "
        "interval has half-width at most ABS, in the metric's unit"));
    run_cmd->add_flag("--convergence", run_stats.convergence,
                      "Also show (and write convergence.csv with -o) the mean and 95% half-width "
                      "of the --precision metrics, or of the key metrics, at 1,024, 2,048, "
                      "4,096, ... trials");
    run_cmd->add_option("--percentiles", run_stats.percentiles,
                        "Percentages whose quantiles replace p5,p25,p50,p75,p95 in summary.csv, "
                        "the table and JSON, e.g. 1,5,10,90,99 (above 0, below 100, each once, "
                        "at most 16; columns p1, p2.5, ...)");
    repeatable(run_cmd->add_option(
        "--prob", run_stats.prob,
        "METRIC<VALUE or METRIC>VALUE (also <=, >=; repeatable; quote it in a "
        "shell): the share of trials in which it holds, with its standard error; "
        "written to probabilities.csv with -o"));
    run_cmd->footer("Example: sibsim run scenarios/peterborough.yaml -n 100000 -o out/");

    std::string sweep_file, sweep_metrics;
    std::vector<std::string> varies;
    SimulationOptions sweep_options;
    auto* sweep_cmd = app.add_subcommand(
        "sweep", "Run a full grid of values on common random numbers; write sweep.csv");
    sweep_cmd->add_option("SCENARIO", sweep_file, "Scenario file")->required();
    repeatable(sweep_cmd
                   ->add_option("--vary", varies,
                                "PATH=a:b:step (inclusive) or PATH=v1,v2,... (repeatable)")
                   ->required());
    sweep_cmd->add_option("--metrics", sweep_metrics,
                          "Comma-separated metrics for sweep.csv and stdout (default: all in "
                          "sweep.csv, csv and json; the key metrics in the table)");
    add_simulation_options(*sweep_cmd, sweep_options);
    // sweep and compare compute no quantiles: --quantiles is accepted (hidden) only to explain.
    std::string sweep_quantiles, compare_quantiles;
    auto* sweep_quantiles_option = sweep_cmd->add_option("--quantiles", sweep_quantiles)->group("");
    sweep_cmd->footer(
        "Example: sibsim sweep scenarios/peterborough.yaml --vary "
        "payments.cohort-trigger.threshold=0.05:0.15:0.025 "
        "--metrics payments.total,investors.irr -o out/");

    std::vector<std::string> compare_files;
    std::string compare_metrics;
    SimulationOptions compare_options;
    auto* compare_cmd =
        app.add_subcommand("compare", "Run scenarios on common random numbers; write compare.csv");
    compare_cmd
        ->add_option("SCENARIO", compare_files,
                     "Two or more scenario files; the first is the reference")
        ->required()
        ->expected(2, 1000);
    compare_cmd->add_option("--metrics", compare_metrics,
                            "Comma-separated metrics for compare.csv and stdout (default: all "
                            "in compare.csv, csv and json; the key metrics in the table)");
    add_simulation_options(*compare_cmd, compare_options);
    auto* compare_quantiles_option =
        compare_cmd->add_option("--quantiles", compare_quantiles)->group("");
    compare_cmd->footer(
        "Example: sibsim compare scenarios/peterborough.yaml alternative.yaml -n 100000 -o out/");

    std::string metrics_file;
    SimulationOptions metrics_options;
    auto* metrics_cmd = app.add_subcommand(
        "metrics", "List every metric a scenario produces, with its unit and meaning");
    metrics_cmd->add_option("SCENARIO", metrics_file, "Scenario file")->required();
    repeatable(metrics_cmd->add_option("--set", metrics_options.sets,
                                       "Override a scenario value: PATH=VALUE (repeatable)"));
    metrics_cmd->add_option("--format", metrics_options.format, "stdout: table or csv")
        ->check(CLI::IsMember({"table", "csv"}));
    metrics_cmd->footer("Example: sibsim metrics scenarios/peterborough.yaml");

    std::string settle_file, observed_file, participants_file;
    bool settle_partial = false;
    SimulationOptions settle_options;
    auto* settle_cmd = app.add_subcommand(
        "settle", "Apply the rules, caps, payers and waterfall to observed results");
    settle_cmd->add_option("SCENARIO", settle_file, "Scenario file")->required();
    settle_cmd->add_option("--observed", observed_file,
                           "YAML file of observed results (docs/outputs.md, \"settle\")");
    settle_cmd->add_option("--participants", participants_file,
                           "CSV file of participant-level results, one row per participant "
                           "(docs/outputs.md, \"settle\")");
    settle_cmd->add_flag("--partial", settle_partial,
                         "Settle even when an outcome the rules use is not observed: those rules "
                         "are not assessed");
    settle_options.out_option = settle_cmd->add_option(
        "-o,--out", settle_options.out_dir, "Directory for payments.csv, cashflows.csv, run.csv");
    settle_options.report_option = add_report_option(*settle_cmd, settle_options.report);
    repeatable(settle_cmd->add_option("--set", settle_options.sets,
                                      "Override a scenario value: PATH=VALUE (repeatable)"));
    settle_cmd->add_option("--format", settle_options.format, "stdout: table, csv or json")
        ->check(CLI::IsMember({"table", "csv", "json"}));
    settle_cmd->add_flag("--quiet", settle_options.quiet, "Print nothing on stdout");
    add_xlsx_option(*settle_cmd, settle_options);
    settle_cmd->footer(
        "Example: sibsim settle scenarios/augsburg.yaml --observed "
        "tests/data/observed/augsburg-20.yaml -o out/");

    // Commands defined in their own files (cli/*_command.cpp) add themselves here.
    std::vector<CommandHook> hooks;
    hooks.push_back(add_solve_command(app));
    hooks.push_back(add_sensitivity_command(app));

    // Output that never reached stdout (a full disk, a closed pipe) is a failure, not a success.
    auto flushed = [&](int status) {
        errno = 0;
        out.flush();
        if (out || status != exit_ok) return status;
        err << "sibsim: error: cannot write to standard output"
            << (errno ? std::string(": ") + std::strerror(errno) : std::string()) << '\n';
        return exit_failure;
    };
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version are "errors" with exit code 0; their text must reach stdout too.
        const int code = app.exit(e, out, err);
        return code == 0 ? flushed(exit_ok) : exit_invalid;
    }
    // `-o ""` names no folder: refused as usage rather than silently writing nothing.
    try {
        for (const SimulationOptions* o :
             {&run_options, &sweep_options, &compare_options, &settle_options})
            check_output_options(*o);
    } catch (const RefusedRun& e) {
        err << "sibsim: error: " << e.what() << '\n';
        return exit_invalid;
    }
    if (*run_cmd && per_trial && run_options.out_dir.empty() && run_options.xlsx.empty()) {
        err << "sibsim: error: --per-trial: the trials go to trials.csv or to the workbook's "
               "trials sheet; give -o DIR, --xlsx FILE.xlsx or both\n";
        return exit_invalid;
    }
    if (*sweep_cmd && sweep_quantiles_option->count() > 0) {
        err << "sibsim: error: --quantiles: sweep reports means and standard errors only, no "
               "quantiles (use run for them)\n";
        return exit_invalid;
    }
    if (*compare_cmd && compare_quantiles_option->count() > 0) {
        err << "sibsim: error: --quantiles: compare reports means and paired differences only, "
               "no quantiles, and keeps every trial's values for the pairing (so there is no "
               "sketch); use run for quantiles\n";
        return exit_invalid;
    }
    try {
        if (*validate_cmd) return flushed(validate(validate_files, out, err));
        if (*run_cmd)
            return flushed(
                run_command(run_file, run_options, per_trial, run_quantiles, run_stats, out, err));
        if (*sweep_cmd)
            return flushed(
                sweep_command(sweep_file, varies, sweep_metrics, sweep_options, out, err));
        if (*metrics_cmd) return flushed(metrics_command(metrics_file, metrics_options, out));
        if (*compare_cmd)
            return flushed(
                compare_command(compare_files, compare_metrics, compare_options, out, err));
        if (*settle_cmd && observed_file.empty() && participants_file.empty()) {
            err << "sibsim: error: settle needs observed results: --observed FILE.yaml, "
                   "--participants FILE.csv, or both\n";
            return exit_invalid;
        }
        for (const CommandHook& hook : hooks)
            if (*hook.command) return flushed(hook.run(out, err));
        if (*settle_cmd)
            return flushed(settle_command(settle_file, observed_file, participants_file,
                                          settle_partial, settle_options, out, err));
    } catch (const InputError& e) {
        print_errors(e, err);
        return exit_invalid;
    } catch (const PeerFailed& e) {
        return e.status;
    } catch (const Interrupted&) {
        err << "sibsim: interrupted; no output written\n";
        return interrupted_status();
    } catch (const RefusedRun& e) {
        err << "sibsim: error: " << e.what() << '\n';
        return exit_invalid;
    } catch (const OutputError& e) {
        err << "sibsim: error: " << e.what() << '\n';
        return exit_failure;
    } catch (const std::exception& e) {
        err << "sibsim: error: " << e.what() << '\n';
        return exit_failure;
    }
    return exit_failure;
}

}  // namespace sib::cli
