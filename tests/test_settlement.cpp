// The settlement loop, by hand: settlement order with net_of, exact decisions on the numbers as
// written, money in whole minor units with no residue, payer splits that sum exactly, partial
// settlements stated as such (docs/model.md, "Settlement order, net_of and caps" and "Money and
// exact decisions").
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include "cli_helpers.hpp"
#include "helpers.hpp"
#include "sib/reports.hpp"

using namespace sib;
using namespace sib::test;

namespace {

/// Ten participants enrolled in period 0 who all achieve `done` (rate 1), known in period 1.
std::string ten_who_all_succeed(const std::string& rules, const std::string& extra = "") {
    return R"(
sibsim: 1
name: t
horizon: 4
)" + extra +
           R"(
cohorts: [{name: c, size: 10, enrol: [0, 0]}]
outcomes: [{name: done, kind: binary, rate: 1, observed_after: 1}]
payers: [{name: p, share: 1}]
payments:
)" + rules;
}

}  // namespace

TEST_CASE("net_of places a rule just after the rule it names; unrelated rules keep file order") {
    // A (net_of C), B and C all fall due in period 1 under a total cap of 220. Settlement order is
    // B, C, A: B pays 200, C the 20 left, and A (50 less C's 20) finds the cap used up.
    const std::string yaml = ten_who_all_succeed(R"(
  - {name: A, basis: target, outcome: done, at_least: 1, amount: 50, net_of: C}
  - {name: B, basis: rate_card, outcome: done, price: 20}
  - {name: C, basis: target, outcome: done, at_least: 1, amount: 50}
caps: {total: 220}
)");
    const Plan plan = compile(scenario_of(yaml));
    CHECK(plan.settlement_order == std::vector<int>{1, 2, 0});
    const MetricLayout layout = metric_layout(plan);
    TrialState state(plan);
    simulate_trial(plan, layout, party_layout(plan), 0, state);
    const Metrics m = metrics_of(layout, state);
    CHECK(m["payments.B"] == 200);
    CHECK(m["payments.C"] == 20);
    CHECK(m["payments.A"] == 0);
    CHECK(m["payments.total"] == 220);
    std::ostringstream rows;
    write_payments(rows, plan, state);
    CHECK(rows.str() == "rule,cohort,period,date,amount,p\nB,all,1,,200,200\nC,all,1,,20,20\n");
}

TEST_CASE("net_of chains: a rule net of a net_of rule comes just after it") {
    const std::string yaml = ten_who_all_succeed(R"(
  - {name: X, basis: target, outcome: done, at_least: 1, amount: 10, net_of: Y}
  - {name: Z, basis: target, outcome: done, at_least: 1, amount: 10}
  - {name: Y, basis: target, outcome: done, at_least: 1, amount: 10, net_of: W}
  - {name: W, basis: target, outcome: done, at_least: 1, amount: 10}
)");
    CHECK(compile(scenario_of(yaml)).settlement_order == std::vector<int>{1, 3, 2, 0});
}

TEST_CASE("at_least is met by a mean that is exactly the target as written (0.29 of 100 is 29)") {
    const std::string yaml = R"(
sibsim: 1
name: t
horizon: 4
cohorts: [{name: c, size: 100, enrol: [0, 0]}]
outcomes: [{name: job, kind: binary, rate: 0.3, observed_after: 1}]
payers: [{name: p, share: 1}]
payments:
  - {name: target, basis: target, outcome: job, at_least: 29, amount: 1000}
  - {name: share, basis: target, outcome: job, share_at_least: 0.29, amount: 10}
)";
    auto m = settle(yaml, {observe("c", "job", 100, 0.29)});
    CHECK(m["rule.target.met"] == 1);
    CHECK(m["rule.share.met"] == 1);
    CHECK(m["payments.total"] == 1010);
    m = settle(yaml, {observe("c", "job", 100, 0.28)});
    CHECK(m["rule.target.met"] == 0);
    CHECK(m["rule.share.met"] == 0);
}

