#pragma once
// Mergeable statistics accumulators (STYLE habit 8): each is a value with add() and merge().
// Blocks of trials fill their own accumulators, which are merged in block order, so results do
// not depend on the thread count.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "sib/bulk_memory.hpp"

namespace sib {

/// Count, mean, sum of squared deviations, min and max, by Welford's update and Chan et al.'s
/// pairwise merge (numerically stable; no sums of squares). Empty: everything 0.
struct Moments {
    long long count = 0;
    double mean = 0.0;
    double m2 = 0.0;   ///< Σ (x − mean)²
    double min = 0.0;  ///< smallest value added; 0 while empty
    double max = 0.0;  ///< largest value added; 0 while empty

    /// Adds one finite value (asserted).
    void add(double x);
    /// The moments of a whole batch of values, by two passes (mean, then squared deviations):
    /// as stable as Welford and several times faster, with no division per value.
    static Moments of(std::span<const double> values);
    /// Adds every value `other` has seen. The result depends (in the last bits) on the order of
    /// merges, so callers merge in a fixed order.
    void merge(const Moments& other);
    /// Sample variance, divisor n − 1; 0 when n < 2.
    double variance() const;
    /// Sample standard deviation, sqrt(variance()).
    double sd() const;
    /// Standard error of the mean, sd() / sqrt(n); 0 when n < 1.
    double se() const;
};

/// The probabilities of the summary's quantile columns: p5, p25, p50, p75, p95.
inline constexpr std::array<double, 5> kSummaryProbabilities = {0.05, 0.25, 0.50, 0.75, 0.95};

/// 1-based nearest rank ⌈p·n⌉, clamped to [1, n] (n ≥ 1, 0 ≤ p ≤ 1). The ceiling is taken with
/// a tolerance of 1e-9 + 1e-12·p·n, so that products that are whole in exact arithmetic but not
/// in floating point (0.05·100 might come out as 5.000000000000001) are not pushed up a rank.
std::size_t nearest_rank(double p, std::size_t n);

/// Nearest-rank quantiles of `values` at increasing `probabilities`, into `out` (same length),
/// by std::nth_element: the middle probability first, then each side within its own part, so
/// five quantiles cost about 2.5 passes over the values and no sort. Reorders `values`.
/// Empty → zeros.
void select_nearest_ranks(std::span<double> values, std::span<const double> probabilities,
                          std::span<double> out);

/// The same nearest-rank quantiles without reordering `values`, in one read pass when there are
/// many: a sorted stride sample of 16,384 values gives, around each wanted rank, two boundary
/// values that bracket it with a margin of five standard deviations of the sample rank. One
/// pass counts the values below, equal to and between the boundaries and copies the values
/// inside the brackets (about 15% of them for the five summary quantiles) into `scratch`; each
/// rank is then found by its counts: on a boundary, or by std::nth_element within its bracket's
/// few values. When a bracket misses its rank (values ordered against the stride), or with few
/// values, it falls back to select_nearest_ranks on a copy. The results are the same as
/// select_nearest_ranks' (the value at a rank is unique).
void select_nearest_ranks_kept(std::span<const double> values,
                               std::span<const double> probabilities, std::span<double> out,
                               std::vector<double>& scratch);

/// Brackets around nearest ranks, placed from a sample of the values (docs/model.md, section 11):
/// for each wanted probability, the sample values five standard deviations of the sample rank
/// (plus 8 places) below and above its rank's place in the sorted sample. Their values, the
/// boundaries, cut the line into regions: region 2i lies strictly between boundaries i − 1 and i
/// (open at the ends), region 2i + 1 is boundary i itself. A RankTally that counts every value's
/// region, and keeps the values of the regions inside a bracket, then finds each rank exactly,
/// unless the sample was unlike the values (a rank in a region whose values were not kept:
/// about once in a million brackets for values in random order), which select() reports.
struct RankBrackets {
    /// Two per probability: at most 24 (the summary's five and up to 16 of run --percentiles).
    static constexpr std::size_t max_boundaries = 48;
    static constexpr std::size_t max_regions = 2 * max_boundaries + 1;
    std::array<double, max_boundaries> boundary{};  ///< increasing; the first `boundaries` used
    std::size_t boundaries = 0;
    std::array<bool, max_regions> keep{};  ///< the region's values are kept (inside a bracket)
    /// Values the sample puts in each region, scaled to the whole (a reservation hint).
    std::array<std::size_t, max_regions> expected{};

