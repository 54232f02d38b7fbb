// Hand-computed payment rules, caps, payer splits and the investors' vehicle: no randomness
// (settlements on observed results, or trials whose probabilities are 0 or 1).
#include <doctest/doctest.h>

#include <cmath>

#include "helpers.hpp"

using namespace sib;
using namespace sib::test;
using doctest::Approx;

namespace {

// Peterborough-shaped: one count outcome against a matched comparison, a 10% per-cohort trigger
// paying £20,000 per event avoided, and a 7.5% pooled trigger net of it.
const std::string peterborough = R"(
sibsim: 1
name: peterborough-like
horizon: 20
cohorts:
  - {name: cohort-1, size: 1000, enrol: [0, 6]}
  - {name: cohort-2, size: 1000, enrol: [7, 9]}
outcomes:
  - {name: reconviction, kind: count, better: lower, baseline: 1.55, effect: -0.1, dispersion: 2, observed_after: 6}
comparison: {kind: matched, ratio: 10}
payments:
  - {name: cohort-trigger, basis: versus_comparison, outcome: reconviction, per: cohort, threshold: 0.10, price: 20000, payment_lag: 1}
  - {name: final, basis: versus_comparison, outcome: reconviction, per: all, threshold: 0.075, price: 20000, net_of: cohort-trigger, payment_lag: 2}
payers:
  - {name: MoJ, share: 0.75}
  - {name: Lottery, share: 0.25}
)";

}  // namespace

TEST_CASE("Peterborough cohort 1: 142 against 155 events per 100 is 8.4%, below the 10% trigger") {
    auto m = settle(peterborough, {observe("cohort-1", "reconviction", 1000, 1.42, 1.55)});
    CHECK(m["outcome.reconviction.cohort-1.improvement"] == Approx((1.55 - 1.42) / 1.55));
    CHECK(m["rule.cohort-trigger.cohort-1.met"] == 0);
    CHECK(m["payments.cohort-trigger"] == 0);
    // Cohort 2 is not observed yet, so neither its trigger nor the pooled rule is assessed:
    // no early payment, as in 2014. Not assessed is not "not met": NaN, printed as such.
    CHECK(std::isnan(m["rule.final.met"]));
    CHECK(m["payments.total"] == 0);
    CHECK(m["payer.MoJ.paid"] == 0);
}

TEST_CASE("the pooled rule, once every cohort is observed, splits its payment among payers") {
    // Both cohorts at 1.42 against 1.55: 8.4% pooled ≥ 7.5%: 20,000 × 0.13 × 2000 = 5,200,000.
    auto m = settle(peterborough, {observe("cohort-1", "reconviction", 1000, 1.42, 1.55),
                                   observe("cohort-2", "reconviction", 1000, 1.42, 1.55)});
    CHECK(m["rule.final.met"] == 1);
    CHECK(m["payments.final"] == Approx(5200000));
    CHECK(m["payer.MoJ.paid"] == Approx(3900000));
    CHECK(m["payer.Lottery.paid"] == Approx(1300000));
}

TEST_CASE(
    "Peterborough: a cohort past 10% is paid per event avoided, and the pooled rule pays net of "
    "it") {
    // Cohort 1: 1.39 vs 1.55 → 10.3%: 20,000 × 0.16 × 1000 = 3,200,000.
    // Cohort 2: 1.50 vs 1.55 → 3.2%: nothing.
    // Pooled: t = 1.445, c = 1.55 → 6.8% < 7.5%: nothing.
    auto m = settle(peterborough, {observe("cohort-1", "reconviction", 1000, 1.39, 1.55),
                                   observe("cohort-2", "reconviction", 1000, 1.50, 1.55)});
    CHECK(m["rule.cohort-trigger.cohort-1.met"] == 1);
    CHECK(m["rule.cohort-trigger.cohort-2.met"] == 0);
    CHECK(m["payments.cohort-trigger"] == Approx(3200000));
    CHECK(m["rule.final.met"] == 0);
    CHECK(m["payments.final"] == 0);

    // Both cohorts at 1.39: each pays 20,000 × 0.16 × 1000 = 3,200,000; pooled owes
    // 20,000 × 0.16 × 2000 = 6,400,000, less the 6,400,000 already paid: 0.
    m = settle(peterborough, {observe("cohort-1", "reconviction", 1000, 1.39, 1.55),
                              observe("cohort-2", "reconviction", 1000, 1.39, 1.55)});
    CHECK(m["payments.cohort-trigger"] == Approx(6400000));
    CHECK(m["rule.final.met"] == 1);
    CHECK(m["payments.final"] == Approx(0).epsilon(1e-9));

    // Cohort 1 at 1.39 (paid 3,200,000), cohort 2 at 1.45: pooled t = 1.42, 8.4% ≥ 7.5%, owes
    // 20,000 × 0.13 × 2000 = 5,200,000, less 3,200,000: 2,000,000.
    m = settle(peterborough, {observe("cohort-1", "reconviction", 1000, 1.39, 1.55),
                              observe("cohort-2", "reconviction", 1000, 1.45, 1.55)});
    CHECK(m["payments.cohort-trigger"] == Approx(3200000));
    CHECK(m["payments.final"] == Approx(2000000));
    CHECK(m["payments.total"] == Approx(5200000));
}

TEST_CASE("versus_comparison pays by schedule (linear between points) or a fixed amount") {
    const std::string base = R"(
sibsim: 1
name: schedule
horizon: 10
cohorts: [{name: c, size: 100, enrol: [0, 0]}]
outcomes: [{name: days, kind: count, better: lower, baseline: 10, observed_after: 2}]
comparison: {kind: historical}
payers: [{name: city, share: 1}]
payments:
)";
    const std::string schedule = base +
                                 "  - {name: s, basis: versus_comparison, outcome: days, schedule: "
                                 "[[0.085, 1000], [0.10, 2000], [0.20, 5000]]}\n";
    // improvement 5%: below the first point → 0
    CHECK(settle(schedule, {observe("c", "days", 100, 9.5, 10)})["payments.s"] == 0);
    // 8.5% exactly: the first point
    CHECK(settle(schedule, {observe("c", "days", 100, 9.15, 10)})["payments.s"] == Approx(1000));
    // 15%: halfway between 2000 and 5000
    CHECK(settle(schedule, {observe("c", "days", 100, 8.5, 10)})["payments.s"] == Approx(3500));
    // 30%: above the last point → the last payment
    CHECK(settle(schedule, {observe("c", "days", 100, 7.0, 10)})["payments.s"] == Approx(5000));

    const std::string amount =
        base +
        "  - {name: a, basis: versus_comparison, outcome: days, threshold: 0.1, amount: 777}\n";
    CHECK(settle(amount, {observe("c", "days", 100, 9.0, 10)})["payments.a"] == Approx(777));
    CHECK(settle(amount, {observe("c", "days", 100, 9.2, 10)})["payments.a"] == 0);
    // A comparison mean of 0 pays nothing.
    CHECK(settle(amount, {observe("c", "days", 100, 0.0, 0.0)})["payments.a"] == 0);
}

TEST_CASE("Augsburg-style target: paid at exactly 20 successes, not at 19") {
    const std::string augsburg = R"(
sibsim: 1
name: augsburg-like
horizon: 12
cohorts: [{name: young-people, size: 100, enrol: [0, 3]}]
outcomes: [{name: sustained-job, kind: binary, rate: 0.2, observed_after: 4}]
payments:
  - {name: placements, basis: target, outcome: sustained-job, at_least: 20, amount: 257500, payment_lag: 1}
payers: [{name: Bavaria, share: 1}]
)";
    Observation twenty = observe("young-people", "sustained-job", 100, 0);
    twenty.mean.reset();
    twenty.successes = 20;
    auto m = settle(augsburg, {twenty});
    CHECK(m["rule.placements.met"] == 1);
    CHECK(m["payments.placements"] == Approx(257500));
    twenty.successes = 19;
    m = settle(augsburg, {twenty});
    CHECK(m["rule.placements.met"] == 0);
    CHECK(m["payments.total"] == 0);
}

TEST_CASE("target by share, with a price per success on top of the amount") {
    const std::string yaml = R"(
sibsim: 1
name: share
horizon: 12
cohorts: [{name: a, size: 50, enrol: [0, 0]}, {name: b, size: 50, enrol: [1, 1]}]
outcomes: [{name: housed, kind: binary, rate: 0.5, observed_after: 2}]
payments:
  - {name: t, basis: target, outcome: housed, per: cohort, share_at_least: 0.3, amount: 100, price: 10}
payers: [{name: council, share: 1}]
)";
    // a: 15 of 50 = 30% → met: 100 + 10 × 15 = 250. b: 14 of 50 → not met.
    auto m = settle(yaml, {observe("a", "housed", 50, 0.3), observe("b", "housed", 50, 0.28)});
    CHECK(m["rule.t.a.met"] == 1);
    CHECK(m["rule.t.b.met"] == 0);
    CHECK(m["payments.t"] == Approx(250));
}