TEST_CASE("an improvement exactly on its threshold meets it (1.395 against 1.55 is exactly 10%)") {
    const std::string yaml = R"(
sibsim: 1
name: t
horizon: 4
cohorts: [{name: c, size: 1000, enrol: [0, 0]}]
outcomes: [{name: r, kind: count, better: lower, baseline: 1.55, observed_after: 1}]
comparison: {kind: historical}
payers: [{name: p, share: 1}]
payments:
  - {name: trigger, basis: versus_comparison, outcome: r, threshold: 0.10, amount: 100}
  - {name: steps, basis: versus_comparison, outcome: r, schedule: [[0.10, 0], [0.20, 1000]]}
)";
    // In double, (1.55 - 1.395) / 1.55 is 0.09999999999999995; as written it is 0.1.
    auto m = settle(yaml, {observe("c", "r", 1000, 1.395, 1.55)});
    CHECK(m["rule.trigger.met"] == 1);
    CHECK(m["payments.trigger"] == 100);
    // On the schedule's first point, which pays 0: exactly 0, no residue.
    CHECK(m["rule.steps.met"] == 1);
    CHECK(m["payments.steps"] == 0);
    m = settle(yaml, {observe("c", "r", 1000, 1.3951, 1.55)});
    CHECK(m["rule.trigger.met"] == 0);
}

TEST_CASE("no residue: a payment that rounds to nothing is no payment, and investors stay at -1") {
    // Peterborough with cohorts at 1.30 and 1.35: the pooled reconciliation owes exactly what the
    // cohort triggers paid, so it pays nothing at all (it used to bill 3.7e-9).
    const Cli cli =
        sibsim({"settle", peterborough, "--observed",
                data_path("observed/peterborough-both-cohorts.yaml"), "--format", "csv"});
    REQUIRE(cli.status == 0);
    CHECK(cli.out.find("final-pooled") == std::string::npos);
    CHECK(cli.out ==
          "rule,cohort,period,date,amount,Ministry of Justice,Big Lottery Fund\n"
          "cohort-trigger,cohort-1,15,2014-06-01,5000000,2600000,2400000\n"
          "cohort-trigger,cohort-2,22,2016-03-01,4000000,2080000,1920000\n");
}

