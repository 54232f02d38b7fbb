// Loader happy paths (every key of docs/scenario-format.md lands in the Scenario), `--set`
// overrides and errors reported together. The invalid corpus (test_invalid_corpus.cpp) pins each
// message.
#include <doctest/doctest.h>

#include <string>
#include <variant>

#include "sib/load.hpp"

namespace {

const char* const full_file = "tests/data/valid/full.yaml";

/// The message of the InputError thrown by `f`, or "" when none is thrown.
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const sib::InputError& e) {
        return e.what();
    }
    return "";
}

const sib::Outcome& outcome(const sib::Scenario& s, const std::string& name) {
    for (const auto& o : s.outcomes)
        if (o.name == name) return o;
    FAIL("no outcome " << name);
    throw;
}

const sib::Rule& rule(const sib::Scenario& s, const std::string& name) {
    for (const auto& r : s.rules)
        if (r.name == name) return r;
    FAIL("no rule " << name);
    throw;
}

double fixed(const sib::Uncertain& u) {
    REQUIRE(std::holds_alternative<sib::Fixed>(u.dist));
    return std::get<sib::Fixed>(u.dist).value;
}

const std::string minimal = R"(sibsim: 1
name: minimal
horizon: 8
cohorts:
  - name: c
    size: 10
    enrol: [0, 0]
outcomes:
  - name: job
    kind: binary
    rate: 0.5
payments:
  - name: pay
    basis: rate_card
    outcome: job
    price: 1
payers:
  - name: p
    share: 1
)";

}  // namespace

TEST_CASE("header keys and their defaults") {
    sib::Scenario s = sib::load_scenario(minimal, "minimal.yaml");
    CHECK(s.file == "minimal.yaml");
    CHECK(s.name == "minimal");
    CHECK(s.description.empty());
    CHECK(s.currency == "GBP");
    CHECK(s.period == sib::PeriodUnit::quarter);
    CHECK(s.horizon == 8);
    CHECK_FALSE(s.start.has_value());
    CHECK(s.discount_rate == 0);
    CHECK(s.trials == 10000);
    CHECK(s.seed == 1);
    CHECK_FALSE(s.comparison.has_value());
    CHECK_FALSE(s.provider.has_value());
    CHECK_FALSE(s.investors.has_value());
    CHECK_FALSE(s.caps.total.has_value());
    REQUIRE(s.outcomes.size() == 1);
    const sib::Outcome& o = s.outcomes[0];
    CHECK(o.better == sib::Better::higher);
    CHECK(o.dispersion == 1);
    CHECK(o.observed_after == 0);
    CHECK_FALSE(o.baseline.has_value());
    CHECK(fixed(*o.rate) == 0.5);
    CHECK(o.rate->path == "outcomes.job.rate");
    REQUIRE(s.rules.size() == 1);
    CHECK(s.rules[0].payment_lag == 0);
    CHECK(s.rules[0].per == sib::Scope::all);
    CHECK(s.rules[0].threshold == 0);
    CHECK(s.rules[0].payers.empty());
}

