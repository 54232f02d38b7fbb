// Robustness (docs/limits.md): limits refused up front with located messages and exit 2, a run
// that cannot fit in memory refused before it starts, SIGINT and SIGTERM on the real binary
// (exit 130 and 143 while work remains, nothing left behind, also while files are being written),
// write failures (exit 1, the path named, nothing partial), and numerical extremes that must never
// put NaN or infinity in any output file.
//
// No test here measures speed (that lives in bench/; the figures are in docs/limits.md). Bounded
// work is shown by what a test can see whatever the machine's speed: an address-space limit the
// unbounded work would exceed, no output folder, a stop seen while far more work remains than
// could be done before the hang guard. Waits are for an observable state (a file, CPU time used),
// and the only time limits are generous hang guards.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_helpers.hpp"
#include "sib/csv.hpp"
#include "sib/diagnostics.hpp"
#include "sib/draw.hpp"
#include "sib/load.hpp"
#include "sib/plan_size.hpp"
#include "sib/run.hpp"
#include "sib/sha256.hpp"
#include "sib/sweep.hpp"

extern char** environ;

using namespace sib::test;

namespace {

/// The message of load_scenario on `yaml`, or "" when it loads.
std::string load_error(const std::string& yaml) {
    try {
        sib::load_scenario(yaml, "t.yaml");
    } catch (const sib::InputError& e) {
        return e.what();
    }
    return "";
}

/// MemAvailable in bytes, as the CLI reads it; nothing when unreadable.
std::optional<double> mem_available() {
    std::ifstream meminfo("/proc/meminfo");
    for (std::string key; meminfo >> key;) {
        double kib = 0;
        if (key == "MemAvailable:" && meminfo >> kib) return kib * 1024;
        meminfo.ignore(1 << 20, '\n');
    }
    return std::nullopt;
}

// A small valid scenario with `cohorts`, `outcomes` and `payments` spliced in.
std::string scenario_with(const std::string& cohorts, const std::string& outcomes,
                          const std::string& payments, int horizon = 40) {
    return "sibsim: 1\nname: t\nhorizon: " + std::to_string(horizon) + "\ncohorts:\n" + cohorts +
           "outcomes:\n" + outcomes + "payments:\n" + payments +
           "payers:\n  - {name: p, share: 1}\n";
}

const std::string one_cohort = "  - {name: c, size: 10, enrol: [0, 1]}\n";
const std::string one_outcome = "  - {name: o, kind: binary, rate: 0.5}\n";
const std::string one_rule = "  - {name: r, basis: rate_card, outcome: o, price: 1}\n";

std::string repeated(const std::string& pattern, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) {
        std::string line = pattern;
        for (std::size_t at; (at = line.find("#")) != std::string::npos;)
            line.replace(at, 1, std::to_string(i));
        out += line;
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Limits

TEST_CASE("limits: too many cohorts, outcomes, rules, payers, tranches, points or correlations") {
    SUBCASE("cohorts") {
        const auto yaml = scenario_with(repeated("  - {name: c#, size: 1, enrol: [0, 0]}\n", 1001),
                                        one_outcome, one_rule);
        CHECK(load_error(yaml) ==
              "t.yaml:5:3: error: cohorts: must have at most 1000 entries, got 1001");
        CHECK(load_error(scenario_with(repeated("  - {name: c#, size: 1, enrol: [0, 0]}\n", 1000),
                                       one_outcome, one_rule)) == "");
    }
    SUBCASE("outcomes") {
        const auto yaml =
            scenario_with(one_cohort, repeated("  - {name: o#, kind: binary, rate: 0.5}\n", 101),
                          "  - {name: r, basis: rate_card, outcome: o1, price: 1}\n");
        CHECK(load_error(yaml) ==
              "t.yaml:7:3: error: outcomes: must have at most 100 entries, got 101");
    }
    SUBCASE("payment rules") {
        const auto yaml = scenario_with(
            one_cohort, one_outcome,
            repeated("  - {name: r#, basis: rate_card, outcome: o, price: 1}\n", 1001));
        CHECK(load_error(yaml) ==
              "t.yaml:9:3: error: payments: must have at most 1000 entries, got 1001");
    }
    SUBCASE("payers") {
        std::string yaml = scenario_with(one_cohort, one_outcome, one_rule);
        yaml = yaml.substr(0, yaml.find("payers:")) + "payers:\n" +
               repeated("  - {name: p#, share: 0.01}\n", 101);
        CHECK(load_error(yaml) ==
              "t.yaml:11:3: error: payers: must have at most 100 entries, got 101");
    }
    SUBCASE("tranches") {
        const auto yaml = scenario_with(one_cohort, one_outcome, one_rule) +
                          "investors:\n  capital: 1\n  tranches:\n" +
                          repeated("    - {name: t#, share: 0.01}\n", 101);
        CHECK(load_error(yaml) ==
              "t.yaml:15:5: error: investors.tranches: must have at most 100 entries, got 101");
    }
    SUBCASE("schedule points") {
        std::string points;
        for (int i = 0; i < 1001; ++i) points += (i ? ", [" : "[") + std::to_string(i) + ", 1]";
        const auto yaml =
            scenario_with(one_cohort, "  - {name: o, kind: count, better: lower, baseline: 1}\n",
                          "  - {name: r, basis: versus_comparison, outcome: o, "
                          "schedule: [" +
                              points + "]}\n") +
            "comparison: {kind: historical}\n";
        CHECK(load_error(yaml) ==
              "t.yaml:9:63: error: payments.r.schedule: must have at most 1000 entries, got 1001");
    }
    SUBCASE("correlations") {
        const auto yaml = scenario_with(one_cohort, one_outcome, one_rule) + "correlations:\n" +
                          repeated("  - [a, b, 0.1]\n", 1001);
        CHECK(load_error(yaml) ==
              "t.yaml:13:3: error: correlations: must have at most 1000 entries, got 1001");
    }
}

TEST_CASE("limits: enrolment periods times outcomes, horizon, cohort size, trials") {
    SUBCASE("1000 cohorts over 1001 periods with 1 outcome: over a million batch counts") {
        const auto yaml =
            scenario_with(repeated("  - {name: c#, size: 1, enrol: [0, 1000]}\n", 1000),
                          one_outcome, one_rule, 1200);
        CHECK(load_error(yaml) ==
              "t.yaml:5:3: error: cohorts: enrolment periods over all cohorts (1001000) times "
              "outcomes (1) must be at most 1000000, got 1001000");
    }
    SUBCASE("horizon") {
        const auto yaml = scenario_with(one_cohort, one_outcome, one_rule, 1201);
        CHECK(load_error(yaml) ==
              "t.yaml:3:10: error: horizon: must be between 1 and 1200, got 1201");
    }
    SUBCASE("cohort size") {
        const auto yaml =
            scenario_with("  - {name: c, size: 1e12, enrol: [0, 1]}\n", one_outcome, one_rule);
        CHECK(load_error(yaml) ==
              "t.yaml:5:21: error: cohorts.c.size: must be between 0 and 10000000, got 1e+12");
    }
    SUBCASE("simulation.trials in the file: exit 2 with a located message") {
        TempDir dir;
        write_file(dir.path() / "s.yaml", scenario_with(one_cohort, one_outcome, one_rule) +
                                              "simulation: {trials: 2000000000}\n");
        const Cli r = sibsim({"run", dir / "s.yaml", "--quiet"});
        CHECK(r.status == 2);
        CHECK(r.err == dir / "s.yaml" +
                           ":12:22: error: simulation.trials: must be between 1 and 1000000000, "
                           "got 2000000000\n");
    }
    SUBCASE("-n on the command line") {
        const Cli r = sibsim({"run", peterborough, "-n", "2000000000", "--quiet"});
        CHECK(r.status == 2);
        CHECK_MESSAGE(r.err.find("--trials") != std::string::npos, r.err);
    }
}

TEST_CASE("fuzz finding: ',:' is not read as endless YAML documents, in a file or in --set") {
    // yaml-cpp 0.7 reads ",:" as an endless stream of empty documents; LoadAll then never ends.
    CHECK(load_error("# a comment\n,:\n") ==
          "t.yaml:2:1: error: the YAML parser cannot get past this point");
    const Cli r = sibsim({"run", peterborough, "-n", "10", "--set", "name=,:", "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err == peterborough +
                       ":47:7: error: name: --set value is not valid YAML: the YAML parser cannot "
                       "get past this point\n");
}

TEST_CASE("a run that needs more memory than is available is refused before it starts (exit 2)") {
    const auto available = mem_available();
    if (!available) {
        MESSAGE("skipped: /proc/meminfo has no MemAvailable");
        return;
    }
    // A billion trials of Peterborough keep 8 bytes per metric and trial: hundreds of GiB.
    if (*available > 100.0 * 1024 * 1024 * 1024) {
        MESSAGE("skipped: this machine has more than 100 GiB available");
        return;
    }
    TempDir dir;
    const std::string out = dir / "out";
    SUBCASE("run --per-trial") {
        const Cli r =
            sibsim({"run", peterborough, "-n", "1000000000", "--per-trial", "-o", out, "--quiet"});
        CHECK(r.status == 2);
        CHECK_MESSAGE(r.err.rfind("sibsim: error: this run needs about ", 0) == 0, r.err);
        CHECK_MESSAGE(r.err.find(" GiB of memory but ") != std::string::npos, r.err);
        CHECK_MESSAGE(
            r.err.find(" GiB is available; use fewer trials (-n) or drop --per-trial\n") !=
                std::string::npos,
            r.err);
    }
    SUBCASE("compare keeps every value of every scenario") {
        const Cli r = sibsim(
            {"compare", peterborough, peterborough, "-n", "1000000000", "-o", out, "--quiet"});
        CHECK(r.status == 2);
        CHECK_MESSAGE(r.err.find("GiB is available; use fewer trials (-n)\n") != std::string::npos,
                      r.err);
    }
    CHECK(!fs::exists(out));
}

// ---------------------------------------------------------------------------------------------
// Interruption: the real binary, a real signal

namespace {

/// The real `sibsim` with ARGS, stdout to `out_path` and stderr to `err_path`; SIGINT and
/// SIGTERM at their defaults and unblocked in the child, whatever the test runner set. With
/// `address_space` > 0, the child may map at most that many bytes (RLIMIT_AS).
pid_t spawn_sibsim(const std::vector<std::string>& args, const std::string& out_path,
                   const std::string& err_path, double address_space = 0) {
    std::vector<std::string> all{SIBSIM_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (address_space > 0) {
        // posix_spawn cannot set a limit: fork, and only async-signal-safe calls in the child.
        const rlimit limit{static_cast<rlim_t>(address_space), static_cast<rlim_t>(address_space)};
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            sigset_t none;
            sigemptyset(&none);
            ::sigprocmask(SIG_SETMASK, &none, nullptr);
            ::signal(SIGINT, SIG_DFL);
            ::signal(SIGTERM, SIG_DFL);
            const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (out < 0 || err < 0 || ::dup2(out, STDOUT_FILENO) < 0 ||
                ::dup2(err, STDERR_FILENO) < 0 || ::setrlimit(RLIMIT_AS, &limit) != 0)
                ::_exit(127);
            ::execve(argv[0], argv.data(), environ);
            ::_exit(127);
        }
        return pid;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    const int failed =
        posix_spawn(&pid, all[0].c_str(), &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    REQUIRE_MESSAGE(failed == 0, "cannot start " << all[0]);
    return pid;
}

using Clock = std::chrono::steady_clock;

/// How long a child may take before a test calls it hung. A hang guard, not a speed check: every
/// process waited for here ends within a few seconds even in a sanitizer build on a loaded
/// machine, and the runs sent a stop request would take many minutes, in any build, if the
/// request were ignored.
constexpr std::chrono::seconds hang_guard{120};

struct Ended {
    int status = 0;
    bool killed = false;  ///< did not end within the limit: killed with SIGKILL
};

/// Waits for `pid` at most `limit`; past it, kills it with SIGKILL (and reaps it).
Ended wait_bounded(pid_t pid, std::chrono::milliseconds limit = hang_guard) {
    const auto deadline = Clock::now() + limit;
    Ended e;
    while (true) {
        const pid_t done = ::waitpid(pid, &e.status, WNOHANG);
        if (done == pid) return e;
        if (Clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &e.status, 0);
            e.killed = true;
            return e;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

/// Waits until `ready()` holds while `pid` still runs, at most `limit`. False when `pid` ended
/// first (its status is left for wait_bounded: waitid with WNOWAIT does not reap it) or the
/// limit passed.
template <class Ready>
bool wait_while_running(pid_t pid, Ready ready, std::chrono::milliseconds limit = hang_guard) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
        if (ready()) return true;
        siginfo_t info{};
        if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == pid)
            return false;  // ended
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
}

/// CPU time (user and system) `pid` has used, in clock ticks, from /proc; -1 when unreadable.
long long cpu_ticks_of(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return -1;
    // Fields after the command name, which is in parentheses and may hold spaces: state is the
    // 3rd field, utime the 14th and stime the 15th.
    const auto close = line.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream rest(line.substr(close + 1));
    std::string field;
    long long utime = -1, stime = -1;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stoll(field);
        if (i == 15) stime = std::stoll(field);
    }
    return utime < 0 || stime < 0 ? -1 : utime + stime;
}

}  // namespace

TEST_CASE("SIGINT and SIGTERM stop a long run while trials remain: exit 130 or 143, no output") {
    // 200 million trials: many minutes in any build, so a run that ignored the signal would still
    // be running at the hang guard (or, at worst, end with exit 0 and output).
    for (const int signal : {SIGINT, SIGTERM}) {
        CAPTURE(signal);
        TempDir dir;
        const std::string out = dir / "out";
        const pid_t pid =
            spawn_sibsim({"run", peterborough, "-n", "200000000", "-o", out, "--quiet"},
                         dir / "stdout", dir / "stderr");
        // The lock appears once the handlers are installed and just before the first trial.
        const bool locked =
            wait_while_running(pid, [&] { return fs::exists(fs::path(out) / ".sibsim.lock"); });
        if (!locked) ::kill(pid, SIGKILL);
        REQUIRE_MESSAGE(locked, "the run ended, or hung, before locking "
                                    << out << ": " << read_file(dir / "stderr"));
        ::kill(pid, signal);
        const Ended e = wait_bounded(pid);
        REQUIRE_MESSAGE(!e.killed, "still running " << hang_guard.count() << " s after the signal");
        REQUIRE(WIFEXITED(e.status));
        CHECK(WEXITSTATUS(e.status) == 128 + signal);
        CHECK(read_file(dir / "stdout").empty());
        CHECK(read_file(dir / "stderr") == "sibsim: interrupted; no output written\n");
        CHECK(!fs::exists(out));  // created by this run, so removed with its lock
        CHECK(entries_of(dir.path()) == std::vector<std::string>{"stderr", "stdout"});
    }
}

TEST_CASE("a signal while the files are being written: exit 130, no file and no temporary left") {
    // 200,000 trials with --per-trial: trials.csv takes a while to write. The signal is sent as
    // soon as the output directory appears, i.e. once writing has begun.
    TempDir dir;
    const std::string out = dir / "out";
    const pid_t pid =
        spawn_sibsim({"run", peterborough, "-n", "200000", "--per-trial", "-o", out, "--quiet"},
                     dir / "stdout", dir / "stderr");
    wait_while_running(pid, [&] { return fs::exists(out); });
    ::kill(pid, SIGINT);
    const Ended e = wait_bounded(pid);
    REQUIRE(!e.killed);
    REQUIRE(WIFEXITED(e.status));
    CHECK(WEXITSTATUS(e.status) == 130);
    CHECK(read_file(dir / "stderr") == "sibsim: interrupted; no output written\n");
    CHECK(!fs::exists(out));  // created by this run, so removed with what was in it
    CHECK(entries_of(dir.path()) == std::vector<std::string>{"stderr", "stdout"});
}

// ---------------------------------------------------------------------------------------------
// Write failures

TEST_CASE("write failures: exit 1, a message naming the path, nothing partial left") {
    TempDir dir;
    SUBCASE("-o under a regular file") {
        write_file(dir.path() / "file", "x");
        const std::string out = dir / "file" + "/out";
        const Cli r = sibsim({"run", peterborough, "-n", "10", "-o", out, "--quiet"});
        CHECK(r.status == 1);
        CHECK(r.err == "sibsim: error: cannot create directory '" + out + "': Not a directory\n");
        CHECK(entries_of(dir.path()) == std::vector<std::string>{"file"});
    }
    SUBCASE("-o /dev/full (a device, not a directory)") {
        const Cli r = sibsim({"run", peterborough, "-n", "10", "-o", "/dev/full", "--quiet"});
        CHECK(r.status == 1);
        CHECK_MESSAGE(r.err.find("'/dev/full'") != std::string::npos, r.err);
    }
    SUBCASE("a later file cannot be written: the earlier ones are removed too") {
        // A directory where cashflows.csv should go: summary.csv is written, then the rename of
        // cashflows.csv fails; summary.csv must not stay behind on its own.
        const fs::path out = dir.path() / "out";
        fs::create_directories(out / "cashflows.csv");
        const Cli r = sibsim({"run", peterborough, "-n", "10", "-o", out.string(), "--quiet"});
        CHECK(r.status == 1);
        CHECK_MESSAGE(r.err.find("'" + (out / "cashflows.csv").string() + "'") != std::string::npos,
                      r.err);
        CHECK(entries_of(out) == std::vector<std::string>{"cashflows.csv"});
    }
    SUBCASE("a read-only folder") {
        if (::geteuid() == 0) {
            MESSAGE("skipped: running as root, which permissions do not stop");
            return;
        }
        fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec);
        const std::string out = dir / "out";
        const Cli r = sibsim({"run", peterborough, "-n", "10", "-o", out, "--quiet"});
        fs::permissions(dir.path(), fs::perms::owner_all);
        CHECK(r.status == 1);
        CHECK(r.err == "sibsim: error: cannot create directory '" + out + "': Permission denied\n");
        CHECK(entries_of(dir.path()).empty());
    }
}

TEST_CASE("stdout on a full device: exit 1 and a message, not a silent success") {
    if (::access("/dev/full", W_OK) != 0) {
        MESSAGE("skipped: no /dev/full");
        return;
    }
    TempDir dir;
    const pid_t pid = spawn_sibsim({"run", peterborough, "-n", "100", "--format", "csv"},
                                   "/dev/full", dir / "stderr");
    const Ended e = wait_bounded(pid);
    REQUIRE(!e.killed);
    REQUIRE(WIFEXITED(e.status));
    CHECK(WEXITSTATUS(e.status) == 1);
    CHECK(read_file(dir / "stderr") ==
          "sibsim: error: cannot write to standard output: No space left on device\n");
}

// ---------------------------------------------------------------------------------------------
// Numerical extremes: every number in every output file is finite

namespace {

/// A scenario with every part: binary and count outcomes, a follower, all three bases, caps,
/// payers with savings and a rule override, provider costs, tranches and a guarantee.
const std::string extremes_base = R"(sibsim: 1
name: extremes
period: quarter
horizon: 20
discount_rate: 0.035
cohorts:
  - {name: a, size: 200, enrol: [0, 3]}
  - {name: b, size: {dist: uniform, min: 50, max: 150}, enrol: [2, 5]}
outcomes:
  - name: job
    kind: binary
    rate: {dist: beta, mean: 0.4, sd: 0.1}
    observed_after: 2
  - name: sustained
    kind: binary
    rate: 0.5
    after: job
    observed_after: 4
  - name: reoffend
    kind: count
    better: lower
    baseline: 1.5
    effect: {dist: normal, mean: -0.1, sd: 0.05}
    dispersion: 2
    observed_after: 4
  - name: attendance
    kind: count
    better: higher
    baseline: 10
    effect: 0.1
comparison: {kind: matched, ratio: 5}
payments:
  - {name: job-card, basis: rate_card, outcome: job, price: 1000, cap: 150000}
  - {name: sustained-card, basis: rate_card, outcome: sustained, price: 2000, payment_lag: 1}
  - {name: attendance-card, basis: rate_card, outcome: attendance, price: 10}
  - {name: placements, basis: target, outcome: sustained, at_least: 20, amount: 50000, price: 100}
  - name: trigger
    basis: versus_comparison
    outcome: reoffend
    per: cohort
    threshold: 0.05
    price: 3000
    payers: {commissioner: 0.2, fund: 0.8}
  - name: pooled
    basis: versus_comparison
    outcome: reoffend
    per: all
    schedule: [[0.0, 0], [0.1, 100000], [0.3, 400000]]
    net_of: trigger
caps: {per_participant: 2500, total: 2000000}
payers:
  - {name: commissioner, share: 0.6, savings: {reoffend: 5000, job: 1000}}
  - {name: fund, share: 0.4}
provider:
  costs: {per_participant: 300, per_period: 20000, from: 0, to: 10}
investors:
  capital: 400000
  tranches:
    - {name: senior, share: 0.7, rate: 0.05}
    - {name: junior, share: 0.3}
  guarantee: {name: guarantor, amount: 100000}
)";

/// Every field of a CSV file that is not a plain name: it must read as a finite number.
void check_numbers_finite(const fs::path& file) {
    const std::string text = read_file(file);
    std::istringstream lines(text);
    std::string line;
    std::getline(lines, line);  // header
    int numbers = 0;
    while (std::getline(lines, line)) {
        std::stringstream fields(line);
        for (std::string field; std::getline(fields, field, ',');) {
            std::string lower = field;
            for (auto& c : lower)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            CHECK_MESSAGE(lower.find("nan") == std::string::npos, file << ": " << line);
            CHECK_MESSAGE(lower.find("inf") == std::string::npos, file << ": " << line);
            double v = 0;
            const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), v);
            if (error == std::errc() && end == field.data() + field.size()) {
                ++numbers;
                CHECK_MESSAGE(std::isfinite(v), file << ": " << line);
            }
        }
    }
    CHECK(numbers > 0);
}

void check_extreme(const std::string& yaml, const std::vector<std::string>& sets) {
    TempDir dir;
    write_file(dir.path() / "s.yaml", yaml);
    std::vector<std::string> args{"run", dir / "s.yaml", "-n", "300",       "-j",
                                  "2",   "--per-trial",  "-o", dir / "out", "--quiet"};
    for (const auto& s : sets) {
        args.push_back("--set");
        args.push_back(s);
    }
    const Cli r = sibsim(args);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    for (const char* name : {"summary.csv", "cashflows.csv", "trials.csv"})
        check_numbers_finite(dir.path() / "out" / name);
}

}  // namespace