TEST_CASE("rate card with a per-participant cap, payments in period order") {
    // Everyone achieves both outcomes (rates 1): each participant is owed 1000 in period 1 and
    // 2000 in period 3, capped at 2500 per participant: 1000 + 1500.
    const std::string yaml = R"(
sibsim: 1
name: capped
horizon: 10
cohorts: [{name: c, size: 10, enrol: [0, 0]}]
outcomes:
  - {name: entry, kind: binary, rate: 1, observed_after: 1}
  - {name: sustained, kind: binary, rate: 1, after: entry, observed_after: 3}
payments:
  - {name: sustained-pay, basis: rate_card, outcome: sustained, price: 2000}
  - {name: entry-pay, basis: rate_card, outcome: entry, price: 1000}
caps: {per_participant: 2500}
payers: [{name: dwp, share: 1}]
)";
    const Plan plan = compile(scenario_of(yaml));
    CHECK(plan.participant_mode == ParticipantMode::patterns);
    const MetricLayout layout = metric_layout(plan);
    TrialState state(plan);
    simulate_trial(plan, layout, party_layout(plan), 0, state);
    auto m = metrics_of(layout, state);
    CHECK(m["payments.entry-pay"] == Approx(10000));
    CHECK(m["payments.sustained-pay"] == Approx(15000));
    CHECK(m["payments.total"] == Approx(25000));
    auto dwp = flows_of(plan, state, "dwp");
    CHECK(dwp[1] == Approx(-10000));
    CHECK(dwp[3] == Approx(-15000));
}

TEST_CASE("caps apply per rule then in total, in period order with ties in file order") {
    const std::string base = R"(
sibsim: 1
name: caps
horizon: 10
cohorts: [{name: c, size: 10, enrol: [0, 0]}]
outcomes:
  - {name: early, kind: binary, rate: 1, observed_after: 1}
  - {name: late, kind: binary, rate: 1, observed_after: 2}
payers: [{name: p, share: 1}]
payments:
  - {name: a, basis: rate_card, outcome: late, price: 100}
  - {name: b, basis: rate_card, outcome: late, price: 50}
  - {name: e, basis: rate_card, outcome: early, price: 30, cap: 200}
)";
    // e: 300 in period 1, capped at 200. Period 2: a 1000 then b 500 (file order).
    auto m = one_trial(base);
    CHECK(m["payments.e"] == Approx(200));
    CHECK(m["payments.a"] == Approx(1000));
    CHECK(m["payments.b"] == Approx(500));
    // A total cap of 1300: e 200 first (period 1), then a 1000, then b only 100.
    m = one_trial(base + "caps: {total: 1300}\n");
    CHECK(m["payments.e"] == Approx(200));
    CHECK(m["payments.a"] == Approx(1000));
    CHECK(m["payments.b"] == Approx(100));
    CHECK(m["payments.total"] == Approx(1300));
}

TEST_CASE("payer splits: default shares, a rule's own split, and savings from units caused") {
    const std::string yaml = R"(
sibsim: 1
name: payers
horizon: 8
discount_rate: 0.1
period: year
cohorts: [{name: c, size: 100, enrol: [0, 0]}]
outcomes:
  - {name: job, kind: binary, baseline: 0.2, rate: 0.5, observed_after: 2}
payments:
  - {name: jobs, basis: rate_card, outcome: job, price: 1000}
  - {name: bonus, basis: target, outcome: job, at_least: 40, amount: 600, payers: {fund: 1}}
payers:
  - {name: council, share: 0.8, savings: {job: 300}}
  - {name: fund, share: 0.2}
)";
    // 50 jobs: 50,000 by rate card (40,000 council, 10,000 fund), bonus 600 all from the fund.
    // Caused: 50 − 100 × 0.2 = 30 jobs, worth 9,000 to the council in year 2.
    auto m = settle(yaml, {observe("c", "job", 100, 0.5)});
    CHECK(m["payments.jobs"] == Approx(50000));
    CHECK(m["payments.bonus"] == Approx(600));
    CHECK(m["payer.council.paid"] == Approx(40000));
    CHECK(m["payer.fund.paid"] == Approx(10600));
    CHECK(m["payer.council.paid"] + m["payer.fund.paid"] == Approx(m["payments.total"]));
    CHECK(m["outcome.job.caused"] == Approx(30));
    CHECK(m["payer.council.savings"] == Approx(9000));
    // Everything falls in year 2: PV factor 1.1^-2.
    CHECK(m["payer.council.net_cost_pv"] == Approx((40000 - 9000) / 1.21));
    CHECK(m["payer.fund.net_cost_pv"] == Approx(10600 / 1.21));
}

namespace {
// Yearly periods; costs of 1000 in year 0; an outcome payment in year 4 that the test sets by the
// number of successes (price 100 each); two tranches, the senior owed 10% a year.
std::string vehicle(const std::string& extra) {
    return R"(
sibsim: 1
name: vehicle
period: year
horizon: 6
cohorts: [{name: c, size: 100, enrol: [0, 0]}]
outcomes: [{name: done, kind: binary, rate: 0.5, observed_after: 4}]
payments: [{name: pay, basis: rate_card, outcome: done, price: 100}]
payers: [{name: p, share: 1}]
provider: {costs: {per_period: 1000, from: 0, to: 0}}
investors:
  capital: 1000
  tranches:
    - {name: senior, share: 0.6, rate: 0.10}
    - {name: junior, share: 0.4}
)" + extra;
}
Observation successes(double n) {
    Observation o = observe("c", "done", 100, 0);
    o.mean.reset();
    o.successes = n;
    return o;
}
}  // namespace

TEST_CASE(
    "waterfall: the senior tranche is repaid with its return first, the junior takes the rest") {
    // 15 successes → 1500 in year 4. Senior: 600 × 1.1^4 = 878.46; junior: 621.54.
    auto m = settle(vehicle(""), {successes(15)});
    const double senior = 600 * std::pow(1.1, 4);
    CHECK(m["investors.drawn"] == Approx(1000));
    CHECK(m["tranche.senior.drawn"] == Approx(600));
    CHECK(m["tranche.junior.drawn"] == Approx(400));
    CHECK(m["tranche.senior.received"] == Approx(senior));
    CHECK(m["tranche.junior.received"] == Approx(1500 - senior));
    CHECK(m["tranche.senior.irr"] == Approx(0.10));
    CHECK(m["tranche.junior.irr"] == Approx(std::pow((1500 - senior) / 400, 0.25) - 1));
    CHECK(m["investors.irr"] == Approx(std::pow(1.5, 0.25) - 1));
    CHECK(m["investors.multiple"] == Approx(1.5));
    CHECK(m["investors.any_loss"] == 0);
    // 8 successes → 800: the senior takes all of it, the junior nothing.
    m = settle(vehicle(""), {successes(8)});
    CHECK(m["tranche.senior.received"] == Approx(800));
    CHECK(m["tranche.junior.received"] == 0);
    CHECK(m["tranche.junior.irr"] == -1);
    CHECK(m["investors.loss"] == Approx(200));
    CHECK(m["investors.any_loss"] == 1);
}

TEST_CASE("guarantee: pays drawn principal not repaid, up to its amount, in tranche order") {
    const std::string yaml = vehicle("  guarantee: {name: bloomberg, amount: 700}\n");
    // Nothing achieved: the guarantee pays the senior's 600 and 100 of the junior's 400.
    auto m = settle(yaml, {successes(0)});
    CHECK(m["guarantee.paid"] == Approx(700));
    CHECK(m["tranche.senior.received"] == Approx(600));
    CHECK(m["tranche.junior.received"] == Approx(100));
    CHECK(m["investors.received"] == Approx(700));
    CHECK(m["investors.loss"] == Approx(300));
    // 5 successes: 500 to the senior (return first: 600×1.1^4 − 500 owed, of which principal
    // 600 − (500 − 278.46) = 378.46 is not repaid); the guarantee pays that and 321.54 of junior.
    m = settle(yaml, {successes(5)});
    const double accrued = 600 * std::pow(1.1, 4) - 600;
    const double senior_principal_left = 600 - (500 - accrued);
    CHECK(m["guarantee.paid"] == Approx(700));
    CHECK(m["tranche.senior.received"] == Approx(500 + senior_principal_left));
    CHECK(m["tranche.junior.received"] == Approx(700 - senior_principal_left));
}

