#pragma once
// Discounting, net present value and the investors' internal rate of return (docs/model.md).
#include <span>

namespace sib {

/// Upper clamp of irr_annual(), as an annual rate (1e6 = 100,000,000%): returned when the root
/// lies beyond it, and when something is received but nothing was drawn.
inline constexpr double kIrrMax = 1e6;

/// Lower clamp of irr_annual(): −1 (−100%), returned exactly when nothing positive is received.
inline constexpr double kIrrMin = -1.0;

/// Factor that takes a flow in `period` to the start of period 0: (1 + annual_rate)^(−period /
/// periods_per_year). `annual_rate` e.g. 0.035, > −1; `periods_per_year` ≥ 1 (4 for quarters).
double discount_factor(double annual_rate, int period, int periods_per_year);

/// Net present value at the start of period 0: Σ flows[t] / (1 + periodic_rate)^t, with
/// `periodic_rate` > −1 per period (not annual). Evaluated by Horner's rule in v = 1/(1+r).
double npv(std::span<const double> flows, double periodic_rate);

/// Internal rate of return of `flows` (one per period, draws negative, receipts positive),
/// annualised: the periodic r with Σ flows[t]/(1+r)^t = 0, reported as (1+r)^periods_per_year − 1.
///
/// Contract (the waterfall guarantees every negative flow comes before every positive one, so by
/// Descartes' rule the root is unique):
///  - nothing positive received (including all flows zero): exactly −1 (kIrrMin);
///  - something received but nothing drawn: kIrrMax;
///  - otherwise the root, clamped to [−1, kIrrMax]; never NaN or infinite.
/// If the ordering is violated the result is still finite: a root in the half (r < 0 or r > 0)
/// that NPV(0) points to, or a clamp when that half shows no sign change.
///
/// Method: the sign of NPV(0) picks the half. For r ≥ 0 Brent's method runs on the polynomial
/// P(v) = Σ f_t v^t over v = 1/(1+r) in [1/(1+r_max), 1]; for r < 0 on Σ f_t w^(T−t) over
/// w = 1+r in [0, 1] (T = last non-zero period). Both are bounded by Σ|f_t|, so nothing
/// overflows. Brent stops when the bracket is below 4ε relative in v (or w), i.e. the periodic
/// rate is found to |Δr| ≲ 1e-15·(1+r) (far inside 1e-12 relative); at most 200 iterations
/// (typically 6–12 evaluations of a 40–120 term polynomial). No allocation.
/// `flows` must be finite (asserted); `periods_per_year` ≥ 1.
double irr_annual(std::span<const double> flows, int periods_per_year);

}  // namespace sib
