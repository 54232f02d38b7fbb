// run --precision, --convergence, --percentiles and --prob: the stop rule meets its targets and
// stops at the first block that does, whatever the thread count; a stopped run's files are those
// of `run -n K`; percentiles are the nearest-rank values; event probabilities are exact counts.
#include <doctest/doctest.h>

#include "cli_helpers.hpp"
#include "sib/load.hpp"
#include "sib/metrics.hpp"
#include "sib/percentile_window.hpp"
#include "sib/run.hpp"
#include "sib/stats.hpp"

#include <algorithm>
#include <random>

namespace sib::test {

namespace {

Plan peterborough_plan() {
    return compile(load_scenario_file(peterborough));
}

std::size_t index_of(const Plan& plan, const std::string& name) {
    const int i = metric_index(metric_layout(plan), name);
    REQUIRE(i >= 0);
    return static_cast<std::size_t>(i);
}

RunResult run_with(const Plan& plan, long long trials, std::vector<PrecisionTarget> watch,
                   int threads, bool keep = false) {
    RunOptions options;
    options.trials = trials;
    options.seed = 7;
    options.threads = threads;
    options.keep_trial_values = keep;
    options.watch = std::move(watch);
    return run(plan, options);
}

/// The moments of the first `blocks` blocks of `values`, merged block by block as the run merges
/// them.
Moments prefix_moments(const TrialValues& values, long long blocks) {
    Moments m;
    for (long long b = 0; b < blocks; ++b) {
        const auto first = static_cast<std::size_t>(b * trials_per_block);
        m.merge(Moments::of(std::span<const double>(values.data() + first,
                                                    static_cast<std::size_t>(trials_per_block))));
    }
    return m;
}

/// A percentile's interval over the first `n` of `values`, by sorting them: the brute force the
/// incremental PercentileWindow must equal.
PercentileInterval sorted_interval(std::span<const double> values, std::size_t n, double p) {
    std::vector<double> sorted(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(n));
    std::sort(sorted.begin(), sorted.end());
    const IntervalRanks r = interval_ranks(p, n);
    return {sorted[nearest_rank(p, n) - 1], sorted[r.lo - 1], sorted[r.hi - 1]};
}

}  // namespace

TEST_CASE("interval_ranks: floor(np - z sqrt(np(1-p))) and ceil(np + z sqrt(np(1-p))), in 1..n") {
    // n 100, p 0.5: 50 -+ 1.96 * 5 = 40.2 and 59.8.
    CHECK(interval_ranks(0.5, 100).lo == 40);
    CHECK(interval_ranks(0.5, 100).hi == 60);
    // n 10, p 0.95: 9.5 -+ 1.96 * sqrt(0.475) = 8.149 and 10.85, clamped to 10.
    CHECK(interval_ranks(0.95, 10).lo == 8);
    CHECK(interval_ranks(0.95, 10).hi == 10);
    // n 1000, p 0.01: 10 -+ 1.96 * sqrt(9.9) = 3.833 and 16.17.
    CHECK(interval_ranks(0.01, 1000).lo == 3);
    CHECK(interval_ranks(0.01, 1000).hi == 17);
    // n 5, p 0.02: 0.1 - 0.61 below 1: clamped to 1.
    CHECK(interval_ranks(0.02, 5).lo == 1);
    CHECK(interval_ranks(0.02, 5).hi == 1);
}

TEST_CASE("PercentileWindow: the same x_(lo), x_(hi) and percentile as sorting the prefix") {
    std::mt19937_64 rng(11);
    std::lognormal_distribution<double> spread(0.0, 1.5);
    std::uniform_int_distribution<int> coarse(0, 40);  // many ties
    for (double p : {0.025, 0.5, 0.95, 0.999}) {
        CAPTURE(p);
        for (bool ties : {false, true}) {
            std::vector<double> values;
            PercentileWindow window(p);
            // Blocks of 1,024, with a short one and single values among them.
            for (std::size_t size : std::initializer_list<std::size_t>{
                     1, 1, 1024, 7, 1024, 1024, 300, 1024, 1024, 1024, 1024, 5}) {
                const std::size_t first = values.size();
                for (std::size_t i = 0; i < size; ++i)
                    values.push_back(ties ? coarse(rng) : spread(rng) - 2);
                window.add(std::span<const double>(values.data() + first, size));
                REQUIRE(window.count() == values.size());
                const PercentileInterval want = sorted_interval(values, values.size(), p);
                const PercentileInterval got = window.interval();
                CAPTURE(values.size());
                CHECK(got.lower == want.lower);
                CHECK(got.upper == want.upper);
                CHECK(got.value == want.value);
            }
        }
    }
}

TEST_CASE("precision_met: 1.96 standard errors within REL x |mean|; a metric always 0 meets it") {
    Moments m;
    for (double x : {9.0, 11.0, 9.0, 11.0}) m.add(x);  // mean 10, sd 1.1547, se 0.57735
    CHECK(precision_met(m, 0.114));                    // 1.96 * 0.57735 = 1.1316 <= 1.14
    CHECK_FALSE(precision_met(m, 0.113));              // 1.1316 > 1.13
    Moments zero;
    for (int i = 0; i < 5; ++i) zero.add(0.0);
    CHECK(precision_met(zero, 0.01));
    Moments centred;  // mean 0, sd > 0: never met
    for (double x : {-1.0, 1.0}) centred.add(x);
    CHECK_FALSE(precision_met(centred, 0.5));
}

TEST_CASE(
    "run with precision targets stops at the first block from 4,096 trials where all are "
    "met, whatever the thread count") {
    const Plan plan = peterborough_plan();
    const std::size_t total = index_of(plan, "payments.total");
    const std::size_t multiple = index_of(plan, "investors.multiple");
    const std::vector<PrecisionTarget> targets = {{total, 0.02}, {multiple, 0.015}};
    const RunResult stopped = run_with(plan, 200000, targets, 2);
    REQUIRE(stopped.stop == StopReason::precision);
    const long long k = stopped.trials;
    CHECK(k % trials_per_block == 0);
    CHECK(k >= precision_min_trials);
    CHECK(k < 200000);

    // Every value of a run of exactly K trials: the targets are met at K and at no block before
    // it from the first check on, so the run used no block beyond what was needed.
    const RunResult plain = run_with(plan, k, {}, 1, true);
    const long long blocks = k / trials_per_block;
    for (long long b = precision_min_trials / trials_per_block; b <= blocks; ++b) {
        const bool met = precision_met(prefix_moments(plain.values[total], b), 0.02) &&
                         precision_met(prefix_moments(plain.values[multiple], b), 0.015);
        CAPTURE(b);
        CHECK(met == (b == blocks));
    }
    CHECK(precision_met(plain.metrics[total].moments, 0.02));
    CHECK(precision_met(plain.metrics[multiple].moments, 0.015));

    // The same stop, and the same figures as the plain run, on 1, 2 and 3 threads.
    for (int threads : {1, 3}) {
        const RunResult again = run_with(plan, 200000, targets, threads);
        CHECK(again.trials == k);
        CHECK(again.stop == StopReason::precision);
        for (std::size_t m = 0; m < plain.metrics.size(); ++m) {
            CHECK(again.metrics[m].moments.mean == plain.metrics[m].moments.mean);
            CHECK(again.metrics[m].quantiles == plain.metrics[m].quantiles);
        }
    }
    for (std::size_t m = 0; m < plain.metrics.size(); ++m) {
        CHECK(stopped.metrics[m].moments.mean == plain.metrics[m].moments.mean);
        CHECK(stopped.metrics[m].moments.m2 == plain.metrics[m].moments.m2);
        CHECK(stopped.metrics[m].quantiles == plain.metrics[m].quantiles);
    }
    // The convergence record: 1,024 · 2^k trials, then K; its last point is the run's moments.
    REQUIRE(!stopped.convergence.empty());
    for (std::size_t i = 0; i + 1 < stopped.convergence.size(); ++i)
        CHECK(stopped.convergence[i].trials == trials_per_block << i);
    CHECK(stopped.convergence.back().trials == k);
    CHECK(stopped.convergence.back().moments[0].mean == plain.metrics[total].moments.mean);
    CHECK(stopped.convergence.back().moments[1].m2 == plain.metrics[multiple].moments.m2);
}

TEST_CASE(
    "run with a percentile target stops at the first block where its interval's half-width is "
    "at most ABS, whatever the thread count") {
    const Plan plan = peterborough_plan();
    const std::size_t total = index_of(plan, "payments.total");
    const std::size_t multiple = index_of(plan, "investors.multiple");
    PrecisionTarget p95{total, 0, 0.95, 150000};  // £150,000 on the 95th percentile
    PrecisionTarget p10{multiple, 0, 0.10, 0.05};
    const std::vector<PrecisionTarget> targets = {p95, p10};
    const RunResult stopped = run_with(plan, 200000, targets, 2);
    REQUIRE(stopped.stop == StopReason::precision);
    const long long k = stopped.trials;
    CHECK(k % trials_per_block == 0);
    CHECK(k > precision_min_trials);
    CHECK(k < 200000);

    // By sorting every prefix of a run of exactly K trials: met at K, at no check before.
    const RunResult plain = run_with(plan, k, {}, 1, true);
    const long long blocks = k / trials_per_block;
    for (long long b = precision_min_trials / trials_per_block; b <= blocks; ++b) {
        const auto n = static_cast<std::size_t>(b * trials_per_block);
        const PercentileInterval a = sorted_interval(plain.values[total], n, 0.95);
        const PercentileInterval c = sorted_interval(plain.values[multiple], n, 0.10);
        CAPTURE(b);
        CHECK((a.half_width() <= 150000 && c.half_width() <= 0.05) == (b == blocks));
    }
    // The record: at 1,024 · 2^k trials and K, each equal to the sorted prefix.
    for (const ConvergencePoint& point : stopped.convergence) {
        const auto n = static_cast<std::size_t>(point.trials);
        const PercentileInterval want = sorted_interval(plain.values[total], n, 0.95);
        CAPTURE(n);
        CHECK(point.intervals[0].lower == want.lower);
        CHECK(point.intervals[0].upper == want.upper);
        CHECK(point.intervals[0].value == want.value);
    }
    CHECK(stopped.convergence.back().trials == k);
    CHECK(stopped.convergence.back().intervals[0].value == plain.metrics[total].quantiles[4]);

    for (int threads : {1, 3}) {
        const RunResult again = run_with(plan, 200000, targets, threads);
        CHECK(again.trials == k);
        CHECK(again.stop == StopReason::precision);
        CHECK(again.metrics[total].quantiles == plain.metrics[total].quantiles);
    }
}

TEST_CASE(
    "a metric that is 0 in every trial meets any precision: the run stops at the first "
    "check") {
    const Plan plan = peterborough_plan();
    const RunResult r = run_with(plan, 100000, {{index_of(plan, "provider.unfunded"), 0.01}}, 2);
    CHECK(r.stop == StopReason::precision);
    CHECK(r.trials == precision_min_trials);
}

TEST_CASE(
    "run --precision: the files are byte for byte those of run -n K, run.csv with the stop "
    "rows added") {
    TempDir dir;
    const auto stopped = sibsim({"run", peterborough, "-n", "200000", "--precision",
                                 "payments.total=1%", "--precision", "investors.multiple=0.01",
                                 "-j", "2", "--per-trial", "--quiet", "-o", dir / "stop"});
    REQUIRE(stopped.status == 0);
    const Table run_rows = read_csv(dir / "stop/run.csv");
    const std::string k = row_of(run_rows, "trials")[1];
    CHECK(k == "25600");  // pinned: seed 1 of the scenario
    const auto plain = sibsim(
        {"run", peterborough, "-n", k, "-j", "1", "--per-trial", "--quiet", "-o", dir / "plain"});
    REQUIRE(plain.status == 0);
    for (const char* file : {"summary.csv", "cashflows.csv", "trials.csv"})
        CHECK(read_file(dir / ("stop/" + std::string(file))) ==
              read_file(dir / ("plain/" + std::string(file))));
    CHECK(read_file(dir / "stop/run.csv") ==
          read_file(dir / "plain/run.csv") +
              "precision,payments.total=0.01\nprecision,investors.multiple=0.01\n"
              "max_trials,200000\nstop,precision_met\n");
}

TEST_CASE(
    "run --precision METRIC.pP=ABS: files byte for byte those of run -n K; run.csv, "
    "convergence.csv, the table and JSON report the percentile's half-width") {
    TempDir dir;
    const auto stopped =
        sibsim({"run", peterborough, "-n", "200000", "--precision", "payments.total.p95=100000",
                "--convergence", "-j", "3", "--per-trial", "--quiet", "-o", dir / "stop"});
    REQUIRE(stopped.status == 0);
    const std::string k = row_of(read_csv(dir / "stop/run.csv"), "trials")[1];
    CHECK(k == "16384");  // pinned: seed 1 of the scenario
    const auto plain = sibsim(
        {"run", peterborough, "-n", k, "-j", "1", "--per-trial", "--quiet", "-o", dir / "plain"});
    REQUIRE(plain.status == 0);
    for (const char* file : {"summary.csv", "cashflows.csv", "trials.csv"})
        CHECK(read_file(dir / ("stop/" + std::string(file))) ==
              read_file(dir / ("plain/" + std::string(file))));
    CHECK(read_file(dir / "stop/run.csv") ==
          read_file(dir / "plain/run.csv") +
              "precision,payments.total.p95=100000\nmax_trials,200000\nstop,precision_met\n");
    // convergence.csv: the percentile in `mean`, se blank, the half-width, as by sorting
    // trials.csv's prefixes.
    const Table trials = read_csv(dir / "plain/trials.csv");
    std::vector<double> values;
    for (std::size_t i = 1; i < trials.size(); ++i)
        values.push_back(number(trials[i][column_of(trials, "payments.total")]));
    const Table rows = read_csv(dir / "stop/convergence.csv");
    REQUIRE(rows.size() == 1 + 5);  // 1,024 … 16,384
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto n = static_cast<std::size_t>(number(rows[i][0]));
        const PercentileInterval want = sorted_interval(values, n, 0.95);
        CAPTURE(n);
        CHECK(rows[i][1] == "payments.total.p95");
        CHECK(number(rows[i][2]) == want.value);
        CHECK(rows[i][3].empty());
        CHECK(number(rows[i][4]) == want.half_width());
    }
    CHECK(sorted_interval(values, values.size(), 0.95).half_width() <= 100000);
    CHECK(sorted_interval(values, values.size() - 1024, 0.95).half_width() > 100000);

