#pragma once
// What every sibsim command shares: exit statuses, the interrupt flag, the options of commands
// that simulate, reading and parsing inputs, memory and output checks, and the -o folder that is
// written whole or not at all. commands.cpp registers the commands; a command with its own file
// (cli/*_command.cpp) builds on this header.
#include <atomic>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "sib/diagnostics.hpp"
#include "sib/load.hpp"
#include "sib/plan_size.hpp"
#include "sib/reports.hpp"
#include "sib/run.hpp"
#include "sib/table.hpp"
#include "sib/xlsx.hpp"

namespace sib::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_invalid = 2;

/// Set by SIGINT/SIGTERM while a SignalGuard is alive; workers and writers poll it.
extern std::atomic<bool> interrupted;
/// The signal that set `interrupted`.
extern std::atomic<int> interrupt_signal;

/// Options shared by run, sweep and compare.
struct SimulationOptions {
    std::optional<long long> trials;
    std::optional<unsigned long long> seed;
    int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    std::string out_dir;
    std::string xlsx;    ///< --xlsx: the workbook's path, or empty
    std::string report;  ///< --report FILE.html, or empty
    std::vector<std::string> sets;
    std::string format = "table";
    bool quiet = false;
    CLI::Option* out_option = nullptr;
    CLI::Option* xlsx_option = nullptr;
    CLI::Option* report_option = nullptr;
};

void add_xlsx_option(CLI::App& cmd, SimulationOptions& o);

/// Refuses (RefusedRun) an output option given an empty name (`-o ""`, `--report ""`: no
/// silent nothing) and an --xlsx name not ending in .xlsx (Excel opens only those; this also
/// keeps a typo from replacing a CSV file or aiming at a directory). Every command that writes
/// calls it before reading its scenario.
void check_output_options(const SimulationOptions& o);
CLI::Option* add_report_option(CLI::App& cmd, std::string& report);

/// A repeatable option of one value per use (`--set a=1 --set b=2`). CLI11 lets an option that
/// fills a vector go on taking words, so without this `run --set a=1 s.yaml` would take the
/// scenario path as a second override.
CLI::Option* repeatable(CLI::Option* option);

/// -n, --seed, -j, -o, --report, --set, --format, --quiet and --xlsx.
void add_simulation_options(CLI::App& cmd, SimulationOptions& o);

/// The whole file, read once: the text that is loaded is the text that run.csv hashes, also when
/// the file is a pipe that cannot be read twice (`sibsim run <(cat s.yaml)`). An unreadable file is
/// an InputError, as the loader reports it.
std::string read_input(const std::string& path);

void print_errors(const InputError& e, std::ostream& err);

int validate(const std::vector<std::string>& files, std::ostream& out, std::ostream& err);

/// Applies `parse` to every item; the InputErrors of all of them are thrown together, so that
/// every bad argument or file is reported at once.
template <class Item, class Parse>
auto parse_all(const std::vector<Item>& items, Parse parse) {
    std::vector<decltype(parse(items.front()))> parsed;
    std::vector<Diagnostic> problems;
    for (const auto& item : items) {
        try {
            parsed.push_back(parse(item));
        } catch (const InputError& e) {
            problems.insert(problems.end(), e.diagnostics().begin(), e.diagnostics().end());
        }
    }
    if (!problems.empty()) throw InputError(problems);
    return parsed;
}

/// True when YAML text holds more than one document: a "---" line after content or after another
/// "---", or content after a "..." line. Such a value used to be cut to its first document.
bool several_documents(std::string_view text);

/// Every --set argument parsed, all bad ones reported at once.
std::vector<Override> parse_overrides(const std::vector<std::string>& sets);

/// SIGINT and SIGTERM set `interrupted` while it lives; the previous handlers come back after.
struct SignalGuard {
    SignalGuard();
    ~SignalGuard();
    SignalGuard(const SignalGuard&) = delete;
    SignalGuard& operator=(const SignalGuard&) = delete;
    void (*previous_int)(int);
    void (*previous_term)(int);
};

/// 128 + the signal: the exit status of an interrupted command.
int interrupted_status();

/// A signal arrived while outputs were being written; what this run wrote has been removed.
struct Interrupted {};

/// A run refused before it starts (exit 2): what() is the whole message after "sibsim: error: ".
class RefusedRun : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Refuses a run whose memory estimate exceeds the memory available (docs/limits.md).
void check_memory(double needed, const std::string& advice);