TEST_CASE("money is paid in whole minor units, halves away from zero, before any cap") {
    // 10 × 0.125 = 1.25 exactly: pennies as written. 10 × 0.0125 = 0.125: half a penny up.
    auto m = one_trial(ten_who_all_succeed(R"(
  - {name: a, basis: rate_card, outcome: done, price: 0.125}
)"));
    CHECK(m["payments.a"] == 1.25);
    m = one_trial(ten_who_all_succeed(R"(
  - {name: a, basis: rate_card, outcome: done, price: 0.0125}
)"));
    CHECK(m["payments.a"] == 0.13);
    // A currency without a minor unit: 10 × 260.05 = 2600.5, paid as 2601.
    m = one_trial(ten_who_all_succeed(R"(
  - {name: a, basis: rate_card, outcome: done, price: 260.05}
)",
                                      "minor_unit: 1\n"));
    CHECK(m["payments.a"] == 2601);
    // A cap that is not a whole number of minor units is rounded down to one.
    m = one_trial(ten_who_all_succeed(R"(
  - {name: a, basis: rate_card, outcome: done, price: 1, cap: 7.259}
)"));
    CHECK(m["payments.a"] == 7.25);
}

TEST_CASE("payer splits are whole minor units that sum exactly to the payment") {
    // 1.00 split 0.29 / 0.71 is 29p and 71p (floor(100 × 0.29) in double would be 28).
    std::string yaml = ten_who_all_succeed(R"(
  - {name: a, basis: rate_card, outcome: done, price: 0.1}
)");
    const auto replace = [&](const std::string& from, const std::string& to) {
        yaml.replace(yaml.find(from), from.size(), to);
    };
    replace("payers: [{name: p, share: 1}]",
            "payers: [{name: p, share: 0.29}, {name: q, share: 0.71}]");
    auto m = one_trial(yaml);
    CHECK(m["payer.p.paid"] == 0.29);
    CHECK(m["payer.q.paid"] == 0.71);
    // Thirds of 1.00: one penny left over goes to the first of the tied remainders.
    replace("payers: [{name: p, share: 0.29}, {name: q, share: 0.71}]",
            "payers: [{name: p, share: 0.3333333333333333}, {name: q, share: "
            "0.3333333333333333}, {name: r, share: 0.3333333333333334}]");
    m = one_trial(yaml);
    CHECK(m["payer.r.paid"] == 0.34);
    CHECK(m["payer.p.paid"] == 0.33);
    CHECK(m["payer.q.paid"] == 0.33);
    CHECK(m["payer.p.paid"] + m["payer.q.paid"] + m["payer.r.paid"] == m["payments.total"]);
}

TEST_CASE("settle: an outcome the rules use but nobody observed is an error unless --partial") {
    const std::string utah = scenario_path("utah-preschool.yaml");
    const std::string cohort_1 = observed_path("utah-cohort-1.yaml");
    Cli cli = sibsim({"settle", utah, "--observed", cohort_1});
    CHECK(cli.status == 2);
    CHECK(cli.err.find("outcome 'no-sped-1' is not observed for any cohort, but payment rules use "
                       "it; give it, or pass --partial to settle without it") != std::string::npos);
    cli = sibsim({"settle", utah, "--observed", cohort_1, "--partial"});
    REQUIRE(cli.status == 0);
    CHECK(cli.err.find(
              "sibsim: note: rule 'grade-1' not assessed for cohorts 'cohort-1', 'cohort-2', "
              "'cohort-3', 'cohort-4', 'cohort-5': outcome 'no-sped-1' not observed for them") !=
          std::string::npos);
}

TEST_CASE("settle: aggregate results cannot settle a per-participant cap, and say so") {
    const Cli cli = sibsim({"settle", scenario_path("dwp-innovation-fund.yaml"), "--observed",
                            data_path("observed/dwp-attitude-only.yaml"), "--partial"});
    CHECK(cli.status == 2);
    CHECK(cli.err.find("error: observed: the scenario's caps.per_participant needs each "
                       "participant's results") != std::string::npos);
}

TEST_CASE("payments.csv shows each payer's part as settled: cohort payers and payer maxima") {
    // Utah's cohort 1 is paid by United Way and Salt Lake County alone (cohort payers), so the
    // row's parts are not the payers' default shares: 0 for the State, all 266,941 for them.
    const Cli cli = sibsim({"settle", scenario_path("utah-preschool.yaml"), "--observed",
                            observed_path("utah-cohort-1.yaml"), "--partial", "--format", "csv"});
    REQUIRE(cli.status == 0);
    CHECK(cli.out ==
          "rule,cohort,period,date,amount,State of Utah,United Way of Salt Lake and Salt Lake "
          "County\nkindergarten,all,2,2015-08-01,266941,0,266941\n");
    // A payer maximum: p (half of every payment) can pay 300 in all; its cut is not paid.
    std::string yaml = ten_who_all_succeed(R"(
  - {name: a, basis: rate_card, outcome: done, price: 100}
)");
    yaml.replace(yaml.find("payers: [{name: p, share: 1}]"), 29,
                 "payers: [{name: p, share: 0.5, max: 300}, {name: q, share: 0.5}]");
    const Plan plan = compile(scenario_of(yaml));
    const MetricLayout layout = metric_layout(plan);
    TrialState state(plan);
    std::vector<std::string> notes;
    settle_observed(plan, Observed{"o.yaml", {[] {
                                       Observation o = observe("c", "done", 10, 0);
                                       o.mean.reset();
                                       o.successes = 10;
                                       return o;
                                   }()}},
                    SettleOptions{}, layout, party_layout(plan), state, notes);
    std::ostringstream rows;
    write_payments(rows, plan, state);
    CHECK(rows.str() == "rule,cohort,period,date,amount,p,q\na,all,1,,800,300,500\n");
}
