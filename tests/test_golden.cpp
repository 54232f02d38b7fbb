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

/// Compares `got` with the golden `expected` text of one file and returns every mismatch, each
/// naming scenario, file, row, column, expected and got (at most 20 per file, then a count).
template <std::size_t N>
std::vector<std::string> mismatches_of(const std::string& scenario, const std::string& file,
                                       const std::string& expected_text,
                                       const std::string& got_text,
                                       const Tolerance (&tolerances)[N]) {
    const Table expected = parse_csv(expected_text), got = parse_csv(got_text);
    const std::string where = "scenario " + scenario + ", " + file;
    std::vector<std::string> problems;
    if (expected.empty()) return {where + ": the golden file is empty"};
    if (got.empty()) return {where + ": no output"};
    if (got[0] != expected[0])
        return {where + ": the header differs\n  expected: " +
                expected_text.substr(0, expected_text.find('\n')) +
                "\n  got:      " + got_text.substr(0, got_text.find('\n'))};
    const Row& header = expected[0];
    std::vector<const Tolerance*> column_tolerance;
    for (const auto& column : header) {
        column_tolerance.push_back(tolerance_for(tolerances, column));
        if (column_tolerance.back() == nullptr)
            return {where + ": no tolerance stated for column '" + column + "'"};
    }
    if (got.size() != expected.size())
        problems.push_back(where + ": " + std::to_string(got.size() - 1) + " rows, expected " +
                           std::to_string(expected.size() - 1));
    int mismatches = 0;
    const std::size_t rows = std::min(got.size(), expected.size());
    for (std::size_t r = 1; r < rows; ++r) {
        const std::string row_name = "row " + std::to_string(r) + " (" + expected[r][0] + ")";
        if (got[r].size() != header.size() || expected[r].size() != header.size()) {
            ++mismatches;
            problems.push_back(where + ", " + row_name + ": " + std::to_string(got[r].size()) +
                               " fields (golden " + std::to_string(expected[r].size()) +
                               "), expected " + std::to_string(header.size()));
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
                problems.push_back(where + ", " + row_name + ", column " + header[c] +
                                   ": expected " + e + ", got " + g);
        }
    }
    if (mismatches > 20)
        problems.push_back(where + ": " + std::to_string(mismatches) + " mismatching cells in all");
    return problems;
}

/// Fails the test with every mismatch of one file.
template <std::size_t N>
void compare_file(const std::string& scenario, const std::string& file,
                  const std::string& expected_text, const std::string& got_text,
                  const Tolerance (&tolerances)[N]) {
    const auto problems = mismatches_of(scenario, file, expected_text, got_text, tolerances);
    for (const auto& problem : problems) FAIL_CHECK(problem);
    CHECK_MESSAGE(problems.empty(), "scenario " << scenario << ", " << file << ": "
                                                << problems.size()
                                                << " mismatches; if intended, run "
                                                   "scripts/update-golden.sh and review the diff");
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
    CHECK(
        mismatches_of("self-check", "summary.csv", expected, flipped, summary_tolerances).empty());
    const std::string changed =
        "metric,mean,sd,se,p5,p25,p50,p75,p95,min,max\n"
        "payments.total,1234567901,0,0,0,0,0,0,0,0,1\n";
    const auto problems =
        mismatches_of("self-check", "summary.csv", expected, changed, summary_tolerances);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] ==
          "scenario self-check, summary.csv, row 1 (payments.total), column mean: expected "
          "1234567891, got 1234567901");
    const std::string short_by_a_row = "metric,mean,sd,se,p5,p25,p50,p75,p95,min,max\n";
    CHECK(
        mismatches_of("self-check", "summary.csv", expected, short_by_a_row, summary_tolerances) ==
        std::vector<std::string>{"scenario self-check, summary.csv: 0 rows, expected 1"});
    CHECK(tolerance_for(cashflow_tolerances, "Ministry of Justice.p95") != nullptr);
    CHECK(tolerance_for(cashflow_tolerances, "Ministry of Justice.p50") == nullptr);
    CHECK(tolerance_for(summary_tolerances, "p99") == nullptr);
}
