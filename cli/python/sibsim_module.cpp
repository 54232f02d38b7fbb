// The Python module `sibsim` (docs/python.md): a face of the engine beside the CLI. It loads,
// runs, sweeps, compares and settles as the CLI's commands do (cli/commands.cpp), with the same
// options decided the same way, so that the same seed gives the same numbers bit for bit; the
// tables come from the same table functions (reports.hpp, sweep.hpp) through a TableSink that
// keeps each cell as a Python value instead of printing it.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sib/csv.hpp"
#include "sib/diagnostics.hpp"
#include "sib/load.hpp"
#include "sib/metrics.hpp"
#include "sib/observed.hpp"
#include "sib/participants.hpp"
#include "sib/plan.hpp"
#include "sib/plan_size.hpp"
#include "sib/reports.hpp"
#include "sib/run.hpp"
#include "sib/settle.hpp"
#include "sib/sweep.hpp"
#include "sib/table.hpp"
#include "sib/trial.hpp"

namespace py = pybind11;

namespace sib::python {

namespace {

/// sibsim.ScenarioError and sibsim.Problem, made once at import.
py::object scenario_error_type;
py::object problem_type;

// ---------------------------------------------------------------------------------------------
// Inputs

/// The whole file, as the CLI reads it (cli/command_support.cpp, read_input): an unreadable file
/// is an InputError located at 1:1 with the system's reason.
std::string read_input(const std::string& path) {
    std::string text;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    int failure = f ? 0 : errno;
    if (f) {
        std::vector<char> buf(65536);
        std::size_t got = 0;
        while ((got = std::fread(buf.data(), 1, buf.size(), f)) > 0) text.append(buf.data(), got);
        if (std::ferror(f)) failure = errno ? errno : EIO;
        std::fclose(f);
    }
    if (failure)
        throw InputError({Diagnostic{
            path, {1, 1}, "", "cannot read file: " + std::generic_category().message(failure)}});
    return text;
}

/// A Python value as the YAML text of `--set PATH=VALUE`: str as it is (parsed as YAML, as on
/// the command line), bool as true/false, None as null, numbers by repr (so 0.1 is "0.1"), and
/// anything else (lists, dicts) as JSON, which YAML reads.
std::string yaml_text(const py::handle& handle) {
    const auto value = py::reinterpret_borrow<py::object>(handle);
    if (py::isinstance<py::str>(value)) return value.cast<std::string>();
    if (value.is_none()) return "null";
    if (py::isinstance<py::bool_>(value)) return value.cast<bool>() ? "true" : "false";
    if (py::isinstance<py::int_>(value)) return py::str(value).cast<std::string>();
    if (py::isinstance<py::float_>(value)) {
        const double x = value.cast<double>();
        if (std::isnan(x)) return ".nan";
        if (std::isinf(x)) return x > 0 ? ".inf" : "-.inf";
        return py::repr(value).cast<std::string>();
    }
    // numpy scalars and other numbers: through float/int when they convert.
    if (py::hasattr(value, "__index__")) return py::str(py::int_(value)).cast<std::string>();
    if (py::hasattr(value, "__float__")) return yaml_text(py::float_(value));
    return py::module_::import("json").attr("dumps")(value).cast<std::string>();
}

/// `set={"PATH": value, ...}` as overrides, in the dict's order; an empty path is refused as the
/// CLI refuses "--set =1".
std::vector<Override> overrides_of(const std::optional<py::dict>& set) {
    std::vector<Override> overrides;
    if (!set) return overrides;
    for (const auto& [key, value] : *set) {
        if (!py::isinstance<py::str>(key)) throw py::type_error("set: keys must be str paths");
        overrides.push_back(parse_override(key.cast<std::string>() + "=" + yaml_text(value)));
    }
    return overrides;
}

/// Refuses, with MemoryError and the CLI's words, a run whose estimate exceeds the memory
/// available (docs/limits.md), rather than letting it take the notebook's kernel down.
void check_memory(double needed, const std::string& advice) {
    const auto refusal = memory_refusal(needed, advice);
    if (!refusal) return;
    PyErr_SetString(PyExc_MemoryError, refusal->c_str());
    throw py::error_already_set();
}

int threads_of(int threads) {
    if (threads < 0 || threads > 1024)
        throw py::value_error("threads: must be from 0 (all cores) to 1024, got " +
                              std::to_string(threads));
    if (threads == 0) return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return threads;
}

long long trials_of(const std::optional<long long>& trials, long long scenario_default) {
    const long long n = trials.value_or(scenario_default);
    // The CLI's range for -n and simulation.trials (docs/limits.md).
    if (n < 1 || n > 1000000000)
        throw py::value_error("trials: must be from 1 to 1000000000, got " + std::to_string(n));
    return n;
}

// ---------------------------------------------------------------------------------------------
// Running with the GIL released, and Ctrl-C

/// Runs `work` on its own thread with the GIL released, while this thread waits in slices of
/// 100 ms and, between them, takes the GIL to let Python run its signal handlers
/// (PyErr_CheckSignals). When one raises (Ctrl-C: KeyboardInterrupt), `cancel` stops the
/// engine before its next trial, and the exception is raised here once the work has stopped.
template <class Work>
void run_interruptibly(std::atomic<bool>& cancel, Work work) {
    std::optional<py::error_already_set> raised;
    {
        py::gil_scoped_release release;
        auto done = std::async(std::launch::async, work);
        while (done.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
            if (raised) continue;
            py::gil_scoped_acquire acquire;
            if (PyErr_CheckSignals() != 0) {
                raised.emplace();  // takes the pending exception
                cancel = true;
            }
        }
        done.get();  // the work's own exception, if any
    }
    if (raised) throw std::move(*raised);
}

// ---------------------------------------------------------------------------------------------
// Tables

/// A table of the CLI (summary, cashflows, sweep, compare, payments, ...) as Python values:
/// numbers as float, periods and trials as int, text and dates as str, blanks as None.
struct PyTable {
    std::string name;
    std::vector<std::string> columns;
    py::list rows = py::list();  ///< tuples, one value per column
};

/// Keeps each cell as a Python value. A value as the user wrote it (a varied value) becomes an
/// int or a float when its text is one, as the workbook stores it, and stays a str otherwise.
class PyTableSink : public TableSink {
  public:
    explicit PyTableSink(PyTable& table) : table_(table) {}
    void header(const std::vector<std::string>& columns) override { table_.columns = columns; }
    void text(std::string_view text) override { row_.append(py::str(std::string(text))); }
    void number(double x, Unit) override { row_.append(py::float_(x)); }
    void integer(long long n) override { row_.append(py::int_(n)); }
    void date(const std::string& iso) override { row_.append(py::str(iso)); }
    void value(std::string_view text) override {
        const py::str s{std::string(text)};
        try {
            row_.append(py::int_(s));
            return;
        } catch (const py::error_already_set&) {
        }
        try {
            row_.append(py::float_(py::module_::import("builtins").attr("float")(s)));
            return;
        } catch (const py::error_already_set&) {
        }
        row_.append(s);
    }
    void blank() override { row_.append(py::none()); }
    void end_row() override {
        table_.rows.append(py::tuple(row_));
        row_ = py::list();
    }

