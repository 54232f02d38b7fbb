#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <span>
#include <vector>

#include "sib/stats.hpp"

namespace {

std::vector<double> one_to(int n) {
    std::vector<double> v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), 1.0);
    return v;
}

}  // namespace

TEST_CASE("Moments: empty and single value") {
    sib::Moments m;
    CHECK(m.count == 0);
    CHECK(m.mean == 0.0);
    CHECK(m.variance() == 0.0);
    CHECK(m.sd() == 0.0);
    CHECK(m.se() == 0.0);
    CHECK(m.min == 0.0);
    CHECK(m.max == 0.0);
    m.add(-3.5);
    CHECK(m.count == 1);
    CHECK(m.mean == -3.5);
    CHECK(m.variance() == 0.0);
    CHECK(m.se() == 0.0);
    CHECK(m.min == -3.5);
    CHECK(m.max == -3.5);
}

TEST_CASE("Moments: a hand-computed sample") {
    sib::Moments m;
    for (const double x : {2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0}) m.add(x);
    CHECK(m.count == 8);
    CHECK(m.mean == 5.0);
    CHECK(m.m2 == doctest::Approx(32.0).epsilon(1e-15));
    CHECK(m.variance() == doctest::Approx(32.0 / 7.0).epsilon(1e-15));
    CHECK(m.sd() == doctest::Approx(std::sqrt(32.0 / 7.0)).epsilon(1e-15));
    CHECK(m.se() == doctest::Approx(std::sqrt(32.0 / 7.0) / std::sqrt(8.0)).epsilon(1e-15));
    CHECK(m.min == 2.0);
    CHECK(m.max == 9.0);
}

namespace {

struct MomentsCase {
    sib::Moments one_pass;
    sib::Moments merged;
    double two_pass_mean;
    double two_pass_variance;
    double min;
    double max;
};

/// 10,001 normal values with sd 3 around `offset`: one pass, two halves merged, and two-pass.
MomentsCase moments_case(double offset) {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<double> xs(10001);
    for (double& x : xs) x = offset + 3.0 * normal(rng);

    MomentsCase c{};
    double sum = 0.0;
    for (const double x : xs) sum += x;
    c.two_pass_mean = sum / static_cast<double>(xs.size());
    double ss = 0.0;
    for (const double x : xs) ss += (x - c.two_pass_mean) * (x - c.two_pass_mean);
    c.two_pass_variance = ss / static_cast<double>(xs.size() - 1);
    c.min = *std::min_element(xs.begin(), xs.end());
    c.max = *std::max_element(xs.begin(), xs.end());

    sib::Moments second;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        c.one_pass.add(xs[i]);
        (i < 4321 ? c.merged : second).add(xs[i]);
    }
    c.merged.merge(second);
    return c;
}

}  // namespace

TEST_CASE("Moments: merging halves equals one pass and a two-pass variance") {
    const MomentsCase c = moments_case(1000.0);
    CHECK(c.merged.count == c.one_pass.count);
    CHECK(c.merged.mean == doctest::Approx(c.one_pass.mean).epsilon(1e-12));
    CHECK(c.merged.variance() == doctest::Approx(c.one_pass.variance()).epsilon(1e-12));
    CHECK(c.one_pass.mean == doctest::Approx(c.two_pass_mean).epsilon(1e-12));
    CHECK(c.one_pass.variance() == doctest::Approx(c.two_pass_variance).epsilon(1e-12));
    CHECK(c.merged.variance() == doctest::Approx(c.two_pass_variance).epsilon(1e-12));
    CHECK(c.merged.min == c.min);
    CHECK(c.merged.max == c.max);
    CHECK(c.one_pass.min == c.min);
    CHECK(c.one_pass.max == c.max);
}

