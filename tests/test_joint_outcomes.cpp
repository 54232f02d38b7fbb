// Outcomes of one participant that go together beyond strict `after` chains: prerequisites that
// are not strict (`rate_without`) and outcomes correlated within a person
// (`participant_correlations`). Hand-computed cases where every probability is 0 or 1, and
// statistical checks against closed forms within a few standard errors taken from the run, in
// every draw mode (aggregate, patterns as a multinomial, bit-sliced, individuals).
#include <doctest/doctest.h>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/special_functions/owens_t.hpp>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "sib/participants.hpp"

using namespace sib;
using namespace sib::test;

namespace {

/// A leader and a follower that does not strictly need it, in cohort c1 of `size` participants
/// enrolled over periods [0, last]; `extra` switches the draw mode (a cap, a count rate card).
std::string ladder(const std::string& lead, const std::string& rate, const std::string& without,
                   int size, int last, const std::string& extra) {
    return "sibsim: 1\nname: ladder\nhorizon: " + std::to_string(last + 4) +
           "\ncohorts:\n  - {name: c1, size: " + std::to_string(size) + ", enrol: [0, " +
           std::to_string(last) +
           "]}\n"
           "outcomes:\n"
           "  - {name: lead, kind: binary, rate: " +
           lead +
           ", observed_after: 1}\n"
           "  - {name: follow, kind: binary, after: lead, rate: " +
           rate + ", rate_without: " + without +
           ", observed_after: 2}\n"
           "  - {name: sessions, kind: count, rate: 0, observed_after: 2}\n"
           "payments:\n"
           "  - {name: lead, basis: rate_card, outcome: lead, price: 60}\n"
           "  - {name: follow, basis: rate_card, outcome: follow, price: 60}\n" +
           extra + "payers:\n  - {name: gov, share: 1}\n";
}

/// The draw modes: the text added to the scenario, and its enrolment span (batch sizes).
struct Mode {
    std::string name;
    std::string extra;
    int last;  ///< last enrolment period
    ParticipantMode expected;
};

std::vector<Mode> modes() {
    // A cap of 100 binds only for a participant with both (60 + 60): the follower is then paid
    // 40, so payments.follow tells how many have both.
    const std::string cap = "caps: {per_participant: 100}\n";
    return {
        {"aggregate", "", 0, ParticipantMode::aggregate},
        {"patterns", cap, 0, ParticipantMode::patterns},
        // 2,000 participants over 100 periods: batches of 20, below 8 per pattern.
        {"bit-sliced", cap, 99, ParticipantMode::patterns},
        {"individuals",
         "  - {name: sessions, basis: rate_card, outcome: sessions, price: 1}\n" + cap, 0,
         ParticipantMode::individuals},
    };
}

/// Settles on participant rows, as `settle --participants` does.
Metrics settle_rows(const std::string& yaml, const std::string& csv) {
    const Plan plan = compile(scenario_of(yaml));
    const MetricLayout layout = metric_layout(plan);
    TrialState state(plan);
    const Participants rows = load_participants(csv, "p.csv");
    std::vector<std::string> notes;
    settle_observed(plan, Observed{"", {}}, SettleOptions{false, &rows}, layout, party_layout(plan),
                    state, notes);
    return metrics_of(layout, state);
}

std::string scenario_error(const std::string& yaml) {
    try {
        scenario_of(yaml);
    } catch (const InputError& e) {
        return e.what();
    }
    return "(loaded without error)";
}

struct Totals {
    double lead = 0, follow = 0, both = 0;
};

/// One trial's totals; `both` is read from the capped payments (cap modes only).
Totals totals(const Plan& plan, const MetricLayout& layout, TrialState& state,
              std::uint64_t trial) {
    simulate_trial(plan, layout, party_layout(plan), trial, state);
    const Metrics m = metrics_of(layout, state);
    Totals t;
    t.lead = state.outcomes.total[0];
    t.follow = state.outcomes.total[1];
    // payments.follow = 60 × (follow without lead) + 40 × both = 60 × follow − 20 × both.
    t.both = (60 * t.follow - m["payments.follow"]) / 20;
    return t;
}

}  // namespace