    const auto text =
        sibsim({"run", peterborough, "-n", "200000", "--precision", "payments.total.p95=100000"});
    CHECK(text.out.find("\nstopped: precision met at 16384 trials (of at most 200000); 95% "
                        "half-width:\n  payments.total.p95: ±£100,000 of the percentile, target "
                        "±£100,000\n") != std::string::npos);
    const auto json = sibsim({"run", peterborough, "-n", "5000", "--precision",
                              "investors.irr.p50=0", "--format", "json"});
    REQUIRE(json.status == 0);
    CHECK(json.out.find("\"stop\": {\"reason\": \"max_trials\", \"trials\": 5000, "
                        "\"max_trials\": 5000, \"targets\": {\"investors.irr.p50\": "
                        "{\"absolute\": 0, \"half_width\": ") != std::string::npos);
    CHECK(json.out.find("\"met\": false}}}\n}\n") != std::string::npos);
    // ABS 0 is met when x_(lo) = x_(hi): the low IRRs are all -100% (a total loss).
    const auto zero = sibsim({"run", peterborough, "-n", "100000", "--precision",
                              "investors.irr.p2.5=0", "--format", "json"});
    REQUIRE(zero.status == 0);
    CHECK(zero.out.find("\"stop\": {\"reason\": \"precision_met\", \"trials\": 4096, "
                        "\"max_trials\": 100000, \"targets\": {\"investors.irr.p2.5\": "
                        "{\"absolute\": 0, \"half_width\": 0, \"met\": true}}}") !=
          std::string::npos);
}