TEST_CASE("Moments: stable far from zero") {
    // Mean 1e9, sd 3: a sum of squares would lose every digit (x² ~ 1e18, ulp ~ 128 > variance
    // 9). Welford's error grows like ε·mean/sd ≈ 1e-8 here; the merge adds no more than that.
    const MomentsCase c = moments_case(1e9);
    CHECK(c.one_pass.variance() == doctest::Approx(c.two_pass_variance).epsilon(1e-7));
    CHECK(c.merged.variance() == doctest::Approx(c.two_pass_variance).epsilon(1e-7));
    CHECK(c.merged.mean == doctest::Approx(c.two_pass_mean).epsilon(1e-13));
}

TEST_CASE("Moments: merging with empty accumulators, and a fixed order is reproducible") {
    sib::Moments a;
    for (const double x : {1.0, 2.0, 6.0}) a.add(x);
    sib::Moments empty;
    sib::Moments b = a;
    b.merge(empty);
    CHECK(b.count == 3);
    CHECK(b.mean == a.mean);
    CHECK(b.m2 == a.m2);
    sib::Moments c;
    c.merge(a);
    CHECK(c.count == 3);
    CHECK(c.mean == a.mean);
    CHECK(c.m2 == a.m2);
    CHECK(c.min == 1.0);
    CHECK(c.max == 6.0);

    // Blocks merged in block order give bit-identical results every time.
    const auto run = [] {
        std::vector<sib::Moments> blocks(7);
        for (int i = 0; i < 700; ++i) blocks[static_cast<std::size_t>(i / 100)].add(0.1 * i * i);
        sib::Moments total;
        for (const auto& block : blocks) total.merge(block);
        return total;
    };
    const sib::Moments r1 = run();
    const sib::Moments r2 = run();
    CHECK(r1.mean == r2.mean);
    CHECK(r1.m2 == r2.m2);
}

TEST_CASE("nearest_rank: ceil(p*N) without floating-point creep") {
    CHECK(sib::nearest_rank(0.05, 100) == 5);
    CHECK(sib::nearest_rank(0.1, 30) == 3);  // 0.1*30 is 3.0000000000000004 in doubles
    CHECK(sib::nearest_rank(0.7, 10) == 7);  // 0.7*10 is 7.000000000000001
    CHECK(sib::nearest_rank(0.051, 100) == 6);
    CHECK(sib::nearest_rank(0.05, 2000000) == 100000);
    CHECK(sib::nearest_rank(0.95, 2000000) == 1900000);
    CHECK(sib::nearest_rank(0.95, 2000001) == 1900001);
    CHECK(sib::nearest_rank(0.0, 10) == 1);
    CHECK(sib::nearest_rank(1.0, 10) == 10);
    CHECK(sib::nearest_rank(0.5, 1) == 1);
}

namespace {
/// The summary quantiles (p5, p25, p50, p75, p95) of a copy of `values`.
std::array<double, 5> summary_of(std::vector<double> values) {
    std::array<double, 5> out{};
    sib::select_nearest_ranks(values, sib::kSummaryProbabilities, out);
    return out;
}
/// One nearest-rank quantile of a copy of `values`.
double quantile_of(std::vector<double> values, double p) {
    double out = 0;
    const double probabilities[] = {p};
    sib::select_nearest_ranks(values, probabilities, std::span<double>(&out, 1));
    return out;
}
}  // namespace

TEST_CASE("select_nearest_ranks: nearest rank on 1..100 and 1..20") {
    const auto hundred = one_to(100);
    CHECK(summary_of(hundred) == std::array<double, 5>{5, 25, 50, 75, 95});
    CHECK(quantile_of(hundred, 0.0) == 1.0);
    CHECK(quantile_of(hundred, 1.0) == 100.0);
    CHECK(quantile_of(hundred, 0.999) == 100.0);
    CHECK(quantile_of(hundred, 0.011) == 2.0);

    std::vector<double> twenty;
    for (const double x : one_to(20)) twenty.push_back(21.0 - x);  // in descending order
    CHECK(quantile_of(twenty, 0.05) == 1.0);
    CHECK(quantile_of(twenty, 0.25) == 5.0);
    CHECK(quantile_of(twenty, 0.50) == 10.0);
    CHECK(quantile_of(twenty, 0.75) == 15.0);
    CHECK(quantile_of(twenty, 0.95) == 19.0);
    CHECK(summary_of(twenty) == std::array<double, 5>{1, 5, 10, 15, 19});
}