TEST_CASE("numerical extremes never put NaN or infinity in summary, cash flows or trials") {
    struct Case {
        const char* name;
        std::vector<std::string> sets;
    };
    const std::vector<Case> cases = {
        {"as given", {}},
        {"rates 0", {"outcomes.job.rate=0", "outcomes.sustained.rate=0"}},
        {"rates 1", {"outcomes.job.rate=1", "outcomes.sustained.rate=1"}},
        {"dispersion exactly 1", {"outcomes.reoffend.dispersion=1"}},
        {"dispersion 1000", {"outcomes.reoffend.dispersion=1000"}},
        {"effect -1", {"outcomes.reoffend.effect=-1", "outcomes.attendance.effect=-1"}},
        {"empty cohorts", {"cohorts.a.size=0", "cohorts.b.size=0"}},
        {"one empty cohort", {"cohorts.b.size=0"}},
        {"comparison mean 0", {"outcomes.reoffend.baseline=0"}},
        {"historical comparison of 0",
         {"outcomes.reoffend.baseline=0", "comparison={kind: historical}"}},
        {"no payments at all",
         {"payments.job-card.price=0", "payments.sustained-card.price=0",
          "payments.attendance-card.price=0", "payments.placements.at_least=1000000",
          "payments.trigger.threshold=1000", "payments.pooled.schedule=[[1000, 5]]"}},
        {"payments far beyond capital",
         {"payments.attendance-card.price=1e11", "caps={}", "payments.job-card.cap=1e12"}},
        {"zero capital", {"investors.capital=0"}},
        {"zero capital, no guarantee", {"investors={capital: 0}"}},
        {"no costs", {"provider={costs: {}}"}},
        {"discount rate near -1", {"discount_rate=-0.999999"}},
        {"discount rate 1", {"discount_rate=1"}},
        {"per-participant cap 0 and total cap 0", {"caps={per_participant: 0, total: 0}"}},
        {"monthly periods, tiny sizes", {"period=month", "cohorts.a.size=1", "cohorts.b.size=0"}},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        check_extreme(extremes_base, c.sets);
    }
}