  private:
    PyTable& table_;
    py::list row_;
};

template <class Fill>
PyTable make_table(const std::string& name, Fill fill) {
    PyTable table{name, {}, py::list()};
    PyTableSink sink(table);
    fill(sink);
    return table;
}

py::object pandas() {
    try {
        return py::module_::import("pandas");
    } catch (const py::error_already_set&) {
        PyErr_SetString(PyExc_ImportError,
                        "to_pandas() needs pandas (Debian: apt-get install python3-pandas); "
                        "everything else works without it");
        throw py::error_already_set();
    }
}

py::object table_frame(const PyTable& table) {
    return pandas()
        .attr("DataFrame")
        .attr("from_records")(table.rows, py::arg("columns") = table.columns);
}

py::list table_column(const PyTable& table, const std::string& column) {
    const auto found = std::find(table.columns.begin(), table.columns.end(), column);
    if (found == table.columns.end()) {
        const std::string hint = did_you_mean(column, table.columns);
        throw py::key_error("no column '" + column + "' in " + table.name + hint);
    }
    const auto c = static_cast<std::size_t>(found - table.columns.begin());
    py::list values;
    for (const auto& row : table.rows) values.append(row.cast<py::tuple>()[c]);
    return values;
}

// ---------------------------------------------------------------------------------------------
// Scenario, Result, Settlement

struct PyScenario {
    std::string file;
    std::string text;  ///< read once: sweeps load their points from it
    std::vector<Override> overrides;
    Scenario scenario;
    std::shared_ptr<const Plan> plan;
};

/// A str or os.PathLike (pathlib.Path) as a file name.
std::string path_of(const py::object& path) {
    return py::str(py::module_::import("os").attr("fspath")(path)).cast<std::string>();
}

PyScenario load(const py::object& path_object, const std::optional<py::dict>& set) {
    const std::string path = path_of(path_object);
    const auto overrides = overrides_of(set);
    PyScenario s;
    s.file = path;
    s.text = read_input(path);
    s.overrides = overrides;
    s.scenario = load_scenario(s.text, path, overrides);
    check_memory(estimated_plan_bytes(s.scenario), "use fewer cohorts, rules or periods");
    s.plan = std::make_shared<const Plan>(compile(s.scenario));
    return s;
}

struct PyResult {
    std::shared_ptr<const Plan> plan;
    RunResult result;
    bool exact_quantiles = true;
    PyTable summary_table;
};

/// The summary as a dict metric -> dict(mean, sd, se, p5, p25, p50, p75, p95, min, max).
py::dict summary_dict(const PyTable& summary) {
    py::dict out;
    for (const auto& row_handle : summary.rows) {
        const auto row = row_handle.cast<py::tuple>();
        py::dict stats;
        for (std::size_t c = 1; c < summary.columns.size(); ++c)
            stats[py::str(summary.columns[c])] = row[c];
        out[row[0]] = stats;
    }
    return out;
}

/// Every metric's name, in summary.csv's order.
std::vector<std::string> metric_names(const RunResult& r) {
    std::vector<std::string> names;
    for (const auto& m : r.metrics) names.push_back(m.name);
    return names;
}

/// Each period's date, as cashflows.csv's date column has it.
std::vector<std::string> dates_of(const Plan& plan, const RunResult& result) {
    const PyTable t =
        make_table("cashflows", [&](TableSink& s) { cashflows_table(s, plan, result); });
    std::vector<std::string> dates;
    for (const auto& row : t.rows) dates.push_back(row.cast<py::tuple>()[1].cast<std::string>());
    return dates;
}

/// One statistic of the cash flows as a [party, period] array.
py::array_t<double> cashflow_array(const PyResult& r, double CashflowSummary::*field) {
    const auto parties = r.result.parties.size();
    const auto horizon = static_cast<std::size_t>(r.plan->horizon);
    py::array_t<double> out({parties, horizon});
    auto view = out.mutable_unchecked<2>();
    for (std::size_t p = 0; p < parties; ++p)
        for (std::size_t t = 0; t < horizon; ++t)
            view(static_cast<py::ssize_t>(p), static_cast<py::ssize_t>(t)) =
                r.result.cashflows[p * horizon + t].*field;
    return out;
}

std::size_t metric_index(const RunResult& r, const std::string& metric) {
    for (std::size_t m = 0; m < r.metrics.size(); ++m)
        if (r.metrics[m].name == metric) return m;
    throw py::key_error("no metric '" + metric + "'" + did_you_mean(metric, metric_names(r)));
}

PyResult run_scenario(const PyScenario& s, std::optional<long long> trials,
                      std::optional<unsigned long long> seed, int threads, bool per_trial,
                      const std::string& quantiles) {
    if (quantiles != "auto" && quantiles != "exact" && quantiles != "sketch")
        throw py::value_error("quantiles: must be 'auto', 'exact' or 'sketch', got '" + quantiles +
                              "'");
    if (quantiles == "sketch" && per_trial)
        throw py::value_error(
            "quantiles='sketch' keeps no per-trial values, so it cannot give values(); pass "
            "per_trial=False or use quantiles='exact'");
    const Plan& plan = *s.plan;
    RunOptions options;
    options.trials = trials_of(trials, s.scenario.trials);
    options.seed = seed.value_or(s.scenario.seed);
    options.threads = threads_of(threads);
    // As `sibsim run` decides (cli/commands.cpp, run_command): per-trial values kept in trial
    // order, or exact quantiles within the budget, else the sketch; the numbers do not depend on
    // which way exact quantiles are found.
    options.keep_trial_values = per_trial;
    options.exact_quantiles = true;
    const bool within_budget = per_trial || within_exact_budget(plan, options);
    if (quantiles == "exact" && !within_budget)
        throw py::value_error("quantiles='exact' would need about " +
                              gib_text(estimated_bytes(plan, options)) +
                              " GiB for this run, beyond the " + gib_text(exact_quantile_bytes) +
                              " GiB budget for exact quantiles; use quantiles='sketch' (memory "
                              "stays flat, rank error under 0.05%) or fewer trials");
    options.exact_quantiles = quantiles != "sketch" && within_budget;
    check_memory(estimated_bytes(plan, options),
                 per_trial ? "use fewer trials or per_trial=False" : "use fewer trials");
    std::atomic<bool> cancel{false};
    options.cancel = &cancel;
    PyResult out{s.plan, {}, options.exact_quantiles, {}};
    run_interruptibly(cancel, [&] { out.result = run(plan, options); });
    // Under 65,536 trials exact quantiles keep every value even without per_trial: freed here,
    // so that values() depends on per_trial alone.
    if (!per_trial) out.result.values.clear();
    const MetricUnits units(plan);
    out.summary_table =
        make_table("summary", [&](TableSink& t) { summary_table(t, out.result, units); });
    return out;
}

struct PySettlement {
    std::shared_ptr<const Plan> plan;
    std::vector<std::string> metric_names;
    std::vector<double> metrics;
    std::vector<std::string> parties;
    std::vector<double> flows;  ///< [party * horizon + period]
    std::vector<std::string> notes;
    PyTable payments;
    PyTable cashflows;
};

PySettlement settle(const PyScenario& s, const std::optional<py::object>& observed_path,
                    const std::optional<py::object>& participants_path, bool partial) {
    std::optional<std::string> observed_file, participants_file;
    if (observed_path && !observed_path->is_none()) observed_file = path_of(*observed_path);
    if (participants_path && !participants_path->is_none())
        participants_file = path_of(*participants_path);
    if (!observed_file && !participants_file)
        throw py::value_error(
            "settle needs observed results: observed=FILE.yaml, participants=FILE.csv, or both");
    // Every problem of both files at once, as the CLI reports them.
    std::vector<Diagnostic> problems;
    Observed observed;
    std::optional<Participants> participants;
    try {
        if (observed_file) observed = load_observed(read_input(*observed_file), *observed_file);
    } catch (const InputError& e) {
        problems.insert(problems.end(), e.diagnostics().begin(), e.diagnostics().end());
    }
    try {
        if (participants_file)
            participants = load_participants(read_input(*participants_file), *participants_file);
    } catch (const InputError& e) {
        problems.insert(problems.end(), e.diagnostics().begin(), e.diagnostics().end());
    }
    if (!problems.empty()) throw InputError(problems);
    const Plan& plan = *s.plan;
    const MetricLayout metrics = metric_layout(plan);
    const PartyLayout parties = party_layout(plan);
    TrialState state(plan);
    PySettlement out;
    out.plan = s.plan;
    settle_observed(plan, observed, SettleOptions{partial, participants ? &*participants : nullptr},
                    metrics, parties, state, out.notes);
    out.metric_names = metrics.names;
    out.metrics = state.metrics;
    out.parties = parties.names;
    out.flows = state.flows;
    out.payments = make_table("payments", [&](TableSink& t) { payments_table(t, plan, state); });
    out.cashflows =
        make_table("cashflows", [&](TableSink& t) { settled_cashflows_table(t, plan, state); });
    return out;
}

// ---------------------------------------------------------------------------------------------
// sweep and compare

PyTable sweep(const PyScenario& s, const py::dict& vary, std::optional<long long> trials,
              std::optional<unsigned long long> seed, int threads,
              const std::optional<std::vector<std::string>>& metrics) {
    if (vary.empty()) throw py::value_error("vary: give at least one path and its values");
    // Axes: a list of values, or a string "a:b:step" / "v1,v2,..." as --vary takes it.
    std::vector<VaryAxis> axes;
    std::vector<Diagnostic> problems;
    for (const auto& [key, values] : vary) {
        if (!py::isinstance<py::str>(key)) throw py::type_error("vary: keys must be str paths");
        const std::string path = key.cast<std::string>();
        try {
            if (py::isinstance<py::str>(values)) {
                axes.push_back(parse_vary(path + "=" + values.cast<std::string>()));
            } else {
                VaryAxis axis{path, {}};
                for (const auto& v : values) axis.values.push_back(yaml_text(v));
                if (axis.values.empty())
                    throw py::value_error("vary: '" + path + "' has no values");
                axes.push_back(axis);
            }
        } catch (const InputError& e) {
            problems.insert(problems.end(), e.diagnostics().begin(), e.diagnostics().end());
        }
    }
    if (!problems.empty()) throw InputError(problems);
    double points_count = 1;
    for (const auto& axis : axes) points_count *= static_cast<double>(axis.values.size());
    // The CLI's limits on a sweep (docs/limits.md): at most 100,000 points and 10^10 trials.
    if (points_count > 100000)
        throw py::value_error("vary: the grid has more than 100000 points; vary fewer values");
    const auto points = grid_points(axes);
    const int thread_count = threads_of(threads);

    // Every point loaded and checked before any runs, as `sibsim sweep` does.
    std::vector<Plan> plans;
    std::vector<RunOptions> options;
    double plan_bytes = 0;
    double total_trials = 0;
    for (const auto& point : points) {
        std::vector<Override> point_overrides = s.overrides;
        for (std::size_t a = 0; a < axes.size(); ++a)
            point_overrides.push_back({axes[a].path, point[a]});
        const Scenario scenario = load_scenario(s.text, s.file, point_overrides);
        plan_bytes += estimated_plan_bytes(scenario, thread_count);
        check_memory(plan_bytes, "use fewer cohorts, rules or periods");
        plans.push_back(compile(scenario));
        total_trials += static_cast<double>(trials_of(trials, scenario.trials));
        if (total_trials > 1e10)
            throw py::value_error(
                "vary: the sweep would run more than 10000000000 trials over "
                "all its points; use fewer trials or vary fewer values");
        RunOptions o;
        o.trials = trials_of(trials, scenario.trials);
        o.seed = seed.value_or(scenario.seed);
        o.threads = thread_count;
        o.keep_trial_values = false;
        o.quantiles = false;  // means and standard errors only
        options.push_back(o);
    }
    const std::vector<std::string> known = metric_layout(plans.front()).names;
    std::vector<std::string> chosen;
    for (const auto& m : metrics.value_or(std::vector<std::string>{})) {
        if (std::find(known.begin(), known.end(), m) == known.end())
            throw py::key_error("metrics: no metric '" + m + "'" + did_you_mean(m, known));
        chosen.push_back(m);
    }
    double needed = 0;
    for (std::size_t p = 0; p < points.size(); ++p)
        needed = std::max(needed, estimated_bytes(plans[p], options[p]));
    check_memory(needed, "use fewer trials or fewer threads");

    // One point at a time on all threads: every figure is the same as the CLI's, which may run
    // points side by side, because each point's numbers do not depend on the thread count.
    std::atomic<bool> cancel{false};
    std::vector<RunResult> results(points.size());
    run_interruptibly(cancel, [&] {
        for (std::size_t p = 0; p < points.size() && !cancel; ++p) {
            RunOptions o = options[p];
            o.cancel = &cancel;
            results[p] = run(plans[p], o);
        }
    });
    MetricUnits units;
    for (const auto& plan : plans) units.add(plan);
    return make_table("sweep",
                      [&](TableSink& t) { sweep_table(t, axes, points, results, chosen, units); });
}

PyTable compare(const std::vector<const PyScenario*>& scenarios, std::optional<long long> trials,
                std::optional<unsigned long long> seed, int threads) {
    if (scenarios.size() < 2) throw py::value_error("compare: give two or more scenarios");
    // Same trials and seed for all: the first scenario's unless given, as `sibsim compare`.
    RunOptions options;
    options.trials = trials_of(trials, scenarios.front()->scenario.trials);
    options.seed = seed.value_or(scenarios.front()->scenario.seed);
    options.threads = threads_of(threads);
    options.quantiles = false;  // every value is kept for the pairing; no quantiles
    double needed = 0;
    for (const auto* s : scenarios) needed += estimated_bytes(*s->plan, options);
    check_memory(needed, "use fewer trials");
    std::vector<std::string> names;
    MetricUnits units;
    for (const auto* s : scenarios) {
        // Columns are named by file stem; a repeated stem gets a number appended until unique.
        const std::string stem = std::filesystem::path(s->file).stem().string();
        std::string name = stem;
        for (std::size_t k = names.size() + 1;
             std::find(names.begin(), names.end(), name) != names.end(); ++k)
            name = stem + "-" + std::to_string(k);
        names.push_back(name);
        units.add(*s->plan);
    }
    std::atomic<bool> cancel{false};
    options.cancel = &cancel;
    std::vector<RunResult> results(scenarios.size());
    run_interruptibly(cancel, [&] {
        for (std::size_t i = 0; i < scenarios.size() && !cancel; ++i)
            results[i] = run(*scenarios[i]->plan, options);
    });
    const auto rows = compare_results(results);
    return make_table("compare", [&](TableSink& t) { compare_table(t, names, rows, units); });
}

/// Raises sibsim.ScenarioError for an InputError: str() is the CLI's lines, `problems` one
/// sibsim.Problem(file, line, column, path, message) per line.
void raise_scenario_error(const InputError& e) {
    py::list problems;
    for (const auto& d : e.diagnostics())
        problems.append(problem_type(d.file, d.loc.line, d.loc.column, d.path, d.message));
    py::object error = scenario_error_type(py::str(e.what()));
    error.attr("problems") = problems;
    PyErr_SetObject(scenario_error_type.ptr(), error.ptr());
}

}  // namespace

}  // namespace sib::python

