// Outcomes of one participant that go together beyond strict `after` chains: prerequisites that
// are not strict (`rate_without`). Hand-computed cases where every probability is 0 or 1, and
// statistical checks against closed forms within a few standard errors taken from the run, in
// every draw mode (aggregate, patterns as a multinomial, bit-sliced, individuals).
#include <doctest/doctest.h>

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
