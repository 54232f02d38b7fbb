// What every sibsim command shares (command_support.hpp).
#include "command_support.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>

#include "sib/csv.hpp"
#include "sib/distributed.hpp"
#include "sib/plan_size.hpp"
#include "sib/readable.hpp"
#include "sib/sha256.hpp"

namespace sib::cli {

std::atomic<bool> interrupted{false};
std::atomic<int> interrupt_signal{0};

namespace {

extern "C" void on_signal(int signal) {
    interrupt_signal.store(signal);
    interrupted.store(true);
}

}  // namespace

void add_xlsx_option(CLI::App& cmd, SimulationOptions& o) {
    o.xlsx_option = cmd.add_option(
        "--xlsx", o.xlsx,
        "Also write the outputs as one .xlsx workbook, a sheet per CSV file (with or without -o)");
}

void check_output_options(const SimulationOptions& o) {
    if (o.out_option != nullptr && o.out_option->count() > 0 && o.out_dir.empty())
        throw RefusedRun("-o/--out: the directory name is empty");
    if (o.report_option != nullptr && o.report_option->count() > 0 && o.report.empty())
        throw RefusedRun("--report: the file name is empty");
    if (o.xlsx_option != nullptr && o.xlsx_option->count() > 0) {
        const std::string extension = std::filesystem::path(o.xlsx).extension().string();
        if (extension != ".xlsx" && extension != ".XLSX")
            throw RefusedRun("--xlsx: the file name must end in .xlsx, got '" + o.xlsx + "'");
    }
}

CLI::Option* repeatable(CLI::Option* option) {
    return option->take_all()->expected(1)->allow_extra_args(false);
}

CLI::Option* add_report_option(CLI::App& cmd, std::string& report) {
    return cmd
        .add_option("--report", report,
                    "Also write a self-contained HTML page with charts (docs/outputs.md, "
                    "\"report\")")
        ->type_name("FILE.html");
}

void add_simulation_options(CLI::App& cmd, SimulationOptions& o) {
    cmd.add_option("-n,--trials", o.trials, "Number of trials (default: simulation.trials)")
        ->check(CLI::Range(1LL, 1000000000LL));
    cmd.add_option("--seed", o.seed, "Random seed, a whole number ≥ 0 (default: simulation.seed)")
        ->check(CLI::Validator(
            [](std::string& v) {
                unsigned long long seed = 0;
                const auto [end, error] = std::from_chars(v.data(), v.data() + v.size(), seed);
                return error == std::errc() && end == v.data() + v.size()
                           ? std::string()
                           : "must be a whole number from 0 to 18446744073709551615, got '" + v +
                                 "'";
            },
            "SEED"));
    cmd.add_option("-j,--threads", o.threads, "Worker threads (default: all cores)")
        ->check(CLI::Range(1, 1024));
    o.out_option = cmd.add_option("-o,--out", o.out_dir, "Directory for the CSV outputs");
    o.report_option = add_report_option(cmd, o.report);
    repeatable(cmd.add_option(
        "--set", o.sets, "Override a scenario value before validation: PATH=VALUE (repeatable)"));
    cmd.add_option("--format", o.format,
                   "Summary on stdout: table (rounded for reading), csv or json (in full)")
        ->check(CLI::IsMember({"table", "csv", "json"}));
    cmd.add_flag("--quiet", o.quiet, "Print nothing on stdout and no progress");
    add_xlsx_option(cmd, o);
}

/// The whole file, read once: the text that is loaded is the text that run.csv hashes, also when
/// the file is a pipe that cannot be read twice (`sibsim run <(cat s.yaml)`). An unreadable file is
/// an InputError, as the loader reports it.
std::string read_input(const std::string& path) {
    std::string text;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    int failure = f ? 0 : errno;
    if (f) {
        std::array<char, 65536> buf{};
        std::size_t got = 0;
        while ((got = std::fread(buf.data(), 1, buf.size(), f)) > 0) text.append(buf.data(), got);
        if (std::ferror(f)) failure = errno ? errno : EIO;
        std::fclose(f);
    }
    if (failure) {
        throw InputError({Diagnostic{
            path, {1, 1}, "", "cannot read file: " + std::generic_category().message(failure)}});
    }
    return text;
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

/// True when YAML text holds more than one document: a "---" line after content or after another
/// "---", or content after a "..." line. Such a value used to be cut to its first document.
bool several_documents(std::string_view text) {
    bool in_document = false, ended = false;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto end = std::min(text.find('\n', start), text.size());
        const std::string_view line = text.substr(start, end - start);
        start = end + 1;
        auto marker = [&](std::string_view m) {
            return line.substr(0, 3) == m &&
                   (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
        };
        const auto first = line.find_first_not_of(" \t\r");
        const bool blank = first == std::string_view::npos || line[first] == '#';
        if (marker("---")) {
            if (in_document || ended) return true;
            in_document = true;
        } else if (marker("...")) {
            ended = ended || in_document;
            in_document = false;
        } else if (!blank) {
            if (ended) return true;
            in_document = true;
        }
    }
    return false;
}

std::vector<Override> parse_overrides(const std::vector<std::string>& sets) {
    return parse_all(sets, [](const std::string& s) {
        Override o = parse_override(s);
        if (several_documents(o.value))
            throw InputError({Diagnostic{
                "--set", {}, o.path, "the value must be one YAML document, got several"}});
        return o;
    });
}

SignalGuard::SignalGuard() {
    interrupted = false;
    previous_int = std::signal(SIGINT, on_signal);
    previous_term = std::signal(SIGTERM, on_signal);
}

SignalGuard::~SignalGuard() {
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
}

int interrupted_status() {
    // Under mpirun a process may stop because another one was interrupted: its signal then.
    const int signal = interrupt_signal.load();
    return 128 + (signal != 0 ? signal : stopped_by_signal());
}

/// Refuses a run whose memory estimate exceeds the memory available (docs/limits.md).
void check_memory(double needed, const std::string& advice) {
    if (auto refusal = memory_refusal(needed, advice)) throw RefusedRun(*refusal);
}

/// The provenance rows of run.csv for one scenario run.
Provenance provenance_of(const std::string& file, const std::string& text,
                         const std::vector<std::string>& sets, const RunOptions& options) {
    Provenance provenance = {{"sibsim_version", SIBSIM_VERSION},
                             {"scenario", file},
                             {"scenario_sha256", sha256_hex(text)}};
    for (const auto& s : sets) provenance.push_back({"set", s});
    provenance.push_back({"seed", std::to_string(options.seed)});
    provenance.push_back({"trials", std::to_string(options.trials)});
    return provenance;
}

RunOptions run_options_of(const Scenario& scenario, const SimulationOptions& o) {
    RunOptions options;
    options.trials = o.trials.value_or(scenario.trials);
    options.seed = o.seed.value_or(scenario.seed);
    options.threads = o.threads;
    options.cancel = &interrupted;
    return options;
}

/// A command's outputs: each table as NAME.csv in the -o folder (with -o), and all of them as
/// the sheets of one workbook (with --xlsx), from the same table functions.
OutputFiles output_files(const std::vector<Table>& tables, const SimulationOptions& o,
                         const WorkbookStyle& style) {
    OutputFiles files;
    if (!o.out_dir.empty())
        for (const Table& table : tables)
            files.push_back({table.name + ".csv", [&table](std::ostream& s) {
                                 CsvSink csv(s);
                                 table.fill(csv);
                             }});
    if (!o.xlsx.empty()) {
        files.push_back({std::filesystem::absolute(o.xlsx).string(),
                         [&tables, style, path = o.xlsx](std::ostream& s) {
                             try {
                                 write_workbook(s, tables, style, &interrupted);
                             } catch (const OutputError& e) {
                                 throw OutputError("cannot write '" + path + "': " + e.what());
                             }
                         }});
    }
    return files;
}

/// The --xlsx file's directory must exist (only -o's folder is created): checked before anything
/// runs, as -o is, and after -o's folder is made (the workbook may go into it).
void start_together() {
    const int status = agree_status(exit_ok);
    if (status != exit_ok) throw PeerFailed{status};
}

bool writes_outputs() {
    return processes().rank == 0;
}

void check_workbook_directory(const SimulationOptions& o) {
    // Under mpirun only process 0 writes (and creates -o, where the workbook may go).
    if (o.xlsx.empty() || !writes_outputs()) return;
    const std::filesystem::path directory = std::filesystem::path(o.xlsx).parent_path();
    std::error_code error;
    if (!directory.empty() && !std::filesystem::is_directory(directory, error))
        throw OutputError("cannot write '" + o.xlsx + "': no directory '" + directory.string() +
                          "'");
}

/// Refuses, before anything runs, a workbook sheet larger than Excel allows (docs/outputs.md,
/// "The workbook").
void check_sheet_fits(const SimulationOptions& o, const std::string& sheet, double rows,
                      double columns, const std::string& advice) {
    if (o.xlsx.empty()) return;
    if (rows > static_cast<double>(xlsx_max_rows))
        throw RefusedRun("--xlsx: the " + sheet + " sheet would have " + format_number(rows) +
                         " rows, header included; Excel holds at most " +
                         format_number(static_cast<double>(xlsx_max_rows)) + "; " + advice);
    if (columns > static_cast<double>(xlsx_max_columns))
        throw RefusedRun("--xlsx: the " + sheet + " sheet would have " + format_number(columns) +
                         " columns; Excel holds at most " +
                         format_number(static_cast<double>(xlsx_max_columns)) + "; " + advice);
}

/// The --report file as an absolute path, checked before any trial runs: its folder must exist
/// and the name must not be a folder. Absolute, so that OutputFolder::write (which joins names
/// to its folder) writes it where it was named, with the -o files, all of them or none.
std::string output_file_path(const std::string& file, const std::string& what) {
    if (file.empty()) return file;
    const std::filesystem::path path = std::filesystem::absolute(file);
    std::error_code ignored;
    if (std::filesystem::is_directory(path, ignored))
        throw OutputError("cannot write " + what + " '" + file + "': it is a directory");
    if (!std::filesystem::is_directory(path.parent_path(), ignored))
        throw OutputError("cannot write " + what + " '" + file + "': no directory '" +
                          path.parent_path().string() + "'");
    return path.string();
}

std::string report_path(const std::string& report) {
    return output_file_path(report, "the report");
}

OutputFolder::OutputFolder(const std::string& dir) : folder_(dir) {
    if (dir.empty()) return;
    if (!writes_outputs()) {  // under mpirun, the folder of process 0 alone
        folder_.clear();
        return;
    }
    std::error_code ignored;
    const bool existed = std::filesystem::exists(folder_, ignored);
    create_output_directory(folder_);
    created_ = !existed;
    try {
        lock();
    } catch (...) {
        if (created_) std::filesystem::remove(folder_, ignored);
        throw;
    }
}

OutputFolder::~OutputFolder() {
    std::error_code ignored;
    if (lock_fd_ >= 0) {
        // Removed while still held: a run that opened it meanwhile sees it is gone (lock()).
        ::unlink(lock_path().c_str());
        ::close(lock_fd_);
    }
    if (created_) std::filesystem::remove(folder_, ignored);  // only when empty
}

void OutputFolder::write(const OutputFiles& files) {
    if (!writes_outputs()) return;  // under mpirun, process 0 writes every file
    std::vector<std::filesystem::path> written;
    std::error_code ignored;
    auto undo = [&] {
        for (const auto& path : written) std::filesystem::remove(path, ignored);
    };
    try {
        for (const auto& [name, write] : files) {
            if (interrupted) break;
            write_file_atomically(folder_ / name, write, &interrupted);
            written.push_back(folder_ / name);
        }
    } catch (...) {
        undo();
        if (interrupted) throw Interrupted{};
        throw;
    }
    if (interrupted) {
        undo();
        throw Interrupted{};
    }
}

void OutputFolder::lock() {
    const std::filesystem::path path = lock_path();
    auto fail = [&](int error) {
        throw OutputError("cannot lock '" + path.string() +
                          "': " + std::system_category().message(error));
    };
    for (;;) {
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0) fail(errno);
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int error = errno;
            ::close(fd);
            if (error != EWOULDBLOCK) fail(error);
            throw OutputError("output directory '" + folder_.string() +
                              "' is in use by another sibsim command; wait for it to end or "
                              "choose another -o");
        }
        // The holder before us may have removed the file between our open and our flock:
        // then the lock is on a file nobody else will see, and we start again.
        struct stat held {};
        struct stat named {};
        if (::fstat(fd, &held) == 0 && ::lstat(path.c_str(), &named) == 0 &&
            held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
            lock_fd_ = fd;
            return;
        }
        ::close(fd);
    }
}

