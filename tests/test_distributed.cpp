// Runs spread over mpirun's processes (engine/sib/distributed.*): what one process can check.
// The same files from `mpirun -np 3` as from one process are checked by tests/mpi/check.sh
// (ctest label `mpi`).
#include <doctest/doctest.h>

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "sib/distributed.hpp"
#include "sib/stats.hpp"
#include "sib/trial.hpp"

namespace {

using namespace sib;

Plan peterborough() {
    return compile(
        load_scenario_file(std::string(SIBSIM_SOURCE_DIR) + "/scenarios/peterborough.yaml"));
}

bool same_bits(double a, double b) {
    return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

void check_same_summary(const RunResult& a, const RunResult& b) {
    CHECK(a.trials == b.trials);
    CHECK(a.seed == b.seed);
    CHECK(a.cancelled == b.cancelled);
    CHECK(a.second_look == b.second_look);
    REQUIRE(a.metrics.size() == b.metrics.size());
    for (std::size_t m = 0; m < a.metrics.size(); ++m) {
        const MetricSummary& x = a.metrics[m];
        const MetricSummary& y = b.metrics[m];
        CHECK(x.name == y.name);
        CHECK(x.moments.count == y.moments.count);
        CHECK(same_bits(x.moments.mean, y.moments.mean));
        CHECK(same_bits(x.moments.m2, y.moments.m2));
        CHECK(same_bits(x.moments.min, y.moments.min));
        CHECK(same_bits(x.moments.max, y.moments.max));
        for (std::size_t q = 0; q < x.quantiles.size(); ++q)
            CHECK(same_bits(x.quantiles[q], y.quantiles[q]));
    }
    CHECK(a.parties == b.parties);
    REQUIRE(a.cashflows.size() == b.cashflows.size());
    for (std::size_t f = 0; f < a.cashflows.size(); ++f) {
        CHECK(same_bits(a.cashflows[f].mean, b.cashflows[f].mean));
        CHECK(same_bits(a.cashflows[f].p5, b.cashflows[f].p5));
        CHECK(same_bits(a.cashflows[f].p95, b.cashflows[f].p95));
    }
}

}  // namespace

TEST_CASE("distributed: a run's summary goes between processes bit for bit") {
    const Plan plan = peterborough();
    RunOptions options;
    options.trials = 3000;
    options.seed = 11;
    options.keep_trial_values = false;
    RunResult result = run(plan, options);
    result.second_look = 3;  // every field travels, not only the usual values
    const std::vector<char> bytes = serialise_summary(result);
    const char* data = bytes.data();
    const RunResult back = deserialise_summary(data, bytes.data() + bytes.size());
    CHECK(data == bytes.data() + bytes.size());  // every byte read, no more
    REQUIRE(!back.metrics.empty());
    check_same_summary(result, back);
}

TEST_CASE("distributed: without mpirun there is one process, owning every row and block") {
    CHECK(processes().rank == 0);
    CHECK(processes().count == 1);
    for (std::size_t row = 0; row < 5; ++row) CHECK(owns_row(row));
    CHECK(agree_status(2) == 2);  // nothing to agree with
    CHECK(!agreed());
    const Plan plan = peterborough();
    RunOptions options;
    options.trials = 5000;
    options.keep_trial_values = false;
    options.threads = 2;
    const RunResult alone = run(plan, options);
    options.spread = true;
    check_same_summary(alone, run(plan, options));
}

TEST_CASE("distributed: without mpirun, gathering chunks keeps every byte and the stop flag") {
    // sensitivity's single-process path: its outputs stay as computed, and an interruption
    // still reads as one.
    std::vector<double> values = {1.5, -2.25, 3.0, 0.1, 7.0};
    const std::vector<double> before = values;
    CHECK(!gather_chunks(values, 2, false));
    CHECK(values == before);
    CHECK(gather_chunks(values, 2, true));
    CHECK(values == before);
    std::vector<Moments> moments(3);
    moments[1].add(4.0);
    CHECK(!gather_chunks(moments, 1, false));
    CHECK(moments[1].count == 1);
    CHECK(moments[1].mean == 4.0);
}

TEST_CASE("distributed: exchanged blocks hold each trial's values, sampled flows and sums") {
    // One process: it simulates every block of the exchange, and the layout process 0 merges
    // from is checked against trials simulated one by one.
    Plan plan = peterborough();
    plan.seed = 5;
    const MetricLayout metrics = metric_layout(plan);
    const PartyLayout parties = party_layout(plan);
    BlockWork work{&plan, &metrics, &parties, 3000, 1500, 2, nullptr};
    ReceivedBlocks received;
    REQUIRE(!exchange_blocks(work, 1, 3, received));  // trials 1024..2999
    CHECK(received.first_block == 1);
    CHECK(received.end_block == 3);
    const std::size_t metric_count = metrics.names.size();
    const std::size_t flow_count = parties.names.size() * static_cast<std::size_t>(plan.horizon);
    REQUIRE(received.metrics.size() == (3000 - 1024) * metric_count);
    REQUIRE(received.flows.size() == (1500 - 1024) * flow_count);  // sampled trials only
    REQUIRE(received.flow_sums.size() == 2 * flow_count);
    TrialState state(plan);
    std::vector<double> sums(2 * flow_count, 0.0);
    std::size_t mismatches = 0;
    for (long long trial = 1024; trial < 3000; ++trial) {
        simulate_trial(plan, metrics, parties, static_cast<std::uint64_t>(trial), state);
        const auto at = static_cast<std::size_t>(trial - 1024);
        for (std::size_t m = 0; m < metric_count; ++m)
            mismatches += !same_bits(received.metrics[at * metric_count + m], state.metrics[m]);
        for (std::size_t f = 0; f < flow_count; ++f) {
            sums[(trial < 2048 ? 0 : flow_count) + f] += state.flows[f];
            if (trial < 1500)
                mismatches += !same_bits(received.flows[at * flow_count + f], state.flows[f]);
        }
    }
    CHECK(mismatches == 0);
    for (std::size_t i = 0; i < sums.size(); ++i) CHECK(same_bits(received.flow_sums[i], sums[i]));
}
