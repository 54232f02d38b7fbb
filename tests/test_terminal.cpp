// The readable stdout of the commands (docs/outputs.md, "stdout formats"): sweep and compare
// tables within 120 columns, CSV and JSON unchanged in full precision, and `sibsim metrics`.
#include <doctest/doctest.h>

#include <sstream>

#include "cli_helpers.hpp"
#include "sib/readable.hpp"

using namespace sib::test;

namespace {
std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::size_t widest_line(const std::string& text) {
    std::size_t widest = 0;
    for (const auto& line : lines_of(text)) widest = std::max(widest, sib::display_width(line));
    return widest;
}

/// The first column of a table or CSV: the text before two spaces or a comma.
std::vector<std::string> first_column(const Table& table) {
    std::vector<std::string> names;
    for (std::size_t r = 1; r < table.size(); ++r) names.push_back(table[r][0]);
    return names;
}

const std::string pooled_only =
    std::string(SIBSIM_SOURCE_DIR) + "/docs/examples/peterborough-pooled-only.yaml";
}  // namespace

TEST_CASE("terminal: sweep and compare tables fit 120 columns by default, key metrics only") {
    const auto sweep = sibsim({"sweep", peterborough, "--vary",
                               "payments.cohort-trigger.threshold=0.05:0.15:0.025", "-n", "1000"});
    REQUIRE(sweep.status == 0);
    CHECK(widest_line(sweep.out) <= 120);
    CHECK(widest_line(sweep.out) > 60);  // a table, not an empty page
    CHECK(sweep.out.find("payments.total") != std::string::npos);
    CHECK(sweep.out.find("payer.Ministry of Justice.net_cost_pv") != std::string::npos);
    CHECK(sweep.out.find("investors.irr") != std::string::npos);
    CHECK(sweep.out.find("payments.final-pooled") == std::string::npos);  // not a key metric
    CHECK(sweep.out.find("6 key metrics of 24 shown") != std::string::npos);

    for (const auto& files : {std::vector<std::string>{peterborough, pooled_only},
                              std::vector<std::string>{augsburg, augsburg, augsburg, augsburg}}) {
        std::vector<std::string> args = {"compare"};
        args.insert(args.end(), files.begin(), files.end());
        args.insert(args.end(), {"-n", "500"});
        const auto compare = sibsim(args);
        REQUIRE(compare.status == 0);
        CHECK(widest_line(compare.out) <= 120);
        CHECK(compare.out.find("investors.any_loss") != std::string::npos);
    }
}

TEST_CASE("terminal: --metrics chooses the table's metrics; csv and json keep every metric") {
    const std::vector<std::string> sweep = {
        "sweep", peterborough, "--vary", "payments.cohort-trigger.threshold=0.05,0.1", "-n", "500"};
    auto with = [&](std::vector<std::string> extra) {
        auto args = sweep;
        args.insert(args.end(), extra.begin(), extra.end());
        return sibsim(args);
    };
    const auto chosen = with({"--metrics", "rule.final-pooled.met,payments.final-pooled"});
    REQUIRE(chosen.status == 0);
    const auto lines = lines_of(chosen.out);
    REQUIRE(lines.size() == 5);  // heading, blank, header, two points; no note
    CHECK(lines[2].find("rule.final-pooled.met") < lines[2].find("payments.final-pooled"));
    CHECK(lines[3].find('%') != std::string::npos);
    CHECK(lines[3].find("£") != std::string::npos);

    const auto csv = with({"--format", "csv"});
    REQUIRE(csv.status == 0);
    const Table table = parse_csv(csv.out);
    CHECK(table[0].size() == 1 + 2 * 24);  // the varied path, then mean and se of all 24
    CHECK(table[1][column_of(table, "payments.total.mean")].find(',') == std::string::npos);
    CHECK(csv.out.find("£") == std::string::npos);

    const auto compare =
        sibsim({"compare", peterborough, pooled_only, "-n", "500", "--format", "csv"});
    REQUIRE(compare.status == 0);
    CHECK(parse_csv(compare.out).size() == 1 + 24);  // every metric of either scenario
}

TEST_CASE("terminal: compare --metrics picks the rows of compare.csv; a bad name exits 2") {
    TempDir dir;
    const auto r = sibsim({"compare", peterborough, pooled_only, "-n", "500", "--metrics",
                           "investors.irr,payments.total", "-o", dir / "out"});
    REQUIRE(r.status == 0);
    const Table table = read_csv(dir.path() / "out" / "compare.csv");
    CHECK(first_column(table) == std::vector<std::string>{"investors.irr", "payments.total"});

    const auto bad = sibsim({"compare", peterborough, pooled_only, "-n", "500", "--metrics",
                             "payments.totl", "-o", dir / "bad"});
    CHECK(bad.status == 2);
    CHECK(bad.err ==
          "sibsim: error: --metrics: no metric 'payments.totl'; did you mean 'payments.total'?\n");
    CHECK(!fs::exists(dir.path() / "bad"));
}

