// solve: the search on hand-computed functions, and the command on a rate card whose mean is
// exactly linear in its price (docs/model.md, section 13).
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "cli_helpers.hpp"
#include "sib/diagnostics.hpp"
#include "sib/solve.hpp"

namespace {

using sib::test::sibsim;

/// A straight line a + b·x with a constant standard error: the root is −a/b, and the interval's
/// half-width is 1.96·se/|b| (docs/model.md, section 13).
sib::SolveResult solve_line(double a, double b, double se, double lo, double hi) {
    return sib::solve({"x", lo, hi}, 0.0, [&](double x) {
        return sib::SolvePoint{x, a + b * x, se};
    });
}

/// Peterborough's style on a small rate card: 100 participants, an outcome met with probability
/// 0.6, paid `price` each, no caps. payments.total = price × successes in every trial, so its mean
/// on common random numbers is exactly proportional to the price.
const std::string rate_card = R"(sibsim: 1
name: linear
horizon: 4
simulation: {trials: 2000, seed: 7}
cohorts: [{name: c, size: 100, enrol: [0, 0]}]
outcomes: [{name: job, kind: binary, rate: 0.6, observed_after: 1}]
payments: [{name: pay, basis: rate_card, outcome: job, price: 1000}]
payers: [{name: p, share: 1}]
)";

}  // namespace

TEST_CASE("solve finds the root of a straight line, with its interval from se and slope") {
    // 3x − 1 on [0, 1]: root 1/3; se 0.01 gives a half-width of 1.96 × 0.01 / 3.
    const auto r = solve_line(-1, 3, 0.01, 0, 1);
    REQUIRE(r.bracketed);
    CHECK(r.value == doctest::Approx(1.0 / 3).epsilon(1e-12));
    CHECK(r.slope == doctest::Approx(3).epsilon(1e-12));
    CHECK(r.ci_hi - r.value == doctest::Approx(1.959963984540054 * 0.01 / 3).epsilon(1e-9));
    CHECK(r.value - r.ci_lo == doctest::Approx(1.959963984540054 * 0.01 / 3).epsilon(1e-9));
    // Bisection halves [0, 1] until the mean changes by at most 0.196 se across the bracket:
    // 3 × 2^-k ≤ 0.00196 first at k = 11; two ends, 11 midpoints, one run at the value.
    CHECK(r.points.size() == 14);
    CHECK(r.points.front().x == 0);
    CHECK(r.points[1].x == 1);
    CHECK(r.points[2].x == 0.5);
    CHECK(r.points.back().x == r.value);
}

TEST_CASE("solve on a decreasing line, and with no noise at all") {
    const auto down = solve_line(2, -4, 0.05, -1, 3);  // root 0.5
    REQUIRE(down.bracketed);
    CHECK(down.value == doctest::Approx(0.5).epsilon(1e-12));
    CHECK(down.ci_hi - down.ci_lo == doctest::Approx(2 * 1.959963984540054 * 0.05 / 4));
    // se 0: the interval is a point, and the search stops at 1e-9 of the interval's width or
    // at the evaluation limit.
    const auto exact = solve_line(-1, 3, 0, 0, 1);
    REQUIRE(exact.bracketed);
    CHECK(exact.value == doctest::Approx(1.0 / 3).epsilon(1e-12));
    CHECK(exact.ci_lo == exact.value);
    CHECK(exact.ci_hi == exact.value);
    CHECK(exact.points.size() <= static_cast<std::size_t>(sib::max_solve_evaluations));
}

TEST_CASE("solve stops at once on an end that meets the target, and refuses an unbracketed one") {
    const auto at_end = solve_line(0, 1, 0.1, 0, 2);  // mean 0 at x = 0
    REQUIRE(at_end.bracketed);
    CHECK(at_end.value == 0);
    CHECK(at_end.points.size() == 2);
    const auto flat = solve_line(0, 0, 0.1, -1, 2);  // 0 everywhere: every x is a root
    REQUIRE(flat.bracketed);
    CHECK(flat.value == 2);
    CHECK(flat.ci_lo == -1);
    CHECK(flat.ci_hi == 2);
    const auto outside = solve_line(1, 1, 0.1, 0, 2);  // 1 + x > 0 on [0, 2]
    CHECK_FALSE(outside.bracketed);
    REQUIRE(outside.points.size() == 2);
    CHECK(outside.points[0].mean == 1);
    CHECK(outside.points[1].mean == 3);
}