TEST_CASE("rate_without: hand-computed cases with probabilities 0 and 1, in every draw mode") {
    // (leader's rate, rate given the leader, rate_without) -> followers of 2,000 participants
    struct Case {
        std::string lead, rate, without;
        double follow, both;
    };
    const std::vector<Case> cases = {
        {"0", "0", "1", 2000, 0},     // nobody has the leader; all achieve it without
        {"1", "0", "1", 0, 0},        // everybody has the leader, and nobody then achieves it
        {"1", "1", "0", 2000, 2000},  // a strict prerequisite, met by all
        {"0", "1", "0", 0, 0},        // rate_without 0 is a strict `after`
    };
    for (const auto& mode : modes()) {
        for (const auto& k : cases) {
            CAPTURE(mode.name);
            CAPTURE(k.lead);
            CAPTURE(k.without);
            const Plan plan = compile(
                scenario_of(ladder(k.lead, k.rate, k.without, 2000, mode.last, mode.extra)));
            CHECK(plan.participant_mode == mode.expected);
            const MetricLayout layout = metric_layout(plan);
            TrialState state(plan);
            const Totals t = totals(plan, layout, state, 3);
            CHECK(t.follow == k.follow);
            if (mode.expected != ParticipantMode::aggregate) CHECK(t.both == k.both);
            // No baseline: every achievement counts as caused.
            CHECK(metrics_of(layout, state)["outcome.follow.caused"] == k.follow);
        }
    }
    // Only a cohort total needed (no rate card on the follower): one aggregate draw.
    std::string yaml = ladder("0", "0", "1", 2000, 3, "");
    yaml.replace(yaml.find("  - {name: follow, basis"),
                 yaml.find("payers:") - yaml.find("  - {name: follow, basis"), "");
    const Plan plan = compile(scenario_of(yaml));
    CHECK_FALSE(plan.outcomes[1].per_batch);
    TrialState state(plan);
    simulate_trial(plan, metric_layout(plan), party_layout(plan), 0, state);
    CHECK(state.outcomes.total[1] == 2000);
}

TEST_CASE("rate_without: followers and joint achievements match the closed forms") {
    // Leader 0.4; follower 0.7 given it and 0.2 without: P(follow) = 0.4·0.7 + 0.6·0.2 = 0.40,
    // P(both) = 0.4·0.7 = 0.28. Per trial, follow ~ Binomial(2000, 0.40): mean 800.
    const double n = 2000, p_follow = 0.4 * 0.7 + 0.6 * 0.2, p_both = 0.4 * 0.7;
    const int trials = 300;
    for (const auto& mode : modes()) {
        CAPTURE(mode.name);
        const Plan plan =
            compile(scenario_of(ladder("0.4", "0.7", "0.2", 2000, mode.last, mode.extra)));
        const MetricLayout layout = metric_layout(plan);
        TrialState state(plan);
        double sum_f = 0, sum_ff = 0, sum_b = 0, sum_bb = 0;
        for (int trial = 0; trial < trials; ++trial) {
            const Totals t = totals(plan, layout, state, static_cast<std::uint64_t>(trial));
            sum_f += t.follow;
            sum_ff += t.follow * t.follow;
            sum_b += t.both;
            sum_bb += t.both * t.both;
        }
        const double mean_f = sum_f / trials;
        const double se_f = std::sqrt((sum_ff / trials - mean_f * mean_f) / (trials - 1));
        CHECK(se_f > 0);
        CHECK(std::abs(mean_f - n * p_follow) < 4 * se_f);
        if (mode.expected == ParticipantMode::aggregate) continue;
        const double mean_b = sum_b / trials;
        const double se_b = std::sqrt((sum_bb / trials - mean_b * mean_b) / (trials - 1));
        CHECK(se_b > 0);
        CHECK(std::abs(mean_b - n * p_both) < 4 * se_b);
    }
}

TEST_CASE("rate_without: the loader's checks") {
    const std::string yaml = ladder("0.4", "0.7", "0.2", 100, 0, "");
    auto with = [&](const std::string& from, const std::string& to) {
        std::string y = yaml;
        REQUIRE(y.find(from) != std::string::npos);
        y.replace(y.find(from), from.size(), to);
        return y;
    };
    CHECK(scenario_error(with("after: lead, ", "")) ==
          "test.yaml:8:59: error: outcomes.follow.rate_without: needs 'after': it is the "
          "probability for participants without the outcome named there");
    CHECK(scenario_error(with("rate: 0.7,", "baseline: 0.5, rate: 0.7,")) ==
          "test.yaml:8:87: error: outcomes.follow.rate_without: cannot be combined with "
          "baseline: give rate, and every achievement counts as caused");
    CHECK(scenario_error(with("rate_without: 0.2", "rate_without: 1.5")) ==
          "test.yaml:8:72: error: outcomes.follow.rate_without: must be between 0 and 1 for a "
          "binary outcome, got 1.5");
}