TEST_CASE("numerical extremes: horizon 1, everything in period 0") {
    const std::string yaml = R"(sibsim: 1
name: one period
horizon: 1
period: year
discount_rate: 0.5
cohorts:
  - {name: a, size: 10, enrol: [0, 0]}
outcomes:
  - {name: job, kind: binary, rate: 0.5}
  - {name: reoffend, kind: count, better: lower, baseline: 1, effect: -0.2}
comparison: {kind: matched, ratio: 1}
payments:
  - {name: card, basis: rate_card, outcome: job, price: 100}
  - {name: trigger, basis: versus_comparison, outcome: reoffend, amount: 500}
payers:
  - {name: p, share: 1, savings: {reoffend: 10}}
provider:
  costs: {per_participant: 50, per_period: 100}
investors:
  capital: 200
  guarantee: {amount: 50}
)";
    check_extreme(yaml, {});
    check_extreme(yaml, {"investors.capital=0"});
    check_extreme(yaml, {"cohorts.a.size=0"});
}

// ---- issue 11: input side ----

namespace {

/// The message of load_observed on `yaml`, or "" when it loads.
std::string observed_error(const std::string& yaml) {
    try {
        sib::load_observed(yaml, "o.yaml");
    } catch (const sib::InputError& e) {
        return e.what();
    }
    return "";
}

/// Sanitizer builds reserve terabytes of address space for their shadow memory, so an
/// address-space limit (RLIMIT_AS) cannot be used there; the tests that use one as a witness of
/// bounded memory check everything else in those builds.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

/// Bytes of address space this process has mapped now (/proc/self/statm), 0 when unreadable.
double mapped_bytes() {
    std::ifstream statm("/proc/self/statm");
    double pages = 0;
    if (!(statm >> pages)) return 0;
    return pages * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

/// load_error(yaml) in a forked child whose address space may grow by at most `headroom` bytes
/// beyond what this process has mapped; an allocation past it fails with std::bad_alloc, which
/// the child reports instead of a message. Not for sanitizer builds (see `sanitized`).
std::string load_error_within(const std::string& yaml, double headroom) {
    TempDir dir;
    const std::string result_path = dir / "result";
    const double limit = mapped_bytes() + headroom;
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        std::string result;
        const rlimit as{static_cast<rlim_t>(limit), static_cast<rlim_t>(limit)};
        if (::setrlimit(RLIMIT_AS, &as) != 0) {
            result = "setrlimit failed";
        } else {
            try {
                result = load_error(yaml);
            } catch (const std::bad_alloc&) {
                result = "std::bad_alloc: over the address-space limit";
            } catch (const std::exception& e) {
                result = std::string("exception: ") + e.what();
            }
        }
        std::ofstream(result_path) << result;
        std::_Exit(0);
    }
    const Ended e = wait_bounded(pid);
    REQUIRE_MESSAGE(!e.killed, "the load did not end within " << hang_guard.count() << " s");
    REQUIRE(WIFEXITED(e.status));
    return read_file(result_path);
}

}  // namespace