TEST_CASE("solve on a step function keeps the bracket and reads the slope over several steps") {
    // The mean of 1000 indicators 1{x ≥ i/1000}: a staircase of steps of 0.001 with slope 1.
    // Target 0.4: the crossing is at 0.4 (to a step); se of a proportion near 0.4.
    const double se = std::sqrt(0.4 * 0.6 / 1000);
    const auto r = sib::solve({"x", 0, 1}, 0.4, [&](double x) {
        return sib::SolvePoint{x, std::floor(x * 1000 + 1e-9) / 1000, se};
    });
    REQUIRE(r.bracketed);
    CHECK(std::abs(r.value - 0.4) <= 0.002);
    CHECK(r.slope == doctest::Approx(1).epsilon(0.2));
    CHECK(r.ci_lo <= 0.4);
    CHECK(r.ci_hi >= 0.4);
}

TEST_CASE("parse_solve_interval and parse_solve_target take PATH=LO:HI and METRIC=VALUE") {
    const auto interval = sib::parse_solve_interval("outcomes.x.effect=-0.2:+0.1");
    CHECK(interval.path == "outcomes.x.effect");
    CHECK(interval.lo == -0.2);
    CHECK(interval.hi == 0.1);
    const auto target = sib::parse_solve_target("investors.multiple=1e0");
    CHECK(target.metric == "investors.multiple");
    CHECK(target.value == 1);
}

TEST_CASE("sibsim solve finds the price at which a rate card's expected payments reach a value") {
    sib::test::TempDir dir;
    const std::string file = dir / "linear.yaml";
    sib::test::write_file(file, rate_card);
    // The mean number of jobs on these trials, from a run at price 1000.
    const auto run = sibsim({"run", file, "--format", "csv", "-j", "2"});
    REQUIRE(run.status == 0);
    const auto summary = sib::test::parse_csv(run.out);
    const double paid_at_1000 =
        sib::test::number(sib::test::cell(summary, "payments.total", "mean"));
    const double se_at_1000 = sib::test::number(sib::test::cell(summary, "payments.total", "se"));
    REQUIRE(paid_at_1000 > 50000);
    // Root of price × jobs = 50,000: exactly 50,000 × 1000 / paid_at_1000.
    const double root = 50000 * 1000 / paid_at_1000;

    const auto solved = sibsim({"solve", file, "--vary", "payments.pay.price=0:2000", "--target",
                                "payments.total=50000", "--format", "csv", "-o", dir / "out"});
    INFO(solved.err);
    REQUIRE(solved.status == 0);
    const auto table = sib::test::parse_csv(solved.out);
    REQUIRE(table.size() == 2);  // the header and one row
    const auto field = [&](const std::string& column) {
        return table[1][sib::test::column_of(table, column)];
    };
    CHECK(field("input") == "payments.pay.price");
    CHECK(field("metric") == "payments.total");
    const double value = sib::test::number(field("value"));
    const double lo = sib::test::number(field("ci_lo"));
    const double hi = sib::test::number(field("ci_hi"));
    // Payments are whole pennies, so the mean is linear to within a penny per participant.
    CHECK(value == doctest::Approx(root).epsilon(1e-6));
    CHECK(lo < root);
    CHECK(hi > root);
    // The half-width: 1.96 × se at the root / slope, both proportional to the price.
    const double se_at_root = se_at_1000 * root / 1000;
    CHECK((hi - lo) / 2 ==
          doctest::Approx(1.959963984540054 * se_at_root / (paid_at_1000 / 1000)).epsilon(1e-4));
    // The files: solve.csv as printed, evaluations.csv with every run, run.csv with the search.
    CHECK(sib::test::read_file(dir / "out/solve.csv") == solved.out);
    const auto evaluations = sib::test::read_csv(dir / "out/evaluations.csv");
    CHECK(evaluations.size() == 1 + static_cast<std::size_t>(std::stoi(field("evaluations"))));
    CHECK(sib::test::read_file(dir / "out/run.csv")
              .find("vary,payments.pay.price=0:2000\ntarget,payments.total=50000\n") !=
          std::string::npos);

    const auto json = sibsim({"solve", file, "--vary", "payments.pay.price=0:2000", "--target",
                              "payments.total=50000", "--format", "json"});
    REQUIRE(json.status == 0);
    CHECK(json.out ==
          "{\"input\": \"payments.pay.price\", \"metric\": \"payments.total\", "
          "\"target\": 50000, \"value\": " +
              field("value") + ", \"ci\": [" + field("ci_lo") + ", " + field("ci_hi") +
              "], \"evaluations\": " + field("evaluations") + "}\n");
}

