// The progress line (docs/outputs.md): on stderr only when it is a terminal and the work has taken
// more than about a second; a bar, trials done, rate and time left. Each update erases the whole
// previous line ("\r\033[K") and the line is erased before anything else is printed. The exact
// bytes are checked on a pseudo-terminal, with a clock the test drives (no timing).
#include <doctest/doctest.h>

#include <pty.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <iostream>
#include <sstream>
#include <tuple>

#include "cli_helpers.hpp"
#include "progress.hpp"

using sib::cli::Progress;

namespace {

/// A clock the test moves by hand, in seconds.
struct HandClock {
    double now = 0;
    sib::cli::SecondsClock clock() {
        return [this] { return now; };
    }
};

/// The progress of a run of 1000 trials, driven through a fixed sequence of clock readings, then
/// finished, then a summary line on `summary`. Returns nothing; writes to `err` and `summary`.
void drive(std::ostream& err, bool terminal, std::ostream& summary) {
    HandClock hand;
    Progress progress(1000, true, err, terminal, 1.0, hand.clock());
    hand.now = 0.5;
    progress.update(100);  // before the 1 s delay: nothing
    hand.now = 2.0;
    progress.update(400);  // 200 trials/s, 600 left: 3 s
    hand.now = 2.1;
    progress.update(450);  // within 0.2 s of the last line: nothing
    hand.now = 12.0;
    progress.update(900);  // 75 trials/s, 100 left: 1 s; a line one character shorter
    progress.finish();
    summary << "Summary\n" << std::flush;
    progress.update(1000);  // after finish: nothing
}

const std::string erase = "\r\033[K";
const std::string expected_lines =
    erase + "[############                  ] 400/1000  200 trials/s  3 s left" + erase +
    "[###########################   ] 900/1000  75 trials/s  1 s left" + erase;

/// Runs `child` in a new process whose stdin, stdout and stderr are a pseudo-terminal in raw
/// mode (no "\n" → "\r\n"), and returns every byte it wrote there. `child` returns the exit
/// status; a status other than 0 fails the test.
std::string on_terminal(const std::function<int()>& child) {
    // What the test runner has buffered would otherwise be flushed by the child too.
    std::cout.flush();
    std::cerr.flush();
    termios raw{};
    cfmakeraw(&raw);
    int master = -1;
    const pid_t pid = forkpty(&master, nullptr, &raw, nullptr);
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const int status = child();
        std::cout.flush();
        std::cerr.flush();
        _exit(status);
    }
    std::string bytes;
    char buf[4096];
    for (;;) {
        const ssize_t got = read(master, buf, sizeof buf);
        if (got > 0) {
            bytes.append(buf, static_cast<std::size_t>(got));
        } else if (got < 0 && errno == EINTR) {
            continue;
        } else {
            break;  // EIO: the child has exited and closed the terminal
        }
    }
    close(master);
    int status = -1;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    return bytes;
}

}  // namespace

TEST_CASE("progress: each update erases the whole previous line, and finish erases the last") {
    std::ostringstream err, out;
    drive(err, /*terminal=*/true, out);
    CHECK(err.str() == expected_lines);
    CHECK(out.str() == "Summary\n");
}

TEST_CASE("progress: on a pseudo-terminal, the line is erased before the summary is printed") {
    const std::string bytes = on_terminal([] {
        if (!sib::cli::stderr_is_terminal(std::cerr)) return 3;
        drive(std::cerr, sib::cli::stderr_is_terminal(std::cerr), std::cout);
        return 0;
    });
    CHECK(bytes == expected_lines + "Summary\n");
}

TEST_CASE("progress: nothing when stderr is not a terminal, even when stdout is") {
    int pipe_ends[2];
    REQUIRE(pipe(pipe_ends) == 0);
    const std::string terminal_bytes = on_terminal([&] {
        close(pipe_ends[0]);
        dup2(pipe_ends[1], STDERR_FILENO);  // stderr to a pipe; stdout stays the terminal
        close(pipe_ends[1]);
        if (sib::cli::stderr_is_terminal(std::cerr)) return 3;
        drive(std::cerr, sib::cli::stderr_is_terminal(std::cerr), std::cout);
        return 0;
    });
    close(pipe_ends[1]);
    std::string piped;
    char buf[256];
    for (ssize_t got; (got = read(pipe_ends[0], buf, sizeof buf)) > 0;)
        piped.append(buf, static_cast<std::size_t>(got));
    close(pipe_ends[0]);
    CHECK(piped.empty());
    CHECK(terminal_bytes == "Summary\n");
}

TEST_CASE("progress: nothing with --quiet, before the delay, or for a stream that is not stderr") {
    // "Before the delay": a delay of a billion seconds, which no machine reaches, however slow.
    for (auto [enabled, terminal, delay] :
         {std::tuple{true, false, 0.0}, std::tuple{false, true, 0.0},
          std::tuple{true, true, 1e9}}) {
        std::ostringstream err;
        {
            Progress progress(1000, enabled, err, terminal, delay);
            progress.update(500);
        }
        CHECK(err.str().empty());
    }
    std::ostringstream own;
    CHECK(!sib::cli::stderr_is_terminal(own));
}

TEST_CASE("progress: sibsim run on a terminal prints its heading at the start of a clean line") {
    // Whether the line shows depends on the machine's speed (it waits a second); either way the
    // heading must not follow a progress line on the same line.
    const std::string bytes = on_terminal([] {
        const std::string binary = SIBSIM_BINARY;
        const std::string scenario = sib::test::peterborough;
        execl(binary.c_str(), binary.c_str(), "run", scenario.c_str(), "-n", "20000", "-j", "2",
              static_cast<char*>(nullptr));
        return 4;  // exec failed
    });
    const auto heading = bytes.find("Peterborough SIB (two cohorts): 20000 trials");
    REQUIRE(heading != std::string::npos);
    CHECK((heading == 0 || bytes.substr(0, heading).ends_with(erase)));
    CHECK(bytes.find("s left", heading) == std::string::npos);
}

TEST_CASE("progress: a run whose stderr is not a terminal prints nothing on stderr") {
    // In-process stderr is a string stream, never the terminal: a long enough run stays silent.
    sib::test::TempDir dir;
    const auto r = sib::test::sibsim(
        {"run", sib::test::scenario_path("augsburg.yaml"), "-n", "20000", "-o", dir / "out"});
    CHECK(r.status == 0);
    CHECK(r.err.empty());
}