// Docstrings are what help() shows; keep them in step with sibsim.pyi and docs/python.md.
PYBIND11_MODULE(sibsim, m) {
    using namespace sib;
    using namespace sib::python;
    m.doc() =
        "sibsim: Monte Carlo simulation of Social Impact Bond and outcomes-contract payments.\n\n"
        "    sc = sibsim.load('scenarios/peterborough.yaml')\n"
        "    r = sc.run(trials=100_000, seed=1)\n"
        "    r.summary['investors.irr']['mean'], r.values('investors.irr')\n\n"
        "The same seed gives the same numbers as the sibsim command line. See docs/python.md.";
    m.attr("__version__") = SIBSIM_VERSION;

    problem_type = py::module_::import("collections")
                       .attr("namedtuple")("Problem", "file line column path message");
    problem_type.attr("__module__") = "sibsim";
    problem_type.attr("__doc__") =
        "One problem in an input: file, 1-based line and column (0 when unknown), the dotted key "
        "path ('' when none) and the message.";
    m.attr("Problem") = problem_type;
    scenario_error_type = py::reinterpret_steal<py::object>(PyErr_NewExceptionWithDoc(
        "sibsim.ScenarioError",
        "A scenario, observed-results or argument error. str() is the command line's text, one "
        "'FILE:LINE:COL: error: PATH: message' line per problem; .problems lists them as "
        "sibsim.Problem(file, line, column, path, message).",
        PyExc_ValueError, nullptr));
    m.attr("ScenarioError") = scenario_error_type;
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const InputError& e) {
            raise_scenario_error(e);
        }
    });

    py::class_<PyTable>(m, "Table",
                        "A table as the CLI writes it to NAME.csv: columns, and rows of Python "
                        "values (float numbers, int periods, str text and dates, None blanks).")
        .def_readonly("name", &PyTable::name, "The CSV file's name without .csv: 'sweep', ...")
        .def_readonly("columns", &PyTable::columns, "The column names, as in the CSV header.")
        .def_readonly("rows", &PyTable::rows, "The rows, as tuples in column order.")
        .def("column", &table_column, py::arg("name"),
             "One column's values, top to bottom, as a list.")
        .def("to_pandas", &table_frame, "The table as a pandas DataFrame (needs pandas).")
        .def("__len__", [](const PyTable& t) { return t.rows.size(); })
        .def("__repr__", [](const PyTable& t) {
            return "<sibsim.Table " + t.name + ": " + std::to_string(t.rows.size()) + " rows, " +
                   std::to_string(t.columns.size()) + " columns>";
        });

    py::class_<PyResult>(m, "Result", "The outcome of Scenario.run(): summary, values, cash flows.")
        .def_property_readonly(
            "trials", [](const PyResult& r) { return r.result.trials; }, "Trials run.")
        .def_property_readonly(
            "seed", [](const PyResult& r) { return r.result.seed; }, "The seed used.")
        .def_property_readonly(
            "quantiles", [](const PyResult& r) { return r.exact_quantiles ? "exact" : "sketch"; },
            "How the summary's quantiles were found: 'exact' or 'sketch' (run.csv's quantiles).")
        .def_property_readonly(
            "metrics", [](const PyResult& r) { return metric_names(r.result); },
            "Every metric's name, in summary.csv's order.")
        .def_property_readonly(
            "summary", [](const PyResult& r) { return summary_dict(r.summary_table); },
            "dict metric -> dict(mean, sd, se, p5, p25, p50, p75, p95, min, max): the numbers "
            "of summary.csv, as floats.")
        .def_property_readonly(
            "summary_table", [](const PyResult& r) { return r.summary_table; },
            "The summary as a Table with summary.csv's columns.")
        .def(
            "values",
            [](py::object self, const std::string& metric) {
                const auto& r = self.cast<const PyResult&>();
                if (r.result.values.empty())
                    throw py::value_error(
                        "values(): this run kept no per-trial values (run with per_trial=True)");
                const auto& v = r.result.values[metric_index(r.result, metric)];
                // A read-only view of the result's own memory, which it keeps alive: no copy.
                py::array_t<double> out({static_cast<py::ssize_t>(v.size())}, {sizeof(double)},
                                        v.data(), self);
                out.attr("setflags")(py::arg("write") = false);
                return out;
            },
            py::arg("metric"),
            "values(metric) -> numpy.ndarray: the metric's value in each trial, in trial order "
            "(trials.csv's column; read-only, no copy).\n\nNeeds per_trial=True (the default) "
            "in Scenario.run(). A metric's value may be NaN in a trial where it is undefined, "
            "as in trials.csv (docs/outputs.md).")
        .def_property_readonly(
            "parties", [](const PyResult& r) { return r.result.parties; },
            "The parties of cashflows, in order (the rows of the cash-flow arrays).")
        .def_property_readonly(
            "dates", [](const PyResult& r) { return dates_of(*r.plan, r.result); },
            "Each period's first day, 'YYYY-MM-DD', or '' without a start date (the columns of "
            "the cash-flow arrays).")
        .def_property_readonly(
            "cashflows",
            [](const PyResult& r) { return cashflow_array(r, &CashflowSummary::mean); },
            "numpy.ndarray [party, period]: the mean cash flow (cashflows.csv's PARTY.mean).")
        .def_property_readonly(
            "cashflows_p5",
            [](const PyResult& r) { return cashflow_array(r, &CashflowSummary::p5); },
            "numpy.ndarray [party, period]: the 5th percentile (PARTY.p5).")
        .def_property_readonly(
            "cashflows_p95",
            [](const PyResult& r) { return cashflow_array(r, &CashflowSummary::p95); },
            "numpy.ndarray [party, period]: the 95th percentile (PARTY.p95).")
        .def_property_readonly(
            "cashflows_table",
            [](const PyResult& r) {
                return make_table("cashflows",
                                  [&](TableSink& t) { cashflows_table(t, *r.plan, r.result); });
            },
            "The cash flows as a Table with cashflows.csv's columns.")
        .def(
            "to_pandas",
            [](py::object self) {
                const auto& r = self.cast<const PyResult&>();
                py::object pd = pandas();
                py::dict frames;
                frames["summary"] = table_frame(r.summary_table).attr("set_index")("metric");
                frames["cashflows"] = table_frame(make_table(
                    "cashflows", [&](TableSink& t) { cashflows_table(t, *r.plan, r.result); }));
                if (!r.result.values.empty()) {
                    py::dict columns;
                    for (const auto& name : metric_names(r.result))
                        columns[py::str(name)] = self.attr("values")(name);
                    py::object trials = pd.attr("DataFrame")(columns);
                    trials.attr("index").attr("name") = "trial";
                    frames["trials"] = trials;
                }
                return frames;
            },
            "to_pandas() -> dict of pandas DataFrames: 'summary' (indexed by metric, "
            "summary.csv's columns), 'cashflows' (cashflows.csv's columns) and, with per-trial "
            "values, 'trials' (one column per metric, indexed by trial). Needs pandas.")
        .def("__repr__", [](const PyResult& r) {
            return "<sibsim.Result " + r.plan->name + ": " + std::to_string(r.result.trials) +
                   " trials, seed " + std::to_string(r.result.seed) + ">";
        });

    py::class_<PySettlement>(m, "Settlement",
                             "The outcome of Scenario.settle(): payments and cash flows.")
        .def_property_readonly(
            "metrics",
            [](const PySettlement& s) {
                py::dict out;
                for (std::size_t i = 0; i < s.metric_names.size(); ++i)
                    out[py::str(s.metric_names[i])] = std::isnan(s.metrics[i])
                                                          ? py::object(py::none())
                                                          : py::object(py::float_(s.metrics[i]));
                return out;
            },
            "dict metric -> float, or None where a rule was not assessed (settle --format json).")
        .def_readonly("payments", &PySettlement::payments,
                      "payments.csv as a Table: rule, cohort, period, date, amount, then one "
                      "column per payer.")
        .def_readonly("cashflows_table", &PySettlement::cashflows,
                      "cashflows.csv of settle as a Table: period, date, one column per party.")
        .def_readonly("parties", &PySettlement::parties, "The parties, rows of cashflows.")
        .def_property_readonly(
            "dates",
            [](const PySettlement& s) {
                std::vector<std::string> dates;
                for (const auto& row : s.cashflows.rows)
                    dates.push_back(row.cast<py::tuple>()[1].cast<std::string>());
                return dates;
            },
            "Each period's first day, 'YYYY-MM-DD', or ''.")
        .def_property_readonly(
            "cashflows",
            [](const PySettlement& s) {
                const auto parties = s.parties.size();
                const auto horizon = static_cast<std::size_t>(s.plan->horizon);
                py::array_t<double> out({parties, horizon});
                std::copy(s.flows.begin(), s.flows.end(), out.mutable_data());
                return out;
            },
            "numpy.ndarray [party, period]: the settled cash flows.")
        .def("__repr__",
             [](const PySettlement& s) {
                 return "<sibsim.Settlement " + s.plan->name + ": " +
                        std::to_string(s.payments.rows.size()) + " payments>";
             })
        .def_readonly("notes", &PySettlement::notes,
                      "What was not assessed, one line each (the CLI's 'sibsim: note:' lines).")
        .def(
            "to_pandas",
            [](const PySettlement& s) {
                py::dict frames;
                frames["payments"] = table_frame(s.payments);
                frames["cashflows"] = table_frame(s.cashflows);
                return frames;
            },
            "to_pandas() -> dict of DataFrames 'payments' and 'cashflows'. Needs pandas.");

    py::class_<PyScenario>(m, "Scenario", "A loaded, checked scenario; made by sibsim.load().")
        .def_readonly("file", &PyScenario::file, "The file it was loaded from.")
        .def_property_readonly(
            "name", [](const PyScenario& s) { return s.scenario.name; }, "The scenario's name.")
        .def_property_readonly(
            "currency", [](const PyScenario& s) { return s.scenario.currency; },
            "The currency of its money figures.")
        .def_property_readonly(
            "trials", [](const PyScenario& s) { return s.scenario.trials; },
            "Its default number of trials (the file's `trials`).")
        .def_property_readonly(
            "seed", [](const PyScenario& s) { return s.scenario.seed; },
            "Its default seed (the file's `seed`).")
        .def_property_readonly(
            "metrics", [](const PyScenario& s) { return metric_layout(*s.plan).names; },
            "Every metric a run produces, in summary.csv's order (sibsim metrics).")
        .def("run", &sib::python::run_scenario, py::arg("trials") = py::none(),
             py::arg("seed") = py::none(), py::arg("threads") = 0, py::arg("per_trial") = true,
             py::arg("quantiles") = "auto",
             R"(run(trials=None, seed=None, threads=0, per_trial=True, quantiles='auto') -> Result

Simulates the scenario, as `sibsim run` does, and returns a Result.

trials     trials to run (default: the scenario's `trials`)
seed       the seed (default: the scenario's `seed`); the same seed gives the same numbers as
           `sibsim run --seed`, bit for bit, for any number of threads
threads    worker threads; 0 (the default) means all cores
per_trial  keep every trial's values for Result.values() (the default; as --per-trial).
           False keeps memory flat in the trials, as `sibsim run` without --per-trial
quantiles  'auto', 'exact' or 'sketch', as `sibsim run --quantiles`

The GIL is released while trials run; Ctrl-C stops the run within a fraction of a second and
raises KeyboardInterrupt. A run that would not fit in the memory available raises MemoryError
before it starts.)")
        .def("settle", &sib::python::settle, py::arg("observed") = py::none(),
             py::arg("participants") = py::none(), py::arg("partial") = false,
             R"(settle(observed=None, participants=None, partial=False) -> Settlement

Applies the scenario's rules, caps, payers and waterfall to observed results, as
`sibsim settle` does: observed is a YAML file of observed results, participants a CSV file of
participant-level results (docs/outputs.md, "settle"); give one or both. partial settles even
when an outcome a rule uses is not observed (those rules are then not assessed; see .notes).
A problem in either file raises ScenarioError.)")
        .def("__repr__", [](const PyScenario& s) {
            return "<sibsim.Scenario " + s.scenario.name + " from " + s.file + ">";
        });

    m.def("load", &sib::python::load, py::arg("path"), py::arg("set") = py::none(),
          R"(load(path, set=None) -> Scenario

Loads and checks a scenario file. set: a dict {PATH: value} of overrides, as `--set PATH=VALUE`
(a str value is read as YAML, as on the command line; numbers, bools, None, lists and dicts as
they are). Every problem in the file raises one ScenarioError listing them all.)");
    m.def(
        "sweep",
        [](const PyScenario& s, const py::dict& vary, std::optional<long long> trials,
           std::optional<unsigned long long> seed, int threads,
           const std::optional<std::vector<std::string>>& metrics) {
            return sib::python::sweep(s, vary, trials, seed, threads, metrics);
        },
        py::arg("scenario"), py::arg("vary"), py::kw_only(), py::arg("trials") = py::none(),
        py::arg("seed") = py::none(), py::arg("threads") = 0, py::arg("metrics") = py::none(),
        R"(sweep(scenario, vary, *, trials=None, seed=None, threads=0, metrics=None) -> Table

Runs the full grid of values on common random numbers, as `sibsim sweep`, and returns sweep.csv
as a Table: the varied paths, then METRIC.mean and METRIC.se for each metric (all, or those
named in `metrics`). vary: a dict {PATH: values}, where values is a list (each value as in
load's set) or a str as --vary takes it: 'a:b:step' (inclusive) or 'v1,v2,...'. The last path
varies fastest. The same seed gives sweep.csv's numbers.)");
    m.def(
        "compare",
        [](const std::vector<const PyScenario*>& scenarios, std::optional<long long> trials,
           std::optional<unsigned long long> seed,
           int threads) { return sib::python::compare(scenarios, trials, seed, threads); },
        py::arg("scenarios"), py::kw_only(), py::arg("trials") = py::none(),
        py::arg("seed") = py::none(), py::arg("threads") = 0,
        R"(compare(scenarios, *, trials=None, seed=None, threads=0) -> Table

Runs two or more scenarios on common random numbers, as `sibsim compare`, and returns compare.csv
as a Table: metric, one mean column per scenario (named by file stem), then diff.NAME and
diff_se.NAME (the paired standard error) for each later scenario. trials and seed default to the
first scenario's.)");
}