TEST_CASE("recycling: outcome payments made while the service runs pay its costs before any draw") {
    const std::string yaml = R"(
sibsim: 1
name: recycle
period: year
horizon: 6
cohorts: [{name: c, size: 10, enrol: [0, 0]}]
outcomes: [{name: done, kind: binary, rate: 0.5, observed_after: 1}]
payments: [{name: pay, basis: rate_card, outcome: done, price: 50}]
payers: [{name: p, share: 1}]
provider: {costs: {per_period: 100, from: 0, to: 3}}
investors: {capital: 1000}
)";
    // Year 0 draws 100. Year 1: 250 paid in, costs 100 from it, 150 held for the 200 to come.
    // Year 2: 100 from cash (50 left). Year 3: 50 from cash, 50 drawn. Total drawn 150, nothing
    // distributed; every draw before every distribution.
    Observation o = observe("c", "done", 10, 0);
    o.mean.reset();
    o.successes = 5;
    const Scenario s = scenario_of(yaml);
    const Plan plan = compile(s);
    const MetricLayout layout = metric_layout(plan);
    TrialState state(plan);
    std::vector<std::string> notes;
    settle_observed(plan, Observed{"o.yaml", {o}}, SettleOptions{}, layout, party_layout(plan),
                    state, notes);
    auto m = metrics_of(layout, state);
    CHECK(m["investors.drawn"] == Approx(150));
    CHECK(m["investors.received"] == 0);
    CHECK(m["investors.irr"] == -1);
    const auto investors = flows_of(plan, state, "investors");
    CHECK(investors[0] == Approx(-100));
    CHECK(investors[1] == 0);
    CHECK(investors[2] == 0);
    CHECK(investors[3] == Approx(-50));
    CHECK(m["provider.unfunded"] == 0);
}

TEST_CASE("costs beyond the commitment are unfunded, borne by the provider") {
    const std::string yaml = R"(
sibsim: 1
name: unfunded
period: year
horizon: 5
cohorts: [{name: c, size: 10, enrol: [0, 0]}]
outcomes: [{name: done, kind: binary, rate: 0, observed_after: 1}]
payments: [{name: pay, basis: rate_card, outcome: done, price: 50}]
payers: [{name: p, share: 1}]
provider: {costs: {per_period: 100, per_participant: 5, from: 0, to: 3}}
investors: {capital: 250}
)";
    // Costs: 100 + 50 in year 0, then 100 a year to year 3: 450 in all; 250 drawn, 200 unfunded.
    auto m = one_trial(yaml);
    CHECK(m["provider.costs"] == Approx(450));
    CHECK(m["investors.drawn"] == Approx(250));
    CHECK(m["provider.unfunded"] == Approx(200));
    CHECK(m["investors.irr"] == -1);
}

TEST_CASE("with no investors the provider receives the payments and bears the costs") {
    const std::string yaml = R"(
sibsim: 1
name: provider
period: year
horizon: 4
cohorts: [{name: c, size: 10, enrol: [0, 0]}]
outcomes: [{name: done, kind: binary, rate: 1, observed_after: 1}]
payments: [{name: pay, basis: rate_card, outcome: done, price: 50}]
payers: [{name: p, share: 1}]
provider: {costs: {per_period: 100, from: 0, to: 1}}
)";
    const Plan plan = compile(scenario_of(yaml));
    const MetricLayout layout = metric_layout(plan);
    TrialState state(plan);
    simulate_trial(plan, layout, party_layout(plan), 0, state);
    const auto provider = flows_of(plan, state, "provider");
    CHECK(provider[0] == Approx(-100));
    CHECK(provider[1] == Approx(400));
    CHECK(provider[2] == 0);
    CHECK(!metrics_of(layout, state).has("investors.irr"));
}

TEST_CASE("a group rule is assessed when its last participant's outcome is known (docs/model.md)") {
    // Enrolment over periods 0..3, observed after 1, paid at once. With 2 participants they
    // enrol in periods 0 and 1, so the rule is assessed (and pays) in period 2, not 4.
    const std::string yaml = R"(
sibsim: 1
name: timing
horizon: 8
cohorts: [{name: c, size: 2, enrol: [0, 3]}]
outcomes: [{name: done, kind: binary, rate: 1, observed_after: 1}]
payments: [{name: t, basis: target, outcome: done, per: cohort, at_least: 1, amount: 100}]
payers: [{name: p, share: 1}]
)";
    const Plan plan = compile(scenario_of(yaml));
    const MetricLayout layout = metric_layout(plan);
    TrialState state(plan);
    simulate_trial(plan, layout, party_layout(plan), 0, state);
    auto payer = flows_of(plan, state, "p");
    CHECK(payer[2] == Approx(-100));
    CHECK(payer[4] == 0);
    CHECK(metrics_of(layout, state)["rule.t.c.met"] == 1);
    // With 10 participants every enrolment period has some: assessed in period 3 + 1 = 4.
    const Plan full = compile(load_scenario(yaml, "test.yaml", {{"cohorts.c.size", "10"}}));
    TrialState full_state(full);
    simulate_trial(full, metric_layout(full), party_layout(full), 0, full_state);
    payer = flows_of(full, full_state, "p");
    CHECK(payer[2] == 0);
    CHECK(payer[4] == Approx(-100));
    // No participants: nothing to assess, nothing paid.
    const Plan empty = compile(load_scenario(yaml, "test.yaml", {{"cohorts.c.size", "0"}}));
    const MetricLayout empty_layout = metric_layout(empty);
    TrialState empty_state(empty);
    simulate_trial(empty, empty_layout, party_layout(empty), 0, empty_state);
    auto m = metrics_of(empty_layout, empty_state);
    CHECK(m["rule.t.c.met"] == 0);
    CHECK(m["payments.total"] == 0);
}

// ---- format gaps ----

namespace {

/// One versus_comparison rule on a historical comparison with schedule points at 10%, 20% and
/// 30% (paying 100, 200, 300), settled on 100 participants whose mean is `mean` against 10.
Metrics schedule_at(double mean, const std::string& interpolate) {
    const std::string yaml = R"(
sibsim: 1
name: steps
period: year
horizon: 3
cohorts: [{name: c, size: 100, enrol: [0, 0]}]
outcomes: [{name: o, kind: count, better: lower, baseline: 10, observed_after: 1}]
comparison: {kind: historical}
payments:
  - {name: s, basis: versus_comparison, outcome: o, schedule: [[0.1, 100], [0.2, 200], [0.3, 300]])" +
                             interpolate + R"(}
payers: [{name: p, share: 1}]
)";
    return settle(yaml, {observe("c", "o", 100, mean, 10)});
}

}  // namespace

TEST_CASE("a step schedule pays the highest point reached; a linear one interpolates") {
    // 7.5 against 10 is a 25% improvement: linear 250, step 200 (the 20% point).
    CHECK(schedule_at(7.5, "")["payments.s"] == 250);
    CHECK(schedule_at(7.5, ", interpolate: linear")["payments.s"] == 250);
    CHECK(schedule_at(7.5, ", interpolate: step")["payments.s"] == 200);
    // On a point exactly (8 against 10 is 20%): that point's payment either way.
    CHECK(schedule_at(8, ", interpolate: step")["payments.s"] == 200);
    CHECK(schedule_at(8, "")["payments.s"] == 200);
    // Just below a point (8.01: 19.9%) a step pays the point below it, 100.
    CHECK(schedule_at(8.01, ", interpolate: step")["payments.s"] == 100);
    // Below the first point nothing; above the last, the last payment.
    CHECK(schedule_at(9.5, ", interpolate: step")["payments.s"] == 0);
    CHECK(schedule_at(5, ", interpolate: step")["payments.s"] == 300);
}

namespace {

/// Period 1 pays 10 × 100 and period 2 pays 10 × 20, split half and half between A (with
/// `max_key`, e.g. ", max: 300") and B.
Metrics with_payer_max(const std::string& max_key) {
    const std::string yaml = R"(
sibsim: 1
name: maxima
period: year
horizon: 3
cohorts: [{name: c, size: 10, enrol: [0, 0]}]
outcomes:
  - {name: first, kind: binary, rate: 1, observed_after: 1}
  - {name: second, kind: binary, rate: 1, observed_after: 2}
payments:
  - {name: one, basis: rate_card, outcome: first, price: 100}
  - {name: two, basis: rate_card, outcome: second, price: 20}
payers:
  - {name: A, share: 0.5)" + max_key +
                             R"(}
  - {name: B, share: 0.5}
)";
    return one_trial(yaml);
}

}  // namespace

TEST_CASE("a payer's maximum cuts its part of each payment, and the payment with it") {
    // Period 1: 1000, half each; A may pay 300 in all, so the payment is 300 + 500 = 800.
    // Period 2: 200; A has nothing left, so only B's 100 is paid.
    auto m = with_payer_max(", max: 300");
    CHECK(m["payer.A.paid"] == 300);
    CHECK(m["payer.B.paid"] == 600);
    CHECK(m["payments.one"] == 800);
    CHECK(m["payments.two"] == 100);
    CHECK(m["payments.total"] == 900);
    // A maximum is whole minor units: 300.009 lets A pay 300.00, not a fraction of a cent more.
    m = with_payer_max(", max: 300.009");
    CHECK(m["payer.A.paid"] == 300);
    CHECK(m["payments.total"] == 900);
    // 0: A pays nothing at all. No maximum: everything is paid.
    CHECK(with_payer_max(", max: 0")["payments.total"] == 600);
    CHECK(with_payer_max("")["payments.total"] == 1200);
}

