#include "sensitivity_command.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <ostream>
#include <sstream>

#include "progress.hpp"
#include "sib/csv.hpp"
#include "sib/metrics.hpp"
#include "sib/plan_size.hpp"
#include "sib/readable.hpp"
#include "sib/report_html.hpp"
#include "sib/sensitivity.hpp"

namespace sib::cli {

namespace {

/// The Sobol' base sample when -n is not given: 2^10 base rows.
constexpr long long default_sobol_base = 1024;

struct SensitivityArgs {
    std::string file;
    std::string method = "tornado";
    std::string inputs;
    std::string metrics;
    std::string design;
    CLI::Option* design_option = nullptr;
    SimulationOptions o;
};

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    if (text.empty()) return items;
    std::stringstream list(text);
    for (std::string item; std::getline(list, item, ',');) items.push_back(item);
    return items;
}

/// The default metrics: payments.total, each payer's net cost, investors.irr and .any_loss
/// (those the scenario has).
std::vector<std::string> default_metrics(const MetricLayout& layout) {
    std::vector<std::string> chosen;
    for (const auto& name : key_metrics(layout))
        if (name != "investors.multiple") chosen.push_back(name);
    return chosen;
}

/// An input's value for a person: four significant figures.
std::string input_text(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", x);
    return buf;
}

/// The tornado for a person: one block per metric, its inputs by swing, largest first.
void print_tornado(std::ostream& out, const Plan& plan, const MetricLayout& layout,
                   const SpiderResult& spider, const std::vector<TornadoRow>& rows) {
    for (std::size_t start = 0; start < rows.size();) {
        const int metric = spider.metrics[static_cast<std::size_t>(rows[start].metric)];
        const MetricKind kind = layout.kinds[static_cast<std::size_t>(metric)];
        TextTable table;
        table.header = {"input", "p10", "p90", "mean at p10", "mean at p90", "swing"};
        table.right_aligned = {0, 1, 1, 1, 1, 1};
        std::size_t end = start;
        for (; end < rows.size() && rows[end].metric == rows[start].metric; ++end) {
            const auto& row = rows[end];
            const auto input =
                static_cast<std::size_t>(spider.inputs[static_cast<std::size_t>(row.input)]);
            table.rows.push_back({plan.parameters[input].path, input_text(row.low_value),
                                  input_text(row.high_value),
                                  readable_value(row.low, kind, plan.currency),
                                  readable_value(row.high, kind, plan.currency),
                                  readable_value(row.swing, kind, plan.currency)});
        }
        out << (start == 0 ? "" : "\n") << printable(layout.names[static_cast<std::size_t>(metric)])
            << "\n";
        print_text_table(out, table, table_width);
        start = end;
    }
}

std::string index_text(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", x);
    return std::string(buf) == "-0.000" ? "0.000" : buf;
}

void print_sobol(std::ostream& out, const Plan& plan, const MetricLayout& layout,
                 const std::vector<int>& inputs, const std::vector<int>& metrics,
                 const std::vector<SobolIndex>& indices) {
    TextTable table;
    table.header = {"metric", "input", "S1", "±", "ST", "±"};
    table.right_aligned = {0, 0, 1, 1, 1, 1};
    table.leading = 2;
    for (const auto& index : indices)
        table.rows.push_back(
            {layout
                 .names[static_cast<std::size_t>(metrics[static_cast<std::size_t>(index.metric)])],
             plan.parameters[static_cast<std::size_t>(
                                 inputs[static_cast<std::size_t>(index.input)])]
                 .path,
             index_text(index.s1), index_text(index.s1_conf), index_text(index.st),
             index_text(index.st_conf)});
    print_text_table(out, table, table_width);
}

int sensitivity_command(const SensitivityArgs& a, std::ostream& out, std::ostream& err) {
    const SimulationOptions& o = a.o;
    check_output_options(o);
    if (a.design_option->count() > 0 && a.design.empty())
        throw RefusedRun("--design: the file name is empty");
    const bool sobol = a.method == "sobol";
    if (!sobol && a.design_option->count() > 0)
        throw RefusedRun("--design: the design file belongs to --method sobol");
    if (sobol && o.trials && !std::has_single_bit(static_cast<unsigned long long>(*o.trials)))
        throw RefusedRun(
            "-n: Sobol' needs a base sample that is a power of two (1024, 2048, "
            "...), got " +
            std::to_string(*o.trials));
    const auto overrides = parse_overrides(o.sets);
    const std::string text = read_input(a.file);
    const Scenario scenario = load_scenario(text, a.file, overrides);
    check_memory(estimated_plan_bytes(scenario, o.threads), "use fewer cohorts, rules or periods");
    const Plan plan = compile(scenario);
    const MetricLayout layout = metric_layout(plan);

    std::vector<int> inputs =
        a.inputs.empty() ? uncertain_parameters(plan) : choose_inputs(plan, split_list(a.inputs));
    std::vector<std::string> metric_names = parse_metrics(a.metrics, layout.names);
    if (metric_names.empty()) metric_names = default_metrics(layout);
    std::vector<int> metrics;
    for (const auto& name : metric_names) metrics.push_back(metric_index(layout, name));
    if (inputs.empty())
        throw RefusedRun(
            "the scenario has no uncertain input (every value is fixed): there is "
            "nothing to analyse");

    RunOptions run = run_options_of(scenario, o);
    SensitivityOptions options;
    options.seed = run.seed;
    options.threads = o.threads;
    options.cancel = &interrupted;
    options.trials = sobol ? o.trials.value_or(default_sobol_base) : run.trials;
    const long long d = static_cast<long long>(inputs.size());
    const long long evaluations =
        sobol ? options.trials * (d + 2)
              : options.trials * d * static_cast<long long>(spider_levels.size());

    // What the analysis holds: per evaluation its uniforms, outputs and normalised output, and
    // the bootstrap's resampled base rows (sobol); or one block's moments per run (tornado).
    // Refused before anything runs when it cannot fit.
    const double n = static_cast<double>(options.trials);
    const double kept =
        sobol ? 8 * (static_cast<double>(evaluations) *
                         (static_cast<double>(d) + static_cast<double>(metrics.size()) + 1) +
                     sobol_resamples * n)
              : static_cast<double>(evaluations) / static_cast<double>(evaluations_per_chunk) *
                    static_cast<double>(metrics.size() * sizeof(Moments));
    check_memory(kept + estimated_plan_bytes(scenario, o.threads), "use a smaller -n");
    Progress progress(evaluations, !o.quiet, err, stderr_is_terminal(err));
    options.progress = [&](long long done) { progress.update(done); };
    SignalGuard signals;
    OutputFolder folder(o.out_dir);
    check_workbook_directory(o);  // after -o, which may create it
    // Likewise; under mpirun process 0 alone writes it (and checks where).
    const std::string design_file =
        writes_outputs() ? output_file_path(a.design, "the design file") : a.design;
    const std::string report = writes_outputs() ? report_path(o.report) : o.report;
    start_together();  // under mpirun: blocks of trials or of design rows dealt to the processes

    Provenance provenance = provenance_of(a.file, text, o.sets, run);
    provenance.push_back({"method", a.method});
    std::vector<Table> tables;
    OutputFiles extra;
    SpiderResult spider_result;
    std::vector<TornadoRow> rows;
    SobolDesign design;
    std::vector<double> outputs;
    std::vector<SobolIndex> indices;
    if (sobol) {
        provenance.push_back({"base_sample", std::to_string(options.trials)});
        provenance.push_back({"bootstrap_resamples", std::to_string(sobol_resamples)});
        provenance.push_back({"bootstrap_seed", std::to_string(bootstrap_seed)});
        design = sobol_design(options.trials, static_cast<int>(d));
        outputs = evaluate_design(plan, inputs, metrics, design, options);
        progress.finish();
        if (outputs.empty()) {
            err << "sibsim: interrupted; no output written\n";
            return interrupted_status();
        }
        if (!writes_outputs()) return exit_ok;  // process 0 has every output and writes
        indices = sobol_indices(design, outputs, static_cast<int>(metrics.size()), sobol_resamples);
        tables.push_back({"sobol", [&](TableSink& t) {
                              sobol_table(t, indices, inputs, metrics, layout, plan);
                          }});
        if (!report.empty())
            extra.push_back({report, [&](std::ostream& s) {
                                 write_sobol_report(s, plan, layout, inputs, metrics, indices,
                                                    options.trials, options.seed, provenance);
                             }});
        if (!design_file.empty())
            extra.push_back({design_file, [&](std::ostream& s) {
                                 CsvSink sink(s);
                                 design_table(sink, design, outputs, inputs, metrics, layout, plan);
                             }});
    } else {
        spider_result = spider(plan, inputs, metrics, options);
        progress.finish();
        if (spider_result.cancelled) {
            err << "sibsim: interrupted; no output written\n";
            return interrupted_status();
        }
        if (!writes_outputs()) return exit_ok;  // process 0 has every run's means and writes
        rows = tornado_rows(spider_result);
        tables.push_back({"tornado", [&](TableSink& t) {
                              tornado_table(t, spider_result, rows, layout, plan);
                          }});
        tables.push_back(
            {"spider", [&](TableSink& t) { spider_table(t, spider_result, layout, plan); }});
        if (!report.empty())
            extra.push_back({report, [&](std::ostream& s) {
                                 write_tornado_report(s, plan, layout, spider_result, rows,
                                                      options.trials, options.seed, provenance);
                             }});
    }
    tables.push_back({"run", [&](TableSink& t) { provenance_table(t, provenance); }});
    OutputFiles files = output_files(tables, o, workbook_style(plan));
    files.insert(files.end(), extra.begin(), extra.end());
    folder.write(files);

    if (o.quiet) return exit_ok;
    if (o.format == "csv") {
        CsvSink sink(out);
        if (sobol)
            sobol_table(sink, indices, inputs, metrics, layout, plan);
        else
            tornado_table(sink, spider_result, rows, layout, plan);
    } else if (o.format == "json") {
        out << "[";
        const char* separator = "\n ";
        if (sobol) {
            for (const auto& index : indices) {
                out << separator << "{\"metric\": "
                    << json_string(layout.names[static_cast<std::size_t>(
                           metrics[static_cast<std::size_t>(index.metric)])])
                    << ", \"input\": "
                    << json_string(
                           plan.parameters[static_cast<std::size_t>(
                                               inputs[static_cast<std::size_t>(index.input)])]
                               .path)
                    << ", \"S1\": " << format_number(index.s1)
                    << ", \"S1_conf\": " << format_number(index.s1_conf)
                    << ", \"ST\": " << format_number(index.st)
                    << ", \"ST_conf\": " << format_number(index.st_conf) << "}";
                separator = ",\n ";
            }
        } else {
            for (const auto& row : rows) {
                out << separator << "{\"metric\": "
                    << json_string(layout.names[static_cast<std::size_t>(
                           spider_result.metrics[static_cast<std::size_t>(row.metric)])])
                    << ", \"input\": "
                    << json_string(
                           plan
                               .parameters[static_cast<std::size_t>(
                                   spider_result.inputs[static_cast<std::size_t>(row.input)])]
                               .path)
                    << ", \"low_value\": " << format_number(row.low_value)
                    << ", \"high_value\": " << format_number(row.high_value)
                    << ", \"low\": " << format_number(row.low)
                    << ", \"high\": " << format_number(row.high)
                    << ", \"swing\": " << format_number(row.swing) << "}";
                separator = ",\n ";
            }
        }
        out << "\n]\n";
    } else {
        out << printable(plan.name) << ": ";
        if (sobol)
            out << "Sobol' indices, base sample " << options.trials << " (" << evaluations
                << " evaluations), seed " << options.seed << "; ± is the 95% half-width\n\n";
        else
            out << "tornado, " << options.trials << " trials per run, seed " << options.seed
                << ", money in " << printable(plan.currency) << "\n\n";
        if (sobol)
            print_sobol(out, plan, layout, inputs, metrics, indices);
        else
            print_tornado(out, plan, layout, spider_result, rows);
    }
    return exit_ok;
}

}  // namespace

CommandHook add_sensitivity_command(CLI::App& app) {
    auto args = std::make_shared<SensitivityArgs>();
    auto* cmd = app.add_subcommand(
        "sensitivity",
        "Which uncertain input moves the results most: tornado (and spider) or Sobol' indices");
    cmd->add_option("SCENARIO", args->file, "Scenario file")->required();
    cmd->add_option("--method", args->method, "tornado (default) or sobol")
        ->check(CLI::IsMember({"tornado", "sobol"}));
    cmd->add_option("--inputs", args->inputs,
                    "Comma-separated uncertain inputs, as --set paths (default: every one)");
    cmd->add_option("--metrics", args->metrics,
                    "Comma-separated metrics (default: payments.total, payer net costs, "
                    "investors.irr and investors.any_loss)");
    args->design_option = cmd->add_option(
        "--design", args->design,
        "sobol: also write the design and its outputs, in SALib's row order, to FILE");
    add_simulation_options(*cmd, args->o);
    cmd->footer("Example: sibsim sensitivity scenarios/peterborough.yaml -o out/");
    return {cmd, [args](std::ostream& out, std::ostream& err) {
                return sensitivity_command(*args, out, err);
            }};
}

}  // namespace sib::cli
