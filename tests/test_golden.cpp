// Golden outputs: every scenario in scenarios/ is run in-process (2000 trials, seed 1) and its
// summary.csv and cashflows.csv compared, cell by cell, with tests/golden/<scenario>/. A change of
// any figure beyond the tolerances below fails here; if the change is intended, regenerate the
// files with scripts/update-golden.sh and review the diff.
//
// Tolerances, per column (|got − expected| ≤ relative × |expected| + absolute):
//
//   file           column                                    kind     relative  absolute
//   summary.csv    metric                                    text     exact
//   summary.csv    mean, sd, se                              number   1e-9      1e-9
//   summary.csv    p5, p25, p50, p75, p95                    number   1e-9      1e-9
//   summary.csv    min, max                                  number   1e-9      1e-9
//   cashflows.csv  period                                    text     exact
//   cashflows.csv  date                                      text     exact
//   cashflows.csv  PARTY.mean, PARTY.p5, PARTY.p95           number   1e-9      1e-9
//
// The files hold 10 significant digits, so 1e-9 relative allows a flip of the last printed digit
// (from a different order of floating-point sums on another compiler) and nothing more. Headers
// (and so metric and party names) must be identical.
#include <doctest/doctest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cli_helpers.hpp"
#include "sib/load.hpp"
#include "sib/plan.hpp"
#include "sib/reports.hpp"
#include "sib/run.hpp"

namespace fs = std::filesystem;
using namespace sib::test;

