// sensitivity: Sobol' indices and tornado swings on a scenario whose payments are linear in two
// independent uniform inputs, so that both are known by hand; and the command's errors.
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "cli_helpers.hpp"
#include "helpers.hpp"
#include "sib/metrics.hpp"
#include "sib/sensitivity.hpp"

using namespace sib;
using namespace sib::test;

namespace {

/// Every participant achieves the outcome (rate 1: no binomial noise), paid 100 each, so
/// payments.total = 100 (a + b) with cohort sizes a ~ U(1000, 2000) and b ~ U(0, 2000) (rounded
/// to whole participants). Var(100 a) : Var(100 b) = 1000² : 2000², so the variance shares (S1 =
/// ST, no interaction) are 1/5 and 4/5.
const std::string linear = R"(sibsim: 1
name: linear
horizon: 4
cohorts:
  - {name: a, size: {dist: uniform, min: 1000, max: 2000}, enrol: [0, 0]}
  - {name: b, size: {dist: uniform, min: 0, max: 2000}, enrol: [0, 0]}
outcomes:
  - {name: done, kind: binary, rate: 1, observed_after: 1}
payments:
  - {name: done, basis: rate_card, outcome: done, price: 100}
payers:
  - {name: gov, share: 1}
)";

struct Linear {
    Plan plan = compile(scenario_of(linear));
    std::vector<int> inputs = choose_inputs(plan, {"cohorts.a.size", "cohorts.b.size"});
    std::vector<int> metrics = {metric_index(metric_layout(plan), "payments.total")};
};

}  // namespace

TEST_CASE("sensitivity: the inputs are the uncertain values, named by their --set paths") {
    Linear s;
    REQUIRE(uncertain_parameters(s.plan).size() == 2);
    CHECK(s.plan.parameters[static_cast<std::size_t>(s.inputs[0])].path == "cohorts.a.size");
    try {
        choose_inputs(s.plan, {"cohorts.a.sise", "cohorts.b.size", "cohorts.b.size"});
        FAIL("expected an InputError");
    } catch (const InputError& e) {
        CHECK(std::string(e.what()) ==
              "sibsim: error: --inputs: no uncertain input 'cohorts.a.sise'; did you mean "
              "'cohorts.a.size'?\nsibsim: error: --inputs: 'cohorts.b.size' is given twice");
    }
}

TEST_CASE("sensitivity: Sobol' indices of a linear model are its variance shares") {
    Linear s;
    SensitivityOptions options;
    options.trials = 4096;
    const SobolDesign design = sobol_design(options.trials, 2);
    REQUIRE(design.rows() == 4096 * 4);
    const auto outputs = evaluate_design(s.plan, s.inputs, s.metrics, design, options);
    REQUIRE(outputs.size() == 4096 * 4);
    const auto indices = sobol_indices(design, outputs, 1, sobol_resamples);
    REQUIRE(indices.size() == 2);
    const double share[2] = {0.2, 0.8};
    for (int i = 0; i < 2; ++i) {
        const auto& x = indices[static_cast<std::size_t>(i)];
        INFO("input " << i << ": S1 " << x.s1 << " ± " << x.s1_conf << ", ST " << x.st << " ± "
                      << x.st_conf);
        CHECK(x.s1_conf > 0);
        CHECK(x.s1_conf < 0.05);  // a conf this wide would let almost anything pass
        CHECK(std::abs(x.s1 - share[i]) <= x.s1_conf);
        CHECK(std::abs(x.st - share[i]) <= x.st_conf);
    }

    SUBCASE("the same numbers on any number of threads") {
        options.threads = 3;
        CHECK(evaluate_design(s.plan, s.inputs, s.metrics, design, options) == outputs);
    }
    SUBCASE("rows come in SALib's order: A, AB_1 .. AB_D, B") {
        const auto& u = design.uniforms;  // base row 5: rows 20..23, two columns each
        CHECK(u[20 * 2 + 0] != u[23 * 2 + 0]);
        CHECK(u[21 * 2 + 0] == u[23 * 2 + 0]);  // AB_1: column 1 from B
        CHECK(u[21 * 2 + 1] == u[20 * 2 + 1]);  // the rest from A
        CHECK(u[22 * 2 + 0] == u[20 * 2 + 0]);
        CHECK(u[22 * 2 + 1] == u[23 * 2 + 1]);  // AB_2: column 2 from B
    }
}

