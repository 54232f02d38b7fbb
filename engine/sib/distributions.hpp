#pragma once
// Quantile functions of the uncertain values (docs/scenario-format.md, "Uncertain values"): every
// draw is a distribution's quantile at a uniform number, so the copula can join any two.
#include "sib/scenario.hpp"

namespace sib {

/// The value of distribution `d` at uniform `u` in (0, 1): its quantile function.
double quantile(const Distribution& d, double u);

/// The standard normal's quantile and distribution function, in double precision; errors go to
/// errno, never thrown (the hot loop throws nothing).
double normal_quantile(double u);
double normal_cdf(double z);

}  // namespace sib