namespace {

constexpr long long golden_trials = 2000;  // as in scripts/update-golden.sh
constexpr std::uint64_t golden_seed = 1;

enum class Kind { text, number };

struct Tolerance {
    std::string_view column;  ///< a column name, or "*.SUFFIX" for every column ending in .SUFFIX
    Kind kind;
    double relative = 0;
    double absolute = 0;
};

constexpr double rel = 1e-9, abs_tol = 1e-9;

constexpr Tolerance summary_tolerances[] = {
    {"metric", Kind::text},
    {"mean", Kind::number, rel, abs_tol},
    {"sd", Kind::number, rel, abs_tol},
    {"se", Kind::number, rel, abs_tol},
    {"p5", Kind::number, rel, abs_tol},
    {"p25", Kind::number, rel, abs_tol},
    {"p50", Kind::number, rel, abs_tol},
    {"p75", Kind::number, rel, abs_tol},
    {"p95", Kind::number, rel, abs_tol},
    {"min", Kind::number, rel, abs_tol},
    {"max", Kind::number, rel, abs_tol},
};

constexpr Tolerance cashflow_tolerances[] = {
    {"period", Kind::text},
    {"date", Kind::text},
    {"*.mean", Kind::number, rel, abs_tol},
    {"*.p5", Kind::number, rel, abs_tol},
    {"*.p95", Kind::number, rel, abs_tol},
};

template <std::size_t N>
const Tolerance* tolerance_for(const Tolerance (&table)[N], const std::string& column) {
    for (const auto& t : table) {
        if (t.column == column) return &t;
        if (t.column.starts_with("*") && column.size() > t.column.size() - 1 &&
            std::string_view(column).ends_with(t.column.substr(1)))
            return &t;
    }
    return nullptr;
}

bool parse_number(const std::string& field, double& value) {
    const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
    return error == std::errc() && end == field.data() + field.size() && std::isfinite(value);
}

/// Compares `got` with the golden `expected` text of one file; every mismatch is a failed check
/// naming scenario, file, row, column, expected and got (at most 20 per file, then a count).
template <std::size_t N>
void compare_file(const std::string& scenario, const std::string& file,
                  const std::string& expected_text, const std::string& got_text,
                  const Tolerance (&tolerances)[N]) {
    const Table expected = parse_csv(expected_text), got = parse_csv(got_text);
    const std::string where = "scenario " + scenario + ", " + file;
    REQUIRE_MESSAGE(!expected.empty(), where << ": the golden file is empty");
    REQUIRE_MESSAGE(!got.empty(), where << ": no output");
    REQUIRE_MESSAGE(got[0] == expected[0],
                    where << ": the header differs\n  expected: "
                          << expected_text.substr(0, expected_text.find('\n'))
                          << "\n  got:      " << got_text.substr(0, got_text.find('\n')));
    const Row& header = expected[0];
    std::vector<const Tolerance*> column_tolerance;
    for (const auto& column : header) {
        column_tolerance.push_back(tolerance_for(tolerances, column));
        REQUIRE_MESSAGE(column_tolerance.back() != nullptr,
                        where << ": no tolerance stated for column '" << column << "'");
    }
    CHECK_MESSAGE(got.size() == expected.size(),
                  where << ": " << got.size() - 1 << " rows, expected " << expected.size() - 1);
    int mismatches = 0;
    const std::size_t rows = std::min(got.size(), expected.size());
    for (std::size_t r = 1; r < rows; ++r) {
        const std::string row_name = "row " + std::to_string(r) + " (" + expected[r][0] + ")";
        if (got[r].size() != header.size() || expected[r].size() != header.size()) {
            ++mismatches;
            FAIL_CHECK(where << ", " << row_name << ": " << got[r].size() << " fields (golden "
                             << expected[r].size() << "), expected " << header.size());
            continue;
        }
        for (std::size_t c = 0; c < header.size(); ++c) {
            const Tolerance& t = *column_tolerance[c];
            const std::string& e = expected[r][c];
            const std::string& g = got[r][c];
            bool same = e == g;
            if (!same && t.kind == Kind::number) {
                double ev = 0, gv = 0;
                same = parse_number(e, ev) && parse_number(g, gv) &&
                       std::abs(gv - ev) <= t.relative * std::abs(ev) + t.absolute;
            }
            if (same) continue;
            if (++mismatches <= 20)
                FAIL_CHECK(where << ", " << row_name << ", column " << header[c] << ": expected "
                                 << e << ", got " << g);
        }
    }
    if (mismatches > 20) FAIL_CHECK(where << ": " << mismatches << " mismatching cells in all");
    CHECK_MESSAGE(
        mismatches == 0,
        where << ": " << mismatches
              << " mismatches; if intended, run scripts/update-golden.sh and review the diff");
}

std::vector<std::string> names_in(const fs::path& dir, bool directories) {
    std::vector<std::string> names;
    if (!fs::is_directory(dir)) return names;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (directories && e.is_directory()) names.push_back(e.path().filename().string());
        if (!directories && e.is_regular_file() && e.path().extension() == ".yaml")
            names.push_back(e.path().stem().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

const fs::path source_dir = SIBSIM_SOURCE_DIR;

}  // namespace

TEST_CASE("golden: every scenario has golden outputs, and every golden directory a scenario") {
    const auto scenarios = names_in(source_dir / "scenarios", false);
    const auto golden = names_in(source_dir / "tests" / "golden", true);
    CHECK(scenarios.size() >= 10);
    CHECK_MESSAGE(scenarios == golden,
                  "scenarios and tests/golden differ; run scripts/update-golden.sh");
    for (const auto& name : golden)
        for (const char* file : {"summary.csv", "cashflows.csv"})
            CHECK_MESSAGE(fs::is_regular_file(source_dir / "tests" / "golden" / name / file),
                          name << "/" << file);
}

TEST_CASE("golden: summary.csv and cashflows.csv of every scenario (2000 trials, seed 1)") {
    const auto scenarios = names_in(source_dir / "scenarios", false);
    REQUIRE(!scenarios.empty());
    for (const auto& name : scenarios) {
        CAPTURE(name);
        const fs::path golden = source_dir / "tests" / "golden" / name;
        if (!fs::is_regular_file(golden / "summary.csv") ||
            !fs::is_regular_file(golden / "cashflows.csv")) {
            FAIL_CHECK("scenario " << name << ": no golden files in " << golden.string()
                                   << "; run scripts/update-golden.sh");
            continue;
        }
        const sib::Scenario scenario =
            sib::load_scenario_file((source_dir / "scenarios" / (name + ".yaml")).string());
        const sib::Plan plan = sib::compile(scenario);
        sib::RunOptions options;
        options.trials = golden_trials;
        options.seed = golden_seed;
        options.threads = 2;
        const sib::RunResult result = sib::run(plan, options);
        REQUIRE(!result.cancelled);
        std::ostringstream summary, cashflows;
        sib::write_summary(summary, result);
        sib::write_cashflows(cashflows, plan, result);
        compare_file(name, "summary.csv", read_file(golden / "summary.csv"), summary.str(),
                     summary_tolerances);
        compare_file(name, "cashflows.csv", read_file(golden / "cashflows.csv"), cashflows.str(),
                     cashflow_tolerances);
    }
}

TEST_CASE("golden: the comparison itself reports a changed cell, with scenario, row and column") {
    // A self-check of compare_file's tolerance arithmetic, without a golden file: a last-digit
    // flip passes, a change in the 9th significant digit does not.
    const std::string expected =
        "metric,mean,sd,se,p5,p25,p50,p75,p95,min,max\n"
        "payments.total,1234567891,0,0,0,0,0,0,0,0,1\n";
    const std::string flipped =
        "metric,mean,sd,se,p5,p25,p50,p75,p95,min,max\n"
        "payments.total,1234567892,0,0,0,0,0,0,0,0,1\n";
    compare_file("self-check", "summary.csv", expected, flipped, summary_tolerances);
    double e = 0, g = 0;
    REQUIRE(parse_number("1234567891", e));
    REQUIRE(parse_number("1234567901", g));
    CHECK(std::abs(g - e) > rel * std::abs(e) + abs_tol);
    CHECK(tolerance_for(cashflow_tolerances, "Ministry of Justice.p95") != nullptr);
    CHECK(tolerance_for(cashflow_tolerances, "Ministry of Justice.p50") == nullptr);
    CHECK(tolerance_for(summary_tolerances, "p99") == nullptr);
}
