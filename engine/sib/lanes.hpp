#pragma once
// lanes: the bookkeeping of bit-sliced participant draws (draw.cpp, per-participant cap), four
// blocks of 64 participants ("a group", 256 lanes) at a time: counts per outcome, the lanes with
// enough paid achievements to reach the cap, their exact totals in bit planes and the comparison
// with the cap. Two kernels give identical results: a portable one (two blocks at a time in GNU
// vector extensions: SSE2 on baseline x86-64, any machine gcc or clang builds for) and an AVX2
// one (all four in a 256-bit word, hardware popcount), chosen once at run time when the machine
// has AVX2; `SIBSIM_NO_AVX2=1` in the environment forces the portable one. The kernels
// consume no random numbers: the draws stay in draw.cpp, in the same order either way.
#include <cstddef>
#include <cstdint>

#include "sib/rng.hpp"

namespace sib::lanes {

/// Bernoulli(p) draws for the lanes (bits) in `which`, identical to sib::bernoulli_lanes (rng.hpp):
/// the same random words, as many, and the same lanes set. p's binary expansion is read from a
/// 64-bit fixed-point copy instead of by doubling a double, and p's bit selects by mask instead of
/// by a branch (p's bits made that branch unpredictable). For p below 2^-12, whose 53 bits do not
/// all fit in 64, bernoulli_lanes itself.
/// Not inline: in a function of its own, the loop keeps the stream's state in registers (in
/// the large draw loop it spilled to the stack at every step).
std::uint64_t bernoulli(Stream& rng, double p, std::uint64_t which);

inline constexpr std::size_t group_blocks = 4;  ///< blocks of 64 lanes in a group

/// One group after its draws. Every array is indexed [item * group_blocks + block]; blocks
/// beyond the last one drawn hold zero masks.
struct Group {
    // in
    const std::uint64_t* masks;    ///< [j * 4 + b]: pattern outcome j's achievers in block b
    std::size_t blocks;            ///< blocks drawn, 1 to 4 (the portable kernel skips a pair)
    std::size_t outcomes;          ///< pattern outcomes
    const char* paid;              ///< per pattern outcome: a capped rate card pays for it
    std::size_t min_achievements;  ///< fewest paid achievements that can reach the cap
    const int* rule_outcome;       ///< per capped rule: its pattern outcome
    std::size_t rules;             ///< capped rules
    const std::uint64_t* prices;   ///< per capped rule: price in whole units; null: no exact test
    std::uint64_t cap;             ///< the cap in those units
    std::size_t sum_bits;          ///< bit planes of a participant's total
    // working space: (outcomes + 1 + sum_bits) * 4 words
    std::uint64_t* scratch;
    // out
    std::uint64_t* capped;    ///< [b]: lanes over the cap (or, without prices, that may be)
    std::uint32_t* counts;    ///< [j * 4 + b]: achievers of outcome j in block b
    std::uint32_t* uncapped;  ///< [k * 4 + b]: achievers of rule k's outcome not in capped[b]
};

/// Words of working space a group needs.
constexpr std::size_t scratch_words(std::size_t outcomes, std::size_t sum_bits) {
    return (outcomes + 1 + sum_bits) * group_blocks;
}

enum class Kernel { portable, avx2 };

/// Whether this machine (and its operating system) runs AVX2 and popcnt.
bool avx2_available();

/// The kernel in use: AVX2 where available unless SIBSIM_NO_AVX2 is set (and not "0" or empty),
/// decided at first use; or what `use_kernel` last chose.
Kernel kernel();

/// Chooses the kernel (tests and benchmarks; not while trials run). Returns false, and keeps the
/// current kernel, when asked for AVX2 on a machine without it.
bool use_kernel(Kernel k);

/// The group's bookkeeping with the kernel in use.
void process(const Group& group);

/// Each kernel directly (`process_avx2` only where avx2_available()).
void process_portable(const Group& group);
void process_avx2(const Group& group);

}  // namespace sib::lanes
