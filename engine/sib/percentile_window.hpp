#pragma once
// run --precision METRIC.pP=ABS: a percentile's distribution-free 95% confidence interval from
// order statistics of a growing prefix of trials, kept up to date block by block without
// re-sorting the prefix (docs/model.md §11).
#include <cstddef>
#include <functional>
#include <queue>
#include <span>
#include <vector>

namespace sib {

/// The ranks (1-based, within 1..n) of the order statistics bounding the 95% interval of the
/// p-quantile of n values: lo = floor(n·p − z·√(n·p·(1−p))), hi = ceil(n·p + z·√(n·p·(1−p))),
/// z = z95.
struct IntervalRanks {
    std::size_t lo = 1, hi = 1;
};
IntervalRanks interval_ranks(double p, std::size_t n);

/// A percentile, its 95% interval's ends x_(lo) and x_(hi), in the metric's unit.
struct PercentileInterval {
    double value = 0;  ///< the nearest-rank percentile of the prefix (as summary.csv gives it)
    double lower = 0, upper = 0;
    double half_width() const { return (upper - lower) / 2; }
};

/// The values seen so far split in three: a max-heap of those below rank lo, a sorted middle
/// holding ranks lo..hi (about 4·√(n·p·(1−p)) values), a min-heap of those above rank hi. Each
/// value added costs O(log n) in a heap or a short move in the middle; rebalancing after a block
/// moves about as many values as the block has. 8 bytes a value seen.
class PercentileWindow {
  public:
    explicit PercentileWindow(double p) : p_(p) {}

    /// Takes in one block's values (any order), then moves values between the three parts so
    /// that the middle holds exactly ranks lo..hi of every value seen.
    void add(std::span<const double> values);

    /// Values seen so far.
    std::size_t count() const { return below_.size() + middle_.size() + above_.size(); }

    /// The interval of the values seen (all zero before any).
    PercentileInterval interval() const;

  private:
    double p_;
    std::priority_queue<double> below_;                                             ///< ranks < lo
    std::vector<double> middle_;                                                    ///< sorted
    std::priority_queue<double, std::vector<double>, std::greater<double>> above_;  ///< > hi
};

}  // namespace sib