TEST_CASE("the full example: every key of docs/scenario-format.md") {
    sib::Scenario s = sib::load_scenario_file(full_file);
    CHECK(s.name == "Full example");
    CHECK(s.description == "Every key of the format");
    CHECK(s.currency == "EUR");
    CHECK(s.period == sib::PeriodUnit::month);
    CHECK(s.horizon == 60);
    REQUIRE(s.start.has_value());
    CHECK(s.start->year == 2010);
    CHECK(s.start->month == 9);
    CHECK(s.discount_rate == doctest::Approx(0.035));
    CHECK(s.trials == 2000);
    CHECK(s.seed == 42);

    SUBCASE("cohorts, with per-cohort overrides") {
        REQUIRE(s.cohorts.size() == 2);
        const sib::Cohort& c1 = s.cohorts[0];
        CHECK(c1.name == "cohort-1");
        CHECK(fixed(c1.size) == 1000);
        CHECK(c1.size.path == "cohorts.cohort-1.size");
        CHECK(c1.enrol_first == 0);
        CHECK(c1.enrol_last == 11);
        CHECK(c1.loc.line == 11);
        REQUIRE(c1.overrides.size() == 2);
        CHECK(c1.overrides[0].outcome == "reconviction");
        REQUIRE(c1.overrides[0].effect.has_value());
        CHECK(fixed(*c1.overrides[0].effect) == doctest::Approx(-0.12));
        CHECK(c1.overrides[0].effect->path == "cohorts.cohort-1.outcomes.reconviction.effect");
        CHECK_FALSE(c1.overrides[0].baseline.has_value());
        CHECK(c1.overrides[1].outcome == "job-entry");
        CHECK(fixed(*c1.overrides[1].rate) == 0.5);
        const sib::Cohort& c2 = s.cohorts[1];
        REQUIRE(std::holds_alternative<sib::Uniform>(c2.size.dist));
        CHECK(std::get<sib::Uniform>(c2.size.dist).min == 800);
        CHECK(std::get<sib::Uniform>(c2.size.dist).max == 1200);
        CHECK(c2.enrol_first == 12);
        CHECK(c2.enrol_last == 23);
        CHECK(c2.overrides.empty());
    }

    SUBCASE("outcomes, with each distribution form and an after chain") {
        REQUIRE(s.outcomes.size() == 3);
        const sib::Outcome& r = outcome(s, "reconviction");
        CHECK(r.kind == sib::OutcomeKind::count);
        CHECK(r.better == sib::Better::lower);
        REQUIRE(std::holds_alternative<sib::Lognormal>(r.baseline->dist));
        CHECK(std::get<sib::Lognormal>(r.baseline->dist).mean == doctest::Approx(1.55));
        CHECK(std::get<sib::Lognormal>(r.baseline->dist).sd == doctest::Approx(0.1));
        REQUIRE(std::holds_alternative<sib::Normal>(r.effect->dist));
        const auto& n = std::get<sib::Normal>(r.effect->dist);
        CHECK(n.mean == doctest::Approx(-0.09));
        CHECK(n.sd == doctest::Approx(0.04));
        CHECK(n.min == doctest::Approx(-0.5));
        CHECK(n.max == doctest::Approx(0.2));
        CHECK(r.effect->path == "outcomes.reconviction.effect");
        CHECK(r.effect->loc.line == 25);
        CHECK(r.effect->loc.column == 13);
        CHECK(r.dispersion == 2.5);
        CHECK(r.observed_after == 18);
        CHECK_FALSE(r.after.has_value());

        const sib::Outcome& j = outcome(s, "job-entry");
        CHECK(j.kind == sib::OutcomeKind::binary);
        REQUIRE(std::holds_alternative<sib::Triangular>(j.baseline->dist));
        const auto& t = std::get<sib::Triangular>(j.baseline->dist);
        CHECK(t.min == doctest::Approx(0.2));
        CHECK(t.mode == doctest::Approx(0.3));
        CHECK(t.max == doctest::Approx(0.5));
        CHECK(fixed(*j.effect) == doctest::Approx(0.1));

        const sib::Outcome& sj = outcome(s, "sustained-job");
        REQUIRE(std::holds_alternative<sib::Beta>(sj.rate->dist));
        CHECK(std::get<sib::Beta>(sj.rate->dist).mean == doctest::Approx(0.4));
        CHECK(std::get<sib::Beta>(sj.rate->dist).sd == doctest::Approx(0.1));
        CHECK(sj.after == "job-entry");
        CHECK(sj.observed_after == 9);
    }

    SUBCASE("comparison") {
        REQUIRE(s.comparison.has_value());
        CHECK(s.comparison->kind == sib::ComparisonKind::matched);
        CHECK(s.comparison->ratio == 10);
    }

    SUBCASE("the three payment bases") {
        REQUIRE(s.rules.size() == 6);
        const sib::Rule& rc = rule(s, "job-entry");
        CHECK(rc.basis == sib::Basis::rate_card);
        CHECK(rc.outcome == "job-entry");
        CHECK(rc.price == 2600);
        CHECK(rc.payment_lag == 1);
        CHECK(rc.cap == 1000000);

        const sib::Rule& tg = rule(s, "placements");
        CHECK(tg.basis == sib::Basis::target);
        CHECK(tg.per == sib::Scope::cohort);
        CHECK(tg.at_least == 20);
        CHECK_FALSE(tg.share_at_least.has_value());
        CHECK(tg.amount == 257500);
        CHECK(tg.price == 100);
        const sib::Rule& ts = rule(s, "placements-share");
        CHECK(ts.share_at_least == doctest::Approx(0.2));
        CHECK_FALSE(ts.at_least.has_value());
        CHECK(ts.per == sib::Scope::all);

        const sib::Rule& vc = rule(s, "cohort-trigger");
        CHECK(vc.basis == sib::Basis::versus_comparison);
        CHECK(vc.per == sib::Scope::cohort);
        CHECK(vc.threshold == doctest::Approx(0.10));
        CHECK(vc.price == 20000);
        REQUIRE(vc.payers.size() == 2);
        CHECK(vc.payers[0].payer == "Ministry of Justice");
        CHECK(vc.payers[0].share == 0.5);
        CHECK(vc.payers[1].payer == "Big Lottery Fund");

        const sib::Rule& fin = rule(s, "final");
        CHECK(fin.per == sib::Scope::all);
        CHECK_FALSE(fin.price.has_value());
        REQUIRE(fin.schedule.size() == 3);
        CHECK(fin.schedule[0].improvement == doctest::Approx(0.075));
        CHECK(fin.schedule[0].payment == 100000);
        CHECK(fin.schedule[2].improvement == doctest::Approx(0.2));
        CHECK(fin.schedule[2].payment == 900000);
        CHECK(fin.net_of == "cohort-trigger");
        CHECK(fin.payment_lag == 2);

        CHECK(rule(s, "bonus").amount == 50000);
        CHECK(rule(s, "bonus").threshold == 0);
    }

    SUBCASE("caps, payers with savings, provider, investors") {
        CHECK(s.caps.per_participant == 11700);
        CHECK(s.caps.total == 8000000);
        REQUIRE(s.payers.size() == 2);
        CHECK(s.payers[0].name == "Ministry of Justice");
        CHECK(s.payers[0].share == 0.75);
        REQUIRE(s.payers[0].savings.size() == 2);
        CHECK(s.payers[0].savings[0].outcome == "reconviction");
        CHECK(s.payers[0].savings[0].value_per_unit == 8000);
        CHECK(s.payers[0].savings[1].value_per_unit == 1500.5);
        CHECK(s.payers[1].share == 0.25);
        CHECK(s.payers[1].savings.empty());

        REQUIRE(s.provider.has_value());
        CHECK(s.provider->per_participant == 1500);
        CHECK(s.provider->per_period == 60000);
        CHECK(s.provider->from == 2);
        CHECK(s.provider->to == 40);

        REQUIRE(s.investors.has_value());
        CHECK(s.investors->capital == 5000000);
        REQUIRE(s.investors->tranches.size() == 2);
        CHECK(s.investors->tranches[0].name == "senior");
        CHECK(s.investors->tranches[0].share == doctest::Approx(0.66));
        CHECK(s.investors->tranches[0].rate == doctest::Approx(0.05));
        CHECK(s.investors->tranches[1].name == "subordinate");
        CHECK(s.investors->tranches[1].rate == 0);
        REQUIRE(s.investors->guarantee.has_value());
        CHECK(s.investors->guarantee->name == "Foundation");
        CHECK(s.investors->guarantee->amount == 7200000);
    }

    SUBCASE("correlations") {
        REQUIRE(s.correlations.size() == 2);
        CHECK(s.correlations[0].first == "outcomes.reconviction.effect");
        CHECK(s.correlations[0].second == "outcomes.reconviction.baseline");
        CHECK(s.correlations[0].rho == doctest::Approx(-0.3));
        CHECK(s.correlations[1].first == "outcomes.job-entry.baseline");
        CHECK(s.correlations[1].second == "cohorts.cohort-2.size");
    }
}