    /// From `sorted`, a non-empty sample in increasing order of `total` values, around the
    /// nearest ranks of increasing `probabilities` (at most 24). `width_scale` scales every
    /// half-width: 1 normally; tests pass 0 to make brackets miss.
    static RankBrackets around(std::span<const double> sorted, std::size_t total,
                               std::span<const double> probabilities, double width_scale = 1.0);
    std::size_t regions() const { return 2 * boundaries + 1; }
    /// The region of x: a count of comparisons, with no branch on the value.
    std::size_t region_of(double x) const {
        std::size_t r = 0;
        for (std::size_t i = 0; i < boundaries; ++i)
            r += static_cast<std::size_t>(boundary[i] < x) +
                 static_cast<std::size_t>(boundary[i] <= x);
        return r;
    }
};

/// How many values fell in each region of a RankBrackets, and the values of its kept regions.
/// Every value is written at the end of `kept` with its region, and `used` grows only when the
/// region is kept, so tallying has no branch on the values. Tallies of disjoint parts merge by
/// adding counts and joining values; the order of values never matters (select finds order
/// statistics).
struct RankTally {
    std::array<std::size_t, RankBrackets::max_regions> count{};
    /// The first `used`: values of kept regions (uninitialised beyond: bulk_memory.hpp).
    std::vector<double, BulkAllocator<double>> kept;
    std::vector<std::uint8_t, BulkAllocator<std::uint8_t>> kept_region;  ///< the region of each
    std::size_t used = 0;

    /// Makes room for `share` times the expected values of every kept region.
    void reserve(const RankBrackets& brackets, double share);
    void add(const RankBrackets& brackets, std::span<const double> values);
    void merge(const RankTally& other);
    /// The nearest-rank quantiles of every value tallied at increasing `probabilities`; false
    /// when a rank falls in a region whose values were not kept (`out` is then incomplete).
    /// Reorders the kept values; `scratch` holds them grouped by region.
    bool select(const RankBrackets& brackets, std::span<const double> probabilities,
                std::span<double> out, std::vector<double>& scratch);

    /// `brackets` keeping also every region a rank of `probabilities` falls in: a tally of the
    /// same values with them always selects.
    RankBrackets widened(const RankBrackets& brackets, std::span<const double> probabilities) const;

  private:
    void ensure_room(std::size_t more);
    /// The region holding 0-based `rank` of all values tallied, and the rank within it.
    std::pair<std::size_t, std::size_t> place_of_rank(std::size_t rank) const;
};

/// Every trial's value of one metric, in trial order (uninitialised until written; huge pages:
/// bulk_memory.hpp).
using TrialValues = BulkDoubles;

/// Quantiles beyond the trial counts whose values are kept: a deterministic, mergeable sketch
/// (multi-level compaction after Manku, Rajagopalan and Lindsay 1998). Level h holds values that
/// each stand for 2^h trials; when a level holds 2b values it is sorted and every other value
/// (alternately the odd and the even ones) moves up a level. Each compaction moves any rank by at
/// most one weight, so after N values over L levels the rank error is at most N·L/(2b): with
/// b = 16384 and N up to 10^9 (L ≤ 16), under 0.05%. Values must be added in a fixed order
/// (the run adds blocks in block order), which makes the result reproducible.
class QuantileSketch {
  public:
    static constexpr std::size_t half_capacity = 16384;  ///< b

    /// Adds a run of values sorted in increasing order (callers sort outside any lock; the sketch
    /// then only merges sorted runs).
    void add_sorted(std::span<const double> values);
    /// Nearest-rank quantiles at increasing probabilities over all values added.
    void quantiles(std::span<const double> probabilities, std::span<double> out) const;
    long long count() const { return count_; }

  private:
    void compact(std::size_t level);
    void append_run(std::size_t level, std::span<const double> run);
    std::vector<std::vector<double>> levels_;
    std::vector<std::vector<std::size_t>> run_ends_;  ///< per level: ends of its sorted runs
    std::vector<char> odd_;  ///< per level: which half the next compaction keeps
    long long count_ = 0;
};

}  // namespace sib