TEST_CASE("issue 11: money values are at most 1e12, refused at load with exit 2") {
    SUBCASE("a price of 1e152") {
        const auto yaml = scenario_with(
            one_cohort, one_outcome, "  - {name: r, basis: rate_card, outcome: o, price: 1e152}\n");
        CHECK(load_error(yaml) ==
              "t.yaml:9:52: error: payments.r.price: must be between 0 and 1e+12, got 1e+152");
    }
    SUBCASE("savings, caps, schedule payments, provider costs, capital and guarantee") {
        const auto yaml =
            scenario_with(one_cohort, one_outcome,
                          "  - {name: r, basis: rate_card, outcome: o, price: 1, cap: 2e12}\n") +
            "  - {name: q, share: 0, savings: {o: 1e300}}\n"
            "caps: {per_participant: 1e13, total: -1e308}\n"
            "provider: {costs: {per_participant: 1e15, per_period: 1.5e12}}\n"
            "investors: {capital: 1e200, guarantee: {amount: 1e13}}\n";
        CHECK(load_error(yaml) ==
              "t.yaml:9:60: error: payments.r.cap: must be between 0 and 1e+12, got 2e+12\n"
              "t.yaml:12:38: error: payers.q.savings.o: must be between 0 and 1e+12, got 1e+300\n"
              "t.yaml:13:25: error: caps.per_participant: must be between 0 and 1e+12, got "
              "1e+13\n"
              "t.yaml:13:38: error: caps.total: must be between 0 and 1e+12, got -1e+308\n"
              "t.yaml:14:37: error: provider.costs.per_participant: must be between 0 and "
              "1e+12, got 1e+15\n"
              "t.yaml:14:55: error: provider.costs.per_period: must be between 0 and 1e+12, got "
              "1.5e+12\n"
              "t.yaml:15:22: error: investors.capital: must be between 0 and 1e+12, got 1e+200\n"
              "t.yaml:15:49: error: investors.guarantee.amount: must be between 0 and 1e+12, got "
              "1e+13");
    }
    SUBCASE("a product: price times the most participants who can achieve it") {
        const auto yaml =
            scenario_with("  - {name: c, size: 1e7, enrol: [0, 1]}\n", one_outcome,
                          "  - {name: r, basis: rate_card, outcome: o, price: 2e8}\n");
        CHECK(load_error(yaml) ==
              "t.yaml:9:52: error: payments.r.price: 200000000 times the most achievements it "
              "pays for (10000000) may come to 2e+15, more than 1e+15");
    }
    SUBCASE("the command line: run -o, settle and sweep, exit 2 and nothing written") {
        TempDir dir;
        const std::string out = dir / "out";
        const Cli run = sibsim({"run", peterborough, "-n", "10", "--set",
                                "payments.cohort-trigger.price=1e152", "-o", out, "--quiet"});
        CHECK(run.status == 2);
        CHECK_MESSAGE(run.err.find("payments.cohort-trigger.price: must be between 0 and 1e+12, "
                                   "got 1e+152 (from --set)") != std::string::npos,
                      run.err);
        const Cli settle = sibsim({"settle", peterborough, "--observed",
                                   observed_path("peterborough-cohort-1.yaml"), "--set",
                                   "payments.cohort-trigger.price=1e308", "-o", out, "--quiet"});
        CHECK(settle.status == 2);
        // --vary values go through the same check: the second point, 1.1e12, is refused.
        const Cli sweep =
            sibsim({"sweep", peterborough, "-n", "10", "--vary",
                    "payments.cohort-trigger.price=1e11:1e13:1e12", "-o", out, "--quiet"});
        CHECK(sweep.status == 2);
        CHECK_MESSAGE(sweep.err.find("must be between 0 and 1e+12, got 1.1e+12 (from --set)") !=
                          std::string::npos,
                      sweep.err);
        CHECK(!fs::exists(out));
    }
    SUBCASE("observed results for settle: participants and means") {
        CHECK(observed_error("observed:\n  - {cohort: c, outcome: o, participants: 1e8, mean: "
                             "1e300, comparison_mean: 2e6}\n") ==
              "o.yaml:2:43: error: observed[0].participants: must be between 0 and 10000000, "
              "got 100000000\n"
              "o.yaml:2:54: error: observed[0].mean: must be between 0 and 1000000, got 1e+300\n"
              "o.yaml:2:78: error: observed[0].comparison_mean: must be between 0 and 1000000, "
              "got 2000000");
    }
}

