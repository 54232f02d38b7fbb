#pragma once
// Exact decimal decisions and whole minor units of money (docs/model.md, "Money and exact
// decisions"). Numbers travel as doubles; where a decision could go either way by rounding (an
// improvement on its threshold, a share target on the nose, a half minor unit), the decision is
// made again on the numbers as written: each double stands for the shortest decimal that reads
// back as it (what the user typed, or the integer count a draw produced), and those decimals are
// combined as exact fractions.
#include <cstdint>
#include <vector>

namespace sib {

__extension__ typedef __int128 int128;

/// An exact fraction num/den with den > 0, or not `exact` when a step overflowed 128 bits (then
/// callers fall back to long double, which no realistic contract reaches).
struct Ratio {
    int128 num = 0;
    int128 den = 1;
    bool exact = true;
};

/// The shortest decimal that reads back as `x` (std::to_chars), as a fraction: 0.1 is 1/10,
/// 28.999999999999996 stays what it is, 1e300 is not exact.
Ratio decimal_of(double x);
Ratio ratio_of_integer(long long n);

Ratio operator+(const Ratio& a, const Ratio& b);
Ratio operator-(const Ratio& a, const Ratio& b);
Ratio operator*(const Ratio& a, const Ratio& b);
Ratio operator/(const Ratio& a, const Ratio& b);  ///< b must not be 0

/// -1, 0 or 1 as a <, =, > b; both must be exact.
int compare(const Ratio& a, const Ratio& b);
long double to_long_double(const Ratio& r);

/// Whole minor units per currency unit: 100 for a minor unit of 0.01.
struct MinorUnit {
    double per_currency = 100;  ///< 1 / minor_unit, a power of ten
};

/// `money` (currency units) in whole minor units, rounded to nearest, halves away from zero. The
/// double is first read as exact decimal arithmetic would have it: within 1e-6 of a minor unit it
/// is that unit, within 1e-6 of a half it is that half (see docs/model.md).
long long round_to_units(double money, MinorUnit unit);
/// A cap in whole minor units: rounded down, unless within 1e-6 of the next unit.
long long floor_to_units(double money, MinorUnit unit);
inline double money_of(long long units, MinorUnit unit) {
    return static_cast<double>(units) / unit.per_currency;
}

/// A payer's share as an exact fraction (share as written, e.g. 0.75 = 3/4).
struct ShareFraction {
    long long num = 0;
    long long den = 1;
};
ShareFraction share_fraction(double share);

/// Splits `units` among payers by `shares`: each first gets floor(units × share), and the units
/// left go one each to the largest remainders, ties in payer order. The parts sum to `units`.
/// `parts` must have one entry per share; allocation-free.
void split_units(long long units, const std::vector<ShareFraction>& shares, long long* parts);

}  // namespace sib