TEST_CASE("rate_without: participant rows may have the follower without the leader") {
    const std::string yaml = ladder("0.4", "0.7", "0.2", 100, 0, "caps: {per_participant: 100}\n");
    // Rows: both (60 + 40 under the cap), follower only (60), leader only (60), neither.
    const Metrics m = settle_rows(yaml,
                                  "cohort,enrolled,lead,follow,sessions\n"
                                  "c1,0,1,1,0\n"
                                  "c1,0,0,1,0\n"
                                  "c1,0,1,0,0\n"
                                  "c1,0,0,0,0\n");
    CHECK(m["payments.lead"] == 120);
    CHECK(m["payments.follow"] == 100);
}

namespace {

/// Two outcomes A and B (probabilities pa, pb) whose latent normals have correlation rho, with
/// prices 60 each. Draw modes: "aggregate" (no cap), "bit-sliced" (`per_participant: 100`), and
/// "individuals" (the same cap and a count outcome's rate card, which pays nothing).
std::string together(const std::string& pa, const std::string& pb, const std::string& rho,
                     const std::string& mode) {
    return "sibsim: 1\nname: together\nhorizon: 4\n"
           "cohorts:\n  - {name: c1, size: 2000, enrol: [0, 0]}\n"
           "outcomes:\n"
           "  - {name: a, kind: binary, rate: " +
           pa +
           ", observed_after: 1}\n"
           "  - {name: b, kind: binary, rate: " +
           pb +
           ", observed_after: 2}\n"
           "  - {name: sessions, kind: count, rate: 0, observed_after: 2}\n"
           "participant_correlations:\n  - [a, b, " +
           rho +
           "]\n"
           "payments:\n"
           "  - {name: a, basis: rate_card, outcome: a, price: 60}\n"
           "  - {name: b, basis: rate_card, outcome: b, price: 60}\n" +
           (mode == "individuals"
                ? "  - {name: sessions, basis: rate_card, outcome: sessions, price: 1}\n"
                : "") +
           (mode == "aggregate" ? "" : "caps: {per_participant: 100}\n") +
           "payers:\n  - {name: gov, share: 1}\n";
}

/// P(Z1 < h, Z2 < k) for standard normals with correlation rho, by Owen's T (Owen, 1956).
double orthant(double h, double k, double rho) {
    const boost::math::normal phi;
    const double s = std::sqrt(1 - rho * rho);
    const double beta = (h * k > 0 || (h * k == 0 && h + k >= 0)) ? 0 : 0.5;
    return 0.5 * (cdf(phi, h) + cdf(phi, k)) - boost::math::owens_t(h, (k - rho * h) / (h * s)) -
           boost::math::owens_t(k, (h - rho * k) / (k * s)) - beta;
}

}  // namespace

TEST_CASE("participant_correlations: hand-computed cases with probabilities 0 and 1") {
    struct Case {
        std::string pa, pb, rho;
        double a, b, both;
    };
    const std::vector<Case> cases = {
        {"1", "1", "0.5", 2000, 2000, 2000},
        {"1", "0", "0.9", 2000, 0, 0},
        {"0", "1", "-0.9", 0, 2000, 0},
        {"0", "0", "0.3", 0, 0, 0},
    };
    for (const auto& mode_case :
         {std::pair{std::string("bit-sliced"), ParticipantMode::patterns},
          std::pair{std::string("individuals"), ParticipantMode::individuals}})
        for (const auto& k : cases) {
            // Named copies, not structured bindings: clang 14 cannot capture a binding in the
            // lambda CAPTURE expands to.
            const std::string& mode = mode_case.first;
            const ParticipantMode expected = mode_case.second;
            CAPTURE(mode);
            CAPTURE(k.pa);
            CAPTURE(k.pb);
            const Plan plan = compile(scenario_of(together(k.pa, k.pb, k.rho, mode)));
            // Each participant with two correlated latent normals; no patterns listed (a pattern's
            // probability is no longer a product), so every batch is drawn bit-sliced.
            CHECK(plan.participant_mode == expected);
            CHECK(plan.patterns.empty());
            CHECK(plan.joint_outcomes.size() == 2);
            const MetricLayout layout = metric_layout(plan);
            TrialState state(plan);
            simulate_trial(plan, layout, party_layout(plan), 5, state);
            const Metrics m = metrics_of(layout, state);
            CHECK(state.outcomes.total[0] == k.a);
            CHECK(state.outcomes.total[1] == k.b);
            // b is paid 60, or 40 after a's 60 under the cap of 100.
            CHECK(m["payments.b"] == 60 * k.b - 20 * k.both);
            CHECK(m["payments.a"] == 60 * k.a);
        }
    // Without a per-participant cap nothing depends on the joint: aggregate draws, as before.
    const Plan plan = compile(scenario_of(together("1", "0", "0.5", "aggregate")));
    CHECK(plan.participant_mode == ParticipantMode::aggregate);
    CHECK(plan.joint_outcomes.empty());
}