namespace {

/// Capital 400 drawn in period 0 to tranches a, b (rank 1) and c (rank 2) with shares 0.5, 0.25
/// and 0.25, no return; one payment of `paid` in period 1.
Metrics ranked_waterfall(int paid) {
    const std::string yaml = R"(
sibsim: 1
name: ranks
period: year
horizon: 2
cohorts: [{name: c, size: 10, enrol: [0, 0]}]
outcomes: [{name: o, kind: binary, rate: 1, observed_after: 1}]
payments: [{name: pay, basis: rate_card, outcome: o, price: )" +
                             std::to_string(paid / 10) + R"(}]
payers: [{name: p, share: 1}]
provider: {costs: {per_period: 400, from: 0, to: 0}}
investors:
  capital: 400
  tranches:
    - {name: a, share: 0.5, rank: 1}
    - {name: b, share: 0.25, rank: 1}
    - {name: c, share: 0.25, rank: 2}
)";
    return one_trial(yaml);
}

}  // namespace

TEST_CASE("tranches of one rank are paid pro rata to what each is owed") {
    // a is owed 200 and b 100: 150 is shared 2:1, c gets nothing.
    auto m = ranked_waterfall(150);
    CHECK(m["tranche.a.received"] == Approx(100));
    CHECK(m["tranche.b.received"] == Approx(50));
    CHECK(m["tranche.c.received"] == 0);
    // 500: rank 1 is owed 300 and paid in full, c (the last rank) takes the remaining 200.
    m = ranked_waterfall(500);
    CHECK(m["tranche.a.received"] == 200);
    CHECK(m["tranche.b.received"] == 100);
    CHECK(m["tranche.c.received"] == 200);
}

TEST_CASE("the last rank shares what is left over by shares of capital") {
    const std::string yaml = R"(
sibsim: 1
name: last-rank
period: year
horizon: 2
cohorts: [{name: c, size: 10, enrol: [0, 0]}]
outcomes: [{name: o, kind: binary, rate: 1, observed_after: 1}]
payments: [{name: pay, basis: rate_card, outcome: o, price: 100}]
payers: [{name: p, share: 1}]
provider: {costs: {per_period: 400, from: 0, to: 0}}
investors:
  capital: 400
  tranches:
    - {name: a, share: 0.75, rank: 1}
    - {name: b, share: 0.25, rank: 1}
)";
    // 1000 paid: a is owed 300 and b 100; the other 600 is shared 3:1.
    auto m = one_trial(yaml);
    CHECK(m["tranche.a.received"] == Approx(300 + 450));
    CHECK(m["tranche.b.received"] == Approx(100 + 150));
}

namespace {

/// Capital 1000; 600 drawn in period 0; `paid` paid in period 1 (the last); a guarantee of
/// `guarantee` (its keys).
Metrics guaranteed(int paid, const std::string& guarantee) {
    const std::string yaml = R"(
sibsim: 1
name: guarantee
period: year
horizon: 2
cohorts: [{name: c, size: 10, enrol: [0, 0]}]
outcomes: [{name: o, kind: binary, rate: 1, observed_after: 1}]
payments: [{name: pay, basis: rate_card, outcome: o, price: )" +
                             std::to_string(paid / 10) + R"(}]
payers: [{name: p, share: 1}]
provider: {costs: {per_period: 600, from: 0, to: 0}}
investors:
  capital: 1000
  guarantee: {)" + guarantee +
                             R"(}
)";
    return one_trial(yaml);
}

}  // namespace

TEST_CASE("a guarantee as a share of capital drawn") {
    // Nothing repaid: 75% of the 600 drawn is 450, so the investors lose 150.
    auto m = guaranteed(0, "share_of_drawn: 0.75");
    CHECK(m["investors.drawn"] == 600);
    CHECK(m["guarantee.paid"] == 450);
    CHECK(m["investors.loss"] == 150);
    // With an amount too, the lesser binds.
    CHECK(guaranteed(0, "amount: 400, share_of_drawn: 0.75")["guarantee.paid"] == 400);
    CHECK(guaranteed(0, "amount: 500, share_of_drawn: 0.75")["guarantee.paid"] == 450);
    // 400 repaid leaves 200 of principal: the guarantee pays only that.
    m = guaranteed(400, "share_of_drawn: 0.75");
    CHECK(m["guarantee.paid"] == 200);
    CHECK(m["investors.loss"] == 0);
}

namespace {

const std::string repaid_yaml = R"(
sibsim: 1
name: repaid
period: year
horizon: 4
cohorts: [{name: c, size: 10, enrol: [0, 0]}]
outcomes:
  - {name: first, kind: binary, rate: 1, observed_after: 1}
  - {name: second, kind: binary, rate: 1, observed_after: 2}
  - {name: third, kind: binary, rate: 1, observed_after: 3}
payments:
  - {name: one, basis: rate_card, outcome: first, price: 20, price_after_repaid: 5}
  - {name: two, basis: rate_card, outcome: second, price: 20, price_after_repaid: 5}
  - {name: three, basis: rate_card, outcome: third, price: 20, price_after_repaid: 5}
payers: [{name: p, share: 1}]
provider: {costs: {per_period: 100, from: 0, to: 0}}
investors: {capital: 100}
)";

}  // namespace

TEST_CASE("a rate card pays price_after_repaid after the period in which investors are repaid") {
    // 100 drawn in period 0. Period 1 pays 10 × 20 = 200, which repays the investors in that
    // period, so period 1 is at the full price; periods 2 and 3 pay 10 × 5 = 50 each.
    const Plan plan = compile(scenario_of(repaid_yaml));
    const MetricLayout layout = metric_layout(plan);
    TrialState state(plan);
    simulate_trial(plan, layout, party_layout(plan), 0, state);
    auto m = metrics_of(layout, state);
    CHECK(state.settlement.repaid_period == 1);
    CHECK(m["payments.one"] == 200);
    CHECK(m["payments.two"] == 50);
    CHECK(m["payments.three"] == 50);
    // With 250 drawn, period 1's 200 does not repay them; period 2's 200 does, so only
    // period 3 is at the lower price.
    const std::vector<Override> more = {{"provider.costs.per_period", "250"},
                                        {"investors.capital", "250"}};
    const Plan later = compile(load_scenario(repaid_yaml, "test.yaml", more));
    TrialState later_state(later);
    simulate_trial(later, metric_layout(later), party_layout(later), 0, later_state);
    m = metrics_of(metric_layout(later), later_state);
    CHECK(later_state.settlement.repaid_period == 2);
    CHECK(m["payments.one"] == 200);
    CHECK(m["payments.two"] == 200);
    CHECK(m["payments.three"] == 50);
    // Never repaid (nothing drawn): the first price throughout.
    const Plan none =
        compile(load_scenario(repaid_yaml, "test.yaml", {{"investors.capital", "0"}}));
    TrialState none_state(none);
    simulate_trial(none, metric_layout(none), party_layout(none), 0, none_state);
    CHECK(none_state.settlement.repaid_period == -1);
    CHECK(metrics_of(metric_layout(none), none_state)["payments.total"] == 600);
}

// ---- format gaps: periodic, cohort payers, measurement time ----

namespace {

/// One trial of `yaml` (probabilities 0 or 1, historical comparison: no randomness that
/// matters): its metrics and the named payer's flows, one per period (payments negative).
struct TrialResult {
    Metrics metrics;
    std::vector<double> payer;
};

TrialResult trial_of(const std::string& yaml, const std::string& payer,
                     const std::vector<Override>& overrides = {}) {
    const Plan plan = compile(load_scenario(yaml, "test.yaml", overrides));
    const MetricLayout layout = metric_layout(plan);
    TrialState state(plan);
    simulate_trial(plan, layout, party_layout(plan), 0, state);
    return {metrics_of(layout, state), flows_of(plan, state, payer)};
}

// 40 participants, 10 enrolled in each of periods 0..3, all achieve (rate 1) against a
// historical baseline of 0.5, measured 1 period after enrolment: every batch is 10 × 0.5 = 5
// units above the comparison, 50 at a price of 10.
const std::string periodic_yaml = R"(
sibsim: 1
name: periodic
horizon: 8
cohorts: [{name: c, size: 40, enrol: [0, 3]}]
outcomes: [{name: o, kind: binary, baseline: 0.5, rate: 1, observed_after: 1}]
comparison: {kind: historical}
payments:
  - {name: v, basis: versus_comparison, outcome: o, price: 10, assess: every_period}
payers: [{name: p, share: 1}]
)";

}  // namespace

