#pragma once
// Per-trial random streams and samplers. A stream is determined by (seed, trial, stream key) only,
// so results never depend on thread count or processing order (docs/model.md). Stream keys are
// hashes of names (hash("cohort:c") ^ hash("outcome:o") for a cohort's draws of an outcome), so
// two scenarios that share a name share its random numbers: `compare` and `sweep` get common
// random numbers for free.
#include <cstdint>
#include <limits>
#include <string_view>

#include <cmath>

#include <boost/random/binomial_distribution.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/poisson_distribution.hpp>

namespace sib {

/// SplitMix64 step: a strong 64-bit mixer (Steele, Lea, Flood 2014).
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// FNV-1a hash of a name, for stream keys; fixed across platforms and runs.
constexpr std::uint64_t stream_key(std::string_view name) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : name) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

/// xoshiro256++ (Blackman and Vigna), seeded through SplitMix64 from (seed, trial, key).
/// Satisfies UniformRandomBitGenerator, so Boost.Random's distributions take it directly.
class Stream {
  public:
    using result_type = std::uint64_t;

    Stream(std::uint64_t seed, std::uint64_t trial, std::uint64_t key) {
        std::uint64_t mix = seed;
        std::uint64_t h = splitmix64(mix);
        mix = h ^ trial;
        h = splitmix64(mix);
        mix = h ^ key;
        for (auto& word : s_) word = splitmix64(mix);
    }

    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

    result_type operator()() {
        const std::uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    /// Uniform on the open interval (0, 1): never 0 or 1, so quantile functions stay finite.
    double uniform() { return (static_cast<double>((*this)() >> 11) + 0.5) * 0x1.0p-53; }

  private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) {
        return (x << k) | (x >> (64 - k));
    }
    std::uint64_t s_[4];
};

/// Binomial(n, p) successes; p clamped to [0, 1].
inline long long sample_binomial(Stream& rng, long long n, double p) {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    return boost::random::binomial_distribution<long long, double>(n, p)(rng);
}

/// Poisson(mean) events.
inline long long sample_poisson(Stream& rng, double mean) {
    if (!(mean > 0)) return 0;
    return boost::random::poisson_distribution<long long, double>(mean)(rng);
}

/// Number of set bits (SWAR): x86-64's baseline has no popcnt instruction, and libgcc's
/// fallback is a function call.
constexpr int count_bits(std::uint64_t x) {
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return static_cast<int>((x * 0x0101010101010101ULL) >> 56);
}

/// Independent Bernoulli(p) draws for the lanes (bits) set in `lanes`, 64 at a time: lane i is
/// 1 when its uniform number, read bit by bit from the most significant, falls below p's binary
/// expansion. Each step decides about half the undecided lanes, so a few random words serve all
/// 64 (fewer when few lanes are asked for, as for the followers of a rare outcome); the comparison
/// runs through every bit of p (a double is a finite binary fraction), so P(lane = 1) = p exactly.
inline std::uint64_t bernoulli_lanes(Stream& rng, double p,
                                     std::uint64_t lanes = ~std::uint64_t{0}) {
    if (!(p > 0) || lanes == 0) return 0;
    if (p >= 1) return lanes;
    std::uint64_t ones = 0, undecided = lanes;
    double rest = p;  // the bits of p not yet compared, scaled to [0, 1)
    while (undecided != 0 && rest > 0) {
        rest *= 2;
        const std::uint64_t r = rng();
        if (rest >= 1) {  // p's bit is 1: lanes whose bit is 0 are below p
            rest -= 1;
            ones |= undecided & ~r;
            undecided &= r;
        } else {  // p's bit is 0: lanes whose bit is 1 are above p
            undecided &= ~r;
        }
    }
    return ones;  // lanes still undecided equal p's expansion so far, then exceed it
}

/// Standard normal by Boost's ziggurat (exact; a few nanoseconds).
inline double sample_standard_normal(Stream& rng) {
    return boost::random::normal_distribution<double>()(rng);
}

/// Gamma(shape, scale) by Marsaglia and Tsang (2000): exact rejection from a transformed normal,
/// with a squeeze that avoids the logarithm in about 98% of draws. Shapes below 1 use
/// Gamma(shape + 1) × U^(1/shape). Several times faster than Boost 1.74's tangent-based sampler.
inline double sample_gamma(Stream& rng, double shape, double scale) {
    double boost_small = 1.0;
    if (shape < 1.0) {
        boost_small = std::pow(rng.uniform(), 1.0 / shape);
        shape += 1.0;
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = sample_standard_normal(rng);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        const double u = rng.uniform();
        const double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2 || std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v)))
            return d * v * scale * boost_small;
    }
}

/// Total events of `members` people, each with mean `mean` and variance dispersion × mean:
/// Poisson when dispersion is 1, else negative binomial drawn as a gamma-Poisson mixture (the sum
/// of independent negative binomials with equal success probability is negative binomial, so the
/// aggregate draw is exact).
inline long long sample_count_total(Stream& rng, long long members, double mean,
                                    double dispersion) {
    if (members <= 0 || !(mean > 0)) return 0;
    const double total_mean = static_cast<double>(members) * mean;
    if (dispersion <= 1.0) return sample_poisson(rng, total_mean);
    const double scale = dispersion - 1.0;    // gamma scale θ; NB variance μ(1 + θ)
    const double shape = total_mean / scale;  // Σ of members' shapes r = mean / θ
    const double lambda = sample_gamma(rng, shape, scale);
    return sample_poisson(rng, lambda);
}

}  // namespace sib
