#include "sib/percentile_window.hpp"

#include <algorithm>
#include <cmath>

#include "sib/diagnostics.hpp"
#include "sib/run.hpp"
#include "sib/stats.hpp"

namespace sib {

IntervalRanks interval_ranks(double p, std::size_t n) {
    SIB_ASSERT(n >= 1 && p > 0 && p < 1);
    const double np = static_cast<double>(n) * p;
    const double spread = z95 * std::sqrt(np * (1 - p));
    const double last = static_cast<double>(n);
    const double lo = std::clamp(std::floor(np - spread), 1.0, last);
    const double hi = std::clamp(std::ceil(np + spread), 1.0, last);
    return {static_cast<std::size_t>(lo), static_cast<std::size_t>(hi)};
}

void PercentileWindow::add(std::span<const double> values) {
    for (double x : values) {
        if (!below_.empty() && x < below_.top()) {
            below_.push(x);
        } else if (!above_.empty() && x > above_.top()) {
            above_.push(x);
        } else {
            middle_.insert(std::upper_bound(middle_.begin(), middle_.end(), x), x);
        }
    }
    const std::size_t n = count();
    if (n == 0) return;
    const IntervalRanks r = interval_ranks(p_, n);
    // Ranks below lo to the max-heap, ranks above hi to the min-heap; every value of `below_` is
    // at most every value of `middle_`, which are at most every value of `above_`.
    while (below_.size() > r.lo - 1) {
        middle_.insert(middle_.begin(), below_.top());
        below_.pop();
    }
    while (below_.size() < r.lo - 1) {
        if (middle_.empty()) {
            middle_.push_back(above_.top());
            above_.pop();
        }
        below_.push(middle_.front());
        middle_.erase(middle_.begin());
    }
    while (above_.size() > n - r.hi) {
        middle_.push_back(above_.top());
        above_.pop();
    }
    while (above_.size() < n - r.hi) {
        above_.push(middle_.back());
        middle_.pop_back();
    }
    SIB_ASSERT(middle_.size() == r.hi - r.lo + 1);
}

PercentileInterval PercentileWindow::interval() const {
    const std::size_t n = count();
    if (n == 0) return {};
    const IntervalRanks r = interval_ranks(p_, n);
    const std::size_t rank = std::clamp(nearest_rank(p_, n), r.lo, r.hi);
    return {middle_[rank - r.lo], middle_.front(), middle_.back()};
}

}  // namespace sib