TEST_CASE("run --precision: the table and JSON say why the run stopped") {
    const auto met = sibsim(
        {"run", peterborough, "-n", "100000", "--precision", "provider.unfunded=0.05", "-j", "2"});
    REQUIRE(met.status == 0);
    CHECK(met.out.find("\nstopped: precision met at 4096 trials (of at most 100000); 95% "
                       "half-width of the mean:\n  provider.unfunded: ±0 of the mean, target "
                       "±5.0%\n") != std::string::npos);
    const auto maximum = sibsim({"run", peterborough, "-n", "5000", "--precision",
                                 "payments.total=0.001", "--format", "json"});
    REQUIRE(maximum.status == 0);
    CHECK(maximum.out.find("\"stop\": {\"reason\": \"max_trials\", \"trials\": 5000, "
                           "\"max_trials\": 5000, \"targets\": {\"payments.total\": "
                           "{\"relative\": 0.001, \"half_width\": ") != std::string::npos);
    CHECK(maximum.out.find("\"met\": false}}}\n}\n") != std::string::npos);
    const auto text =
        sibsim({"run", peterborough, "-n", "5000", "--precision", "payments.total=0.001"});
    CHECK(text.out.find("\nstopped: maximum trials reached (5000) before every precision was "
                        "met; 95% half-width of the mean:\n  payments.total: ±") !=
          std::string::npos);
    CHECK(text.out.find(" of the mean, target ±0.10% (not met)\n") != std::string::npos);
}