/// `--metrics a,b,...` as a list of names, each checked against `known` (every bad name reported
/// at once); empty when the option is not given.
std::vector<std::string> parse_metrics(const std::string& metrics_arg,
                                       const std::vector<std::string>& known) {
    std::vector<std::string> metrics;
    if (metrics_arg.empty()) return metrics;
    std::stringstream list(metrics_arg);
    for (std::string m; std::getline(list, m, ',');) metrics.push_back(m);
    std::vector<Diagnostic> unknown;
    for (const auto& m : metrics)
        if (std::find(known.begin(), known.end(), m) == known.end())
            unknown.push_back(
                {"--metrics", {}, "", "no metric '" + m + "'" + did_you_mean(m, known)});
    if (!unknown.empty()) throw InputError(unknown);
    return metrics;
}

/// The line under a sweep or compare table that shows the key metrics only.
void print_key_metrics_note(std::ostream& out, std::size_t shown, std::size_t all,
                            const std::string& file, const char* csv) {
    if (shown >= all) return;
    out << "\n"
        << shown << " key metrics of " << all << " shown; " << csv
        << " and --format csv have all.\nOthers: --metrics NAME,...; sibsim metrics " << file
        << " lists them.\n";
}

std::string stem_of(const std::string& file) {
    return std::filesystem::path(file).stem().string();
}

}  // namespace sib::cli