/// The provenance rows of run.csv for one scenario run.
Provenance provenance_of(const std::string& file, const std::string& text,
                         const std::vector<std::string>& sets, const RunOptions& options);

/// -n, --seed and -j over the scenario's own defaults, cancelled by `interrupted`.
RunOptions run_options_of(const Scenario& scenario, const SimulationOptions& o);

/// (file, writer) pairs: a name inside the -o folder, or an absolute path (the --xlsx workbook,
/// which may be anywhere).
using OutputFiles = std::vector<std::pair<std::string, std::function<void(std::ostream&)>>>;

/// A command's outputs: each table as NAME.csv in the -o folder (with -o), and all of them as
/// the sheets of one workbook (with --xlsx), from the same table functions.
OutputFiles output_files(const std::vector<Table>& tables, const SimulationOptions& o,
                         const WorkbookStyle& style);

/// The --xlsx file's directory must exist (only -o's folder is created): checked before anything
/// runs, as -o is, and after -o's folder is made (the workbook may go into it).
void check_workbook_directory(const SimulationOptions& o);

/// Refuses, before anything runs, a workbook sheet larger than Excel allows (docs/outputs.md,
/// "The workbook").
void check_sheet_fits(const SimulationOptions& o, const std::string& sheet, double rows,
                      double columns, const std::string& advice);

/// The --report file as an absolute path, checked before any trial runs: its folder must exist
/// and the name must not be a folder. Absolute, so that OutputFolder::write (which joins names
/// to its folder) writes it where it was named, with the -o files, all of them or none.
std::string report_path(const std::string& report);

/// The same check for any file written beside the -o files (`what` names it in the message:
/// "the report", "the design file"); an empty name stays empty.
std::string output_file_path(const std::string& file, const std::string& what);

/// The -o folder of one command, made ready before any trial runs, so that a bad -o is reported
/// at once: created when missing, and locked (flock on ".sibsim.lock" inside it) for the whole
/// command, so that two runs never mix their files in one folder; a second run refuses (exit 1)
/// rather than waits. On destruction the lock file is removed, and the folder too when this
/// command created it and it is still empty (nothing written, or everything undone).
class OutputFolder {
  public:
    /// An empty `dir` (no -o) is a folder that is never written.
    explicit OutputFolder(const std::string& dir);
    OutputFolder(const OutputFolder&) = delete;
    OutputFolder& operator=(const OutputFolder&) = delete;
    ~OutputFolder();

    /// Writes each (file name, writer) into the folder, whole or not at all. All files or none:
    /// when one cannot be written, or a signal arrives meanwhile (the file being written stops
    /// at its next 64 KiB), the files written so far are removed.
    void write(const OutputFiles& files);

  private:
    std::filesystem::path lock_path() const { return folder_ / ".sibsim.lock"; }
    void lock();

    std::filesystem::path folder_;
    bool created_ = false;
    int lock_fd_ = -1;
};

/// `--metrics a,b,...` as a list of names, each checked against `known` (every bad name reported
/// at once); empty when the option is not given.
std::vector<std::string> parse_metrics(const std::string& metrics_arg,
                                       const std::vector<std::string>& known);

/// The line under a sweep or compare table that shows the key metrics only.
void print_key_metrics_note(std::ostream& out, std::size_t shown, std::size_t all,
                            const std::string& file, const char* csv);

/// A scenario file's name without folder and extension (compare's column names).
std::string stem_of(const std::string& file);

/// Another process of the same mpirun failed before the work started (docs/distributed.md):
/// this one stops with `status` and prints nothing (the failing process has).
struct PeerFailed {
    int status = exit_invalid;
};

/// Under mpirun, called by a command on every process once every input is checked and the -o
/// folder is ready, just before the work that the processes share: throws PeerFailed when any
/// process failed on the way. Without mpirun it does nothing.
void start_together();

/// Whether this process writes the outputs and prints the results: process 0 under mpirun, the
/// only process otherwise. The others only simulate their share.
bool writes_outputs();

/// A command defined in its own file (cli/*_command.cpp): the subcommand it added to the app and
/// what runs when the command line chose it. Its errors are thrown (InputError, RefusedRun,
/// OutputError, Interrupted) and reported by cli::main like every command's.
struct CommandHook {
    CLI::App* command = nullptr;
    std::function<int(std::ostream& out, std::ostream& err)> run;
};

}  // namespace sib::cli