TEST_CASE("assess: every_period pays the rise of the cumulative figure as batches are measured") {
    // Periods 1..4 measure 10, 20, 30, 40 participants: cumulative 50, 100, 150, 200, so 50 is
    // paid in each; the total is what the rule assessed once pays (200, in period 4).
    auto r = trial_of(periodic_yaml, "p");
    CHECK(r.payer[0] == 0);
    for (int t = 1; t <= 4; ++t) CHECK(r.payer[static_cast<std::size_t>(t)] == Approx(-50));
    CHECK(r.payer[5] == 0);
    CHECK(r.metrics["payments.v"] == 200);
    CHECK(r.metrics["rule.v.met"] == 1);
    auto once = trial_of(periodic_yaml, "p", {{"payments.v.assess", "once"}});
    CHECK(once.payer[1] == 0);
    CHECK(once.payer[4] == Approx(-200));
    CHECK(once.metrics["payments.v"] == 200);
    // payment_lag shifts every assessment's payment: periods 3..6.
    auto lagged = trial_of(periodic_yaml, "p", {{"payments.v.payment_lag", "2"}});
    CHECK(lagged.payer[2] == 0);
    CHECK(lagged.payer[3] == Approx(-50));
    CHECK(lagged.payer[6] == Approx(-50));
    // With 2 participants, only periods 0 and 1 enrol anyone: assessed in 1 and 2, then done.
    auto few = trial_of(periodic_yaml, "p", {{"cohorts.c.size", "2"}});
    CHECK(few.payer[1] == Approx(-5));
    CHECK(few.payer[2] == Approx(-5));
    CHECK(few.payer[3] == 0);
    CHECK(few.metrics["payments.v"] == 10);
}

TEST_CASE("assess: every_period under caps: a cut stays cut, the rule cap and the total cap bind") {
    // Cumulative claims 50, 100, 150, 200; caps.total 120: 50, 50, 20, then nothing.
    auto r = trial_of(periodic_yaml, "p", {{"caps", "{total: 120}"}});
    CHECK(r.payer[1] == Approx(-50));
    CHECK(r.payer[2] == Approx(-50));
    CHECK(r.payer[3] == Approx(-20));
    CHECK(r.payer[4] == 0);
    CHECK(r.metrics["payments.v"] == 120);
    // The rule's own cap of 70: 50, 20, 0, 0.
    r = trial_of(periodic_yaml, "p", {{"payments.v.cap", "70"}});
    CHECK(r.payer[2] == Approx(-20));
    CHECK(r.metrics["payments.v"] == 70);
    // A payer maximum of 60 with a second payer taking half: each claim of 50 is split 25/25;
    // q stops at 60 (25, 25, 10, 0), and p's parts are never raised to make up for it.
    const std::string two_payers = R"(
sibsim: 1
name: periodic
horizon: 8
cohorts: [{name: c, size: 40, enrol: [0, 3]}]
outcomes: [{name: o, kind: binary, baseline: 0.5, rate: 1, observed_after: 1}]
comparison: {kind: historical}
payments:
  - {name: v, basis: versus_comparison, outcome: o, price: 10, assess: every_period}
payers: [{name: p, share: 0.5}, {name: q, share: 0.5, max: 60}]
)";
    r = trial_of(two_payers, "p");
    CHECK(r.metrics["payer.p.paid"] == 100);
    CHECK(r.metrics["payer.q.paid"] == 60);
    CHECK(r.metrics["payments.v"] == 160);
}

TEST_CASE("assess: every_period never claws back, and met reports the last assessment") {
    // Cohort a (10, enrolled in period 0) all achieve; cohort b (10, period 1) none; baseline 0.5.
    // Period 1 measures a only: 10 × (1 − 0.5) = 5 units, 50 paid. Period 2 measures both: 10
    // successes of 20 against 10 expected: improvement 0, below the 10% threshold: not met, the
    // cumulative figure falls to 0 and the 50 already paid stands.
    const std::string yaml = R"(
sibsim: 1
name: falls
horizon: 6
cohorts:
  - {name: a, size: 10, enrol: [0, 0], outcomes: {o: {rate: 1}}}
  - {name: b, size: 10, enrol: [1, 1], outcomes: {o: {rate: 0}}}
outcomes: [{name: o, kind: binary, baseline: 0.5, rate: 1, observed_after: 1}]
comparison: {kind: historical}
payments:
  - {name: v, basis: versus_comparison, outcome: o, threshold: 0.1, price: 10, assess: every_period}
payers: [{name: p, share: 1}]
)";
    auto r = trial_of(yaml, "p");
    CHECK(r.payer[1] == Approx(-50));
    CHECK(r.payer[2] == 0);
    CHECK(r.metrics["payments.v"] == 50);
    CHECK(r.metrics["rule.v.met"] == 0);
    // Assessed once (period 2): not met, nothing paid.
    auto once = trial_of(yaml, "p", {{"payments.v.assess", "once"}});
    CHECK(once.metrics["payments.v"] == 0);
    CHECK(once.metrics["rule.v.met"] == 0);
}

TEST_CASE("assess: every_period on a target, per cohort, and net of another rule") {
    // 30 participants over periods 0..2, all succeed, measured at once: 10, 20, 30 successes.
    // at_least 15 with 100 per success: not met in period 0, then 2000, then 3000 (1000 more).
    const std::string yaml = R"(
sibsim: 1
name: target-periodic
horizon: 6
cohorts:
  - {name: c, size: 30, enrol: [0, 2]}
  - {name: d, size: 10, enrol: [0, 0]}
outcomes: [{name: o, kind: binary, rate: 1}]
payments:
  - {name: first, basis: target, outcome: o, per: cohort, at_least: 5, amount: 150}
  - {name: t, basis: target, outcome: o, per: cohort, at_least: 15, price: 100, assess: every_period}
payers: [{name: p, share: 1}]
)";
    auto r = trial_of(yaml, "p");
    // first pays 150 for d in period 0 and 150 for c in period 2 (its last batch).
    CHECK(r.payer[0] == Approx(-150));  // d: first 150; t: d has 10 < 15, c has 10 < 15
    CHECK(r.payer[1] == Approx(-2000));
    CHECK(r.payer[2] == Approx(-1150));
    CHECK(r.metrics["rule.t.c.met"] == 1);
    CHECK(r.metrics["rule.t.d.met"] == 0);
    CHECK(r.metrics["payments.t"] == 3000);
    // Net of `first` (per cohort both): c's cumulative 2000 in period 1 has nothing to net;
    // in period 2, 3000 less first's 150 for c is 2850, a rise of 850 over the 2000 claimed.
    r = trial_of(yaml, "p", {{"payments.t.net_of", "first"}});
    CHECK(r.payer[1] == Approx(-2000));
    CHECK(r.payer[2] == Approx(-1000));
    CHECK(r.metrics["payments.t"] == 2850);
}

TEST_CASE("assess: every_period settles observed results like a trial") {
    // 40 participants observed with mean 1 against 0.5: spread over the 4 batches, 10 each.
    auto m = settle(periodic_yaml, {observe("c", "o", 40, 1, 0.5)});
    CHECK(m["payments.v"] == 200);
    CHECK(m["rule.v.met"] == 1);
}

TEST_CASE("a rule's own observed_after measures the same outcome later") {
    // One outcome measured 1 period after enrolment for one rule, 3 for the other: both pay
    // on the same realised successes (10 of 10, 100 each), in periods 1 and 3.
    const std::string yaml = R"(
sibsim: 1
name: second-time
horizon: 6
cohorts: [{name: c, size: 10, enrol: [0, 0]}]
outcomes: [{name: o, kind: binary, rate: 1, observed_after: 1}]
payments:
  - {name: early, basis: target, outcome: o, at_least: 10, price: 10}
  - {name: late, basis: target, outcome: o, at_least: 10, price: 10, observed_after: 3}
payers: [{name: p, share: 1}]
)";
    auto r = trial_of(yaml, "p");
    CHECK(r.payer[1] == Approx(-100));
    CHECK(r.payer[2] == 0);
    CHECK(r.payer[3] == Approx(-100));
    CHECK(r.metrics["rule.late.met"] == 1);
    // The measurement time moves every assessment of a rule assessed every period too.
    r = trial_of(yaml, "p", {{"payments.late.assess", "every_period"}});
    CHECK(r.payer[3] == Approx(-100));
    // Past the horizon: the loader's timing check uses the rule's measurement time.
    CHECK_THROWS_WITH(
        load_scenario(yaml, "test.yaml", {{"payments.late.observed_after", "6"}}),
        doctest::Contains("pays in period 6 for all cohorts, at or after the horizon (6)"));
}