TEST_CASE("participant_correlations: P(both) is the bivariate normal orthant probability") {
    // a with 0.3, b with 0.6: P(both) = Φ2(Φ⁻¹(0.3), Φ⁻¹(0.6); rho): 0.2465 for rho 0.5 and
    // 0.1081 for -0.5, against 0.18 if independent. Each marginal stays as written.
    const boost::math::normal phi;
    const double n = 2000, pa = 0.3, pb = 0.6;
    const double h = quantile(phi, pa), k = quantile(phi, pb);
    CHECK(orthant(h, k, 0) == doctest::Approx(pa * pb));  // the closed form, checked itself
    const int trials = 300;
    for (const double rho : {0.5, -0.5, 0.0}) {
        for (const std::string mode : {"bit-sliced", "individuals", "aggregate"}) {
            CAPTURE(rho);
            CAPTURE(mode);
            const bool cap = mode != "aggregate";
            const Plan plan =
                compile(scenario_of(together("0.3", "0.6", std::to_string(rho), mode)));
            const MetricLayout layout = metric_layout(plan);
            TrialState state(plan);
            double sa = 0, saa = 0, sb = 0, sbb = 0, sj = 0, sjj = 0;
            for (int trial = 0; trial < trials; ++trial) {
                simulate_trial(plan, layout, party_layout(plan), static_cast<std::uint64_t>(trial),
                               state);
                const Metrics m = metrics_of(layout, state);
                const double a = state.outcomes.total[0], b = state.outcomes.total[1];
                const double both = (60 * b - m["payments.b"]) / 20;
                sa += a, saa += a * a, sb += b, sbb += b * b, sj += both, sjj += both * both;
            }
            auto se = [&](double sum, double squares) {
                const double mean = sum / trials;
                return std::sqrt((squares / trials - mean * mean) / (trials - 1));
            };
            CHECK(se(sa, saa) > 0);
            CHECK(std::abs(sa / trials - n * pa) < 4 * se(sa, saa));
            CHECK(std::abs(sb / trials - n * pb) < 4 * se(sb, sbb));
            if (!cap) continue;  // no cap: nothing is paid less, `both` is not seen
            CHECK(se(sj, sjj) > 0);
            CHECK(std::abs(sj / trials - n * orthant(h, k, rho)) < 4 * se(sj, sjj));
        }
    }
}

TEST_CASE("participant_correlations: the loader's checks") {
    auto with = [](const std::string& from, const std::string& to) {
        std::string y = together("0.3", "0.6", "0.5", "bit-sliced");
        REQUIRE(y.find(from) != std::string::npos);
        y.replace(y.find(from), from.size(), to);
        return y;
    };
    CHECK(scenario_error(with("[a, b, 0.5]", "[a, a, 0.5]")) ==
          "test.yaml:11:5: error: participant_correlations[0]: an outcome cannot be correlated "
          "with itself");
    CHECK(scenario_error(with("[a, b, 0.5]", "[a, b, 0.5]\n  - [b, a, 0.2]")) ==
          "test.yaml:12:5: error: participant_correlations[1]: 'b' and 'a' are already "
          "correlated at line 11");
    CHECK(scenario_error(with("kind: binary, rate: 0.6", "kind: binary, after: a, rate: 0.6")) ==
          "test.yaml:11:9: error: participant_correlations[0]: must name a binary outcome "
          "without 'after' or 'instead_of'; 'b' follows 'a'");
    CHECK(scenario_error(with("[a, b, 0.5]", "[a, c, 0.5]")) ==
          "test.yaml:11:9: error: participant_correlations[0]: outcome 'c' is not defined; did "
          "you mean 'a'?");
    CHECK(scenario_error(with("[a, b, 0.5]", "[a, b, 1.5]")) ==
          "test.yaml:11:12: error: participant_correlations[0]: must be between -1 and 1 "
          "(exclusive), got 1.5");
}