TEST_CASE("defaults of optional sections") {
    std::string text = minimal +
                       "comparison: {kind: historical}\n"
                       "provider: {costs: {per_period: 5}}\n"
                       "investors: {capital: 100, guarantee: {amount: 50}}\n"
                       "simulation: {seed: 18446744073709551615}\n";
    sib::Scenario s = sib::load_scenario(text, "x.yaml");
    CHECK(s.comparison->kind == sib::ComparisonKind::historical);
    CHECK(s.provider->per_participant == 0);
    CHECK(s.provider->from == 0);
    CHECK_FALSE(s.provider->to.has_value());
    CHECK(s.investors->tranches.empty());
    CHECK(s.investors->guarantee->name == "guarantor");
    CHECK(s.investors->guarantee->amount == 50);
    CHECK(s.seed == 18446744073709551615ULL);
}

TEST_CASE("numbers are parsed strictly") {
    auto size_error = [](const std::string& value) {
        std::string text = minimal;
        text.replace(text.find("size: 10"), 8, "size: " + value);
        return error_of([&] { sib::load_scenario(text, "x.yaml"); });
    };
    CHECK(size_error("1e3").empty());
    CHECK(size_error("+12.5").empty());
    CHECK(size_error("12abc") ==
          "x.yaml:6:11: error: cohorts.c.size: expected a number, got '12abc'");
    CHECK(size_error("0x10") ==
          "x.yaml:6:11: error: cohorts.c.size: expected a number, got '0x10'");
    CHECK(size_error("-.inf") ==
          "x.yaml:6:11: error: cohorts.c.size: must be a finite number, got '-.inf'");
    CHECK(size_error("1e999") ==
          "x.yaml:6:11: error: cohorts.c.size: must be a finite number, got '1e999'");
    CHECK(size_error("[1]") ==
          "x.yaml:6:11: error: cohorts.c.size: expected a number or a "
          "distribution {dist: ...}, got a list");
}