TEST_CASE("sensitivity: tornado swings of a linear model are the price times the p10-p90 span") {
    Linear s;
    SensitivityOptions options;
    options.trials = 3000;
    options.threads = 2;
    const SpiderResult spider_result = spider(s.plan, s.inputs, s.metrics, options);
    const auto rows = tornado_rows(spider_result);
    REQUIRE(rows.size() == 2);
    // Common random numbers: the other cohort's size is the same in both runs trial by trial,
    // so the swing is exact: 100 × (1900 − 1100) for a, 100 × (1800 − 200) for b, b first.
    CHECK(rows[0].input == 1);
    CHECK(rows[0].low_value == doctest::Approx(200));
    CHECK(rows[0].high_value == doctest::Approx(1800));
    CHECK(rows[0].swing == doctest::Approx(160000).epsilon(1e-12));
    CHECK(rows[1].input == 0);
    CHECK(rows[1].swing == doctest::Approx(80000).epsilon(1e-12));
    // At the median of a, the mean is 100 × (1500 + E[b]) = 250,000, within a few standard errors.
    const auto& median_a = spider_result.moments[2];
    CHECK(std::abs(median_a.mean - 250000) < 4 * median_a.se());
    options.threads = 1;
    const SpiderResult one_thread = spider(s.plan, s.inputs, s.metrics, options);
    CHECK(one_thread.moments[7].mean == spider_result.moments[7].mean);
}

