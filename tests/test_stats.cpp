#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
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

TEST_CASE("Quantiles: nearest rank on 1..100 and 1..20") {
    sib::Quantiles q;
    for (const double x : one_to(100)) q.add(x);
    CHECK(q.quantiles() == std::array<double, 5>{5, 25, 50, 75, 95});
    CHECK(q.quantile(0.0) == 1.0);
    CHECK(q.quantile(1.0) == 100.0);
    CHECK(q.quantile(0.999) == 100.0);
    CHECK(q.quantile(0.011) == 2.0);

    sib::Quantiles r;
    for (const double x : one_to(20)) r.add(21.0 - x);  // added in descending order
    CHECK(r.quantile(0.05) == 1.0);
    CHECK(r.quantile(0.25) == 5.0);
    CHECK(r.quantile(0.50) == 10.0);
    CHECK(r.quantile(0.75) == 15.0);
    CHECK(r.quantile(0.95) == 19.0);
    CHECK(r.quantiles() == std::array<double, 5>{1, 5, 10, 15, 19});
}

TEST_CASE("Quantiles: empty is zero, and adding after a query re-sorts") {
    sib::Quantiles q;
    CHECK(q.quantile(0.5) == 0.0);
    CHECK(q.quantiles() == std::array<double, 5>{0, 0, 0, 0, 0});
    q.add(10.0);
    q.add(30.0);
    CHECK(q.quantile(0.5) == 10.0);
    q.add(-5.0);
    q.add(0.0);
    CHECK(q.quantile(0.5) == 0.0);
    CHECK(q.quantile(0.0) == -5.0);
}

TEST_CASE("Quantiles: merge order does not matter") {
    std::mt19937_64 rng(11);
    std::lognormal_distribution<double> dist(0.0, 1.0);
    std::array<sib::Quantiles, 4> parts;
    for (int i = 0; i < 1000; ++i) parts[static_cast<std::size_t>(i % 4)].add(dist(rng));
    sib::Quantiles forward;
    for (const auto& p : parts) forward.merge(p);
    sib::Quantiles backward;
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) backward.merge(*it);
    CHECK(forward.quantiles() == backward.quantiles());
    CHECK(forward.quantile(0.123) == backward.quantile(0.123));
}

TEST_CASE("SampleSketch: exact over the first K trials, whatever the blocks") {
    sib::SampleSketch whole(10);
    for (std::int64_t t = 0; t < 100; ++t) whole.add(t, static_cast<double>(100 - t));
    CHECK(whole.size() == 10);
    // Trials 0..9 hold 100..91.
    CHECK(whole.quantile(0.0) == 91.0);
    CHECK(whole.quantile(0.5) == 95.0);
    CHECK(whole.quantile(1.0) == 100.0);

    // The same trials in three blocks, merged in either order.
    std::array<sib::SampleSketch, 3> blocks = {sib::SampleSketch(10), sib::SampleSketch(10),
                                               sib::SampleSketch(10)};
    for (std::int64_t t = 0; t < 100; ++t) {
        blocks[static_cast<std::size_t>(t / 4 % 3)].add(t, static_cast<double>(100 - t));
    }
    sib::SampleSketch forward(10);
    for (const auto& b : blocks) forward.merge(b);
    sib::SampleSketch backward(10);
    for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) backward.merge(*it);
    CHECK(forward.size() == 10);
    for (const double p : {0.0, 0.05, 0.3, 0.5, 0.95, 1.0}) {
        CHECK(forward.quantile(p) == whole.quantile(p));
        CHECK(backward.quantile(p) == whole.quantile(p));
    }

    sib::SampleSketch empty;
    CHECK(empty.capacity == 100000);
    CHECK(empty.quantile(0.95) == 0.0);
}

TEST_CASE("SampleSketch: i.i.d. trials give p5 and p95 close to the full sample's") {
    std::mt19937_64 rng(3);
    std::normal_distribution<double> normal(0.0, 1.0);
    const std::int64_t n = 200000;
    sib::SampleSketch sketch(20000);
    sib::Quantiles exact;
    std::vector<double> xs(static_cast<std::size_t>(n));
    for (std::int64_t t = 0; t < n; ++t) {
        const double x = normal(rng);
        xs[static_cast<std::size_t>(t)] = x;
        sketch.add(t, x);
        exact.add(x);
    }
    std::sort(xs.begin(), xs.end());
    for (const double p : {0.05, 0.95}) {
        // Rank of the sketch's value among all trials, as a fraction.
        const double v = sketch.quantile(p);
        const auto rank = std::lower_bound(xs.begin(), xs.end(), v) - xs.begin() + 1;
        const double rank_error = std::fabs(static_cast<double>(rank) / static_cast<double>(n) - p);
        CHECK(rank_error < 0.005);
    }
}
