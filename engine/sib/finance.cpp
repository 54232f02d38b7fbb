#include "sib/finance.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "sib/diagnostics.hpp"

namespace sib {

namespace {

/// Σ f_t v^t for t = 0..last, by Horner's rule from the last term down.
double polynomial_in_v(std::span<const double> flows, std::size_t last, double v) {
    double acc = 0.0;
    for (std::size_t t = last + 1; t-- > 0;) acc = acc * v + flows[t];
    return acc;
}

/// Σ f_t w^(last−t) for t = 0..last, by Horner's rule from the first term up. For w = 1+r > 0 it
/// is (1+r)^last times the NPV, so it has the NPV's sign; at w = 0 it is f_last.
double polynomial_in_w(std::span<const double> flows, std::size_t last, double w) {
    double acc = 0.0;
    for (std::size_t t = 0; t <= last; ++t) acc = acc * w + flows[t];
    return acc;
}

constexpr int kMaxIterations = 200;

/// The usual investor case, fast: Newton's method on P(v) = Σ f_t v^t from a start that is
/// nearly right for money drawn early and returned late ((received/drawn)^(1/Δt), Δt the gap
/// between the flows' weighted mean times), kept inside a sign-change bracket [lo, hi] and
/// stopped when a step moves v by under 1e-14 relative. Returns false (the caller falls back to
/// Brent's method) when there is no bracket in (0, 1] or 60 steps do not settle. `sum` is
/// Σ f_t, P(1), which the caller has already added up in the same order.
bool newton_in_v(std::span<const double> flows, std::size_t last, double sum, double& v_out) {
    double drawn = 0, received = 0, drawn_time = 0, received_time = 0;
    for (std::size_t t = 0; t <= last; ++t) {
        const double f = flows[t];
        if (f < 0) {
            drawn -= f;
            drawn_time -= f * static_cast<double>(t);
        } else {
            received += f;
            received_time += f * static_cast<double>(t);
        }
    }
    const double gap = received_time / received - drawn_time / drawn;
    if (!(gap > 0)) return false;
    // P(v) runs from flows[0] at v = 0 to Σf at v = 1; for draws-then-receipts it has one root.
    double lo = 0, hi = 1;
    double p_lo = flows[0], p_hi = sum;
    if (!((p_lo < 0 && p_hi > 0) || (p_lo > 0 && p_hi < 0))) return false;
    double v = std::clamp(std::pow(drawn / received, 1.0 / gap), 1e-6, 1.0 - 1e-12);
    for (int iter = 0; iter < 60; ++iter) {
        double p = 0, dp = 0;  // Horner for P and P' together
        for (std::size_t t = last + 1; t-- > 0;) {
            dp = dp * v + p;
            p = p * v + flows[t];
        }
        if (p == 0) break;
        if ((p < 0) == (p_lo < 0)) {
            lo = v;
            p_lo = p;
        } else {
            hi = v;
            p_hi = p;
        }
        const double step = dp != 0 ? p / dp : 0.0;
        double next = v - step;
        if (dp != 0 && std::fabs(step) <= 1e-14 * v && next >= lo && next <= hi) {
            v = next;
            break;  // settled
        }
        // A Newton step that leaves the bracket gives way to the secant through its ends, then
        // to bisection.
        if (!(dp != 0 && next > lo && next < hi)) next = lo - p_lo * (hi - lo) / (p_hi - p_lo);
        if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
        v = next;
        if (hi - lo <= 1e-14 * hi) break;
        if (iter == 59) return false;
    }
    if (!(v > 0)) return false;
    v_out = v;
    return true;
}

/// Brent's method (van Wijngaarden–Dekker–Brent, as in Numerical Recipes' zbrent) for a root of
/// `f` in [a, b], where f(a) = fa and f(b) = fb have opposite signs (neither is zero). Stops when
/// the bracket is within 4ε|x| + 1e-300, or after kMaxIterations, returning the best estimate.
template <class F>
double brent(F f, double a, double b, double fa, double fb) {
    constexpr double eps = std::numeric_limits<double>::epsilon();
    constexpr double abs_tol = 1e-300;
    double c = b;
    double fc = fb;
    double d = 0.0;
    double e = 0.0;
    for (int iter = 0; iter < kMaxIterations; ++iter) {
        if ((fb > 0.0 && fc > 0.0) || (fb < 0.0 && fc < 0.0)) {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if (std::fabs(fc) < std::fabs(fb)) {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        const double tol = 2.0 * eps * std::fabs(b) + 0.5 * abs_tol;
        const double half = 0.5 * (c - b);
        if (std::fabs(half) <= tol || fb == 0.0) return b;
        if (std::fabs(e) >= tol && std::fabs(fa) > std::fabs(fb)) {
            // Inverse quadratic interpolation (secant when only two points are distinct).
            const double s = fb / fa;
            double p;
            double q;
            if (a == c) {
                p = 2.0 * half * s;
                q = 1.0 - s;
            } else {
                const double qa = fa / fc;
                const double r = fb / fc;
                p = s * (2.0 * half * qa * (qa - r) - (b - a) * (r - 1.0));
                q = (qa - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if (p > 0.0) q = -q;
            p = std::fabs(p);
            const double min1 = 3.0 * half * q - std::fabs(tol * q);
            const double min2 = std::fabs(e * q);
            if (2.0 * p < std::min(min1, min2)) {
                e = d;
                d = p / q;
            } else {
                d = half;
                e = d;
            }
        } else {
            d = half;
            e = d;
        }
        a = b;
        fa = fb;
        b += std::fabs(d) > tol ? d : std::copysign(tol, half);
        fb = f(b);
    }
    return b;
}

double clamp_annual(double annual) {
    // NaN cannot arise (the arguments are finite), but never let one escape.
    if (!(annual > kIrrMin)) return kIrrMin;
    return std::min(annual, kIrrMax);
}

}  // namespace

double discount_factor(double annual_rate, int period, int periods_per_year) {
    SIB_ASSERT(annual_rate > -1.0);
    SIB_ASSERT(periods_per_year >= 1);
    return std::pow(1.0 + annual_rate,
                    -static_cast<double>(period) / static_cast<double>(periods_per_year));
}

double npv(std::span<const double> flows, double periodic_rate) {
    SIB_ASSERT(periodic_rate > -1.0);
    if (flows.empty()) return 0.0;
    return polynomial_in_v(flows, flows.size() - 1, 1.0 / (1.0 + periodic_rate));
}

double irr_annual(std::span<const double> flows, int periods_per_year) {
    SIB_ASSERT(periods_per_year >= 1);
    bool any_negative = false;
    bool any_positive = false;
    std::size_t last = 0;  // last non-zero period
    double sum = 0.0;      // NPV at r = 0
    for (std::size_t t = 0; t < flows.size(); ++t) {
        const double f = flows[t];
        SIB_ASSERT(std::isfinite(f));
        if (f < 0.0) any_negative = true;
        if (f > 0.0) any_positive = true;
        if (f != 0.0) last = t;
        sum += f;
    }
    if (!any_positive) return kIrrMin;
    if (!any_negative) return kIrrMax;
    if (sum == 0.0) return 0.0;

    const double ppy = static_cast<double>(periods_per_year);
    if (double v = 0; newton_in_v(flows, last, sum, v))
        return clamp_annual(std::expm1(-ppy * std::log(v)));
    if (sum > 0.0) {
        // Root at r > 0, i.e. v = 1/(1+r) in (0, 1): P(1) = sum > 0 and P(v) < 0 below the root.
        const double v_min = std::pow(1.0 + kIrrMax, -1.0 / ppy);
        const auto p = [&](double v) { return polynomial_in_v(flows, last, v); };
        const double p_min = p(v_min);
        if (p_min >= 0.0) return kIrrMax;  // root at or beyond the clamp
        const double v = brent(p, v_min, 1.0, p_min, sum);
        return clamp_annual(std::expm1(-ppy * std::log(v)));
    }
    // Root at r < 0, i.e. w = 1+r in (0, 1): h(1) = sum < 0 and h(0) = flows[last].
    const double h0 = flows[last];
    if (h0 <= 0.0) return kIrrMin;  // only when the ordering is violated
    const auto h = [&](double w) { return polynomial_in_w(flows, last, w); };
    const double w = brent(h, 0.0, 1.0, h0, sum);
    if (!(w > 0.0)) return kIrrMin;
    return clamp_annual(std::expm1(ppy * std::log(w)));
}

}  // namespace sib
