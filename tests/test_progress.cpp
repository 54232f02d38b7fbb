// The progress line (docs/outputs.md): on stderr only when it is a terminal and the work has taken
// more than about a second; a bar, trials done, rate and time left; cleared at the end.
#include <doctest/doctest.h>

#include <sstream>
#include <tuple>

#include "cli_helpers.hpp"
#include "progress.hpp"

using sib::cli::Progress;

TEST_CASE("progress: shown on a terminal after the delay, with trials done, rate and time left") {
    std::ostringstream err;
    {
        // No delay: the line is due at the first update, however fast or slow the machine.
        Progress progress(1000, true, err, /*terminal=*/true, /*delay_seconds=*/0.0);
        progress.update(250);
        const std::string line = err.str();
        CHECK(line.find("250/1000") != std::string::npos);
        CHECK(line.find("trials/s") != std::string::npos);
        CHECK(line.find("s left") != std::string::npos);
        CHECK(line.find("[#######") != std::string::npos);  // a quarter of 30
    }
    // The line is cleared when the work ends.
    CHECK(err.str().ends_with("\r\033[K"));
}

TEST_CASE("progress: nothing when stderr is not a terminal, with --quiet, or before the delay") {
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
}

TEST_CASE("progress: a run whose stderr is not a terminal prints nothing on stderr") {
    // In-process stderr is a string stream, never the terminal: a long enough run stays silent.
    sib::test::TempDir dir;
    const auto r = sib::test::sibsim(
        {"run", sib::test::scenario_path("augsburg.yaml"), "-n", "20000", "-o", dir / "out"});
    CHECK(r.status == 0);
    CHECK(r.err.empty());
}