TEST_CASE("--set replaces values before validation") {
    SUBCASE("a nested path inside a distribution") {
        auto s = sib::load_scenario_file(
            full_file, {sib::parse_override("outcomes.reconviction.effect.mean=-0.2")});
        const auto& n = std::get<sib::Normal>(outcome(s, "reconviction").effect->dist);
        CHECK(n.mean == doctest::Approx(-0.2));
        CHECK(n.sd == doctest::Approx(0.04));
    }
    SUBCASE("a list entry named by its name") {
        auto s = sib::load_scenario_file(
            full_file, {sib::parse_override("payments.cohort-trigger.threshold=0.2")});
        CHECK(rule(s, "cohort-trigger").threshold == doctest::Approx(0.2));
        CHECK(rule(s, "final").threshold == doctest::Approx(0.075));
    }
    SUBCASE("a value parsed as YAML, and a key created in an existing map") {
        auto s = sib::load_scenario_file(
            full_file,
            {sib::parse_override("outcomes.job-entry.effect={dist: normal, mean: 0, sd: 0.1}"),
             sib::parse_override("caps.total=5"), sib::parse_override("simulation.seed=7")});
        const auto& n = std::get<sib::Normal>(outcome(s, "job-entry").effect->dist);
        CHECK(n.sd == doctest::Approx(0.1));
        CHECK(s.caps.total == 5);
        CHECK(s.seed == 7);
    }
    SUBCASE("names containing dots and spaces") {
        auto s = sib::load_scenario_file(
            full_file, {sib::parse_override("payers.Ministry of Justice.share=0.5"),
                        sib::parse_override("payers.Big Lottery Fund.share=0.5")});
        CHECK(s.payers[0].share == 0.5);
    }
    SUBCASE("a path that names nothing, with a hint") {
        CHECK(error_of([] {
                  sib::load_scenario_file(full_file,
                                          {sib::parse_override("cohorts.cohort-9.size=3")});
              }) ==
              "tests/data/valid/full.yaml:11:3: error: cohorts.cohort-9: --set names nothing; "
              "did you mean 'cohort-1'?");
        CHECK(error_of([] {
                  sib::load_scenario_file(
                      full_file, {sib::parse_override("outcomes.reconviction.efect.mean=1")});
              }) ==
              "tests/data/valid/full.yaml:21:5: error: outcomes.reconviction.efect: --set names "
              "nothing; did you mean 'effect'?");
    }
    SUBCASE("errors inside a replaced value point at the node it replaced") {
        CHECK(error_of([] {
                  sib::load_scenario_file(
                      full_file, {sib::parse_override("outcomes.reconviction.effect={dist: beta, "
                                                      "mean: 0.5, sd: 0.6}")});
              }) ==
              "tests/data/valid/full.yaml:25:13: error: outcomes.reconviction.effect.sd: must "
              "be less than 0.5 for a beta with mean 0.5 (sd^2 < mean*(1-mean)), got 0.6 "
              "(from --set)");
        CHECK(error_of([] {
                  sib::load_scenario_file(full_file, {sib::parse_override("caps.totl=5")});
              }) ==
              "tests/data/valid/full.yaml:80:3: error: caps: unknown key 'totl'; did you mean "
              "'total'? (from --set)");
        CHECK(error_of(
                  [] { sib::load_scenario_file(full_file, {sib::parse_override("horizon=[")}); }) ==
              "tests/data/valid/full.yaml:6:10: error: horizon: --set value is not valid YAML: "
              "end of sequence flow not found");
    }
    SUBCASE("parse_override") {
        sib::Override o = sib::parse_override("a.b=x=y");
        CHECK(o.path == "a.b");
        CHECK(o.value == "x=y");
        CHECK(error_of([] { sib::parse_override("novalue"); }) ==
              "sibsim: error: --set: expected PATH=VALUE, got 'novalue'");
        CHECK(error_of([] { sib::parse_override("=3"); }) ==
              "sibsim: error: --set: expected PATH=VALUE with a path, got '=3'");
    }
}

