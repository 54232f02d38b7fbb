// The workflows beyond a single run (docs/model.md and docs/outputs.md): `sweep` (a:b:step parsing,
// common random numbers across grid points, sweep.csv), `compare` (paired differences and their
// standard errors, compare.csv) and `settle` (observed results, payments.csv and cashflows.csv,
// located errors). Commands run in-process through sib::cli::main.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli_helpers.hpp"
#include "commands.hpp"
#include "sib/diagnostics.hpp"
#include "sib/sha256.hpp"
#include "sib/sweep.hpp"

namespace fs = std::filesystem;
using namespace sib::test;

namespace {

/// The metric names of a summary.csv, in order.
std::vector<std::string> metrics_of(const Table& summary) {
    std::vector<std::string> names;
    for (std::size_t i = 1; i < summary.size(); ++i) names.push_back(summary[i][0]);
    return names;
}

/// Runs a command that must succeed, with "-o DIR/NAME --quiet" added; returns the directory.
fs::path command_into(const TempDir& dir, const std::string& name, std::vector<std::string> args) {
    const fs::path out = dir.path() / name;
    for (const std::string& a : {std::string("-o"), out.string(), std::string("--quiet")})
        args.push_back(a);
    const Cli r = sibsim(args);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out == "");
    return out;
}

/// Checks that `err` is a non-empty list of "FILE:LINE:COL: error: ..." lines, each naming `file`
/// at a line in [first_line, last_line], and that one of them contains `needle`.
void check_located(const std::string& err, const std::string& file, int first_line, int last_line,
                   const std::string& needle) {
    static const std::regex located(R"(^(.+):([0-9]+):([0-9]+): error: (.+)$)");
    std::istringstream lines(err);
    int count = 0;
    bool found = false;
    for (std::string line; std::getline(lines, line); ++count) {
        std::smatch m;
        REQUIRE_MESSAGE(std::regex_match(line, m, located), "not located: " << line);
        CHECK_MESSAGE(m[1] == file, line);
        CHECK_MESSAGE(std::stoi(m[2]) >= first_line, line);
        CHECK_MESSAGE(std::stoi(m[2]) <= last_line, line);
        CHECK_MESSAGE(std::stoi(m[3]) >= 1, line);
        found = found || line.find(needle) != std::string::npos;
    }
    CHECK(count >= 1);
    CHECK_MESSAGE(found, "no error mentions '" << needle << "' in:\n" << err);
}

}  // namespace

// =============================================================================================
// sweep

TEST_CASE("parse_vary: a:b:step is inclusive and lands exactly on b") {
    const sib::VaryAxis axis = sib::parse_vary("payments.cohort-trigger.threshold=0.05:0.15:0.025");
    CHECK(axis.path == "payments.cohort-trigger.threshold");
    CHECK(axis.values == std::vector<std::string>{"0.05", "0.075", "0.1", "0.125", "0.15"});

    const sib::VaryAxis tenths = sib::parse_vary("x=0:1:0.1");
    REQUIRE(tenths.values.size() == 11);
    CHECK(tenths.values.front() == "0");
    CHECK(tenths.values[3] == "0.3");  // not 0.30000000000000004
    CHECK(tenths.values.back() == "1");

    const sib::VaryAxis hundredths = sib::parse_vary("x=0.05:0.2:0.01");
    REQUIRE(hundredths.values.size() == 16);
    CHECK(hundredths.values[2] == "0.07");
    CHECK(hundredths.values.back() == "0.2");

    // A step that does not land on b stops before it; a = b is one value.
    CHECK(sib::parse_vary("x=1:2:0.3").values ==
          std::vector<std::string>{"1", "1.3", "1.6", "1.9"});
    CHECK(sib::parse_vary("x=5:5:1").values == std::vector<std::string>{"5"});
    CHECK(sib::parse_vary("x=-1:1:1").values == std::vector<std::string>{"-1", "0", "1"});
}

TEST_CASE("parse_vary: a list of values is taken as written") {
    const sib::VaryAxis axis = sib::parse_vary("cohorts.cohort-1.size=500,1000,1e3");
    CHECK(axis.path == "cohorts.cohort-1.size");
    CHECK(axis.values == std::vector<std::string>{"500", "1000", "1e3"});
    CHECK(sib::parse_vary("period=month,year").values == std::vector<std::string>{"month", "year"});
    CHECK(sib::parse_vary("x=7").values == std::vector<std::string>{"7"});
}