TEST_CASE("select_nearest_ranks: empty is zero; any order of the values gives the same") {
    CHECK(quantile_of({}, 0.5) == 0.0);
    CHECK(summary_of({}) == std::array<double, 5>{0, 0, 0, 0, 0});
    CHECK(quantile_of({10.0, 30.0}, 0.5) == 10.0);
    CHECK(quantile_of({10.0, 30.0, -5.0, 0.0}, 0.5) == 0.0);
    CHECK(quantile_of({10.0, 30.0, -5.0, 0.0}, 0.0) == -5.0);
    // Equal ranks for neighbouring probabilities (few values) are allowed.
    CHECK(summary_of({3.0, 1.0, 2.0}) == std::array<double, 5>{1, 1, 2, 3, 3});

    std::mt19937_64 rng(11);
    std::lognormal_distribution<double> dist(0.0, 1.0);
    std::vector<double> values(1000);
    for (auto& x : values) x = dist(rng);
    std::vector<double> reversed(values.rbegin(), values.rend());
    CHECK(summary_of(values) == summary_of(reversed));
    CHECK(quantile_of(values, 0.123) == quantile_of(reversed, 0.123));
    std::sort(values.begin(), values.end());
    CHECK(quantile_of(reversed, 0.123) == values[sib::nearest_rank(0.123, values.size()) - 1]);
}

namespace {
/// Feeds `values` to a QuantileSketch as the run does: sorted blocks of 1,024, in order.
sib::QuantileSketch sketch_of(const std::vector<double>& values) {
    sib::QuantileSketch sketch;
    for (std::size_t first = 0; first < values.size(); first += 1024) {
        std::vector<double> block(
            values.begin() + static_cast<std::ptrdiff_t>(first),
            values.begin() + static_cast<std::ptrdiff_t>(std::min(values.size(), first + 1024)));
        std::sort(block.begin(), block.end());
        sketch.add_sorted(block);
    }
    return sketch;
}
}  // namespace

TEST_CASE("QuantileSketch: exact while it holds every value") {
    std::mt19937_64 rng(5);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<double> values(20000);  // under 2b = 32768: nothing compacted yet
    for (auto& x : values) x = normal(rng);
    std::array<double, 5> got{};
    sketch_of(values).quantiles(sib::kSummaryProbabilities, got);
    CHECK(got == summary_of(values));
}

TEST_CASE("QuantileSketch: rank error under 0.05% over 1,000,000 values, the same every time") {
    std::mt19937_64 rng(9);
    std::lognormal_distribution<double> dist(0.0, 1.5);
    std::vector<double> values(1000000);
    for (auto& x : values) x = dist(rng);
    const sib::QuantileSketch sketch = sketch_of(values);
    CHECK(sketch.count() == 1000000);
    std::array<double, 5> got{}, again{};
    sketch.quantiles(sib::kSummaryProbabilities, got);
    sketch_of(values).quantiles(sib::kSummaryProbabilities, again);
    CHECK(got == again);
    std::sort(values.begin(), values.end());
    for (std::size_t i = 0; i < got.size(); ++i) {
        // The value's rank range among all values, against the nearest rank it stands for.
        const auto lo = std::lower_bound(values.begin(), values.end(), got[i]) - values.begin() + 1;
        const auto hi = std::upper_bound(values.begin(), values.end(), got[i]) - values.begin();
        const double target =
            static_cast<double>(sib::nearest_rank(sib::kSummaryProbabilities[i], values.size()));
        const double error = std::max(
            0.0, std::max(static_cast<double>(lo) - target, target - static_cast<double>(hi)));
        CAPTURE(i);
        CHECK(error / static_cast<double>(values.size()) < 0.0005);
    }
}