TEST_CASE("issue 11: counts stay in exact integer range, refused at load") {
    const std::string count_rule =
        "  - {name: r, basis: versus_comparison, outcome: o, price: 1}\n";
    SUBCASE("a baseline of 3e17 events per participant") {
        const auto yaml =
            scenario_with(one_cohort, "  - {name: o, kind: count, better: lower, baseline: 3e17}\n",
                          count_rule) +
            "comparison: {kind: historical}\n";
        CHECK(load_error(yaml) ==
              "t.yaml:7:53: error: outcomes.o.baseline: must be between 0 and 1000000 for a "
              "count outcome, got 3e+17");
    }
    SUBCASE("a distribution whose top reaches beyond a million per participant") {
        const auto yaml = scenario_with(one_cohort,
                                        "  - {name: o, kind: count, better: lower, baseline: 1,"
                                        " effect: {dist: uniform, min: 0, max: 1e7}}\n",
                                        count_rule) +
                          "comparison: {kind: historical}\n";
        CHECK(load_error(yaml) ==
              "t.yaml:7:64: error: outcomes.o.effect: a count outcome's mean may reach 10000001 "
              "events per participant here (at the top of its distributions), more than 1000000");
    }
    SUBCASE("10 million participants and a comparison group 1000 times larger") {
        const auto yaml =
            scenario_with("  - {name: c, size: 1e7, enrol: [0, 1]}\n",
                          "  - {name: o, kind: count, better: lower, baseline: 1e6}\n",
                          "  - {name: r, basis: versus_comparison, outcome: o, amount: 1}\n") +
            "comparison: {kind: matched, ratio: 1000}\n";
        CHECK(load_error(yaml) ==
              "t.yaml:5:21: error: cohorts.c.size: outcome 'o' may count up to 1e+16 events in "
              "this cohort or its comparison group, more than 1e+13");
    }
}