TEST_CASE("parse_vary: malformed specifications are InputErrors") {
    for (const char* bad : {"x=0:1:0", "x=0:1:-0.1", "x=1:0:0.1", "x0:1:0.1", "=0:1:0.1",
                            "x=", "x=0:1", "x=a:b:c", "x=1,,2", "x=0:1:1e-9"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(sib::parse_vary(bad), sib::InputError);
    }
}

TEST_CASE("grid_points: the full grid, the last axis varying fastest") {
    const auto points = sib::grid_points({{"a", {"1", "2"}}, {"b", {"x", "y", "z"}}});
    const std::vector<std::vector<std::string>> expected = {{"1", "x"}, {"1", "y"}, {"1", "z"},
                                                            {"2", "x"}, {"2", "y"}, {"2", "z"}};
    CHECK(points == expected);
}

TEST_CASE("sweep of the cohort trigger's threshold: the met probability never rises") {
    TempDir dir;
    const fs::path out =
        command_into(dir, "sweep",
                     {"sweep", peterborough, "--vary",
                      "payments.cohort-trigger.threshold=0.05:0.20:0.01", "-n", "300", "-j", "2"});
    CHECK(entries_of(out) == std::vector<std::string>{"run.csv", "sweep.csv"});
    const Table sweep = read_csv(out / "sweep.csv");
    REQUIRE(sweep.size() == 1 + 16);
    CHECK(sweep[0][0] == "payments.cohort-trigger.threshold");
    const std::size_t met = column_of(sweep, "rule.cohort-trigger.cohort-1.met.mean");
    const std::size_t paid = column_of(sweep, "payments.cohort-trigger.mean");
    for (std::size_t p = 1; p < sweep.size(); ++p) {
        CHECK(number(sweep[p][0]) == doctest::Approx(0.04 + 0.01 * static_cast<double>(p)));
        if (p > 1) {
            // Common random numbers: a trial that meets a higher threshold meets every lower one.
            CHECK_MESSAGE(number(sweep[p][met]) <= number(sweep[p - 1][met]), "at " << sweep[p][0]);
            CHECK_MESSAGE(number(sweep[p][paid]) <= number(sweep[p - 1][paid]),
                          "at " << sweep[p][0]);
        }
    }
    CHECK(sweep.back()[0] == "0.2");
    CHECK(number(sweep[1][met]) > number(sweep.back()[met]) + 0.3);

    const Table provenance = read_csv(out / "run.csv");
    CHECK(row_of(provenance, "vary") ==
          Row{"vary", "payments.cohort-trigger.threshold=0.05:0.20:0.01"});
    CHECK(row_of(provenance, "trials")[1] == "300");
}

TEST_CASE(
    "sweep.csv: the varied paths, then METRIC.mean,METRIC.se for every metric, or those chosen") {
    TempDir dir;
    const Table summary = read_csv(
        command_into(dir, "run", {"run", peterborough, "-n", "50", "-j", "1"}) / "summary.csv");
    const fs::path all =
        command_into(dir, "all",
                     {"sweep", peterborough, "--vary", "payments.cohort-trigger.threshold=0.1,0.2",
                      "--vary", "cohorts.cohort-1.size=900,1000,1100", "-n", "50", "-j", "1"});
    const Table sweep = read_csv(all / "sweep.csv");
    Row header = {"payments.cohort-trigger.threshold", "cohorts.cohort-1.size"};
    for (const auto& m : metrics_of(summary)) {
        header.push_back(m + ".mean");
        header.push_back(m + ".se");
    }
    CHECK(sweep[0] == header);
    REQUIRE(sweep.size() == 1 + 6);
    CHECK(sweep[1][0] == "0.1");
    CHECK(sweep[1][1] == "900");
    CHECK(sweep[3][1] == "1100");
    CHECK(sweep[4][0] == "0.2");
    for (std::size_t p = 1; p < sweep.size(); ++p) {
        REQUIRE(sweep[p].size() == header.size());
        for (std::size_t c = 2; c < header.size(); ++c) number(sweep[p][c]);
    }

    const fs::path chosen =
        command_into(dir, "chosen",
                     {"sweep", peterborough, "--vary", "payments.cohort-trigger.threshold=0.1,0.2",
                      "--metrics", "investors.irr,payments.total", "-n", "50", "-j", "1"});
    const Table few = read_csv(chosen / "sweep.csv");
    CHECK(few[0] == Row{"payments.cohort-trigger.threshold", "investors.irr.mean",
                        "investors.irr.se", "payments.total.mean", "payments.total.se"});
    REQUIRE(few.size() == 3);
    // The chosen columns hold the same figures as in the full sweep.
    CHECK(few[1][column_of(few, "payments.total.mean")] ==
          sweep[2][column_of(sweep, "payments.total.mean")]);
}

TEST_CASE("sweep --metrics naming no metric exits 2 with a hint and writes nothing") {
    TempDir dir;
    const std::string out = dir / "out";
    const Cli r =
        sibsim({"sweep", peterborough, "--vary", "payments.cohort-trigger.threshold=0.1,0.2",
                "--metrics", "payments.totl", "-n", "20", "-o", out});
    CHECK(r.status == 2);
    CHECK(r.err.find("payments.totl") != std::string::npos);
    CHECK(r.err.find("did you mean 'payments.total'") != std::string::npos);
    CHECK(!fs::exists(out));
}

TEST_CASE("sweep: a bad --vary or a value that fails validation exits 2 before anything is run") {
    TempDir dir;
    const std::string out = dir / "out";
    std::vector<std::string> args;
    SUBCASE("step 0") {
        args = {"--vary", "payments.cohort-trigger.threshold=0.1:0.2:0"};
    }
    SUBCASE("b < a") {
        args = {"--vary", "payments.cohort-trigger.threshold=0.2:0.1:0.05"};
    }
    SUBCASE("missing '='") {
        args = {"--vary", "payments.cohort-trigger.threshold"};
    }
    SUBCASE("one value out of range") {
        args = {"--vary", "payments.cohort-trigger.threshold=0.1,-0.5"};
    }
    SUBCASE("a path naming nothing") {
        args = {"--vary", "payments.cohort-triger.threshold=0.1,0.2"};
    }
    SUBCASE("no --vary") {
        args = {};
    }
    args.insert(args.begin(), {"sweep", peterborough, "-n", "10", "-o", out});
    const Cli r = sibsim(args);
    CHECK(r.status == 2);
    CHECK(!r.err.empty());
    CHECK(!fs::exists(out));
}

TEST_CASE("sweep results are identical whatever the thread count") {
    TempDir dir;
    // 16 points: run one point per thread (-j 2, -j 3) or one after another (-j 1); and 2 points of
    // 2500 trials, each on several threads (-j 4 > points).
    const std::vector<std::string> many = {
        "sweep", peterborough, "--vary", "payments.cohort-trigger.threshold=0.05:0.20:0.01",
        "-n",    "200"};
    const std::vector<std::string> few = {
        "sweep", peterborough, "--vary", "payments.cohort-trigger.threshold=0.1,0.2", "-n", "2500"};
    for (const auto& base : {many, few}) {
        std::vector<std::string> expected_files;
        std::string expected_sweep, expected_run;
        for (const char* threads : {"1", "2", "3", "4"}) {
            CAPTURE(threads);
            auto args = base;
            args.push_back("-j");
            args.push_back(threads);
            const fs::path out =
                command_into(dir, std::string("j") + threads + "-" + base.back(), args);
            if (expected_sweep.empty()) {
                expected_sweep = read_file(out / "sweep.csv");
                expected_run = read_file(out / "run.csv");
            } else {
                CHECK(read_file(out / "sweep.csv") == expected_sweep);
                CHECK(read_file(out / "run.csv") == expected_run);
            }
        }
    }
}

TEST_CASE("a sweep point equals a plain run with the same --set, to the last digit printed") {
    TempDir dir;
    const fs::path sweep_dir = command_into(
        dir, "sweep",
        {"sweep", peterborough, "--vary", "payments.cohort-trigger.threshold=0.05:0.15:0.025", "-n",
         "1500", "-j", "2"});
    const fs::path run_dir =
        command_into(dir, "run",
                     {"run", peterborough, "--set", "payments.cohort-trigger.threshold=0.125", "-n",
                      "1500", "-j", "2"});
    const Table sweep = read_csv(sweep_dir / "sweep.csv");
    const Table summary = read_csv(run_dir / "summary.csv");
    const Row& point = row_of(sweep, "0.125");
    int compared = 0;
    for (const auto& metric : metrics_of(summary)) {
        CAPTURE(metric);
        CHECK(point[column_of(sweep, metric + ".mean")] == cell(summary, metric, "mean"));
        CHECK(point[column_of(sweep, metric + ".se")] == cell(summary, metric, "se"));
        ++compared;
    }
    CHECK(compared > 20);
}

// =============================================================================================
// compare

TEST_CASE(
    "compare of a scenario with itself: every difference and its standard error is exactly 0") {
    TempDir dir;
    write_file(dir.path() / "copy.yaml", read_file(peterborough));
    const fs::path out = command_into(
        dir, "out",
        {"compare", peterborough, dir / "copy.yaml", peterborough, "-n", "300", "-j", "2"});
    CHECK(entries_of(out) == std::vector<std::string>{"compare.csv", "run.csv"});
    const Table compare = read_csv(out / "compare.csv");
    // A repeated stem is told apart by its position.
    CHECK(compare[0] == Row{"metric", "peterborough", "copy", "peterborough-3", "diff.copy",
                            "diff_se.copy", "diff.peterborough-3", "diff_se.peterborough-3"});
    const Table summary = read_csv(
        command_into(dir, "run", {"run", peterborough, "-n", "300", "-j", "1"}) / "summary.csv");
    REQUIRE(compare.size() == summary.size());
    for (std::size_t r = 1; r < compare.size(); ++r) {
        CAPTURE(compare[r][0]);
        REQUIRE(compare[r].size() == 8);
        CHECK(compare[r][0] == summary[r][0]);
        CHECK(compare[r][1] == summary[r][1]);  // the first scenario's mean, as in a plain run
        CHECK(compare[r][2] == compare[r][1]);
        CHECK(compare[r][3] == compare[r][1]);
        for (std::size_t c = 4; c < 8; ++c) CHECK(compare[r][c] == "0");
    }
    const Table provenance = read_csv(out / "run.csv");
    int scenarios = 0;
    for (const auto& row : provenance) scenarios += row[0] == "scenario" ? 1 : 0;
    CHECK(scenarios == 3);
    CHECK(row_of(provenance, "scenario_sha256")[1] == sib::sha256_hex(read_file(peterborough)));
}

TEST_CASE("compare: paired differences have a far smaller standard error than independent runs") {
    TempDir dir;
    const std::string higher = dir / "higher.yaml";
    write_file(higher,
               replace_once(read_file(peterborough), "threshold: 0.10 ", "threshold: 0.12 "));
    const std::vector<std::string> size = {"-n", "1500", "-j", "2"};
    auto with = [&](std::vector<std::string> args) {
        args.insert(args.end(), size.begin(), size.end());
        return args;
    };
    const Table compare =
        read_csv(command_into(dir, "cmp", with({"compare", peterborough, higher})) / "compare.csv");
    CHECK(compare[0] == Row{"metric", "peterborough", "higher", "diff.higher", "diff_se.higher"});
    const Table a = read_csv(command_into(dir, "a", with({"run", peterborough})) / "summary.csv");
    const Table b = read_csv(command_into(dir, "b", with({"run", higher})) / "summary.csv");

    for (const std::string metric :
         {"payments.total", "payments.cohort-trigger", "investors.received"}) {
        CAPTURE(metric);
        const double mean_a = number(cell(compare, metric, "peterborough"));
        const double mean_b = number(cell(compare, metric, "higher"));
        const double diff = number(cell(compare, metric, "diff.higher"));
        const double diff_se = number(cell(compare, metric, "diff_se.higher"));
        CHECK(cell(compare, metric, "peterborough") == cell(a, metric, "mean"));
        CHECK(cell(compare, metric, "higher") == cell(b, metric, "mean"));
        CHECK(diff == doctest::Approx(mean_b - mean_a).epsilon(1e-9).scale(std::abs(mean_a)));
        CHECK(diff < 0);  // a higher per-cohort threshold pays less
        const double se_a = number(cell(a, metric, "se")), se_b = number(cell(b, metric, "se"));
        const double independent = std::sqrt(se_a * se_a + se_b * se_b);
        CHECK(diff_se > 0);
        CHECK_MESSAGE(diff_se < 0.5 * independent,
                      "paired " << diff_se << " vs independent " << independent);
    }
    // Metrics the threshold cannot touch do not differ at all.
    CHECK(cell(compare, "outcome.reconviction.improvement", "diff.higher") == "0");
    CHECK(cell(compare, "outcome.reconviction.improvement", "diff_se.higher") == "0");
}

TEST_CASE("compare: a metric present in one scenario only is left blank in the other's columns") {
    TempDir dir;
    const std::string extra = dir / "extra.yaml";
    // One more pooled rule (assessed in period 19, paid at once), before the caps section.
    write_file(extra, replace_once(read_file(peterborough), "\ncaps:",
                                   "  - name: bonus\n"
                                   "    basis: versus_comparison\n"
                                   "    outcome: reconviction\n"
                                   "    per: all\n"
                                   "    threshold: 0.05\n"
                                   "    amount: 100000\n"
                                   "\ncaps:"));
    const Table compare = read_csv(
        command_into(dir, "out", {"compare", peterborough, extra, "-n", "200", "-j", "2"}) /
        "compare.csv");
    CHECK(compare[0] == Row{"metric", "peterborough", "extra", "diff.extra", "diff_se.extra"});
    for (const std::string metric : {"payments.bonus", "rule.bonus.met"}) {
        CAPTURE(metric);
        const Row& row = row_of(compare, metric);
        REQUIRE(row.size() == 5);
        CHECK(row[1] == "");
        CHECK(number(row[2]) > 0);
        CHECK(row[3] == "");
        CHECK(row[4] == "");
    }
    // Shared metrics are compared as usual; the bonus is the whole difference in payments.total
    // (the total cap of 13m can cut it, so at most).
    const double total_diff = number(cell(compare, "payments.total", "diff.extra"));
    CHECK(total_diff > 0);
    CHECK(total_diff <= number(cell(compare, "payments.bonus", "extra")) * (1 + 1e-9));
    // The outcomes are drawn on the same random numbers; only payments differ (the bonus can use
    // up the total cap before a later cohort payment, so other rules may differ too).
    CHECK(cell(compare, "outcome.reconviction.improvement", "diff.extra") == "0");
    CHECK(cell(compare, "outcome.reconviction.caused", "diff_se.extra") == "0");
}

// Regression: a repeated stem got "-<position>" appended without checking the new name again, so
// x.yaml, x-3.yaml, x.yaml gave the columns x, x-3, x-3 (two scenarios under one name).
TEST_CASE("compare: column names stay distinct when a renamed stem collides with another") {
    TempDir dir;
    fs::create_directories(dir.path() / "a");
    fs::create_directories(dir.path() / "b");
    const std::string text = read_file(augsburg);
    write_file(dir.path() / "a" / "x.yaml", text);
    write_file(dir.path() / "x-3.yaml", text);
    write_file(dir.path() / "b" / "x.yaml", text);
    const Cli r = sibsim({"compare", dir / "a/x.yaml", dir / "x-3.yaml", dir / "b/x.yaml", "-n",
                          "10", "-j", "1", "--format", "csv"});
    REQUIRE(r.status == 0);
    const Row header = parse_csv(r.out)[0];
    REQUIRE(header.size() == 8);
    Row sorted = header;
    std::sort(sorted.begin(), sorted.end());
    CHECK_MESSAGE(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(),
                  "duplicate columns in: " << r.out.substr(0, r.out.find('\n')));
}

TEST_CASE("compare: invalid input in any scenario exits 2 and writes nothing") {
    TempDir dir;
    const std::string out = dir / "out";
    const std::string bad =
        std::string(SIBSIM_SOURCE_DIR) + "/tests/data/invalid/unknown-key-hint.yaml";
    const Cli r = sibsim({"compare", peterborough, bad, "-n", "10", "-o", out});
    CHECK(r.status == 2);
    CHECK(r.err.find(bad + ":") != std::string::npos);
    CHECK(!fs::exists(out));
    const Cli one = sibsim({"compare", peterborough, "-n", "10", "-o", out});
    CHECK(one.status == 2);
    CHECK(!fs::exists(out));
}

// =============================================================================================
// settle

TEST_CASE("settle Augsburg: 20 sustained placements pay EUR 250,000") {
    TempDir dir;
    const fs::path out = command_into(
        dir, "out", {"settle", augsburg, "--observed", observed_path("augsburg-20.yaml")});
    CHECK(entries_of(out) == std::vector<std::string>{"cashflows.csv", "payments.csv", "run.csv"});
    const std::string ministry = "Bavarian State Ministry of Labour and Social Affairs";
    const Table payments = read_csv(out / "payments.csv");
    const Table expected = {{"rule", "cohort", "period", "date", "amount", ministry},
                            {"placements", "all", "11", "2016-06-01", "250000", "250000"}};
    CHECK(payments == expected);

    const Table cashflows = read_csv(out / "cashflows.csv");
    REQUIRE(cashflows.size() == 1 + 12);
    CHECK(cashflows[0] == Row{"period", "date", ministry, "investors", "provider"});
    double paid = 0, investors = 0;
    for (std::size_t t = 1; t < cashflows.size(); ++t) {
        CHECK(cashflows[t][0] == std::to_string(t - 1));
        paid += number(cashflows[t][2]);
        investors += number(cashflows[t][3]);
        CHECK(number(cashflows[t][4]) == 0);  // the provider's costs are all funded
    }
    CHECK(cashflows[12][1] == "2016-06-01");
    CHECK(number(cashflows[12][2]) == -250000);
    CHECK(paid == -250000);
    // Investors draw 9 × 26,900 = 242,100 and receive the 250,000.
    CHECK(investors == doctest::Approx(250000 - 242100));

    const Table provenance = read_csv(out / "run.csv");
    CHECK(row_of(provenance, "observed")[1] == observed_path("augsburg-20.yaml"));
    CHECK(row_of(provenance, "observed_sha256")[1] ==
          sib::sha256_hex(read_file(observed_path("augsburg-20.yaml"))));
    CHECK(row_of(provenance, "scenario_sha256")[1] == sib::sha256_hex(read_file(augsburg)));

    const Cli table = sibsim({"settle", augsburg, "--observed", observed_path("augsburg-20.yaml")});
    CHECK(table.status == 0);
    // The table shows the exact amounts with the currency (docs/outputs.md, "stdout formats").
    CHECK(table.out.find("  placements, cohort all, period 11 (2016-06-01): €250,000 (Bavarian "
                         "State Ministry of Labour and Social Affairs €250,000)\n") !=
          std::string::npos);
    CHECK(table.out.ends_with("\ntotal paid: €250,000\n"));
}

TEST_CASE("settle Augsburg: 19 sustained placements pay nothing and investors lose all") {
    TempDir dir;
    const fs::path out = command_into(
        dir, "out", {"settle", augsburg, "--observed", observed_path("augsburg-19.yaml")});
    const Table payments = read_csv(out / "payments.csv");
    REQUIRE(payments.size() == 1);  // the header only
    CHECK(payments[0] == Row{"rule", "cohort", "period", "date", "amount",
                             "Bavarian State Ministry of Labour and Social Affairs"});
    const Table cashflows = read_csv(out / "cashflows.csv");
    double investors = 0;
    for (std::size_t t = 1; t < cashflows.size(); ++t) {
        CHECK(number(cashflows[t][2]) == 0);
        investors += number(cashflows[t][3]);
    }
    CHECK(investors == doctest::Approx(-242100));

    const Cli csv = sibsim(
        {"settle", augsburg, "--observed", observed_path("augsburg-19.yaml"), "--format", "csv"});
    CHECK(csv.status == 0);
    CHECK(csv.out == read_file(out / "payments.csv"));
    const Cli json = sibsim(
        {"settle", augsburg, "--observed", observed_path("augsburg-19.yaml"), "--format", "json"});
    CHECK(json.status == 0);
    CHECK(json.out.find("\"payments.total\": 0") != std::string::npos);
    CHECK(json.out.find("\"rule.placements.met\": 0") != std::string::npos);
    CHECK(json.out.find("\"investors.any_loss\": 1") != std::string::npos);
}

TEST_CASE(
    "settle Peterborough cohort 1: an 8.4% improvement, below the 10% trigger, pays nothing") {
    TempDir dir;
    const std::string observed = observed_path("peterborough-cohort-1.yaml");
    const fs::path out = command_into(dir, "out", {"settle", peterborough, "--observed", observed});
    const Table payments = read_csv(out / "payments.csv");
    CHECK(payments == Table{{"rule", "cohort", "period", "date", "amount", "Ministry of Justice",
                             "Big Lottery Fund"}});
    const Table cashflows = read_csv(out / "cashflows.csv");
    REQUIRE(cashflows.size() == 1 + 28);
    CHECK(cashflows[0] == Row{"period", "date", "Ministry of Justice", "Big Lottery Fund",
                              "investors", "provider"});
    for (std::size_t t = 1; t < cashflows.size(); ++t) {
        CHECK(number(cashflows[t][2]) == 0);
        CHECK(number(cashflows[t][3]) == 0);
    }

    const Cli json = sibsim({"settle", peterborough, "--observed", observed, "--format", "json"});
    REQUIRE(json.status == 0);
    auto value_of = [&](const std::string& key) {
        const std::string needle = "\"" + key + "\": ";
        const auto at = json.out.find(needle);
        REQUIRE_MESSAGE(at != std::string::npos, key);
        const auto begin = at + needle.size();
        return number(json.out.substr(begin, json.out.find_first_of(",\n}", begin) - begin));
    };
    CHECK(value_of("outcome.reconviction.cohort-1.improvement") ==
          doctest::Approx(0.0838709677).epsilon(1e-9));
    CHECK(value_of("rule.cohort-trigger.cohort-1.met") == 0);
    CHECK(value_of("payments.total") == 0);
    CHECK(value_of("payments.cohort-trigger") == 0);
    // Cohort 2 not observed: the pooled rule is not assessed, which JSON says as null.
    CHECK(json.out.find("\"rule.final-pooled.met\": null") != std::string::npos);
}

TEST_CASE("settle: observed results that do not fit the scenario exit 2 with located errors") {
    TempDir dir;
    const std::string out = dir / "out";
    std::string scenario = peterborough, file, needle;
    int first = 0, last = 0;  // the lines of the offending entry in the observed file
    SUBCASE("an unknown cohort, with a hint") {
        file = observed_path("bad-unknown-cohort.yaml");
        first = 3, last = 7, needle = "did you mean 'cohort-1'";
    }
    SUBCASE("an unknown outcome") {
        file = observed_path("bad-unknown-outcome.yaml");
        first = 3, last = 7, needle = "reoffending";
    }
    SUBCASE("no comparison_mean for a versus_comparison rule") {
        file = observed_path("bad-missing-comparison-mean.yaml");
        first = 4, last = 7, needle = "comparison_mean";
    }
    SUBCASE("successes above participants") {
        scenario = augsburg;
        file = observed_path("bad-successes-above-participants.yaml");
        first = 3, last = 6, needle = "120";
    }
    SUBCASE("every problem at once") {
        file = observed_path("bad-several.yaml");
        first = 4, last = 12, needle = "did you mean 'cohort-2'";
    }
    const Cli r = sibsim({"settle", scenario, "--observed", file, "-o", out});
    CHECK(r.status == 2);
    CHECK(r.out == "");
    check_located(r.err, file, first, last, needle);
    CHECK(!fs::exists(out));
}

TEST_CASE("settle reports every problem in the observed file at once") {
    const std::string file = observed_path("bad-several.yaml");
    const Cli r = sibsim({"settle", peterborough, "--observed", file});
    CHECK(r.status == 2);
    std::istringstream lines(r.err);
    int count = 0;
    for (std::string line; std::getline(lines, line);)
        count += line.rfind(file + ":", 0) == 0 ? 1 : 0;
    CHECK(count == 2);
}
