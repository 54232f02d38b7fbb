#include "solve_command.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "progress.hpp"
#include "sib/csv.hpp"
#include "sib/plan.hpp"
#include "sib/plan_size.hpp"
#include "sib/readable.hpp"
#include "sib/report_html.hpp"
#include "sib/solve.hpp"

namespace sib::cli {

namespace {

struct SolveArguments {
    std::string file;
    std::string vary;
    std::string target;
    SimulationOptions options;
};

/// `x` with as many decimals as show the interval's half-width to two significant figures, so
/// that the digits printed are the digits known.
std::string rounded_to(double x, double half_width) {
    if (!(half_width > 0) || !std::isfinite(half_width)) return format_number(x);
    const int decimals =
        std::clamp(1 - static_cast<int>(std::floor(std::log10(half_width))), 0, 15);
    return with_thousands(x, decimals);
}

int solve_command(const SolveArguments& a, std::ostream& out, std::ostream& err) {
    const SimulationOptions& o = a.options;
    check_output_options(o);
    const auto overrides = parse_overrides(o.sets);
    // Both arguments are checked together: every bad one is reported at once.
    std::vector<Diagnostic> problems;
    SolveInterval interval;
    SolveTarget target;
    try {
        interval = parse_solve_interval(a.vary);
    } catch (const InputError& e) {
        problems.insert(problems.end(), e.diagnostics().begin(), e.diagnostics().end());
    }
    try {
        target = parse_solve_target(a.target);
    } catch (const InputError& e) {
        problems.insert(problems.end(), e.diagnostics().begin(), e.diagnostics().end());
    }
    if (!problems.empty()) throw InputError(problems);
    const std::string text = read_input(a.file);

    // The scenario at x: the --set overrides, then PATH = x (a distribution becomes a constant).
    auto scenario_at = [&](double x) {
        std::vector<Override> at = overrides;
        at.push_back({interval.path, solve_value_text(x)});
        return load_scenario(text, a.file, at);
    };
    // Both ends are loaded and checked before anything runs; the metric must be one of LO's.
    const Scenario first = scenario_at(interval.lo);
    scenario_at(interval.hi);
    check_memory(estimated_plan_bytes(first, o.threads), "use fewer cohorts, rules or periods");
    const Plan first_plan = compile(first);
    const MetricLayout layout = metric_layout(first_plan);
    const auto known = std::find(layout.names.begin(), layout.names.end(), target.metric);
    if (known == layout.names.end())
        throw InputError({Diagnostic{
            "--target",
            {},
            "",
            "no metric '" + target.metric + "'" + did_you_mean(target.metric, layout.names)}});
    const MetricKind kind = layout.kinds[static_cast<std::size_t>(known - layout.names.begin())];
    RunOptions run_options = run_options_of(first, o);
    run_options.quantiles = false;  // means and standard errors only
    run_options.keep_trial_values = false;
    check_memory(estimated_bytes(first_plan, run_options), "use fewer trials (-n)");

    const std::string report = report_path(o.report);
    SignalGuard signals;
    OutputFolder folder(o.out_dir);  // checked and locked before any trial
    check_workbook_directory(o);     // after -o, which may create it
    auto evaluate = [&](double x) {
        const Plan plan = compile(scenario_at(x));
        // One progress line per evaluation: how many the search takes is known only at its end.
        Progress progress(run_options.trials, !o.quiet, err, stderr_is_terminal(err));
        RunOptions options = run_options;  // the same seed and trials every time
        options.progress = [&](long long done) { progress.update(done); };
        const RunResult result = run(plan, options);
        progress.finish();
        if (result.cancelled) throw Interrupted{};
        for (const auto& m : result.metrics)
            if (m.name == target.metric) {
                // A mean that is not a number (a metric not assessed in some trials) has no
                // root to find; format_number would not print it either.
                if (!std::isfinite(m.moments.mean) || !std::isfinite(m.moments.se()))
                    throw RefusedRun("--target: " + target.metric + " has no finite mean when " +
                                     interval.path + " is " + solve_value_text(x));
                return SolvePoint{x, m.moments.mean, m.moments.se()};
            }
        throw RefusedRun("--target: the scenario has no metric '" + target.metric + "' when " +
                         interval.path + " is " + solve_value_text(x));
    };
    const SolveResult result = solve(interval, target.value, evaluate);
    if (!result.bracketed) {
        const SolvePoint& lo = result.points.front();
        const SolvePoint& hi = result.points.back();
        throw RefusedRun("--target " + target.metric + "=" + format_number(target.value) +
                         " is not bracketed: " + format_number(lo.mean) + " at " + interval.path +
                         "=" + format_number(lo.x) + ", " + format_number(hi.mean) + " at " +
                         format_number(hi.x) +
                         "; widen LO:HI or choose a target between these means");
    }

    const Unit unit = MetricUnits(first_plan).of(target.metric);
    {
        Provenance provenance = provenance_of(a.file, text, o.sets, run_options);
        provenance.push_back({"vary", a.vary});
        provenance.push_back({"target", a.target});
        const std::vector<Table> tables = {
            {"solve", [&](TableSink& t) { solve_table(t, interval, target, result, unit); }},
            {"evaluations",
             [&](TableSink& t) { solve_points_table(t, interval, target, result, unit); }},
            {"run", [&](TableSink& t) { provenance_table(t, provenance); }}};
        OutputFiles files = output_files(tables, o, workbook_style(first_plan));
        // The key terms as simulated at the solution (that scenario was evaluated last).
        const Plan at_solution = report.empty() ? Plan{} : compile(scenario_at(result.value));
        if (!report.empty())
            files.push_back({report, [&](std::ostream& s) {
                                 write_solve_report(s, at_solution, interval, target, result, kind,
                                                    run_options.trials, run_options.seed,
                                                    provenance);
                             }});
        folder.write(files);
    }
    if (o.quiet) return exit_ok;
    if (o.format == "json") {
        print_solve_json(out, interval, target, result);
    } else if (o.format == "csv") {
        CsvSink sink(out);
        solve_table(sink, interval, target, result, unit);
    } else {
        const double half = (result.ci_hi - result.ci_lo) / 2;
        const std::string& currency = first_plan.currency;
        out << printable(first_plan.name) << ": " << run_options.trials
            << " trials per evaluation, seed " << run_options.seed << ", money in "
            << printable(currency) << "\n\n"
            << printable(target.metric) << " = " << readable_value(target.value, kind, currency)
            << " at " << printable(interval.path) << " = " << rounded_to(result.value, half)
            << "\n95% interval " << rounded_to(result.ci_lo, half) << " to "
            << rounded_to(result.ci_hi, half) << " (" << result.points.size()
            << " evaluations on common random numbers)\n\n";
        std::vector<SolvePoint> points = result.points;
        std::stable_sort(points.begin(), points.end(),
                         [](const SolvePoint& p, const SolvePoint& q) { return p.x < q.x; });
        TextTable table{{interval.path, target.metric, "se"}, {1, 1, 1}, {}};
        for (const auto& p : points)
            table.rows.push_back({format_number(p.x), readable_value(p.mean, kind, currency),
                                  readable_error(p.se, kind, currency)});
        print_text_table(out, table, table_width);
    }
    return exit_ok;
}

}  // namespace

CommandHook add_solve_command(CLI::App& app) {
    auto args = std::make_shared<SolveArguments>();
    auto* cmd = app.add_subcommand(
        "solve",
        "Find the value of one input at which a metric's mean reaches a target (break-even, "
        "power), on common random numbers");
    cmd->add_option("SCENARIO", args->file, "Scenario file")->required();
    cmd->add_option("--vary", args->vary, "PATH=LO:HI: the input searched and its interval")
        ->required();
    cmd->add_option("--target", args->target,
                    "METRIC=VALUE: the mean to reach, in the metric's unit (0.8 for 80%)")
        ->required();
    add_simulation_options(*cmd, args->options);
    cmd->footer(
        "Example: sibsim solve scenarios/peterborough.yaml --vary "
        "outcomes.reconviction.effect=-0.2:0 --target investors.multiple=1");
    return {cmd, [args](std::ostream& out, std::ostream& err) {
                return solve_command(*args, out, err);
            }};
}

}  // namespace sib::cli
