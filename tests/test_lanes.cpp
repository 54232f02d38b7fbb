// Bit-sliced participant draws (per-participant cap): the portable and AVX2 kernels of
// engine/sib/lanes.cpp give identical results, kernel by kernel and through whole trials of every
// shipped scenario with a per-participant cap; the fixed-point Bernoulli draws match
// bernoulli_lanes word for word.
#include <doctest/doctest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "sib/lanes.hpp"
#include "sib/rng.hpp"

namespace {

using namespace sib;

/// Restores the kernel in use when a test case ends.
struct KernelGuard {
    lanes::Kernel saved = lanes::kernel();
    ~KernelGuard() { lanes::use_kernel(saved); }
};

struct TrialResult {
    std::vector<double> metrics, flows, counts, due;
};

std::vector<TrialResult> run_trials(const Plan& plan, std::uint64_t trials) {
    const MetricLayout layout = metric_layout(plan);
    const PartyLayout parties = party_layout(plan);
    TrialState state(plan);
    std::vector<TrialResult> out;
    for (std::uint64_t t = 0; t < trials; ++t) {
        simulate_trial(plan, layout, parties, t, state);
        out.push_back(
            {state.metrics, state.flows, state.outcomes.counts, state.outcomes.rate_card_due});
    }
    return out;
}

/// Exact equality, NaN equal to NaN (a metric can be undefined in some trials).
bool same(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!(a[i] == b[i]) && !(a[i] != a[i] && b[i] != b[i])) return false;
    return true;
}

}  // namespace

TEST_CASE("lanes: fixed-point Bernoulli draws are bernoulli_lanes, word for word") {
    const std::vector<double> probabilities = {0.3,       0.5,
                                               0.7,       0.25,
                                               0.75,      1.0 / 3,
                                               0.999999,  1e-3,
                                               0x1.0p-12, 0x1.0p-12 * 1.5,
                                               0x1.0p-13, 0x1.fffffffffffffp-13,
                                               1e-9,      1e-300,
                                               0.0,       1.0,
                                               -0.5,      0x1.fffffffffffffp-1,
                                               0x1.0p-53, 0.6180339887498949};
    const std::vector<std::uint64_t> lane_sets = {~std::uint64_t{0}, 0, 1, 0xf0f0f0f0f0f0f0f0ULL,
                                                  (std::uint64_t{1} << 37) - 1};
    int checked = 0;
    for (double p : probabilities) {
        for (std::uint64_t lane_set : lane_sets) {
            for (std::uint64_t trial = 0; trial < 200; ++trial) {
                Stream a(7, trial, 11), b(7, trial, 11);
                const std::uint64_t expected = bernoulli_lanes(a, p, lane_set);
                const std::uint64_t got = lanes::bernoulli(b, p, lane_set);
                CAPTURE(p);
                CAPTURE(lane_set);
                CAPTURE(trial);
                REQUIRE(got == expected);
                REQUIRE(a() == b());  // as many random words consumed
                ++checked;
            }
        }
    }
    CHECK(checked == 20 * 5 * 200);
}

