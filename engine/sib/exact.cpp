#include "sib/exact.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace sib {

namespace {

int128 abs128(int128 x) {
    return x < 0 ? -x : x;
}

int128 gcd128(int128 a, int128 b) {
    a = abs128(a);
    b = abs128(b);
    while (b != 0) {
        const int128 r = a % b;
        a = b;
        b = r;
    }
    return a;
}

Ratio reduced(int128 num, int128 den) {
    if (den < 0) {
        num = -num;
        den = -den;
    }
    const int128 g = gcd128(num, den);
    if (g > 1) {
        num /= g;
        den /= g;
    }
    return {num, den, true};
}

Ratio inexact() {
    return {0, 1, false};
}

bool mul(int128 a, int128 b, int128& out) {
    return !__builtin_mul_overflow(a, b, &out);
}

}  // namespace

Ratio ratio_of_integer(long long n) {
    return {n, 1, true};
}

Ratio decimal_of(double x) {
    if (!std::isfinite(x)) return inexact();
    char buf[64];
    const auto result = std::to_chars(buf, buf + sizeof buf, x);
    const char* p = buf;
    bool negative = false;
    if (p < result.ptr && *p == '-') {
        negative = true;
        ++p;
    }
    int128 digits = 0;
    int scale = 0;  // value = digits × 10^scale
    bool fraction = false;
    for (; p < result.ptr && *p != 'e'; ++p) {
        if (*p == '.') {
            fraction = true;
            continue;
        }
        digits = digits * 10 + (*p - '0');
        if (fraction) --scale;
    }
    if (p < result.ptr && *p == 'e') scale += std::atoi(p + 1);
    if (negative) digits = -digits;
    int128 den = 1;
    for (; scale > 0; --scale)
        if (!mul(digits, 10, digits)) return inexact();
    for (; scale < 0; ++scale)
        if (!mul(den, 10, den)) return inexact();
    return reduced(digits, den);
}

Ratio operator+(const Ratio& a, const Ratio& b) {
    if (!a.exact || !b.exact) return inexact();
    int128 x, y, den;
    if (!mul(a.num, b.den, x) || !mul(b.num, a.den, y) || !mul(a.den, b.den, den)) return inexact();
    int128 num;
    if (__builtin_add_overflow(x, y, &num)) return inexact();
    return reduced(num, den);
}

Ratio operator-(const Ratio& a, const Ratio& b) {
    return a + Ratio{-b.num, b.den, b.exact};
}

Ratio operator*(const Ratio& a, const Ratio& b) {
    if (!a.exact || !b.exact) return inexact();
    int128 num, den;
    if (!mul(a.num, b.num, num) || !mul(a.den, b.den, den)) return inexact();
    return reduced(num, den);
}

Ratio operator/(const Ratio& a, const Ratio& b) {
    if (!a.exact || !b.exact || b.num == 0) return inexact();
    return a * Ratio{b.den, b.num, true};
}

int compare(const Ratio& a, const Ratio& b) {
    const Ratio d = a - b;
    if (!d.exact) {
        const long double x = to_long_double(a), y = to_long_double(b);
        return x < y ? -1 : x > y ? 1 : 0;
    }
    return d.num < 0 ? -1 : d.num > 0 ? 1 : 0;
}

long double to_long_double(const Ratio& r) {
    return static_cast<long double>(r.num) / static_cast<long double>(r.den);
}

namespace {
/// How far (in minor units) a double may sit from a whole or half unit and still be read as it:
/// far above the error of a few double operations on amounts up to 1e13 units, far below the
/// finest step a written decimal with six places below the minor unit can make.
double snap_tolerance(double x) {
    return std::max(1e-6, std::abs(x) * 1e-15);
}
}  // namespace

long long round_to_units(double money, MinorUnit unit) {
    const double x = money * unit.per_currency;
    const double nearest = std::round(x);
    const double tolerance = snap_tolerance(x);
    if (std::abs(x - nearest) <= tolerance) return static_cast<long long>(nearest);
    const double below = std::floor(x);
    if (std::abs(x - (below + 0.5)) <= tolerance)
        return static_cast<long long>(x > 0 ? below + 1 : below);  // a half: away from zero
    return static_cast<long long>(nearest);
}

long long floor_to_units(double money, MinorUnit unit) {
    const double x = money * unit.per_currency;
    const double nearest = std::round(x);
    if (std::abs(x - nearest) <= snap_tolerance(x)) return static_cast<long long>(nearest);
    return static_cast<long long>(std::floor(x));
}

ShareFraction share_fraction(double share) {
    const Ratio r = decimal_of(share);
    if (!r.exact || r.den > static_cast<int128>(1000000000000000000LL)) {
        // More digits than any share is written with: the nearest fraction over 10^15.
        const long long den = 1000000000000000LL;
        return {std::llround(share * static_cast<double>(den)), den};
    }
    return {static_cast<long long>(r.num), static_cast<long long>(r.den)};
}

namespace {
/// units × share as a whole part and a remainder over the share's denominator; 64-bit arithmetic
/// unless the product overflows it (amounts beyond 9e18 / numerator minor units).
struct Division {
    long long whole, remainder;
};
Division divide(long long units, const ShareFraction& share) {
    long long product = 0;
    if (!__builtin_mul_overflow(units, share.num, &product))
        return {product / share.den, product % share.den};
    const int128 wide = static_cast<int128>(units) * share.num;
    return {static_cast<long long>(wide / share.den), static_cast<long long>(wide % share.den)};
}
}  // namespace

void split_units(long long units, const std::vector<ShareFraction>& shares, long long* parts) {
    const std::size_t n = shares.size();
    if (n == 1 && shares[0].num == shares[0].den) {  // one payer pays all: the common case
        parts[0] = units;
        return;
    }
    long long left = units;
    for (std::size_t i = 0; i < n; ++i) {
        parts[i] = divide(units, shares[i]).whole;
        left -= parts[i];
    }
    if (left <= 0) return;
    // The remainder of payer i is (units × num_i mod den_i) / den_i. Units left go to payers in
    // order of remainder (largest first, ties in payer order), one each: the k-th pick is the
    // best payer strictly after the (k-1)-th in that order, so nothing needs marking.
    auto remainder_above = [&](std::size_t i, std::size_t j) {  // i before j in the order
        const int128 lhs = static_cast<int128>(divide(units, shares[i]).remainder) * shares[j].den;
        const int128 rhs = static_cast<int128>(divide(units, shares[j]).remainder) * shares[i].den;
        return lhs > rhs || (lhs == rhs && i < j);
    };
    std::size_t previous = n;  // none yet
    for (; left > 0 && n > 0; --left) {
        std::size_t best = n;
        for (std::size_t i = 0; i < n; ++i) {
            if (previous < n && !remainder_above(previous, i)) continue;
            if (best == n || remainder_above(i, best)) best = i;
        }
        if (best == n) break;  // shares sum below 1: cannot happen after validation
        ++parts[best];
        previous = best;
    }
}

}  // namespace sib
