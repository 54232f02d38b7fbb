#include "sib/lanes.hpp"

#include <atomic>
#include <bit>
#include <cstdlib>
#include <cstring>

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

// ---- portable: two 64-lane words at a time --------------------------------------------------

// Two blocks at a time in a 128-bit vector (GNU vector extensions, gcc and clang: SSE2, which
// every x86-64 has, or the like elsewhere); every operation is per 64-bit lane, so the results
// are those of one word at a time.
namespace {

typedef std::uint64_t Pair __attribute__((vector_size(16)));

inline Pair load_pair(const std::uint64_t* p) {
    Pair v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline void store_pair(std::uint64_t* p, Pair v) {
    std::memcpy(p, &v, sizeof v);
}

inline void count_pair(Pair v, std::uint32_t* out) {
    out[0] = static_cast<std::uint32_t>(count_bits(v[0]));
    out[1] = static_cast<std::uint32_t>(count_bits(v[1]));
}

}  // namespace

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
    std::uint64_t* const counters = g.scratch;             // [k * 2]: lanes with more than k paid
    std::uint64_t* const sums = g.scratch + 2 * (np + 1);  // [bit * 2]: bit planes of totals
    const Pair zero = {0, 0};
    for (std::size_t b = 0; b < blocks; b += 2) {  // blocks b and b + 1 (zero masks if not drawn)
        for (std::size_t k = 0; k <= np; ++k) store_pair(counters + 2 * k, zero);
        for (std::size_t j = 0; j < np; ++j) {
            const Pair mask = load_pair(masks + j * B + b);
            count_pair(mask, g.counts + j * B + b);
            if (!paid[j] || k_min > np) continue;
            for (std::size_t k = k_min - 1; k > 0; --k)
                store_pair(counters + 2 * k, load_pair(counters + 2 * k) |
                                                 (load_pair(counters + 2 * (k - 1)) & mask));
            store_pair(counters, load_pair(counters) | mask);
        }
        Pair capped = k_min <= np ? load_pair(counters + 2 * (k_min - 1)) : zero;
        if (prices != nullptr && (capped[0] | capped[1]) != 0) {
            // Exactly who goes over the cap: add each lane's prices in bit planes (ripple carry),
            // then compare with the cap from the most significant plane.
            for (std::size_t bit = 0; bit < sum_bits; ++bit) store_pair(sums + 2 * bit, zero);
            for (std::size_t k = 0; k < rules; ++k) {
                const Pair mask =
                    load_pair(masks + static_cast<std::size_t>(rule_outcome[k]) * B + b) & capped;
                const std::uint64_t price = prices[k];
                Pair carry = zero;
                for (std::size_t bit = 0; bit < sum_bits; ++bit) {
                    const Pair a = load_pair(sums + 2 * bit);
                    if ((price >> bit) & 1) {
                        store_pair(sums + 2 * bit, a ^ mask ^ carry);
                        carry = (a & mask) | (carry & (a ^ mask));
                    } else {
                        store_pair(sums + 2 * bit, a ^ carry);
                        carry = a & carry;
                    }
                }
            }
            Pair above = zero, equal = ~zero;
            for (std::size_t bit = sum_bits; bit-- > 0;) {
                const Pair plane = load_pair(sums + 2 * bit);
                if ((cap >> bit) & 1) {
                    equal &= plane;
                } else {
                    above |= equal & plane;
                    equal &= ~plane;
                }
            }
            capped &= above;
        }
        store_pair(g.capped + b, capped);
        for (std::size_t k = 0; k < rules; ++k)
            count_pair(
                load_pair(masks + static_cast<std::size_t>(rule_outcome[k]) * B + b) & ~capped,
                g.uncapped + k * B + b);
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

// Null until first use; then set once from the environment and the CPU (threads that race there
// compute the same value, and the first to store it wins), or by use_kernel.
std::atomic<Process> current{nullptr};

Process current_process() {
    Process p = current.load(std::memory_order_acquire);
    if (p == nullptr) {
        Process chosen = process_of(default_kernel());
        // Leaves (and returns) what another thread or use_kernel stored in the meantime.
        if (current.compare_exchange_strong(p, chosen, std::memory_order_acq_rel)) p = chosen;
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
