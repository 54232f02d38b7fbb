#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include "sib/finance.hpp"

namespace {

/// Periodic rate back from an annual IRR.
double periodic(double annual, int periods_per_year) {
    return std::pow(1.0 + annual, 1.0 / periods_per_year) - 1.0;
}

double sum_abs(const std::vector<double>& flows) {
    double s = 0.0;
    for (const double f : flows) s += std::fabs(f);
    return s;
}

}  // namespace

TEST_CASE("discount_factor: (1+annual)^(-period/periods_per_year)") {
    CHECK(sib::discount_factor(0.035, 0, 4) == 1.0);
    CHECK(sib::discount_factor(0.10, 1, 1) == doctest::Approx(1.0 / 1.1).epsilon(1e-15));
    CHECK(sib::discount_factor(0.10, 2, 1) == doctest::Approx(1.0 / 1.21).epsilon(1e-15));
    CHECK(sib::discount_factor(0.10, 4, 4) == doctest::Approx(1.0 / 1.1).epsilon(1e-15));
    CHECK(sib::discount_factor(0.21, 2, 4) == doctest::Approx(1.0 / 1.1).epsilon(1e-15));
    CHECK(sib::discount_factor(0.0, 17, 12) == 1.0);
}

TEST_CASE("npv: sum of flows[t] / (1+r)^t") {
    CHECK(sib::npv({}, 0.05) == 0.0);
    const std::vector<double> a = {1.0, 2.0, 3.0};
    CHECK(sib::npv(a, 0.0) == 6.0);
    const std::vector<double> b = {100.0, 100.0, 100.0};
    CHECK(sib::npv(b, 1.0) == doctest::Approx(175.0).epsilon(1e-15));
    const std::vector<double> c = {-100.0, 110.0};
    CHECK(std::fabs(sib::npv(c, 0.1)) < 1e-12);
    const std::vector<double> d = {0.0, 0.0, 121.0};
    CHECK(sib::npv(d, 0.1) == doctest::Approx(100.0).epsilon(1e-15));
    // Agrees with discounting each flow by discount_factor() at the matching annual rate.
    const std::vector<double> e = {-50.0, 20.0, -5.0, 30.0, 40.0, 0.0, 12.5};
    double expected = 0.0;
    for (std::size_t t = 0; t < e.size(); ++t) {
        expected += e[t] * sib::discount_factor(std::pow(1.02, 4) - 1.0, static_cast<int>(t), 4);
    }
    CHECK(sib::npv(e, 0.02) == doctest::Approx(expected).epsilon(1e-13));
}

TEST_CASE("irr_annual: hand-computed known answers") {
    const std::vector<double> one_year = {-100.0, 110.0};
    CHECK(sib::irr_annual(one_year, 1) == doctest::Approx(0.10).epsilon(1e-14));
    const std::vector<double> two_years = {-100.0, 0.0, 121.0};
    CHECK(sib::irr_annual(two_years, 1) == doctest::Approx(0.10).epsilon(1e-14));
    const std::vector<double> quarterly = {-100.0, 0.0, 0.0, 0.0, 110.0};
    CHECK(sib::irr_annual(quarterly, 4) == doctest::Approx(0.10).epsilon(1e-14));
    // Annualisation: 2% a quarter is (1.02)^4 − 1 a year; 1% a month is 1.01^12 − 1.
    const std::vector<double> one_quarter = {-100.0, 102.0};
    CHECK(sib::irr_annual(one_quarter, 4) ==
          doctest::Approx(std::pow(1.02, 4) - 1.0).epsilon(1e-13));
    const std::vector<double> one_month = {-100.0, 101.0};
    CHECK(sib::irr_annual(one_month, 12) ==
          doctest::Approx(std::pow(1.01, 12) - 1.0).epsilon(1e-13));
    // Two draws repaid together at 10% a year: 100·1.1² + 100·1.1 = 231.
    const std::vector<double> staggered = {-100.0, -100.0, 231.0};
    CHECK(sib::irr_annual(staggered, 1) == doctest::Approx(0.10).epsilon(1e-14));
    // Leading and trailing zero periods shift nothing: −100 at t=2, 110 at t=4 is 10% over two
    // periods.
    const std::vector<double> padded = {0.0, 0.0, -100.0, 0.0, 110.0, 0.0, 0.0};
    CHECK(sib::irr_annual(padded, 2) == doctest::Approx(0.10).epsilon(1e-14));
}

TEST_CASE("irr_annual: zero and negative returns") {
    const std::vector<double> back = {-100.0, 100.0};
    CHECK(sib::irr_annual(back, 4) == 0.0);
    const std::vector<double> back_in_parts = {-100.0, 40.0, 60.0};
    CHECK(sib::irr_annual(back_in_parts, 1) == 0.0);
    const std::vector<double> half_back = {-100.0, 50.0};
    CHECK(sib::irr_annual(half_back, 1) == doctest::Approx(-0.5).epsilon(1e-14));
    const std::vector<double> quarter_back = {-100.0, 0.0, 25.0};
    CHECK(sib::irr_annual(quarter_back, 1) == doctest::Approx(-0.5).epsilon(1e-14));
    // Quarterly: (1+r)^4 = 0.25 over one quarter, so the annual rate is 0.25^4 − 1.
    const std::vector<double> quarterly_loss = {-100.0, 25.0};
    CHECK(sib::irr_annual(quarterly_loss, 4) ==
          doctest::Approx(std::pow(0.25, 4) - 1.0).epsilon(1e-13));
}

