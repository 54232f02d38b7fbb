// The sibsim command line: subcommands parse their options (CLI11), load and validate scenarios,
// run the engine and write the outputs. Only this directory sees CLI11.
#include "commands.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>

#include "sib/csv.hpp"
#include "sib/load.hpp"
#include "sib/plan.hpp"
#include "sib/reports.hpp"
#include "sib/run.hpp"
#include "sib/sha256.hpp"

namespace sib::cli {

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_invalid = 2;

std::atomic<bool> interrupted{false};
std::atomic<int> interrupt_signal{0};

extern "C" void on_signal(int signal) {
    interrupt_signal.store(signal);
    interrupted.store(true);
}

/// Options shared by run, sweep and compare.
struct SimulationOptions {
    std::optional<long long> trials;
    std::optional<unsigned long long> seed;
    int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    std::string out_dir;
    std::vector<std::string> sets;
    std::string format = "table";
    bool quiet = false;
};

void add_simulation_options(CLI::App& cmd, SimulationOptions& o) {
    cmd.add_option("-n,--trials", o.trials, "Number of trials (default: simulation.trials)")
        ->check(CLI::Range(1LL, 1000000000LL));
    cmd.add_option("--seed", o.seed, "Random seed (default: simulation.seed)");
    cmd.add_option("-j,--threads", o.threads, "Worker threads (default: all cores)")->check(CLI::Range(1, 1024));
    cmd.add_option("-o,--out", o.out_dir, "Directory for the CSV outputs");
    cmd.add_option("--set", o.sets, "Override a scenario value before validation: PATH=VALUE (repeatable)")
        ->take_all()
        ->expected(1);
    cmd.add_option("--format", o.format, "Summary on stdout: table, csv or json")
        ->check(CLI::IsMember({"table", "csv", "json"}));
    cmd.add_flag("--quiet", o.quiet, "Print nothing on stdout and no progress");
}

/// A progress line on stderr, only when stderr is a terminal and the work takes over a second.
class Progress {
public:
    Progress(long long total, bool enabled) : total_(total), enabled_(enabled && isatty(STDERR_FILENO)) {}
    ~Progress() {
        if (shown_) std::cerr << "\r\033[K" << std::flush;
    }
    void update(long long done) {
        if (!enabled_) return;
        std::lock_guard lock(mutex_);
        const double elapsed = seconds_since(start_);
        if (elapsed < 1.0 || seconds_since(last_) < 0.2) return;
        last_ = clock::now();
        shown_ = true;
        const double rate = static_cast<double>(done) / elapsed;
        const double left = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
        const int width = 30;
        const int filled = static_cast<int>(width * static_cast<double>(done) / static_cast<double>(total_));
        std::cerr << "\r[" << std::string(static_cast<size_t>(filled), '#')
                  << std::string(static_cast<size_t>(width - filled), ' ') << "] " << done << "/" << total_
                  << "  " << static_cast<long long>(rate) << " trials/s  " << static_cast<long long>(left + 0.5)
                  << " s left" << std::flush;
    }

private:
    using clock = std::chrono::steady_clock;
    static double seconds_since(clock::time_point t) {
        return std::chrono::duration<double>(clock::now() - t).count();
    }
    long long total_;
    bool enabled_;
    bool shown_ = false;
    std::mutex mutex_;
    clock::time_point start_ = clock::now();
    clock::time_point last_ = start_;
};

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void print_errors(const InputError& e, std::ostream& err) {
    for (const auto& d : e.diagnostics()) err << format(d) << '\n';
}

int validate(const std::vector<std::string>& files, std::ostream& out, std::ostream& err) {
    int status = exit_ok;
    for (const auto& file : files) {
        try {
            load_scenario_file(file);
            out << file << ": ok\n";
        } catch (const InputError& e) {
            print_errors(e, err);
            status = exit_invalid;
        }
    }
    return status;
}

std::vector<Override> parse_overrides(const std::vector<std::string>& sets) {
    std::vector<Override> overrides;
    std::vector<Diagnostic> problems;
    for (const auto& s : sets) {
        try {
            overrides.push_back(parse_override(s));
        } catch (const InputError& e) {
            problems.insert(problems.end(), e.diagnostics().begin(), e.diagnostics().end());
        }
    }
    if (!problems.empty()) throw InputError(problems);
    return overrides;
}

struct SignalGuard {
    SignalGuard() {
        interrupted = false;
        previous_int = std::signal(SIGINT, on_signal);
        previous_term = std::signal(SIGTERM, on_signal);
    }
    ~SignalGuard() {
        std::signal(SIGINT, previous_int);
        std::signal(SIGTERM, previous_term);
    }
    void (*previous_int)(int);
    void (*previous_term)(int);
};

int interrupted_status() { return 128 + interrupt_signal.load(); }

int run_command(const std::string& file, const SimulationOptions& o, bool per_trial, std::ostream& out,
                std::ostream& err) {
    const auto overrides = parse_overrides(o.sets);
    const Scenario scenario = load_scenario_file(file, overrides);
    const Plan plan = compile(scenario);

    RunOptions options;
    options.trials = o.trials.value_or(scenario.trials);
    options.seed = o.seed.value_or(scenario.seed);
    options.threads = o.threads;
    options.cancel = &interrupted;
    Progress progress(options.trials, !o.quiet);
    options.progress = [&](long long done) { progress.update(done); };

    SignalGuard signals;
    RunResult result = run(plan, options);
    if (result.cancelled) {
        err << "sibsim: interrupted; no output written\n";
        return interrupted_status();
    }

    if (!o.out_dir.empty()) {
        Provenance provenance = {{"sibsim_version", SIBSIM_VERSION},
                                 {"scenario", file},
                                 {"scenario_sha256", sha256_hex(read_text(file))}};
        for (const auto& s : o.sets) provenance.push_back({"set", s});
        provenance.push_back({"seed", std::to_string(options.seed)});
        provenance.push_back({"trials", std::to_string(options.trials)});

        const std::filesystem::path dir(o.out_dir);
        create_output_directory(dir);
        write_file_atomically(dir / "summary.csv", [&](std::ostream& s) { write_summary(s, result); });
        write_file_atomically(dir / "cashflows.csv", [&](std::ostream& s) { write_cashflows(s, plan, result); });
        if (per_trial) write_file_atomically(dir / "trials.csv", [&](std::ostream& s) { write_trials(s, result); });
        write_file_atomically(dir / "run.csv", [&](std::ostream& s) { write_provenance(s, provenance); });
    }
    if (!o.quiet) {
        if (o.format == "json") {
            print_json(out, result);
        } else if (o.format == "csv") {
            write_summary(out, result);
        } else {
            print_table(out, plan, result);
        }
    }
    return exit_ok;
}

}  // namespace