TEST_CASE(
    "run --convergence: convergence.csv has each watched metric at 1,024 · 2^k trials and "
    "at the last trial") {
    TempDir dir;
    const auto c =
        sibsim({"run", peterborough, "-n", "5000", "--convergence", "--quiet", "-o", dir / "c"});
    REQUIRE(c.status == 0);
    const Table rows = read_csv(dir / "c/convergence.csv");
    REQUIRE(rows[0] == Row{"trials", "metric", "mean", "se", "half_width"});
    // Without --precision: the key metrics (payments.total, each payer's net cost, investors'
    // multiple, irr and any_loss: six for Peterborough) at 1,024, 2,048, 4,096 and 5,000.
    REQUIRE(rows.size() == 1 + 4 * 6);
    CHECK(rows[1][0] == "1024");
    CHECK(rows[1][1] == "payments.total");
    CHECK(rows[19][0] == "5000");
    // The first point equals a run of 1,024 trials; half_width is 1.96 se.
    const auto small = sibsim({"run", peterborough, "-n", "1024", "--quiet", "-o", dir / "s"});
    REQUIRE(small.status == 0);
    const Table summary = read_csv(dir / "s/summary.csv");
    CHECK(rows[1][2] == cell(summary, "payments.total", "mean"));
    CHECK(rows[1][3] == cell(summary, "payments.total", "se"));
    CHECK(number(rows[1][4]) ==
          doctest::Approx(1.959963984540054 * number(rows[1][3])).epsilon(1e-9));
    // The last point equals the summary of the run itself.
    const Table own = read_csv(dir / "c/summary.csv");
    CHECK(rows[19][2] == cell(own, "payments.total", "mean"));
}