TEST_CASE("irr_annual: -1 exactly when nothing positive is received") {
    CHECK(sib::irr_annual({}, 4) == -1.0);
    const std::vector<double> zeros = {0.0, 0.0, 0.0};
    CHECK(sib::irr_annual(zeros, 4) == -1.0);
    const std::vector<double> lost = {-100.0, -50.0, 0.0, 0.0};
    CHECK(sib::irr_annual(lost, 4) == -1.0);
    const std::vector<double> minus_zero = {-100.0, -0.0};
    CHECK(sib::irr_annual(minus_zero, 1) == -1.0);
    CHECK(sib::kIrrMin == -1.0);
}

TEST_CASE("irr_annual: the upper clamp") {
    // Received without any draw.
    const std::vector<double> free_money = {0.0, 50.0};
    CHECK(sib::irr_annual(free_money, 4) == sib::kIrrMax);
    const std::vector<double> at_once = {50.0};
    CHECK(sib::irr_annual(at_once, 1) == sib::kIrrMax);
    // Roots beyond the clamp.
    const std::vector<double> huge = {-1.0, 1e300};
    CHECK(sib::irr_annual(huge, 1) == sib::kIrrMax);
    CHECK(sib::irr_annual(huge, 12) == sib::kIrrMax);
    const std::vector<double> twice_the_clamp = {-1.0, 2e6 + 1.0};
    CHECK(sib::irr_annual(twice_the_clamp, 1) == sib::kIrrMax);
    // Just inside the clamp.
    const std::vector<double> inside = {-1.0, 5e5 + 1.0};
    CHECK(sib::irr_annual(inside, 1) == doctest::Approx(5e5).epsilon(1e-12));
}

TEST_CASE("irr_annual: extreme but finite inputs stay finite and in range") {
    std::vector<double> tiny_back(120, 0.0);
    tiny_back[0] = -1e6;
    tiny_back[119] = 1e-300;
    const double r = sib::irr_annual(tiny_back, 4);
    CHECK(std::isfinite(r));
    CHECK(r >= -1.0);
    CHECK(r < -0.99);
    // Yearly, 1 + r = 1e-306^(1/119) is well away from 0 and can be checked closely.
    const double yearly = sib::irr_annual(tiny_back, 1);
    CHECK(1.0 + yearly == doctest::Approx(std::pow(1e-306, 1.0 / 119)).epsilon(1e-12));

    std::vector<double> denormal_back = {-1e300, 5e-324};
    const double d = sib::irr_annual(denormal_back, 1);
    CHECK(std::isfinite(d));
    CHECK(d >= -1.0);
    CHECK(d < -0.99);

    const std::vector<double> large = {-1e300, -1e300, 1e300, 1e300, 1e300};
    const double l = sib::irr_annual(large, 4);
    CHECK(std::isfinite(l));
    CHECK(std::fabs(sib::npv(large, periodic(l, 4))) < 1e-12 * 5e300);
}

TEST_CASE("irr_annual: a 40-quarter case puts the NPV back to zero") {
    // Provider costs drawn over the first 12 quarters, outcome payments from quarter 8 on
    // recycled until the service ends, then distributions.
    std::vector<double> flows(40, 0.0);
    for (int t = 0; t < 12; ++t) flows[static_cast<std::size_t>(t)] = -(60000.0 + 1500.0 * t);
    for (int t = 14; t < 40; ++t) flows[static_cast<std::size_t>(t)] = 45000.0 + 700.0 * (t % 5);
    const double irr = sib::irr_annual(flows, 4);
    REQUIRE(std::isfinite(irr));
    CHECK(irr > 0.0);
    CHECK(irr < 1.0);
    const double r = periodic(irr, 4);
    const double scale = sum_abs(flows);
    CHECK(std::fabs(sib::npv(flows, r)) < 1e-12 * scale);
    // The root is bracketed tightly: the NPV changes sign 1e-11 (relative to 1+r) either side.
    CHECK(sib::npv(flows, r - 1e-11 * (1.0 + r)) > 0.0);
    CHECK(sib::npv(flows, r + 1e-11 * (1.0 + r)) < 0.0);
}

TEST_CASE("irr_annual: random draw-then-distribute flows give bracketed roots") {
    std::mt19937_64 rng(20240611);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (int trial = 0; trial < 2000; ++trial) {
        const auto n = static_cast<std::size_t>(2 + rng() % 119);  // 2..120 periods
        const std::size_t split = 1 + rng() % (n - 1);             // first distribution period
        const int ppy = (trial % 3 == 0) ? 1 : (trial % 3 == 1 ? 4 : 12);
        const double level = std::pow(10.0, 6.0 * unit(rng) - 3.0);
        std::vector<double> flows(n, 0.0);
        for (std::size_t t = 0; t < split; ++t) {
            if (unit(rng) < 0.7) flows[t] = -unit(rng);
        }
        for (std::size_t t = split; t < n; ++t) {
            if (unit(rng) < 0.7) flows[t] = level * unit(rng);
        }
        const double irr = sib::irr_annual(flows, ppy);
        REQUIRE(std::isfinite(irr));
        REQUIRE(irr >= -1.0);
        REQUIRE(irr <= sib::kIrrMax);
        bool any_negative = false;
        bool any_positive = false;
        for (const double f : flows) {
            any_negative = any_negative || f < 0.0;
            any_positive = any_positive || f > 0.0;
        }
        if (!any_positive) {
            CHECK(irr == -1.0);
            continue;
        }
        if (!any_negative) {
            CHECK(irr == sib::kIrrMax);
            continue;
        }
        if (irr == sib::kIrrMax || irr < -0.999) continue;  // clamped, or (1+r) too small to test
        const double r = periodic(irr, ppy);
        const double delta = 1e-10 * (1.0 + r);
        INFO("trial " << trial << " n " << n << " ppy " << ppy << " irr " << irr);
        CHECK(sib::npv(flows, r - delta) >= 0.0);
        CHECK(sib::npv(flows, r + delta) <= 0.0);
    }
}