TEST_CASE("sibsim solve refuses an unbracketed target with the means at both ends") {
    sib::test::TempDir dir;
    const std::string file = dir / "linear.yaml";
    sib::test::write_file(file, rate_card);
    const auto r = sibsim({"solve", file, "--vary", "payments.pay.price=0:10", "--target",
                           "payments.total=50000", "-n", "100", "-o", dir / "out"});
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    // 100 trials of 100 participants: the mean number of jobs on seed 7 is 60.78.
    CHECK(r.err ==
          "sibsim: error: --target payments.total=50000 is not bracketed: 0 at "
          "payments.pay.price=0, 607.8 at 10; widen LO:HI or choose a target between these "
          "means\n");
    CHECK_FALSE(std::filesystem::exists(dir / "out"));
}

TEST_CASE("sibsim solve: bad --vary and --target are reported together, before any run") {
    sib::test::TempDir dir;
    const std::string file = dir / "linear.yaml";
    sib::test::write_file(file, rate_card);
    auto err_of = [&](const std::string& vary, const std::string& target) {
        const auto r = sibsim({"solve", file, "--vary", vary, "--target", target});
        CHECK(r.status == 2);
        CHECK(r.out.empty());
        return r.err;
    };
    CHECK(err_of("payments.pay.price", "payments.total") ==
          "sibsim: error: --vary: expected PATH=LO:HI, got 'payments.pay.price'\n"
          "sibsim: error: --target: expected METRIC=VALUE, got 'payments.total'\n");
    CHECK(err_of("payments.pay.price=0:10:1", "payments.total=x") ==
          "sibsim: error: --vary: payments.pay.price: solve searches an interval: expected LO:HI, "
          "got '0:10:1'\n"
          "sibsim: error: --target: payments.total: VALUE must be a finite number, got 'x'\n");
    CHECK(err_of("payments.pay.price=10:0", "payments.total=1") ==
          "sibsim: error: --vary: payments.pay.price: LO must be below HI, got 10:0\n");
    CHECK(err_of("payments.pay.price=a:1", "payments.total=1") ==
          "sibsim: error: --vary: payments.pay.price: LO:HI needs two finite numbers, got 'a:1'\n");
    CHECK(err_of("payments.pay.price=0:10", "payments.totl=1") ==
          "sibsim: error: --target: no metric 'payments.totl'; did you mean 'payments.total'?\n");
}

TEST_CASE("sibsim solve gives the same answer for any -j, and refuses an empty -o") {
    sib::test::TempDir dir;
    const std::string file = dir / "linear.yaml";
    sib::test::write_file(file, rate_card);
    auto solved = [&](const std::string& threads) {
        const auto r = sibsim({"solve", file, "--vary", "payments.pay.price=0:2000", "--target",
                               "payments.total=50000", "--format", "json", "-j", threads});
        CHECK(r.status == 0);
        return r.out;
    };
    CHECK(solved("1") == solved("3"));
    const auto r = sibsim({"solve", file, "--vary", "payments.pay.price=0:2000", "--target",
                           "payments.total=50000", "-o", ""});
    CHECK(r.status == 2);
    CHECK(r.err == "sibsim: error: -o/--out: the directory name is empty\n");
    // The report page is the same for any -j too.
    auto page = [&](const std::string& threads) {
        const std::string path = dir / ("r" + threads + ".html");
        const auto report =
            sibsim({"solve", file, "--vary", "payments.pay.price=0:2000", "--target",
                    "payments.total=50000", "--report", path, "-j", threads, "--quiet"});
        CHECK(report.status == 0);
        return sib::test::read_file(path);
    };
    const std::string one = page("1");
    CHECK(one.find("id=\"solve-search\"") != std::string::npos);
    CHECK(one == page("3"));
}