TEST_CASE("cohorts' own payers split the payments that arise from them") {
    // Cohort a (10, paid by Q) and cohort b (30, the payers' shares: P) all achieve, 10 each,
    // in period 1: the slot's 400 is 100 from a (Q) and 300 from b (P).
    const std::string yaml = R"(
sibsim: 1
name: cohort-payers
horizon: 4
cohorts:
  - {name: a, size: 10, enrol: [0, 0], payers: {Q: 1}}
  - {name: b, size: 30, enrol: [0, 0]}
outcomes: [{name: o, kind: binary, rate: 1, observed_after: 1}]
payments:
  - {name: card, basis: rate_card, outcome: o, price: 10}
  - {name: t, basis: target, outcome: o, per: cohort, at_least: 1, amount: 50}
payers: [{name: P, share: 1}, {name: Q, share: 0}]
)";
    auto r = trial_of(yaml, "Q");
    CHECK(r.payer[1] == Approx(-150));  // a's 100 of the rate card and a's 50 of the target
    CHECK(r.metrics["payer.Q.paid"] == 150);
    CHECK(r.metrics["payer.P.paid"] == 350);
    CHECK(r.metrics["payments.total"] == 500);
    // A rule's own payers win over the cohort's: the rate card's 400 is split 200 / 200.
    r = trial_of(yaml, "Q", {{"payments.card.payers", "{P: 0.5, Q: 0.5}"}});
    CHECK(r.metrics["payer.Q.paid"] == 250);
    CHECK(r.metrics["payer.P.paid"] == 250);
    // Parts in whole minor units: 1 achiever in a and 2 in b at 0.05 pay 0.15: a's 5 cents to
    // Q, b's 10 to P.
    r = trial_of(yaml, "Q",
                 {{"cohorts.a.size", "1"},
                  {"cohorts.b.size", "2"},
                  {"payments.card.price", "0.05"},
                  {"payments.t.amount", "0"}});
    CHECK(r.metrics["payer.Q.paid"] == Approx(0.05));
    CHECK(r.metrics["payer.P.paid"] == Approx(0.10));
    // Settled on observed results the same way.
    auto m = settle(yaml, {observe("a", "o", 10, 1), observe("b", "o", 30, 1)});
    CHECK(m["payer.Q.paid"] == 150);
    CHECK(m["payer.P.paid"] == 350);
}

// ---- format gaps: Newpin investor terms ----

namespace {

/// 1000 drawn in period 0; a 5% minimum yield in periods 1..3 paid by p; a rate card of 10
/// certain achievements at `price`, observed `after` periods after enrolment.
Metrics minimum_yield(double price, int after, const std::string& extra = "",
                      const std::string& tranche = "") {
    const std::string yaml = R"(
sibsim: 1
name: minimum yield
period: year
horizon: 5
cohorts: [{name: c, size: 10, enrol: [0, 0]}]
outcomes: [{name: done, kind: binary, rate: 1, observed_after: )" +
                             std::to_string(after) + R"(}]
payments: [{name: card, basis: rate_card, outcome: done, price: )" +
                             std::to_string(price) + R"(}]
payers: [{name: p, share: 1}]
provider: {costs: {per_period: 1000, from: 0, to: 0}}
investors:
  capital: 1000
)" + tranche + R"(
  minimum_yield: {rate: 0.05, periods: 3, paid_by: p)" +
                             extra + R"(}
)";
    return one_trial(yaml);
}

}  // namespace

TEST_CASE("a minimum yield tops up what was distributed to the coupon on principal outstanding") {
    // No outcome payment: 5% of 1000 in each of periods 1, 2 and 3, all from the payer.
    auto m = minimum_yield(0, 2);
    CHECK(m["minimum_yield.paid"] == 150);
    CHECK(m["payer.p.paid"] == 150);
    CHECK(m["payments.total"] == 0);
    CHECK(m["investors.received"] == 150);
    CHECK(m["investors.loss"] == 850);
    // 30 paid in period 2 is distributed (no costs to come) and repays 30 of principal: period
    // 2's coupon of 50 is topped up by 20; period 3's is 5% of 970 = 48.50.
    m = minimum_yield(3, 2);
    CHECK(m["payments.card"] == 30);
    CHECK(m["minimum_yield.paid"] == 118.5);
    CHECK(m["payer.p.paid"] == 148.5);
    CHECK(m["investors.received"] == 148.5);
    // A distribution above the coupon leaves nothing to top up in its period.
    m = minimum_yield(6, 2);
    CHECK(m["minimum_yield.paid"] == doctest::Approx(50 + 0 + 0.05 * 940).epsilon(1e-12));
}

TEST_CASE("a minimum yield as an advance is recovered from the named rule's later payments") {
    // 1000 due in period 4 less the 150 of top-ups: the rule pays 850, the payer 1000 in all,
    // and the investors get their 1000 back: 150 early, 850 at the end.
    auto m = minimum_yield(100, 4, ", advance_on: card");
    CHECK(m["minimum_yield.paid"] == 150);
    CHECK(m["payments.card"] == 850);
    CHECK(m["payments.total"] == 850);
    CHECK(m["payer.p.paid"] == 1000);
    CHECK(m["investors.received"] == 1000);
    CHECK(m["investors.loss"] == 0);
    // Additional (no advance_on): 1000 plus 150.
    m = minimum_yield(100, 4);
    CHECK(m["payments.card"] == 1000);
    CHECK(m["payer.p.paid"] == 1150);
    CHECK(m["investors.received"] == 1150);
    // A shortfall cannot be recovered beyond what the rule owes: 100 due, 100 recovered.
    m = minimum_yield(10, 4, ", advance_on: card");
    CHECK(m["payments.card"] == 0);
    CHECK(m["payer.p.paid"] == 150);
}

TEST_CASE("a minimum yield pays accrued return first and never repays principal") {
    // A 5% tranche accrues 50 a period; the coupon pays it, so its balance stays 1000 and the
    // 1000 paid in period 4 (after accruing 50 more) leaves 50 of return unpaid, not principal.
    auto m = minimum_yield(100, 4, "", "  tranches: [{name: senior, share: 1, rate: 0.05}]");
    CHECK(m["minimum_yield.paid"] == 150);
    CHECK(m["tranche.senior.received"] == 1150);
    CHECK(m["investors.loss"] == 0);
    // Flows -1000, 50, 50, 50, 1000: below 5% (the last period's return is unpaid), above 3.5%.
    CHECK(m["investors.irr"] < 0.05);
    CHECK(m["investors.irr"] > 0.035);
}

// ---- format gaps: Newpin, Rikers, Chicago, Essex ----

namespace {

/// Early redemption: 1000 drawn in period 0; 10 participants, 5 enrolled in each of periods 0
/// and 1, whose binary outcome (probability `rate`) is measured 1 period later. `check` is a
/// target of half the participants measured, paying nothing, assessed every period (periods 1
/// and 2); `final` is always met (at_least 0) and pays 500 in period 2. At the end of period 1,
/// if `check` is not met, p pays 75% of the principal outstanding and the contract ends.
/// `extra` is added to the payments list; `tranches` to investors.
Metrics redemption(int rate, const std::string& extra = "", const std::string& tranches = "",
                   const std::string& share = "0.75", const std::string& costs_to = "0",
                   const std::string& capital = "1000") {
    const std::string yaml = R"(
sibsim: 1
name: early redemption
period: year
horizon: 4
cohorts: [{name: c, size: 10, enrol: [0, 1]}]
outcomes:
  - {name: done, kind: binary, rate: )" +
                             std::to_string(rate) + R"(, observed_after: 1}
  - {name: other, kind: binary, rate: 1, observed_after: 1}
payments:
  - {name: check, basis: target, outcome: done, share_at_least: 0.5, amount: 0,
     assess: every_period}
  - {name: final, basis: target, outcome: done, at_least: 0, amount: 500}
)" + extra + R"(
payers: [{name: p, share: 1}]
provider: {costs: {per_period: 1000, from: 0, to: )" +
                             costs_to + R"(}}
investors:
  capital: )" + capital + R"(
)" + tranches + R"(
  redemption: {period: 1, share_of_principal: )" +
                             share + R"(, paid_by: p, if_not_met: check}
)";
    return one_trial(yaml);
}

}  // namespace

TEST_CASE("early redemption: a condition not met by the redemption period ends the contract") {
    // Nobody achieves: `check` is not met in period 1, so p pays 75% of the 1000 outstanding,
    // and `final`, met in period 2, pays nothing: the contract is over.
    auto m = redemption(0);
    CHECK(m["redemption.redeemed"] == 1);
    CHECK(m["redemption.paid"] == 750);
    CHECK(m["rule.check.met"] == 0);
    CHECK(m["rule.final.met"] == 1);
    CHECK(m["payments.final"] == 0);
    CHECK(m["payments.total"] == 0);
    CHECK(m["payer.p.paid"] == 750);
    CHECK(m["investors.received"] == 750);
    CHECK(m["investors.loss"] == 250);
    // Everyone achieves: `check` is met (5 of 5 measured), no redemption, `final` pays 500.
    m = redemption(1);
    CHECK(m["redemption.redeemed"] == 0);
    CHECK(m["redemption.paid"] == 0);
    CHECK(m["payments.final"] == 500);
    CHECK(m["payer.p.paid"] == 500);
    CHECK(m["investors.received"] == 500);
}

TEST_CASE("early redemption pays a share of the principal still outstanding, pro rata") {
    // A rate card pays 100 in period 1 (5 achievers at 20), distributed first and repaying 100
    // of principal: the redemption is 75% of the 900 left, 675. Period 2's 100 is not paid.
    const std::string card = "  - {name: card, basis: rate_card, outcome: other, price: 20}\n";
    auto m = redemption(0, card);
    CHECK(m["payments.card"] == 100);
    CHECK(m["redemption.paid"] == 675);
    CHECK(m["investors.received"] == 775);
    CHECK(m["payer.p.paid"] == 775);
    // Two tranches share it by their principal: 60% and 40% of 750.
    m = redemption(0, "", "  tranches: [{name: a, share: 0.6}, {name: b, share: 0.4}]");
    CHECK(m["tranche.a.received"] == Approx(450));
    CHECK(m["tranche.b.received"] == Approx(300));
    // Whole minor units: a third of 1000 is 333.333..., paid as 333.33.
    m = redemption(0, "", "", "0.3333333333333333");
    CHECK(m["redemption.paid"] == 333.33);
    CHECK(m["investors.loss"] == Approx(666.67));
}

TEST_CASE("after an early redemption the vehicle is closed and later costs are the provider's") {
    // Costs of 1000 in each of periods 0-2, capital 3000: 2000 is drawn by period 1, the
    // redemption then pays 75% of it (1500), and period 2's 1000 is not drawn but unfunded.
    auto m = redemption(0, "", "", "0.75", "2", "3000");
    CHECK(m["investors.drawn"] == 2000);
    CHECK(m["redemption.paid"] == 1500);
    CHECK(m["investors.received"] == 1500);
    CHECK(m["provider.unfunded"] == 1000);
    // Without the redemption nothing is unfunded: period 2's cost is paid from `final`'s 500
    // and 500 drawn.
    m = redemption(1, "", "", "0.75", "2", "3000");
    CHECK(m["investors.drawn"] == 2500);
    CHECK(m["provider.unfunded"] == 0);
}

// ---- format gaps: yearly returns, rule comparison, Chicago, Essex ----

TEST_CASE("assess: each_period pays every assessment in full, on the participants measured") {
    // periodic_yaml: periods 1..4 measure 10, 20, 30, 40 participants, 5 units above the
    // comparison each: owed 50, 100, 150, 200. each_period pays them all: 500 in total, where
    // every_period pays the rises (50 each, 200 in total).
    auto r = trial_of(periodic_yaml, "p", {{"payments.v.assess", "each_period"}});
    CHECK(r.payer[0] == 0);
    CHECK(r.payer[1] == Approx(-50));
    CHECK(r.payer[2] == Approx(-100));
    CHECK(r.payer[3] == Approx(-150));
    CHECK(r.payer[4] == Approx(-200));
    CHECK(r.payer[5] == 0);
    CHECK(r.metrics["payments.v"] == 500);
    CHECK(r.metrics["rule.v.met"] == 1);
    // A fixed amount per assessment: a coupon of 7 in each of periods 1..4, 28 in all.
    std::string coupon = periodic_yaml;
    coupon.replace(coupon.find("price: 10"), 9, "amount: 7");
    r = trial_of(coupon, "p", {{"payments.v.assess", "each_period"}});
    for (int t = 1; t <= 4; ++t) CHECK(r.payer[static_cast<std::size_t>(t)] == Approx(-7));
    CHECK(r.metrics["payments.v"] == 28);
    // Caps apply to the running total: caps.total 120 pays 50, 70, then nothing.
    r = trial_of(periodic_yaml, "p",
                 {{"payments.v.assess", "each_period"}, {"caps", "{total: 120}"}});
    CHECK(r.payer[1] == Approx(-50));
    CHECK(r.payer[2] == Approx(-70));
    CHECK(r.payer[3] == 0);
    CHECK(r.metrics["payments.v"] == 120);
}

TEST_CASE("assess: each_period pays nothing in a period whose assessment is not met") {
    // Cohort a (10, period 0) all achieve, b (10, period 1) none, baseline 0.5, threshold 10%,
    // amount 30 per assessment: met in period 1 (100%), not met in period 2 (0%): 30 only.
    const std::string yaml = R"(
sibsim: 1
name: coupons
horizon: 6
cohorts:
  - {name: a, size: 10, enrol: [0, 0], outcomes: {o: {rate: 1}}}
  - {name: b, size: 10, enrol: [1, 1], outcomes: {o: {rate: 0}}}
outcomes: [{name: o, kind: binary, baseline: 0.5, rate: 1, observed_after: 1}]
comparison: {kind: historical}
payments:
  - {name: v, basis: versus_comparison, outcome: o, threshold: 0.1, amount: 30, assess: each_period}
payers: [{name: p, share: 1}]
)";
    auto r = trial_of(yaml, "p");
    CHECK(r.payer[1] == Approx(-30));
    CHECK(r.payer[2] == 0);
    CHECK(r.metrics["payments.v"] == 30);
    CHECK(r.metrics["rule.v.met"] == 0);
    // Observed results settle the same way: 20 participants with mean 0.5 against 0.5, spread
    // 10 and 10 over periods 0 and 1 of one cohort, meet nothing; mean 1 meets both (60).
    const std::string one = R"(
sibsim: 1
name: coupons
horizon: 6
cohorts: [{name: c, size: 20, enrol: [0, 1]}]
outcomes: [{name: o, kind: binary, baseline: 0.5, rate: 1, observed_after: 1}]
comparison: {kind: historical}
payments:
  - {name: v, basis: versus_comparison, outcome: o, threshold: 0.1, amount: 30, assess: each_period}
payers: [{name: p, share: 1}]
)";
    CHECK(settle(one, {observe("c", "o", 20, 1, 0.5)})["payments.v"] == 60);
    CHECK(settle(one, {observe("c", "o", 20, 0.5, 0.5)})["payments.v"] == 0);
}