TEST_CASE("issue 11: a long scalar reused through many aliases is refused within 1 GiB of memory") {
    // 100 KB anchored once, then 100,000 aliases: 10 GB once expanded. The loader stops counting
    // at 64 MiB, so the refusal fits in 1 GiB more address space; expanding the aliases (as it
    // did before the limit) would not, and the child would report std::bad_alloc instead.
    std::string yaml = "sibsim: 1\nname: &big " + std::string(100'000, 'x') + "\nx:\n";
    for (int i = 0; i < 100'000; ++i) yaml += "  - *big\n";
    // Reported at the anchor, the value that is reused too often.
    const std::string expected =
        "t.yaml:2:7: error: too much text (more than 64 MiB of keys and values once aliases are "
        "expanded)";
    if (sanitized) {
        MESSAGE("sanitizer build: no address-space limit, the message alone is checked");
        CHECK(load_error(yaml) == expected);
    } else {
        CHECK(load_error_within(yaml, 1024.0 * 1024 * 1024) == expected);
    }
}

TEST_CASE("issue 11: 'did you mean' is bounded: names of at most 64 characters, 3 edits") {
    // The work of a hint is bounded by the bound on what is compared: names longer than 64
    // characters are never compared (the edit distance of two 100,000-character names is 10^10
    // steps), and within 64 only a band of 3 edits either side of the diagonal is computed.
    const std::string name64(64, 'o');
    std::string typo64 = name64;
    typo64[32] = 'x';
    CHECK(sib::did_you_mean(typo64, {name64}) == "; did you mean '" + name64 + "'?");
    const std::string name65(65, 'o');
    std::string typo65 = name65;
    typo65[32] = 'x';
    CHECK(sib::closest_match(typo65, {name65}).empty());  // the word is too long
    CHECK(sib::closest_match(typo64, {name65}).empty());  // the candidate is too long
    CHECK(sib::closest_match(name64, {name65}).empty());
    // At most 3 edits, however long the name.
    std::string three = name64;
    for (const std::size_t i : {std::size_t{1}, std::size_t{20}, std::size_t{40}}) three[i] = 'x';
    std::string four = three;
    four[60] = 'x';
    CHECK(sib::closest_match(three, {name64}) == name64);
    CHECK(sib::closest_match(four, {name64}).empty());
    // A scenario with 100,000-character names: the located message, no hint.
    const std::string name(100'000, 'o');
    std::string misspelled = name;
    misspelled[50'000] = 'x';
    const auto yaml =
        scenario_with(one_cohort, "  - {name: " + name + ", kind: binary, rate: 0.5}\n",
                      "  - {name: r, basis: rate_card, outcome: " + misspelled + ", price: 1}\n");
    const std::string message = load_error(yaml);
    CHECK(message.rfind("t.yaml:9:42: error: payments.r.outcome: outcome '", 0) == 0);
    CHECK(message.find("did you mean") == std::string::npos);
    // Short names still get their hint.
    CHECK(sib::did_you_mean("reconvction", {"reconviction", "jobs"}) ==
          "; did you mean 'reconviction'?");
}

TEST_CASE("issue 11: a plan too large for memory is refused with its estimate before compiling") {
    const auto available = mem_available();
    // 1000 cohorts, 1000 per-cohort rules, horizon 1200.
    const auto yaml =
        scenario_with(repeated("  - {name: c#, size: 1, enrol: [0, 0]}\n", 1000), one_outcome,
                      repeated("  - {name: r#, basis: target, outcome: o, per: cohort, "
                               "at_least: 1, amount: 1}\n",
                               1000),
                      1200);
    const sib::Scenario scenario = sib::load_scenario(yaml, "t.yaml");
    const double estimate = sib::estimated_plan_bytes(scenario, 1);
    CHECK(estimate > 16e9);  // over a billion payment slots
    CHECK(sib::estimated_plan_bytes(sib::load_scenario_file(peterborough), 1) < 1e7);
    if (!available || *available > estimate) {
        MESSAGE("skipped: /proc/meminfo has no MemAvailable, or this machine has room for it");
        return;
    }
    TempDir dir;
    write_file(dir.path() / "s.yaml", yaml);
    const Cli r = sibsim({"run", dir / "s.yaml", "-n", "1", "-j", "1", "--quiet"});
    CHECK(r.status == 2);
    CHECK_MESSAGE(r.err.rfind("sibsim: error: this run needs about ", 0) == 0, r.err);
    CHECK_MESSAGE(
        r.err.find(" GiB is available; use fewer cohorts, rules or periods\n") != std::string::npos,
        r.err);
}

TEST_CASE("the exact-quantile budget: 2,000,000 trials, or beyond them 2 GiB") {
    // The one rule the CLI and the Python module both apply (sib::within_exact_budget).
    const sib::Plan plan = sib::compile(sib::load_scenario_file(peterborough));
    sib::RunOptions options;
    options.exact_quantiles = true;
    options.threads = 1;
    options.trials = sib::exact_quantile_trials;  // within by count, whatever the bytes
    CHECK(sib::within_exact_budget(plan, options));
    options.keep_trial_values = true;
    options.trials = sib::exact_quantile_trials + 1;  // 24 metrics x 8 bytes: about 0.4 GiB
    CHECK(sib::estimated_bytes(plan, options) < sib::exact_quantile_bytes);
    CHECK(sib::within_exact_budget(plan, options));
    options.trials = 20 * sib::exact_quantile_trials;  // about 7 GiB of kept values
    CHECK(sib::estimated_bytes(plan, options) > sib::exact_quantile_bytes);
    CHECK_FALSE(sib::within_exact_budget(plan, options));
}

TEST_CASE("issue 11: a duplicate key anywhere is a located error") {
    SUBCASE("savings, a rule's payers and a flow map in a cohort override") {
        const auto yaml =
            scenario_with(
                "  - {name: c, size: 10, enrol: [0, 1], outcomes: {o: {rate: 0.1, "
                "rate: 0.2}}}\n",
                one_outcome,
                "  - {name: r, basis: rate_card, outcome: o, price: 1, payers: {p: 0.5, "
                "p: 0.5}}\n") +
            "  - {name: q, share: 0, savings: {o: 100, o: 200}}\n";
        CHECK(load_error(yaml) ==
              "t.yaml:5:66: error: cohorts.c.outcomes.o: duplicate key 'rate' (first at line 5)\n"
              "t.yaml:9:63: error: payments.r.payers: shares sum to 0.5, not 1\n"
              "t.yaml:9:72: error: payments.r.payers: duplicate key 'p' (first at line 9)\n"
              "t.yaml:12:43: error: payers.q.savings: duplicate key 'o' (first at line 12)");
    }
    SUBCASE("nested block maps, and --set") {
        const auto yaml = scenario_with(one_cohort, one_outcome, one_rule) +
                          "investors:\n  capital: 1\n  guarantee:\n    amount: 1\n    amount: 2\n";
        CHECK(load_error(yaml) ==
              "t.yaml:16:5: error: investors.guarantee: duplicate key 'amount' (first at line 15)");
        CHECK_THROWS_WITH(
            sib::load_scenario(scenario_with(one_cohort, one_outcome, one_rule), "t.yaml",
                               {{"caps", "{total: 1, total: 2}"}}),
            "t.yaml:1:1: error: caps: duplicate key 'total' (first at line 1) (from --set)");
    }
    SUBCASE("the observed-results file") {
        CHECK(observed_error("observed:\n  - {cohort: c, outcome: o, participants: 5, "
                             "participants: 6, mean: 1}\n") ==
              "o.yaml:2:46: error: observed[0]: duplicate key 'participants' (first at line 2)");
    }
}

TEST_CASE("issue 11: names that share a column of cashflows.csv or a metric must differ") {
    SUBCASE("a payer named investors, a tranche named like a payer, the guarantor too") {
        std::string yaml = scenario_with(one_cohort, one_outcome, one_rule);
        yaml = yaml.substr(0, yaml.find("payers:")) +
               "payers:\n  - {name: investors, share: 0.5}\n  - {name: gov, share: 0.5}\n"
               "investors:\n  capital: 1\n  tranches:\n    - {name: gov, share: 0.5}\n"
               "    - {name: provider, share: 0.5}\n  guarantee: {name: gov, amount: 1}\n";
        CHECK(load_error(yaml) ==
              "t.yaml:11:12: error: payers.investors.name: name 'investors' is reserved for the "
              "investors' cash flows; payers, tranches, the guarantor, the investors and the "
              "provider share the columns of cashflows.csv, so their names must differ\n"
              "t.yaml:16:14: error: investors.tranches.gov.name: name 'gov' is already a "
              "payer's (line 12); payers, tranches, the guarantor, the investors and the provider "
              "share the columns of cashflows.csv, so their names must differ\n"
              "t.yaml:17:14: error: investors.tranches.provider.name: name 'provider' is reserved "
              "for the provider's cash flows; payers, tranches, the guarantor, the investors and "
              "the provider share the columns of cashflows.csv, so their names must differ\n"
              "t.yaml:18:21: error: investors.guarantee.name: name 'gov' is already a payer's "
              "(line 12); payers, tranches, the guarantor, the investors and the provider share "
              "the columns of cashflows.csv, so their names must differ");
    }
    SUBCASE("a rule named total, and dotted names that make the same metric") {
        const auto yaml = scenario_with(
            "  - {name: c, size: 10, enrol: [0, 1]}\n  - {name: b, size: 10, enrol: [0, 1]}\n",
            one_outcome,
            "  - {name: total, basis: rate_card, outcome: o, price: 1}\n"
            "  - {name: a, basis: target, outcome: o, per: cohort, at_least: 1, amount: 1}\n"
            "  - {name: a.b, basis: target, outcome: o, at_least: 1, amount: 1}\n");
        CHECK(load_error(yaml) ==
              "t.yaml:10:12: error: payments.total.name: makes the metric 'payments.total', "
              "which sibsim reports itself; rename one\n"
              "t.yaml:12:12: error: payments.a.b.name: makes the metric 'rule.a.b.met', which "
              "line 11 makes too; rename one");
    }
}

// ---- issue 11: output side ----

namespace {

/// A count outcome over ten million participants under a per-participant cap: participants are
/// drawn one by one, so each trial takes a few hundred milliseconds in a release build and a
/// block of 1024 trials several minutes, longer than the hang guard in any build.
const std::string slow_trials = R"(sibsim: 1
name: slow
horizon: 4
cohorts:
  - {name: c, size: 10000000, enrol: [0, 0]}
outcomes:
  - {name: o, kind: count, baseline: 2}
payments:
  - {name: r, basis: rate_card, outcome: o, price: 1}
caps: {per_participant: 1}
payers:
  - {name: p, share: 1}
)";

/// Every regular file and link under `dir`, recursively, as relative paths, sorted.
std::vector<std::string> tree_of(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        names.push_back(fs::relative(e.path(), dir).string());
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

TEST_CASE("issue 11: a link planted at a temporary name is never followed, nothing outside -o") {
    // The temporaries used to be ".NAME.tmp-PID": a link planted there made the run overwrite its
    // target and leave NAME as a link to it. This process is the run, so its PID is known.
    TempDir dir;
    const fs::path out = dir.path() / "out";
    const fs::path victim = dir.path() / "victim";
    fs::create_directories(out);
    write_file(victim, "precious\n");
    for (const std::string name : {"summary.csv", "cashflows.csv", "run.csv", "trials.csv"})
        fs::create_symlink(victim, out / ("." + name + ".tmp-" + std::to_string(::getpid())));
    const Cli r =
        sibsim({"run", augsburg, "-n", "20", "--per-trial", "-o", out.string(), "--quiet"});
    CHECK_MESSAGE(r.status == 0, r.err);
    CHECK(read_file(victim) == "precious\n");
    for (const std::string name : {"summary.csv", "cashflows.csv", "run.csv", "trials.csv"}) {
        CAPTURE(name);
        CHECK(fs::is_regular_file(fs::symlink_status(out / name)));
    }
    // The planted links are left alone, and no temporary of this run is left beside them.
    for (const auto& name : entries_of(out))
        CHECK_MESSAGE((name.find(".tmp-") == std::string::npos ||
                       fs::is_symlink(fs::symlink_status(out / name))),
                      name);
    CHECK(tree_of(dir.path()).size() == 2 + 4 + 4);  // out, victim, 4 links, 4 files
}

TEST_CASE("issue 11: temporaries have unpredictable names, created exclusively") {
    // Two writes of the same file must not use the same temporary name (a PID would), and a
    // write never opens a file that is already there.
    TempDir dir;
    const fs::path path = dir.path() / "x.csv";
    std::vector<std::string> seen;
    for (int i = 0; i < 2; ++i) {
        sib::write_file_atomically(path, [&](std::ostream& s) {
            for (const auto& name : entries_of(dir.path()))
                if (name.rfind(".x.csv.tmp-", 0) == 0) seen.push_back(name);
            s << "ok\n";
        });
    }
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] != seen[1]);
    CHECK(seen[0].find(std::to_string(::getpid())) == std::string::npos);
    CHECK(read_file(path) == "ok\n");
    CHECK(entries_of(dir.path()) == std::vector<std::string>{"x.csv"});
}

TEST_CASE("issue 11: a stop request ends a run of slow trials mid-block, long before the block") {
    // One block of 1024 slow trials on one thread: several minutes of work in any build. The
    // signal is sent once the run has used a second of CPU in its trials (a few of them done,
    // the block under way); a run that looked for a stop only between blocks would still be in
    // this one at the hang guard.
    TempDir dir;
    write_file(dir.path() / "slow.yaml", slow_trials);
    const std::string out = dir / "out";
    const pid_t pid =
        spawn_sibsim({"run", dir / "slow.yaml", "-n", "1024", "-j", "1", "-o", out, "--quiet"},
                     dir / "stdout", dir / "stderr");
    long long at_lock = -1;
    const long long second = ::sysconf(_SC_CLK_TCK);
    const bool in_trials = wait_while_running(pid, [&] {
        if (at_lock < 0) {
            // The lock is taken just before the first trial; CPU time from then on is trials.
            if (fs::exists(fs::path(out) / ".sibsim.lock")) at_lock = cpu_ticks_of(pid);
            return false;
        }
        return cpu_ticks_of(pid) >= at_lock + second;
    });
    if (!in_trials) ::kill(pid, SIGKILL);
    REQUIRE_MESSAGE(in_trials, "the run ended, or hung, before a second of trials: "
                                   << read_file(dir / "stderr"));
    ::kill(pid, SIGTERM);
    const Ended e = wait_bounded(pid);
    REQUIRE_MESSAGE(!e.killed, "still in its block " << hang_guard.count() << " s after SIGTERM");
    REQUIRE(WIFEXITED(e.status));
    CHECK(WEXITSTATUS(e.status) == 143);
    CHECK(read_file(dir / "stderr") == "sibsim: interrupted; no output written\n");
    CHECK(!fs::exists(out));
}

TEST_CASE("issue 11: a stop request while a large file is written ends it at once, no files") {
    // The flag is set by the time the writer runs: the file stops at its next 64 KiB instead of
    // being written whole, and nothing is left.
    TempDir dir;
    const fs::path path = dir.path() / "big.csv";
    std::atomic<bool> cancel{true};
    long long rows = 0;
    CHECK_THROWS_AS(sib::write_file_atomically(
                        path,
                        [&](std::ostream& s) {
                            for (; rows < 10000000; ++rows) s << "0123456789012345678901234\n";
                        },
                        &cancel),
                    sib::OutputError);
    CHECK(rows < 10000);
    CHECK(entries_of(dir.path()).empty());
}

TEST_CASE("issue 11: a sweep's whole grid is limited before anything runs (exit 2, --vary)") {
    SUBCASE("points") {
        // 9,999,800,001 points: listing them would take hundreds of gigabytes and running them
        // forever. The refusal comes first: exit 2 with the message alone on stderr (no
        // progress, nothing on stdout), no output folder, and, outside sanitizer builds, all of
        // it within a 1 GiB address-space limit.
        TempDir dir;
        const std::string out = dir / "out";
        const pid_t pid =
            spawn_sibsim({"sweep", peterborough, "--vary", "simulation.seed=1:99999:1", "--vary",
                          "payments.cohort-trigger.threshold=1:99999:1", "-o", out},
                         dir / "stdout", dir / "stderr", sanitized ? 0 : 1024.0 * 1024 * 1024);
        const Ended e = wait_bounded(pid);
        REQUIRE_MESSAGE(!e.killed, "the sweep went ahead: " << read_file(dir / "stderr"));
        REQUIRE(WIFEXITED(e.status));
        CHECK(WEXITSTATUS(e.status) == 2);
        CHECK(read_file(dir / "stderr") ==
              "sibsim: error: --vary: the grid has 9999800001 points (99999 × 99999 values), more "
              "than 100000; vary fewer values or use larger steps\n");
        CHECK(read_file(dir / "stdout").empty());
        CHECK(entries_of(dir.path()) == std::vector<std::string>{"stderr", "stdout"});
    }
    SUBCASE("points × trials, with -n") {
        const Cli r = sibsim({"sweep", peterborough, "--vary", "simulation.seed=1:1000:1", "-n",
                              "1000000000", "--quiet"});
        CHECK(r.status == 2);
        CHECK(r.err.rfind("sibsim: error: --vary: the sweep would run 1e+12 trials", 0) == 0);
    }
    SUBCASE("points × trials, trials from the scenario") {
        const Cli r = sibsim({"sweep", peterborough, "--vary", "simulation.seed=1:11:1", "--set",
                              "simulation.trials=1000000000", "--quiet"});
        CHECK(r.status == 2);
        CHECK_MESSAGE(r.err.find("--vary: the sweep would run ") != std::string::npos, r.err);
    }
}

TEST_CASE("issue 11: the output folder is locked; a second command refuses, nothing mixed") {
    TempDir dir;
    const fs::path out = dir.path() / "out";
    fs::create_directories(out);
    const int held = ::open((out / ".sibsim.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(held >= 0);
    REQUIRE(::flock(held, LOCK_EX | LOCK_NB) == 0);  // another run holds the folder
    const Cli busy = sibsim({"run", augsburg, "-n", "20", "-o", out.string(), "--quiet"});
    CHECK(busy.status == 1);
    CHECK(busy.err == "sibsim: error: output directory '" + out.string() +
                          "' is in use by another sibsim command; wait for it to end or choose "
                          "another -o\n");
    CHECK(entries_of(out) == std::vector<std::string>{".sibsim.lock"});
    ::close(held);
    fs::remove(out / ".sibsim.lock");
    const Cli free = sibsim({"run", augsburg, "-n", "20", "-o", out.string(), "--quiet"});
    CHECK_MESSAGE(free.status == 0, free.err);
    CHECK(entries_of(out) == std::vector<std::string>{"cashflows.csv", "run.csv", "summary.csv"});
}

TEST_CASE("issue 11: two real runs on one folder at once: one set, never a mix") {
    TempDir dir;
    const std::string out = dir / "out";
    const pid_t a = spawn_sibsim({"run", peterborough, "-n", "200000", "-o", out, "--quiet"},
                                 dir / "a.out", dir / "a.err");
    const pid_t b = spawn_sibsim({"run", augsburg, "-n", "200000", "-o", out, "--quiet"},
                                 dir / "b.out", dir / "b.err");
    const Ended ea = wait_bounded(a, 2 * hang_guard);
    const Ended eb = wait_bounded(b, 2 * hang_guard);
    REQUIRE((!ea.killed && !eb.killed));
    REQUIRE((WIFEXITED(ea.status) && WIFEXITED(eb.status)));
    const int sa = WEXITSTATUS(ea.status), sb = WEXITSTATUS(eb.status);
    CHECK(((sa == 0 && sb == 1) || (sa == 1 && sb == 0) || (sa == 0 && sb == 0)));
    // Whatever ran last, summary.csv and run.csv come from the same scenario.
    const Table run = read_csv(fs::path(out) / "run.csv");
    const Table summary = read_csv(fs::path(out) / "summary.csv");
    const bool from_augsburg = row_of(run, "scenario")[1] == augsburg;
    bool has_peterborough_metric = false;
    for (const auto& row : summary)
        if (row[0] == "rule.final-pooled.met") has_peterborough_metric = true;
    CHECK(has_peterborough_metric != from_augsburg);
}

TEST_CASE("issue 11: varied values are carried exactly: seeds beyond 10 digits differ") {
    TempDir dir;
    const fs::path out = dir.path() / "out";
    const std::vector<std::string> args = {
        "sweep", augsburg, "--vary",    "simulation.seed=12345678901:12345678904:1",
        "-n",    "50",     "--metrics", "payments.total"};
    std::vector<std::string> with_out = args;
    with_out.insert(with_out.end(), {"-o", out.string(), "--quiet"});
    const Cli r = sibsim(with_out);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const Table sweep = read_csv(out / "sweep.csv");
    REQUIRE(sweep.size() == 5);
    std::vector<std::string> means;
    for (int p = 0; p < 4; ++p) {
        CHECK(sweep[static_cast<std::size_t>(p + 1)][0] == std::to_string(12345678901LL + p));
        means.push_back(sweep[static_cast<std::size_t>(p + 1)][1]);
    }
    std::sort(means.begin(), means.end());
    CHECK(std::unique(means.begin(), means.end()) - means.begin() > 1);  // different seeds
    std::vector<std::string> table = args, json = args;
    json.insert(json.end(), {"--format", "json"});
    const Cli t = sibsim(table), j = sibsim(json);
    CHECK(t.out.find("12345678904") != std::string::npos);
    CHECK(j.out.find("\"simulation.seed\": \"12345678904\"") != std::string::npos);
    CHECK(t.out.find("e+10") == std::string::npos);
}

TEST_CASE("issue 11: a:b:step values are exact decimals") {
    CHECK(sib::parse_vary("x=0.05:0.15:0.025").values ==
          std::vector<std::string>{"0.05", "0.075", "0.1", "0.125", "0.15"});
    CHECK(sib::parse_vary("x=0.1:0.7:0.1").values ==
          std::vector<std::string>{"0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7"});
    CHECK(sib::parse_vary("x=-0.5:0.5:0.25").values ==
          std::vector<std::string>{"-0.5", "-0.25", "0", "0.25", "0.5"});
    CHECK(sib::parse_vary("x=9007199254740993:9007199254740995:2").values ==
          std::vector<std::string>{"9007199254740993", "9007199254740995"});
    CHECK(sib::parse_vary("x=1e-3:3e-3:1e-3").values ==
          std::vector<std::string>{"0.001", "0.002", "0.003"});
}

TEST_CASE("issue 11: the scenario is read once; run.csv hashes the text simulated (a pipe)") {
    // `sibsim run <(cat s.yaml)`: a pipe reads empty the second time.
    const std::string text = read_file(augsburg);
    REQUIRE(text.size() < 60000);  // fits in the pipe's buffer
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    REQUIRE(::write(fds[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fds[1]);
    TempDir dir;
    const fs::path out = dir.path() / "out";
    const std::string file = "/dev/fd/" + std::to_string(fds[0]);
    const Cli r = sibsim({"run", file, "-n", "20", "-o", out.string(), "--quiet"});
    ::close(fds[0]);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const Table run = read_csv(out / "run.csv");
    CHECK(row_of(run, "scenario_sha256")[1] == sib::sha256_hex(text));
}

TEST_CASE("issue 11: CSV cells that would start a formula are neutralised; numbers stay") {
    SUBCASE("the writer") {
        std::ostringstream text;
        sib::CsvWriter csv(text, {"=a", "b"});
        for (const std::string v :
             {"=2+2", "+1", "-x", "@SUM(A1)", "\tx", "\rx", "-0.5", "+1e3", "plain", "-", "-inf"}) {
            csv.add(v);
            csv.add(-3.5);
            csv.end_row();
        }
        CHECK(text.str() ==
              "'=a,b\n'=2+2,-3.5\n+1,-3.5\n'-x,-3.5\n'@SUM(A1),-3.5\n'\tx,-3.5\n\"'\rx\",-3.5\n"
              "-0.5,-3.5\n+1e3,-3.5\nplain,-3.5\n'-,-3.5\n'-inf,-3.5\n");
    }
    SUBCASE("names in payments.csv, and compare.csv's columns from file stems") {
        TempDir dir;
        const std::string yaml = replace_once(
            scenario_with(one_cohort, one_outcome,
                          "  - {name: '=2+2', basis: rate_card, outcome: o, price: 1}\n"),
            "{name: p, share: 1}", "{name: '@HYPERLINK(\"http://x\",\"y\")', share: 1}");
        write_file(dir.path() / "=1+1.yaml", yaml);
        write_file(dir.path() / "-b.yaml", yaml);
        const fs::path out = dir.path() / "out";
        const Cli r = sibsim({"compare", dir / "=1+1.yaml", dir / "-b.yaml", "-n", "20", "-o",
                              out.string(), "--quiet"});
        REQUIRE_MESSAGE(r.status == 0, r.err);
        const Table compare = read_csv(out / "compare.csv");
        CHECK(compare[0][1] == "'=1+1");
        CHECK(compare[0][2] == "'-b");
        const Cli t =
            sibsim({"run", dir / "=1+1.yaml", "-n", "20", "-o", (dir / "run"), "--quiet"});
        REQUIRE_MESSAGE(t.status == 0, t.err);
        for (const std::string name : {"summary.csv", "cashflows.csv", "run.csv", "compare.csv"}) {
            const fs::path path = (name == "compare.csv" ? out : dir.path() / "run") / name;
            for (const auto& row : read_csv(path))
                for (const auto& field : row) {
                    CAPTURE(path);
                    CAPTURE(field);
                    const bool formula = !field.empty() && std::string("=+-@\t\r").find(field[0]) !=
                                                               std::string::npos;
                    double v = 0;
                    const bool numeric =
                        std::from_chars(field.data(), field.data() + field.size(), v).ptr ==
                        field.data() + field.size();
                    CHECK((!formula || numeric));
                }
        }
    }
}

TEST_CASE("issue 11: a bad -o is reported before any trial runs") {
    TempDir dir;
    write_file(dir.path() / "file", "x");
    const pid_t pid =
        spawn_sibsim({"run", peterborough, "-n", "1000000000", "-o", dir / "file", "--quiet"},
                     dir / "stdout", dir / "stderr");
    const Ended e = wait_bounded(pid);  // a billion trials: hours, had they run first
    REQUIRE_MESSAGE(!e.killed, "the whole run went ahead before -o was checked");
    REQUIRE(WIFEXITED(e.status));
    CHECK(WEXITSTATUS(e.status) == 1);
    CHECK(read_file(dir / "stderr").find("'" + (dir / "file") + "'") != std::string::npos);
    CHECK(read_file(dir.path() / "file") == "x");
}

TEST_CASE("issue 11: minor hostile input") {
    SUBCASE("a --set value of several YAML documents is refused") {
        const Cli r = sibsim({"run", augsburg, "-n", "10", "--set", "simulation.seed=1\n---\n2"});
        CHECK(r.status == 2);
        CHECK(r.err ==
              "sibsim: error: --set: simulation.seed: the value must be one YAML document, got "
              "several\n");
        CHECK(sibsim({"run", augsburg, "-n", "10", "--quiet", "--set", "simulation.seed=--- 2"})
                  .status == 0);
    }
    SUBCASE("-o \"\" is a usage error") {
        const Cli r = sibsim({"run", augsburg, "-n", "10", "-o", "", "--per-trial"});
        CHECK(r.status == 2);
        CHECK(r.err == "sibsim: error: -o/--out: the directory name is empty\n");
        CHECK(
            sibsim({"settle", augsburg, "--observed", observed_path("augsburg-20.yaml"), "-o", ""})
                .status == 2);
    }
    SUBCASE("--help to a full stdout fails") {
        if (::access("/dev/full", W_OK) != 0) return;
        TempDir dir;
        const pid_t pid = spawn_sibsim({"run", "--help"}, "/dev/full", dir / "stderr");
        const Ended e = wait_bounded(pid);
        REQUIRE((!e.killed && WIFEXITED(e.status)));
        CHECK(WEXITSTATUS(e.status) == 1);
        CHECK(read_file(dir / "stderr") ==
              "sibsim: error: cannot write to standard output: No space left on device\n");
    }
    SUBCASE("dates after 9999 are written in full") {
        TempDir dir;
        write_file(dir.path() / "s.yaml",
                   replace_once(scenario_with(one_cohort, one_outcome, one_rule, 30), "horizon: 30",
                                "horizon: 30\nperiod: month\nstart: 9999-06"));
        const fs::path out = dir.path() / "out";
        const Cli r = sibsim({"run", dir / "s.yaml", "-n", "10", "-o", out.string(), "--quiet"});
        REQUIRE_MESSAGE(r.status == 0, r.err);
        const Table flows = read_csv(out / "cashflows.csv");
        CHECK(flows[1][1] == "9999-06-01");
        CHECK(flows[7][1] == "9999-12-01");
        CHECK(flows[8][1] == "10000-01-01");
        CHECK(flows[30][1] == "10001-11-01");
    }
    SUBCASE("a:b:step with exactly 100000 values is allowed; one more says how many") {
        CHECK(sib::parse_vary("x=0:99999.5:1").values.size() == 100000);
        try {
            sib::parse_vary("x=0:100000:1");
            FAIL("accepted");
        } catch (const sib::InputError& e) {
            CHECK(std::string(e.what()) ==
                  "sibsim: error: --vary: x: a:b:step gives 100001 values; at most 100000 are "
                  "allowed");
        }
    }
}

TEST_CASE("issue 11: a --vary range wider than a double can hold is refused, never an assertion") {
    // (1e308 - -1e308) overflows to infinity: the count of values used to reach the CSV writer's
    // finite-number assertion (exit 134).
    const Cli cli = sibsim(
        {"sweep", augsburg, "--vary", "payments.placements.amount=-1e308:1e308:1e304", "-n", "10"});
    CHECK(cli.status == 2);
    CHECK(
        cli.err ==
        "sibsim: error: --vary: payments.placements.amount: a:b:step gives more values than can be "
        "counted; at most 100000 are allowed\n");
}

TEST_CASE("issue 11: participant-by-participant draws stop at a stop request, within the trial") {
    // A count outcome under a per-participant cap is drawn one participant at a time: ten
    // million of them take seconds in one trial. With the stop flag raised, the draw returns at
    // once, before any participant (run() then discards the trial and stops).
    const sib::Plan plan = sib::compile(sib::load_scenario(R"(sibsim: 1
name: slow
horizon: 4
cohorts: [{name: c, size: 10000000, enrol: [0, 0]}]
outcomes: [{name: o, kind: count, baseline: 2}]
payments: [{name: r, basis: rate_card, outcome: o, price: 1}]
caps: {per_participant: 1}
payers: [{name: p, share: 1}]
)",
                                                           "slow.yaml"));
    REQUIRE(plan.participant_mode == sib::ParticipantMode::individuals);
    sib::DrawScratch scratch(plan);
    sib::Outcomes outcomes(plan);
    const std::atomic<bool> stop{true};
    scratch.cancel = &stop;
    sib::draw(plan, 0, scratch, outcomes);
    CHECK(outcomes.cohort_size[0] == 10000000);
    CHECK(outcomes.counts[0] == 0);  // no participant drawn
    CHECK(outcomes.rate_card_due[static_cast<std::size_t>(plan.horizon) * 0] == 0);
}