TEST_CASE("sensitivity command: usage errors") {
    auto r = sibsim({"sensitivity", peterborough, "--method", "sobol", "-n", "1000", "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err ==
          "sibsim: error: -n: Sobol' needs a base sample that is a power of two (1024, "
          "2048, ...), got 1000\n");
    r = sibsim({"sensitivity", peterborough, "--inputs", "outcomes.reconviction.efect", "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err ==
          "sibsim: error: --inputs: no uncertain input 'outcomes.reconviction.efect'; did you "
          "mean 'outcomes.reconviction.effect'?\n");
    r = sibsim({"sensitivity", peterborough, "--design", "d.csv", "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err == "sibsim: error: --design: the design file belongs to --method sobol\n");
    r = sibsim({"sensitivity", peterborough, "-o", "", "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err == "sibsim: error: -o/--out: the directory name is empty\n");
    r = sibsim({"sensitivity", peterborough, "--xlsx", "book.csv", "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err == "sibsim: error: --xlsx: the file name must end in .xlsx, got 'book.csv'\n");
    r = sibsim({"sensitivity", peterborough, "--method", "sobol", "--design", "", "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err == "sibsim: error: --design: the file name is empty\n");
}

TEST_CASE("sensitivity command: tornado.csv, spider.csv and run.csv, all or none") {
    TempDir dir;
    const auto r = sibsim({"sensitivity", peterborough, "-n", "2000", "-o", dir.path().string(),
                           "--metrics", "payments.total", "--format", "csv"});
    REQUIRE(r.status == 0);
    CHECK(r.out.rfind("metric,input,low_value,high_value,low,high,swing\npayments.total,"
                      "outcomes.reconviction.effect,",
                      0) == 0);
    CHECK(fs::exists(dir.path() / "tornado.csv"));
    CHECK(fs::exists(dir.path() / "spider.csv"));
    CHECK(fs::exists(dir.path() / "run.csv"));
}

TEST_CASE("sensitivity command: --design in SALib's row order, its outputs give sobol.csv") {
    TempDir dir;
    const std::string scenario = dir / "linear.yaml";
    {
        std::ofstream file(scenario);
        file << linear;
    }
    const auto r = sibsim({"sensitivity", scenario, "--method", "sobol", "-n", "1024", "--metrics",
                           "payments.total", "-o", dir / "out", "--design", dir / "design.csv",
                           "--format", "json"});
    REQUIRE(r.status == 0);
    CHECK(r.out.rfind("[\n {\"metric\": \"payments.total\", \"input\": \"cohorts.a.size\", "
                      "\"S1\": ",
                      0) == 0);
    std::ifstream design(dir / "design.csv");
    std::string line;
    std::getline(design, line);
    CHECK(line == "row,trial,cohorts.a.size,cohorts.b.size,payments.total");
    // Rows 0..3 are A, AB_1, AB_2, B of trial 0: AB_1 takes a from B and b from A; the payment is
    // 100 × (a + b) with the sizes rounded.
    std::vector<std::vector<double>> rows;
    for (int i = 0; i < 4 && std::getline(design, line); ++i) {
        std::vector<double> cells;
        std::stringstream cells_text(line);
        for (std::string cell; std::getline(cells_text, cell, ',');)
            cells.push_back(std::stod(cell));
        rows.push_back(cells);
    }
    REQUIRE(rows.size() == 4);
    for (int i = 0; i < 4; ++i) CHECK(rows[static_cast<std::size_t>(i)][1] == 0);
    CHECK(rows[1][2] == rows[3][2]);
    CHECK(rows[1][3] == rows[0][3]);
    CHECK(rows[2][2] == rows[0][2]);
    CHECK(rows[2][3] == rows[3][3]);
    for (const auto& row : rows)
        CHECK(row[4] == doctest::Approx(100 * (std::round(row[2]) + std::round(row[3]))));
    CHECK(fs::exists(dir / "out/sobol.csv"));
    CHECK(fs::exists(dir / "out/run.csv"));

    // A design file in a folder that does not exist: refused before anything is written.
    const auto bad = sibsim({"sensitivity", scenario, "--method", "sobol", "-o", dir / "out2",
                             "--design", dir / "missing/design.csv", "--quiet"});
    CHECK(bad.status == 1);
    CHECK(bad.err.find("cannot write the design file") != std::string::npos);
    CHECK(!fs::exists(dir / "out2"));
}

TEST_CASE("sensitivity command: the same bytes for any -j") {
    TempDir dir;
    for (const std::string method : {"tornado", "sobol"}) {
        const auto one = sibsim({"sensitivity", scenario_path("chicago-cpc.yaml"), "--method",
                                 method, "-n", "2048", "-j", "1", "--format", "csv"});
        const auto three = sibsim({"sensitivity", scenario_path("chicago-cpc.yaml"), "--method",
                                   method, "-n", "2048", "-j", "3", "--format", "csv"});
        REQUIRE(one.status == 0);
        CHECK(one.out.size() > 100);
        CHECK(one.out == three.out);
    }
}

TEST_CASE("sensitivity: a metric that does not vary has indices 0; no uncertain input refuses") {
    const SobolDesign design = sobol_design(64, 3);
    const std::vector<double> constant(static_cast<std::size_t>(design.rows()), 7.5);
    for (const auto& index : sobol_indices(design, constant, 1, 10)) {
        CHECK(index.s1 == 0);
        CHECK(index.st == 0);
        CHECK(index.s1_conf == 0);
    }
    TempDir dir;
    const std::string scenario = dir / "fixed.yaml";
    {
        std::ofstream file(scenario);
        std::string text = linear;
        text.replace(text.find("{dist: uniform, min: 1000, max: 2000}"), 37, "1500");
        text.replace(text.find("{dist: uniform, min: 0, max: 2000}"), 34, "1000");
        file << text;
    }
    const auto r = sibsim({"sensitivity", scenario, "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err ==
          "sibsim: error: the scenario has no uncertain input (every value is fixed): "
          "there is nothing to analyse\n");
}

TEST_CASE("sensitivity: with correlated inputs, the others keep their marginal draws") {
    // The two sizes correlated at 0.8: holding a at a percentile leaves b drawn as before, trial
    // by trial (docs/model.md section 14), so a's swing is still exactly 100 × (1900 − 1100), and
    // the mean with a at its median is 100 × (1500 + E[b]), not shifted towards a's value.
    Plan plan = compile(scenario_of(linear + "correlations:\n  - [cohorts.a.size, "
                                             "cohorts.b.size, 0.8]\n"));
    REQUIRE(plan.correlated.size() == 2);
    const auto inputs = choose_inputs(plan, {"cohorts.a.size"});
    const std::vector<int> metrics = {metric_index(metric_layout(plan), "payments.total")};
    SensitivityOptions options;
    options.trials = 4000;
    const SpiderResult result = spider(plan, inputs, metrics, options);
    const auto rows = tornado_rows(result);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].swing == doctest::Approx(80000).epsilon(1e-12));
    const Moments& low = result.moments[0];
    CHECK(std::abs(low.mean - 100 * (1100 + 1000)) < 4 * low.se());
}