// ---- format gaps: observed_over (Chicago), historical_until and coupons (Newpin) ----

namespace {

// 10 participants enrolled in period 0 with no events (rate 0) against a historical baseline of
// 3 a head: 30 units avoided. The count is known a quarter at a time in periods 1..4.
const std::string spread_yaml = R"(
sibsim: 1
name: spread
horizon: 7
cohorts: [{name: c, size: 10, enrol: [0, 0]}]
outcomes:
  - {name: days, kind: count, better: lower, baseline: 3, rate: 0, observed_after: 1,
     observed_over: 4}
comparison: {kind: historical}
payments:
  - {name: v, basis: versus_comparison, outcome: days, per: cohort, price: 10,
     assess: every_period}
payers: [{name: p, share: 1}]
)";

}  // namespace

TEST_CASE("observed_over: a count known a part each period is paid a part each period") {
    // 30 units avoided at 10 is 300; a quarter is known in each of periods 1..4, so
    // every_period pays the rise of 75, 150, 225, 300: 75 a period.
    auto r = trial_of(spread_yaml, "p");
    CHECK(r.payer[0] == 0);
    for (int t = 1; t <= 4; ++t) CHECK(r.payer[static_cast<std::size_t>(t)] == Approx(-75));
    CHECK(r.payer[5] == 0);
    CHECK(r.metrics["payments.v"] == 300);
    CHECK(r.metrics["rule.v.c.met"] == 1);
    // Assessed once, the rule pays all 300 when the last part is known (period 4).
    auto once = trial_of(spread_yaml, "p", {{"payments.v.assess", "once"}});
    CHECK(once.payer[1] == 0);
    CHECK(once.payer[3] == 0);
    CHECK(once.payer[4] == Approx(-300));
    CHECK(once.metrics["payments.v"] == 300);
    // each_period pays each cumulative figure in full: 75 + 150 + 225 + 300 = 750.
    auto each = trial_of(spread_yaml, "p", {{"payments.v.assess", "each_period"}});
    CHECK(each.payer[2] == Approx(-150));
    CHECK(each.metrics["payments.v"] == 750);
    // observed_over: 1 is the outcome known at once: 300 in period 1.
    auto one = trial_of(spread_yaml, "p", {{"outcomes.days.observed_over", "1"}});
    CHECK(one.payer[1] == Approx(-300));
    CHECK(one.payer[2] == 0);
}