TEST_CASE("terminal: sibsim metrics lists exactly the metrics of summary.csv, in order") {
    for (const char* name :
         {"augsburg.yaml", "chicago-cpc.yaml", "dwp-innovation-fund.yaml", "essex.yaml",
          "fair-chance-fund.yaml", "life-chances-fund.yaml", "newpin.yaml", "peterborough.yaml",
          "rikers.yaml", "utah-preschool.yaml"}) {
        CAPTURE(name);
        TempDir dir;
        const auto run = sibsim({"run", scenario_path(name), "-n", "100", "-o", dir / "out"});
        REQUIRE(run.status == 0);
        const auto summary = first_column(read_csv(dir.path() / "out" / "summary.csv"));

        const auto csv = sibsim({"metrics", scenario_path(name), "--format", "csv"});
        REQUIRE(csv.status == 0);
        const Table listed = parse_csv(csv.out);
        REQUIRE(listed[0] == Row{"metric", "unit", "meaning"});
        CHECK(first_column(listed) == summary);
        for (std::size_t r = 1; r < listed.size(); ++r) {
            CHECK(!listed[r][1].empty());
            CHECK(!listed[r][2].empty());
        }

        // The table lists the same names, one per line after the header.
        const auto table = sibsim({"metrics", scenario_path(name)});
        REQUIRE(table.status == 0);
        const auto lines = lines_of(table.out);
        REQUIRE(lines.size() == summary.size() + 1);
        for (std::size_t i = 0; i < summary.size(); ++i)
            CHECK(lines[i + 1].starts_with(summary[i] + "  "));
    }
}

TEST_CASE("terminal: sibsim metrics follows --set, and money is in the scenario's currency") {
    const auto r = sibsim({"metrics", peterborough, "--set", "currency=USD", "--format", "csv"});
    REQUIRE(r.status == 0);
    const Table listed = parse_csv(r.out);
    CHECK(row_of(listed, "payments.total")[1] == "money (USD)");
    CHECK(row_of(listed, "investors.irr")[1] == "annual rate");
    CHECK(row_of(listed, "investors.any_loss")[1] == "probability");
    CHECK(row_of(listed, "investors.multiple")[1] == "ratio");
    CHECK(row_of(listed, "outcome.reconviction.improvement")[1] == "relative");
    CHECK(row_of(listed, "outcome.reconviction.caused")[1] == "count");
}

TEST_CASE("terminal: sibsim metrics on invalid input exits 2 with located errors") {
    const auto bad_set = sibsim({"metrics", peterborough, "--set", "horizon=-1"});
    CHECK(bad_set.status == 2);
    CHECK(bad_set.out.empty());
    CHECK(bad_set.err.find(": error: horizon: ") != std::string::npos);
    const auto missing = sibsim({"metrics", "no-such-file.yaml"});
    CHECK(missing.status == 2);
    CHECK(missing.err ==
          "no-such-file.yaml:1:1: error: cannot read file: No such file or directory\n");
    CHECK(sibsim({"metrics"}).status == 2);
    CHECK(sibsim({"metrics", peterborough, "--format", "json"}).status == 2);
}

TEST_CASE("terminal: the run table reads as money, percentages and counts; csv stays in full") {
    const auto table = sibsim({"run", peterborough, "-n", "1000"});
    REQUIRE(table.status == 0);
    const auto lines = lines_of(table.out);
    auto line_of = [&](const std::string& metric) {
        for (const auto& line : lines)
            if (line.starts_with(metric + " ")) return line;
        FAIL("no line for " << metric);
        return std::string();
    };
    CHECK(line_of("payments.total").find("£") != std::string::npos);
    CHECK(line_of("payer.Ministry of Justice.net_cost_pv").find("-£") != std::string::npos);
    CHECK(line_of("investors.irr").find("-100.0%") != std::string::npos);
    CHECK(line_of("investors.any_loss").find("yes") != std::string::npos);

    const auto csv = sibsim({"run", peterborough, "-n", "1000", "--format", "csv"});
    REQUIRE(csv.status == 0);
    const Table summary = parse_csv(csv.out);
    CHECK(summary[0].size() == 11);
    for (std::size_t r = 1; r < summary.size(); ++r)
        for (std::size_t c = 1; c < summary[r].size(); ++c) number(summary[r][c]);
}