TEST_CASE("lanes: the AVX2 kernel gives the portable kernel's results on random groups") {
    if (!lanes::avx2_available()) {
        MESSAGE("this machine has no AVX2: only the portable kernel is in use and tested");
        return;
    }
    constexpr std::size_t G = lanes::group_blocks;
    Stream rng(3, 0, 5);
    for (int round = 0; round < 2000; ++round) {
        const std::size_t np = 1 + rng() % 12;
        const std::size_t rules = 1 + rng() % np;
        const std::size_t sum_bits = 1 + rng() % 20;
        std::vector<std::uint64_t> masks(np * G), prices(rules);
        std::vector<char> paid(np);
        std::vector<int> rule_outcome(rules);
        const std::size_t blocks = 1 + rng() % G;
        for (std::size_t i = 0; i < masks.size(); ++i)  // sparser than half; none past blocks
            masks[i] = i % G < blocks ? rng() & rng() : 0;
        for (auto& p : paid) p = static_cast<char>(rng() % 4 != 0);
        for (auto& r : rule_outcome) r = static_cast<int>(rng() % np);
        for (auto& p : prices) p = rng() % (std::uint64_t{1} << (sum_bits - 1));
        const std::uint64_t cap = rng() % (std::uint64_t{1} << sum_bits);
        const std::size_t k_min = 1 + rng() % (np + 1);
        const bool exact = rng() % 5 != 0;
        struct Out {
            std::vector<std::uint64_t> scratch, capped;
            std::vector<std::uint32_t> counts, uncapped;
        };
        auto run = [&](bool avx2) {
            Out o{std::vector<std::uint64_t>(lanes::scratch_words(np, sum_bits)),
                  std::vector<std::uint64_t>(G), std::vector<std::uint32_t>(np * G),
                  std::vector<std::uint32_t>(rules * G)};
            const lanes::Group g{masks.data(),
                                 blocks,
                                 np,
                                 paid.data(),
                                 k_min,
                                 rule_outcome.data(),
                                 rules,
                                 exact ? prices.data() : nullptr,
                                 cap,
                                 sum_bits,
                                 o.scratch.data(),
                                 o.capped.data(),
                                 o.counts.data(),
                                 o.uncapped.data()};
            if (avx2)
                lanes::process_avx2(g);
            else
                lanes::process_portable(g);
            return o;
        };
        const Out portable = run(false), avx2 = run(true);
        CAPTURE(round);
        CAPTURE(blocks);
        for (std::size_t b = 0; b < blocks; ++b) {  // the portable kernel leaves the rest
            REQUIRE(portable.capped[b] == avx2.capped[b]);
            for (std::size_t j = 0; j < np; ++j)
                REQUIRE(portable.counts[j * G + b] == avx2.counts[j * G + b]);
            for (std::size_t k = 0; k < rules; ++k)
                REQUIRE(portable.uncapped[k * G + b] == avx2.uncapped[k * G + b]);
        }
    }
}

TEST_CASE("lanes: every scenario with a per-participant cap, portable and AVX2 trial by trial") {
    KernelGuard guard;
    const bool avx2 = lanes::avx2_available();
    if (!avx2) MESSAGE("this machine has no AVX2: the portable kernel is checked alone");
    // The scenarios with `caps: per_participant` (chicago-cpc's per_participant is a provider
    // cost), and the rate card with a price that is not a whole multiple of a unit, so that who
    // reaches the cap is walked lane by lane rather than decided in bit planes.
    std::vector<std::pair<std::string, Plan>> plans;
    for (const std::string file :
         {"bench/scenarios/rate-card-2000.yaml", "scenarios/dwp-innovation-fund.yaml",
          "scenarios/fair-chance-fund.yaml"})
        plans.emplace_back(
            file, compile(load_scenario_file(std::string(SIBSIM_SOURCE_DIR) + "/" + file)));
    {
        std::ifstream in(std::string(SIBSIM_SOURCE_DIR) + "/bench/scenarios/rate-card-2000.yaml");
        std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto at = yaml.find("price: 700}");
        REQUIRE(at != std::string::npos);
        yaml.replace(at, 11, "price: 700.5}");
        plans.emplace_back("rate card, a price of 700.5", compile(test::scenario_of(yaml)));
        CHECK(plans.back().second.capped_price_units.empty());
    }
    for (const auto& named : plans) {
        const std::string& name = named.first;
        const Plan& plan = named.second;
        CAPTURE(name);
        REQUIRE(plan.participant_mode == ParticipantMode::patterns);
        REQUIRE(lanes::use_kernel(lanes::Kernel::portable));
        CHECK(lanes::kernel() == lanes::Kernel::portable);
        const auto portable = run_trials(plan, 300);
        // Not every trial is alike: the draws do something.
        CHECK_FALSE(same(portable.front().counts, portable.back().counts));
        if (!avx2) continue;
        REQUIRE(lanes::use_kernel(lanes::Kernel::avx2));
        CHECK(lanes::kernel() == lanes::Kernel::avx2);
        const auto vector = run_trials(plan, 300);
        for (std::size_t t = 0; t < portable.size(); ++t) {
            CAPTURE(t);
            REQUIRE(same(portable[t].metrics, vector[t].metrics));
            REQUIRE(same(portable[t].flows, vector[t].flows));
            REQUIRE(same(portable[t].counts, vector[t].counts));
            REQUIRE(same(portable[t].due, vector[t].due));
        }
    }
}