TEST_CASE("observed_over: batches enrolled later are measured later, and settle agrees") {
    // Cohort of 20 over periods 0 and 1 (10 each), count known over 2 periods from 1 after
    // enrolment: batch 0 in periods 1, 2 and batch 1 in periods 2, 3. Observed: 1 event a head
    // against a comparison mean of 3, 40 units avoided at 10 = 400 in all. Period 1 knows half
    // of batch 0 (5 events against 15: 100), period 2 all of batch 0 and half of batch 1 (15
    // against 45: 300), period 3 everything (400). every_period pays 100, 200, 100.
    const std::string yaml = R"(
sibsim: 1
name: spread
horizon: 6
cohorts: [{name: c, size: 20, enrol: [0, 1]}]
outcomes:
  - {name: days, kind: count, better: lower, baseline: 3, rate: 1, observed_after: 1,
     observed_over: 2}
comparison: {kind: matched, ratio: 1}
payments:
  - {name: v, basis: versus_comparison, outcome: days, price: 10, assess: every_period}
payers: [{name: p, share: 1}]
)";
    const Plan plan = compile(scenario_of(yaml));
    const MetricLayout layout = metric_layout(plan);
    TrialState state(plan);
    std::vector<std::string> notes;
    settle_observed(plan, Observed{"observed.yaml", {observe("c", "days", 20, 1, 3)}}, {}, layout,
                    party_layout(plan), state, notes);
    const auto flows = flows_of(plan, state, "p");
    CHECK(flows[1] == Approx(-100));
    CHECK(flows[2] == Approx(-200));
    CHECK(flows[3] == Approx(-100));
    CHECK(flows[4] == 0);
    CHECK(metrics_of(layout, state)["payments.v"] == 400);
    // A threshold is decided on the parts known, which have the whole's improvement: 2/3 here.
    CHECK(settle(yaml, {observe("c", "days", 20, 1, 3)}, {})["outcome.days.improvement"] ==
          Approx(2.0 / 3));
}

TEST_CASE("comparison.historical_until: the baseline up to that period, the matched group after") {
    // 20 participants, 10 enrolled in each of periods 0 and 1, measured 1 period later; 16
    // achieve (8 a batch). Baseline 0.5; the matched group's observed mean is 0.4.
    const std::string yaml = R"(
sibsim: 1
name: switch
horizon: 5
cohorts: [{name: c, size: 20, enrol: [0, 1]}]
outcomes: [{name: o, kind: binary, baseline: 0.5, rate: 0.8, observed_after: 1}]
comparison: {kind: matched, ratio: 1, historical_until: 1}
payments:
  - {name: v, basis: versus_comparison, outcome: o, price: 100, assess: each_period}
payers: [{name: p, share: 1}]
)";
    // Period 1 (up to historical_until): 8 against 10 × 0.5 = 5, 3 units: 300. Period 2: 16
    // against 20 × 0.4 = 8, 8 units: 800. 1,100 in all.
    auto m = settle(yaml, {observe("c", "o", 20, 0.8, 0.4)});
    CHECK(m["payments.v"] == 1100);
    // Without the key both assessments use the matched group: 8 - 4 = 4 (400), then 800.
    std::string matched = yaml;
    matched.replace(matched.find(", historical_until: 1"), 21, "");
    CHECK(settle(matched, {observe("c", "o", 20, 0.8, 0.4)})["payments.v"] == 1200);
    // every_period pays the rise: 300, then 800 - 300 = 500.
    std::string rise = yaml;
    rise.replace(rise.find("each_period"), 11, "every_period");
    CHECK(settle(rise, {observe("c", "o", 20, 0.8, 0.4)})["payments.v"] == 800);
    // A threshold is decided on the comparison in use: 8 of 10 against 0.5 is an improvement of
    // 60% (period 1), 16 of 20 against 0.4 one of 100% (period 2). Threshold 0.6 is met in both
    // (50 each); 0.7 only in period 2.
    std::string bands = yaml;
    bands.replace(bands.find("price: 100"), 10, "threshold: 0.6, amount: 50");
    CHECK(settle(bands, {observe("c", "o", 20, 0.8, 0.4)})["payments.v"] == 100);
    bands.replace(bands.find("threshold: 0.6"), 14, "threshold: 0.7");
    CHECK(settle(bands, {observe("c", "o", 20, 0.8, 0.4)})["payments.v"] == 50);
}

TEST_CASE("comparison.historical_until in simulation: the drawn baseline, without noise") {
    // Everyone achieves; baseline 0.5. Period 1 is compared with the baseline: 10 - 5 = 5 units,
    // exactly 50. Period 2 (the matched group, drawn) pays what it pays without the key.
    const std::string yaml = R"(
sibsim: 1
name: switch
horizon: 5
cohorts: [{name: c, size: 20, enrol: [0, 1]}]
outcomes: [{name: o, kind: binary, baseline: 0.5, rate: 1, observed_after: 1}]
comparison: {kind: matched, ratio: 1, historical_until: 1}
payments:
  - {name: v, basis: versus_comparison, outcome: o, price: 10, assess: each_period}
payers: [{name: p, share: 1}]
)";
    std::string matched = yaml;
    matched.replace(matched.find(", historical_until: 1"), 21, "");
    for (int trial = 0; trial < 5; ++trial) {
        const Plan a = compile(scenario_of(yaml)), b = compile(scenario_of(matched));
        TrialState sa(a), sb(b);
        simulate_trial(a, metric_layout(a), party_layout(a), static_cast<std::uint64_t>(trial), sa);
        simulate_trial(b, metric_layout(b), party_layout(b), static_cast<std::uint64_t>(trial), sb);
        const auto fa = flows_of(a, sa, "p"), fb = flows_of(b, sb, "p");
        CAPTURE(trial);
        CHECK(fa[1] == Approx(-50));
        CHECK(fa[2] == Approx(fb[2]));
    }
}

namespace {

/// Coupons: 1000 drawn in period 0 (one tranche, rate 0); one participant enrolled in each of
/// periods 0..3 achieves, measured 1 period later, and a rate card pays `price` per
/// achievement in periods 1..4; a guarantee of 1000 in the last period (5). `coupon` sets the
/// rule's key; `extra` is added to investors.
Metrics coupons(const std::string& price, const std::string& coupon,
                const std::string& extra = "") {
    return one_trial(R"(
sibsim: 1
name: coupons
period: year
horizon: 6
cohorts: [{name: c, size: 4, enrol: [0, 3]}]
outcomes: [{name: o, kind: binary, rate: 1, observed_after: 1}]
payments:
  - {name: card, basis: rate_card, outcome: o, price: )" +
                     price + ", coupon: " + coupon + R"(}
payers: [{name: p, share: 1}]
provider: {costs: {per_period: 1000, from: 0, to: 0}}
investors:
  capital: 1000
  guarantee: {amount: 1000}
)" + extra);
}

}  // namespace

TEST_CASE("coupon: a rule's payments are return to the investors, never principal") {
    // Four coupons of 50 leave the 1000 of principal whole: the guarantee pays 1000 at the end
    // and the investors receive 1200.
    auto m = coupons("50", "true");
    CHECK(m["payments.card"] == 200);
    CHECK(m["investors.received"] == 1200);
    CHECK(m["guarantee.paid"] == 1000);
    CHECK(m["investors.loss"] == 0);
    // As ordinary payments the 200 repays principal, and the guarantee covers the 800 left.
    m = coupons("50", "false");
    CHECK(m["payments.card"] == 200);
    CHECK(m["investors.received"] == 1000);
    CHECK(m["guarantee.paid"] == 800);
}

TEST_CASE("coupon: a minimum yield tops up the coupons to the yield on the whole principal") {
    // 5% of 1000 is 50 owed in periods 1..3; coupons of 30 are topped up by 20 each (60).
    const std::string yield = "  minimum_yield: {rate: 0.05, periods: 3, paid_by: p}\n";
    auto m = coupons("30", "true", yield);
    CHECK(m["minimum_yield.paid"] == 60);
    CHECK(m["investors.received"] == 30 * 4 + 60 + 1000);
    // As ordinary payments, each 30 repays principal: 20, then 5% of 970 less 30 = 18.5, then
    // 5% of 940 less 30 = 17.
    m = coupons("30", "false", yield);
    CHECK(m["minimum_yield.paid"] == Approx(55.5));
}

TEST_CASE("a per-cohort group rule on an outcome with observed_by is paid once, not per batch") {
    // Every batch of the cohort is known in period 4, so the plan holds one slot for the cohort
    // in period 4: the target pays its 100 once (three enrolment periods used to make three
    // slots, each paying 100).
    auto r = trial_of(R"(
sibsim: 1
name: by
period: year
horizon: 8
cohorts: [{name: c, size: 10, enrol: [0, 2]}]
outcomes: [{name: o, kind: binary, rate: 1, observed_by: 4}]
payments:
  - {name: t, basis: target, outcome: o, per: cohort, at_least: 1, amount: 100}
payers: [{name: p, share: 1}]
)",
                      "p");
    CHECK(r.metrics["payments.t"] == 100);
    CHECK(r.payer[4] == Approx(-100));
}