int main(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
    CLI::App app{"sibsim: Monte Carlo simulation of Social Impact Bond and outcomes-contract payments"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("sibsim ") + SIBSIM_VERSION);

    std::vector<std::string> validate_files;
    auto* validate_cmd = app.add_subcommand("validate", "Check scenario files; print 'ok' per valid file");
    validate_cmd->add_option("SCENARIO", validate_files, "Scenario files")->required();
    validate_cmd->footer("Example: sibsim validate scenarios/*.yaml");

    std::string run_file;
    SimulationOptions run_options;
    bool per_trial = false;
    auto* run_cmd = app.add_subcommand("run", "Simulate a scenario; print a summary, write CSV with -o");
    run_cmd->add_option("SCENARIO", run_file, "Scenario file")->required();
    add_simulation_options(*run_cmd, run_options);
    run_cmd->add_flag("--per-trial", per_trial, "Also write trials.csv (one row per trial)");
    run_cmd->footer("Example: sibsim run scenarios/peterborough.yaml -n 100000 -o out/");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version are "errors" with exit code 0.
        const int code = app.exit(e, out, err);
        return code == 0 ? exit_ok : exit_invalid;
    }

    try {
        if (*validate_cmd) return validate(validate_files, out, err);
        if (*run_cmd) return run_command(run_file, run_options, per_trial, out, err);
    } catch (const InputError& e) {
        print_errors(e, err);
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