TEST_CASE(
    "select_nearest_ranks_kept: the same quantiles as select_nearest_ranks, values untouched") {
    // Large arrays go through the sampled brackets; each kind of values below stresses them
    // differently.
    std::mt19937_64 rng(17);
    std::lognormal_distribution<double> lognormal(0.0, 1.5);
    const std::vector<double> odd_probabilities = {0.0, 0.001, 0.05, 0.5, 0.999, 1.0};
    std::vector<double> scratch;
    for (const std::size_t n : {std::size_t{70000}, std::size_t{1} << 17, std::size_t{300001}}) {
        for (int kind = 0; kind < 9; ++kind) {
            CAPTURE(n);
            CAPTURE(kind);
            std::vector<double> values(n);
            for (std::size_t i = 0; i < n; ++i) {
                const double x = lognormal(rng);
                // 0 continuous, 1 a mass at 0, 2 many ties, 3 sorted, 4 reversed, 5 periodic,
                // 6 all equal, 7 two clusters, 8 the stride sample sees only zeros (its
                // brackets miss: the fallback).
                const double values_of_kind[] = {x,
                                                 x < 1.3 ? 0.0 : x,
                                                 std::round(x * 3),
                                                 static_cast<double>(i),
                                                 static_cast<double>(n - i),
                                                 static_cast<double>(i % 16384),
                                                 -2.5,
                                                 i % 7 == 0 ? -x : 1e6 + x,
                                                 i % (n / 16384) == 0 ? 0.0 : 1e9 + x};
                values[i] = values_of_kind[kind];
            }
            const std::vector<double> before = values;
            std::array<double, 5> kept{};
            sib::select_nearest_ranks_kept(values, sib::kSummaryProbabilities, kept, scratch);
            CHECK(values == before);
            CHECK(kept == summary_of(values));
            std::vector<double> odd(odd_probabilities.size());
            sib::select_nearest_ranks_kept(values, odd_probabilities, odd, scratch);
            for (std::size_t j = 0; j < odd.size(); ++j)
                CHECK(odd[j] == quantile_of(values, odd_probabilities[j]));
        }
    }
}

TEST_CASE(
    "RankTally: tallies of parts merge to the exact quantiles; a missed bracket is reported "
    "and its widening finds the rank") {
    std::mt19937_64 rng(23);
    std::lognormal_distribution<double> lognormal(0.0, 1.0);
    std::vector<double> values(100000);
    for (double& x : values) x = std::round(lognormal(rng) * 50.0);      // ties, as money has
    std::vector<double> sample(values.begin(), values.begin() + 16384);  // a pilot: the first
    std::sort(sample.begin(), sample.end());
    const std::array<double, 5> expected = summary_of(values);
    std::vector<double> scratch;
    for (const double width : {1.0, 0.0}) {
        CAPTURE(width);
        const auto brackets =
            sib::RankBrackets::around(sample, values.size(), sib::kSummaryProbabilities, width);
        // Three uneven parts, tallied apart and merged in an order unlike the values'.
        const std::span<const double> all(values);
        sib::RankTally first, second, third;
        first.add(brackets, all.subspan(0, 1000));
        second.add(brackets, all.subspan(1000, 60000));
        third.add(brackets, all.subspan(61000));
        third.merge(first);
        third.merge(second);
        std::size_t counted = 0;
        for (const std::size_t c : third.count) counted += c;
        CHECK(counted == values.size());
        std::array<double, 5> found{};
        const bool selected = third.select(brackets, sib::kSummaryProbabilities, found, scratch);
        if (width == 1.0) {
            CHECK(selected);
            CHECK(found == expected);
            CHECK(third.used < values.size() / 4);  // only values near the ranks are kept
            continue;
        }
        // Zero-width brackets keep no value between boundaries: some rank misses.
        CHECK(!selected);
        const auto wider = third.widened(brackets, sib::kSummaryProbabilities);
        sib::RankTally again;
        again.add(wider, values);
        CHECK(again.select(wider, sib::kSummaryProbabilities, found, scratch));
        CHECK(found == expected);
    }
}