TEST_CASE("run --precision: bad arguments are all reported at once, exit 2, nothing written") {
    TempDir dir;
    const auto r = sibsim({"run",         peterborough,
                           "--precision", "payments.totl=2",
                           "--precision", "x",
                           "--precision", "payments.total.p100=-1",
                           "--precision", "payments.total=0.1",
                           "--precision", "payments.total=1%",
                           "--precision", "investors.irr.p2.5=1%",
                           "--precision", "investors.irr.p2.5=0.01",
                           "--precision", "investors.irr.p2.5=0",
                           "--precision", "payments.total.pX=inf",
                           "-o",          dir / "out"});
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(
        r.err ==
        "sibsim: error: --precision: no metric 'payments.totl'; did you mean 'payments.total'?\n"
        "sibsim: error: --precision: 'payments.totl=2': REL must be a number above 0 and below 1, "
        "or a percentage such as 1%, got '2'\n"
        "sibsim: error: --precision: expected METRIC=REL (such as payments.total=0.01 or "
        "payments.total=1%) or METRIC.pP=ABS (such as payments.total.p95=50000), got 'x'\n"
        "sibsim: error: --precision: 'payments.total.p100': P must be a number above 0 and below "
        "100 (95 for p95, 2.5 for p2.5), got '100'\n"
        "sibsim: error: --precision: 'payments.total.p100=-1': ABS must be a number at or above 0, "
        "in the metric's unit, got '-1'\n"
        "sibsim: error: --precision: 'payments.total' is given twice\n"
        "sibsim: error: --precision: 'investors.irr.p2.5=1%': ABS must be a number at or above 0, "
        "in the metric's unit, got '1%'\n"
        "sibsim: error: --precision: 'investors.irr.p2.5' is given twice\n"
        "sibsim: error: --precision: 'payments.total.pX': P must be a number above 0 and below "
        "100 (95 for p95, 2.5 for p2.5), got 'X'\n"
        "sibsim: error: --precision: 'payments.total.pX=inf': ABS must be a number at or above 0, "
        "in the metric's unit, got 'inf'\n");
    CHECK_FALSE(fs::exists(dir / "out"));
    const auto sketch = sibsim(
        {"run", peterborough, "--precision", "payments.total=0.01", "--quantiles", "sketch"});
    CHECK(sketch.status == 2);
    CHECK(sketch.err ==
          "sibsim: error: --quantiles sketch cannot stop at a precision: a run that stops keeps "
          "every trial's values, so that its quantiles are exactly those of the trials it used; "
          "drop --quantiles sketch\n");
    const auto zero = sibsim({"run", peterborough, "--precision", "payments.total=0%"});
    CHECK(zero.status == 2);
    CHECK(zero.err ==
          "sibsim: error: --precision: 'payments.total=0%': REL must be a number above 0 "
          "and below 1, or a percentage such as 1%, got '0%'\n");
}

}  // namespace sib::test