TEST_CASE("all problems in a file are reported together, in file order") {
    std::string text = R"(sibsim: 1
name: several
horizon: 10
cohorts:
  - name: a
    size: -1
    enrol: [0, 2]
  - name: b
    enrol: [0, 1.5]
outcomes:
  - name: job
    kind: binry
    rate: 0.5
payments:
  - name: pay
    basis: rate_card
    outcome: jobs
    price: 1
payers:
  - name: p
    share: 0.5
)";
    try {
        sib::load_scenario(text, "s.yaml");
        FAIL("no error");
    } catch (const sib::InputError& e) {
        REQUIRE(e.diagnostics().size() == 6);
        CHECK(std::string(e.what()) ==
              "s.yaml:6:11: error: cohorts.a.size: must be between 0 and 10000000, got -1\n"
              "s.yaml:8:5: error: cohorts.b: missing required key 'size'\n"
              "s.yaml:9:16: error: cohorts.b.enrol: must be a whole number, got 1.5\n"
              "s.yaml:12:11: error: outcomes.job.kind: must be count or binary, got 'binry'; did "
              "you mean 'binary'?\n"
              "s.yaml:17:14: error: payments.pay.outcome: outcome 'jobs' is not defined; did you "
              "mean 'job'?\n"
              "s.yaml:20:3: error: payers: shares sum to 0.5, not 1");
        CHECK(e.diagnostics()[1].path == "cohorts.b");
        CHECK(e.diagnostics()[1].loc.line == 8);
    }
}

TEST_CASE("an unreadable file is an input error") {
    CHECK(error_of([] { sib::load_scenario_file("tests/data/no-such-file.yaml"); }) ==
          "tests/data/no-such-file.yaml:1:1: error: cannot read file: No such file or directory");
}

TEST_CASE("an unnamed list entry is named by its index") {
    std::string text = minimal;
    const std::string entry = "  - name: c\n    size: 10";
    text.replace(text.find(entry), entry.size(), "  - size: 10");
    CHECK(error_of([&] { sib::load_scenario(text, "x.yaml"); }) ==
          "x.yaml:5:5: error: cohorts[0]: missing required key 'name'");
}

TEST_CASE("observed results for settle") {
    const std::string text = R"(observed:
  - cohort: cohort-1
    outcome: reconviction
    participants: 1000
    mean: 1.42
    comparison_mean: 1.55
  - {cohort: cohort-1, outcome: job-entry, participants: 1000, successes: 130}
)";
    sib::Observed o = sib::load_observed(text, "obs.yaml");
    CHECK(o.file == "obs.yaml");
    REQUIRE(o.observations.size() == 2);
    CHECK(o.observations[0].cohort == "cohort-1");
    CHECK(o.observations[0].outcome == "reconviction");
    CHECK(o.observations[0].participants == 1000);
    CHECK(o.observations[0].mean == doctest::Approx(1.42));
    CHECK(o.observations[0].comparison_mean == doctest::Approx(1.55));
    CHECK(o.observations[0].loc.line == 2);
    CHECK(o.observations[1].successes == 130);
    CHECK_FALSE(o.observations[1].mean.has_value());

    CHECK(error_of([] {
              sib::load_observed(
                  "observed:\n  - {cohort: c, outcome: o, participants: 2.5, "
                  "mean: 1, successes: 3, extra: 1}\n",
                  "obs.yaml");
          }) ==
          "obs.yaml:2:43: error: observed[0].participants: must be a whole number, got 2.5\n"
          "obs.yaml:2:68: error: observed[0].successes: give mean or successes, not both\n"
          "obs.yaml:2:71: error: observed[0]: unknown key 'extra'");
}
