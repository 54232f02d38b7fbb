#include "sib/lanes.hpp"

#include <atomic>
#include <bit>
#include <cstdlib>

#include "sib/rng.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SIBSIM_HAVE_AVX2_KERNEL 1
#include <immintrin.h>
#else
#define SIBSIM_HAVE_AVX2_KERNEL 0
#endif

namespace sib::lanes {

namespace {

constexpr std::size_t B = group_blocks;

}  // namespace

std::uint64_t bernoulli(Stream& rng, double p, std::uint64_t which) {
    if (!(p > 0) || which == 0) return 0;
    if (p >= 1) return which;
    const auto bits = std::bit_cast<std::uint64_t>(p);
    const auto exponent = static_cast<int>(bits >> 52);  // biased; p in (0, 1): sign bit clear
    if (exponent < 1011) return bernoulli_lanes(rng, p, which);
    // p = mantissa × 2^(exponent - 1075), so p × 2^64 = mantissa × 2^(exponent - 1011) < 2^64.
    std::uint64_t rest = ((bits & ((std::uint64_t{1} << 52) - 1)) | (std::uint64_t{1} << 52))
                         << (exponent - 1011);
    Stream local = rng;  // a copy whose address is never taken stays in registers
    std::uint64_t ones = 0, undecided = which;
    do {
        const std::uint64_t r = local();
        const std::uint64_t one = std::uint64_t{0} - (rest >> 63);  // p's next bit, as a mask
        rest <<= 1;
        ones |= undecided & ~r & one;  // p's bit is 1: lanes whose bit is 0 are below p
        undecided &= r ^ ~one;         // lanes whose bit equals p's stay undecided
    } while (undecided != 0 && rest != 0);
    rng = local;
    return ones;  // lanes still undecided equal p's expansion so far, then exceed it
}

// ---- portable: one 64-lane word at a time --------------------------------------------------

void process_portable(const Group& g) {
    // Locals, not g's fields: a store through a uint64_t* could change those as far as the
    // compiler knows, which would reload them at every step.
    const std::uint64_t* const masks = g.masks;
    const char* const paid = g.paid;
    const int* const rule_outcome = g.rule_outcome;
    const std::uint64_t* const prices = g.prices;
    const std::size_t np = g.outcomes, k_min = g.min_achievements, rules = g.rules,
                      sum_bits = g.sum_bits, blocks = g.blocks;
    const std::uint64_t cap = g.cap;
    std::uint64_t* const counters = g.scratch;  // [k]: lanes with more than k paid achievements
    std::uint64_t* const sums = g.scratch + np + 1;  // [bit]: bit planes of the lanes' totals
    for (std::size_t b = 0; b < blocks; ++b) {
        for (std::size_t k = 0; k <= np; ++k) counters[k] = 0;
        for (std::size_t j = 0; j < np; ++j) {
            const std::uint64_t mask = masks[j * B + b];
            g.counts[j * B + b] = static_cast<std::uint32_t>(count_bits(mask));
            if (!paid[j] || k_min > np) continue;
            for (std::size_t k = k_min - 1; k > 0; --k) counters[k] |= counters[k - 1] & mask;
            counters[0] |= mask;
        }
        std::uint64_t capped = k_min <= np ? counters[k_min - 1] : 0;
        if (prices != nullptr && capped != 0) {
            // Exactly who goes over the cap: add each lane's prices in bit planes (ripple carry),
            // then compare with the cap from the most significant plane.
            for (std::size_t bit = 0; bit < sum_bits; ++bit) sums[bit] = 0;
            for (std::size_t k = 0; k < rules; ++k) {
                const std::uint64_t mask =
                    masks[static_cast<std::size_t>(rule_outcome[k]) * B + b] & capped;
                const std::uint64_t price = prices[k];
                std::uint64_t carry = 0;
                for (std::size_t bit = 0; bit < sum_bits; ++bit) {
                    const std::uint64_t a = sums[bit];
                    const std::uint64_t addend = (price >> bit) & 1 ? mask : 0;
                    sums[bit] = a ^ addend ^ carry;
                    carry = (a & addend) | (carry & (a ^ addend));
                }
            }
            std::uint64_t above = 0, equal = ~std::uint64_t{0};
            for (std::size_t bit = sum_bits; bit-- > 0;) {
                if ((cap >> bit) & 1) {
                    equal &= sums[bit];
                } else {
                    above |= equal & sums[bit];
                    equal &= ~sums[bit];
                }
            }
            capped &= above;
        }
        g.capped[b] = capped;
        for (std::size_t k = 0; k < rules; ++k)
            g.uncapped[k * B + b] = static_cast<std::uint32_t>(
                count_bits(masks[static_cast<std::size_t>(rule_outcome[k]) * B + b] & ~capped));
    }
}

// ---- AVX2: the four blocks at once in one 256-bit word ---------------------------------------

#if SIBSIM_HAVE_AVX2_KERNEL

namespace {

// Only intrinsics and plain arithmetic below, in functions of this file: no inline function of a
// header is compiled for AVX2 here, so the linker can never pick an AVX2 copy of one for the
// portable code.
#define SIBSIM_AVX2 __attribute__((target("avx2,popcnt")))

SIBSIM_AVX2 inline __m256i load(const std::uint64_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

SIBSIM_AVX2 inline void store(std::uint64_t* p, __m256i v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
}

SIBSIM_AVX2 inline void popcounts(__m256i v, std::uint32_t* out) {
    alignas(32) std::uint64_t w[B];
    _mm256_store_si256(reinterpret_cast<__m256i*>(w), v);
    for (std::size_t b = 0; b < B; ++b) out[b] = static_cast<std::uint32_t>(_mm_popcnt_u64(w[b]));
}

}  // namespace

SIBSIM_AVX2 void process_avx2(const Group& g) {
    // Locals, as in process_portable (__m256i stores may alias anything).
    const std::uint64_t* const masks = g.masks;
    const char* const paid = g.paid;
    const int* const rule_outcome = g.rule_outcome;
    const std::uint64_t* const prices = g.prices;
    const std::size_t np = g.outcomes, k_min = g.min_achievements, rules = g.rules,
                      sum_bits = g.sum_bits;
    const std::uint64_t cap = g.cap;
    std::uint32_t* const counts = g.counts;
    std::uint32_t* const uncapped = g.uncapped;
    const __m256i zero = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi64x(-1);
    std::uint64_t* counters = g.scratch;
    std::uint64_t* sums = g.scratch + (np + 1) * B;
    for (std::size_t k = 0; k <= np; ++k) store(counters + k * B, zero);
    for (std::size_t j = 0; j < np; ++j) {
        const __m256i mask = load(masks + j * B);
        popcounts(mask, counts + j * B);
        if (!paid[j] || k_min > np) continue;
        for (std::size_t k = k_min - 1; k > 0; --k)
            store(counters + k * B,
                  _mm256_or_si256(load(counters + k * B),
                                  _mm256_and_si256(load(counters + (k - 1) * B), mask)));
        store(counters, _mm256_or_si256(load(counters), mask));
    }
    __m256i capped = k_min <= np ? load(counters + (k_min - 1) * B) : zero;
    if (prices != nullptr && !_mm256_testz_si256(capped, capped)) {
        for (std::size_t bit = 0; bit < sum_bits; ++bit) store(sums + bit * B, zero);
        for (std::size_t k = 0; k < rules; ++k) {
            const __m256i mask = _mm256_and_si256(
                load(masks + static_cast<std::size_t>(rule_outcome[k]) * B), capped);
            const std::uint64_t price = prices[k];
            __m256i carry = zero;
            for (std::size_t bit = 0; bit < sum_bits; ++bit) {
                const __m256i a = load(sums + bit * B);
                if ((price >> bit) & 1) {
                    const __m256i half = _mm256_xor_si256(a, mask);
                    store(sums + bit * B, _mm256_xor_si256(half, carry));
                    carry =
                        _mm256_or_si256(_mm256_and_si256(a, mask), _mm256_and_si256(carry, half));
                } else {
                    store(sums + bit * B, _mm256_xor_si256(a, carry));
                    carry = _mm256_and_si256(a, carry);
                }
            }
        }
        __m256i above = zero, equal = ones;
        for (std::size_t bit = sum_bits; bit-- > 0;) {
            const __m256i plane = load(sums + bit * B);
            if ((cap >> bit) & 1) {
                equal = _mm256_and_si256(equal, plane);
            } else {
                above = _mm256_or_si256(above, _mm256_and_si256(equal, plane));
                equal = _mm256_andnot_si256(plane, equal);
            }
        }
        capped = _mm256_and_si256(capped, above);
    }
    store(g.capped, capped);
    for (std::size_t k = 0; k < rules; ++k)
        popcounts(_mm256_andnot_si256(capped,
                                      load(masks + static_cast<std::size_t>(rule_outcome[k]) * B)),
                  uncapped + k * B);
}

bool avx2_available() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
}

#else

void process_avx2(const Group& g) {
    process_portable(g);
}

bool avx2_available() {
    return false;
}

#endif

// ---- the choice, once ------------------------------------------------------------------------

namespace {

using Process = void (*)(const Group&);

Kernel default_kernel() {
    const char* no = std::getenv("SIBSIM_NO_AVX2");
    const bool forced_portable = no != nullptr && no[0] != '\0' && !(no[0] == '0' && no[1] == 0);
    return !forced_portable && avx2_available() ? Kernel::avx2 : Kernel::portable;
}

Process process_of(Kernel k) {
    return k == Kernel::avx2 ? &process_avx2 : &process_portable;
}

// Null until first use; set once from the environment and the CPU (every thread that races there
// computes the same value), or by use_kernel.
std::atomic<Process> current{nullptr};

Process current_process() {
    Process p = current.load(std::memory_order_acquire);
    if (p == nullptr) {
        p = process_of(default_kernel());
        current.store(p, std::memory_order_release);
    }
    return p;
}

}  // namespace

Kernel kernel() {
    return current_process() == &process_avx2 ? Kernel::avx2 : Kernel::portable;
}

bool use_kernel(Kernel k) {
    if (k == Kernel::avx2 && !avx2_available()) return false;
    current.store(process_of(k), std::memory_order_release);
    return true;
}

void process(const Group& group) {
    current_process()(group);
}

}  // namespace sib::lanes