namespace sib::test {

TEST_CASE(
    "run --prob: the share of trials in which the event holds, counted exactly, with se "
    "sqrt(p(1-p)/N)") {
    TempDir dir;
    const auto r = sibsim({"run", peterborough, "--prob", "investors.multiple<0.5", "--prob",
                           "payments.total>=5000000", "--prob", "investors.any_loss>0",
                           "--per-trial", "--quiet", "-o", dir / "p"});
    REQUIRE(r.status == 0);
    const Table trials = read_csv(dir / "p/trials.csv");
    const std::size_t multiple = column_of(trials, "investors.multiple");
    const std::size_t total = column_of(trials, "payments.total");
    long long below = 0, at_least = 0;
    for (std::size_t i = 1; i < trials.size(); ++i) {
        below += number(trials[i][multiple]) < 0.5;
        at_least += number(trials[i][total]) >= 5000000;
    }
    const Table probs = read_csv(dir / "p/probabilities.csv");
    REQUIRE(probs.size() == 4);
    CHECK(probs[0] == Row{"event", "metric", "op", "value", "probability", "se", "count"});
    CHECK(probs[1][0] == "investors.multiple<0.5");
    CHECK(probs[1][2] == "<");
    CHECK(number(probs[1][6]) == below);
    CHECK(probs[2][0] == "payments.total>=5000000");
    CHECK(number(probs[2][6]) == at_least);
    const double n = 10000;
    for (std::size_t i = 1; i <= 3; ++i) {
        const double p = number(probs[i][6]) / n;
        CHECK(number(probs[i][4]) == doctest::Approx(p).epsilon(1e-12));
        CHECK(number(probs[i][5]) == doctest::Approx(std::sqrt(p * (1 - p) / n)).epsilon(1e-9));
    }
    // A 0/1 metric above 0 is its mean.
    const Table summary = read_csv(dir / "p/summary.csv");
    CHECK(number(probs[3][4]) ==
          doctest::Approx(number(cell(summary, "investors.any_loss", "mean"))).epsilon(1e-12));
}

TEST_CASE(
    "run --prob: the same exact counts whether quantiles come from kept values, brackets or "
    "the sketch, on any thread count") {
    TempDir dir;
    std::vector<std::string> files;
    int i = 0;
    for (const std::vector<std::string>& extra : std::vector<std::vector<std::string>>{
             {"-j", "1", "--per-trial"}, {"-j", "2"}, {"-j", "3", "--quantiles", "sketch"}}) {
        const std::string out = dir / std::to_string(i++);
        std::vector<std::string> args = {
            "run",    peterborough,       "-n",      "70000", "--prob", "investors.multiple<=1.2",
            "--prob", "payments.total<1", "--quiet", "-o",    out};
        args.insert(args.end(), extra.begin(), extra.end());
        REQUIRE(sibsim(args).status == 0);
        files.push_back(read_file(out + "/probabilities.csv"));
    }
    CHECK(files[0] == files[1]);
    CHECK(files[0] == files[2]);
}

TEST_CASE("run --prob: the table and JSON show each event; bad events are all reported at once") {
    const auto table = sibsim({"run", peterborough, "--prob", "investors.any_loss>0"});
    REQUIRE(table.status == 0);
    CHECK(table.out.find("\nevent                    probability     se\n"
                         "P(investors.any_loss>0)        37.4%  0.48%\n") != std::string::npos);
    const auto json =
        sibsim({"run", peterborough, "--prob", "investors.any_loss>0", "--format", "json"});
    CHECK(json.out.find(",\n  \"probabilities\": {\"investors.any_loss>0\": {\"p\": 0.3737, "
                        "\"se\": 0.004837853966, \"count\": 3737}}\n}\n") != std::string::npos);
    TempDir dir;
    const auto bad = sibsim({"run", peterborough, "--prob", "investors.multple<0.5", "--prob", "x",
                             "--prob", "payments.total>abc", "-o", dir / "out"});
    CHECK(bad.status == 2);
    CHECK(bad.out.empty());
    CHECK(bad.err ==
          "sibsim: error: --prob: no metric 'investors.multple'; did you mean "
          "'investors.multiple'?\n"
          "sibsim: error: --prob: expected METRIC<VALUE or METRIC>VALUE (also <=, >=), "
          "such as 'investors.multiple<0.5', got 'x'\n"
          "sibsim: error: --prob: 'payments.total>abc': VALUE must be a number in the "
          "metric's unit (0.05 for 5%), got 'abc'\n");
    CHECK_FALSE(fs::exists(dir / "out"));
}

TEST_CASE(
    "run --percentiles: the summary's quantile columns at the percentages given, the "
    "nearest-rank values of the trials, however they are found") {
    TempDir dir;
    const auto kept = sibsim({"run", peterborough, "--percentiles", "99,1,2.5,50", "--per-trial",
                              "--quiet", "-o", dir / "kept"});
    REQUIRE(kept.status == 0);
    const Table summary = read_csv(dir / "kept/summary.csv");
    CHECK(summary[0] ==
          Row{"metric", "mean", "sd", "se", "p1", "p2.5", "p50", "p99", "min", "max"});
    // Nearest rank by hand: the sorted value at rank ceil(p N), N = 10,000.
    const Table trials = read_csv(dir / "kept/trials.csv");
    for (const char* metric : {"investors.multiple", "payer.Ministry of Justice.net_cost_pv"}) {
        const std::size_t c = column_of(trials, metric);
        std::vector<double> values;
        for (std::size_t i = 1; i < trials.size(); ++i) values.push_back(number(trials[i][c]));
        std::sort(values.begin(), values.end());
        CAPTURE(metric);
        CHECK(number(cell(summary, metric, "p1")) == values[99]);
        CHECK(number(cell(summary, metric, "p2.5")) == values[249]);
        CHECK(number(cell(summary, metric, "p50")) == values[4999]);
        CHECK(number(cell(summary, metric, "p99")) == values[9899]);
    }
    // Brackets (no --per-trial, beyond 65,536 trials), every value kept, any -j: the same file.
    const auto bracketed = sibsim({"run", peterborough, "-n", "70000", "--percentiles",
                                   "0.5,2.5,99.5", "-j", "2", "--quiet", "-o", dir / "b"});
    const auto all_kept =
        sibsim({"run", peterborough, "-n", "70000", "--percentiles", "0.5,2.5,99.5", "-j", "3",
                "--per-trial", "--quiet", "-o", dir / "k"});
    REQUIRE(bracketed.status == 0);
    REQUIRE(all_kept.status == 0);
    CHECK(read_file(dir / "b/summary.csv") == read_file(dir / "k/summary.csv"));
    // The table and JSON show the same columns.
    const auto json = sibsim({"run", peterborough, "--percentiles", "10,90", "--format", "json"});
    CHECK(json.out.find("\"payments.total\": {\"mean\": 4798802.8, \"sd\": 3796488.094, \"se\": "
                        "37964.88094, \"p10\": 0, \"p90\": 9520000, \"min\": 0, \"max\": "
                        "13000000}") != std::string::npos);
    const auto table = sibsim({"run", peterborough, "--percentiles", "10,90"});
    CHECK(table.out.find("metric                                            mean       se"
                         "           p10          p90\n") != std::string::npos);
}

TEST_CASE("run --percentiles: bad lists are refused with every problem named") {
    const auto r = sibsim({"run", peterborough, "--percentiles", "1,1,0,abc,100,"});
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err ==
          "sibsim: error: --percentiles: percentile 1 is given twice\n"
          "sibsim: error: --percentiles: each percentile must be a number above 0 and "
          "below 100 (5 for p5, 2.5 for p2.5), got '0'\n"
          "sibsim: error: --percentiles: each percentile must be a number above 0 and "
          "below 100 (5 for p5, 2.5 for p2.5), got 'abc'\n"
          "sibsim: error: --percentiles: each percentile must be a number above 0 and "
          "below 100 (5 for p5, 2.5 for p2.5), got '100'\n"
          "sibsim: error: --percentiles: each percentile must be a number above 0 and "
          "below 100 (5 for p5, 2.5 for p2.5), got ''\n");
    const auto many =
        sibsim({"run", peterborough, "--percentiles", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17"});
    CHECK(many.status == 2);
    CHECK(many.err == "sibsim: error: --percentiles: at most 16 percentiles, got 17\n");
}

}  // namespace sib::test
