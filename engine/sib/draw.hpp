#pragma once
// draw: one trial's random part. Parameters through the copula, cohort sizes, every
// participant's outcomes (in exact aggregates, or participant by participant under a
// per-participant cap) and the comparison groups, into Outcomes. Works in DrawScratch buffers
// sized once per plan: allocation-free and throws nothing.
#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "sib/outcomes.hpp"
#include "sib/plan.hpp"

namespace sib {

/// Working space of the draws; reused across trials.
struct DrawScratch {
    std::vector<double> uniforms;        ///< per parameter
    std::vector<double> copula_normals;  ///< per correlated parameter
    std::vector<double> values;          ///< per parameter: the drawn value
    std::vector<double> mean;  ///< [c*O+o] participants' mean (binary: probability, given the
                               ///< leader for followers)
    /// [c*O+o] probability for participants without the leader (`rate_without`); 0 otherwise
    std::vector<double> mean_without;
    std::vector<double> pattern_probability;
    std::vector<long long> individual;    ///< individuals mode: one participant's outcomes
    std::vector<double> joint_normals;    ///< per Plan::joint_outcomes: independent normals
    std::vector<double> joint_latent;     ///< the same through the Cholesky factor (correlated)
    std::vector<double> joint_threshold;  ///< Φ⁻¹(probability): achieved when latent is below
    std::vector<std::uint64_t> joint_masks;  ///< bit-sliced draws: per joint outcome, 64 lanes
    /// Bit-sliced draws, a group of lanes::group_blocks blocks of 64 lanes (sib/lanes.hpp):
    std::vector<std::uint64_t> lane_masks;     ///< [j * 4 + block]: pattern outcome j's lanes
    std::vector<std::uint64_t> lane_scratch;   ///< the kernel's counters and bit planes
    std::vector<std::uint64_t> lane_capped;    ///< [block]: lanes over the cap
    std::vector<std::uint32_t> lane_counts;    ///< [j * 4 + block]: achievers of outcome j
    std::vector<std::uint32_t> lane_uncapped;  ///< [k * 4 + block]: rule k's, not capped
    std::vector<double> capped_due;            ///< per capped rate-card rule, one batch
    /// Set by a caller that can be interrupted: draws that go participant by participant stop
    /// early when it becomes true (the trial's results are then meaningless and discarded).
    const std::atomic<bool>* cancel = nullptr;

    explicit DrawScratch(const Plan& plan);
};

/// From the parameter values in `scratch.values`: participants' mean (into `scratch.mean`) and
/// the no-intervention mean (into `outcomes.base`) of every (cohort, outcome).
void resolve_means(const Plan& plan, DrawScratch& scratch, Outcomes& outcomes);

/// Adds the rate-card achievements of cohort `c` from its batch counts to
/// `outcomes.rate_card_units`, each due in period enrol + observed_after + payment_lag.
void add_rate_card_units(const Plan& plan, int c, Outcomes& outcomes);

/// The draws of trial `trial`: everything in `outcomes`, from the streams of (seed, trial).
void draw(const Plan& plan, std::uint64_t trial, DrawScratch& scratch, Outcomes& outcomes);

/// A parameter held at the value of its quantile at `uniform` (sensitivity analysis).
struct FixedUniform {
    int parameter = 0;     ///< index into Plan::parameters
    double uniform = 0.5;  ///< in (0, 1)
};

/// As draw(), except that each parameter in `fixed` takes its quantile at the given uniform. The
/// trial's streams are drawn as draw() draws them, so every other parameter, the participants'
/// outcomes and the comparison groups are trial `trial`'s own (common random numbers). The
/// others keep their draw through the copula, so they are drawn from their marginals, not
/// conditionally on the fixed ones. draw() itself is untouched by this (same numbers, same speed).
void draw_fixing(const Plan& plan, std::uint64_t trial, std::span<const FixedUniform> fixed,
                 DrawScratch& scratch, Outcomes& outcomes);

}  // namespace sib
