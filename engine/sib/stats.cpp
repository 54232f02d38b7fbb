#include "sib/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sib/diagnostics.hpp"

namespace sib {

void Moments::add(double x) {
    SIB_ASSERT(std::isfinite(x));
    if (count == 0) {
        min = x;
        max = x;
    } else {
        min = std::min(min, x);
        max = std::max(max, x);
    }
    ++count;
    const double delta = x - mean;
    mean += delta / static_cast<double>(count);
    m2 += delta * (x - mean);
}

void Moments::merge(const Moments& other) {
    if (other.count == 0) return;
    if (count == 0) {
        *this = other;
        return;
    }
    const double na = static_cast<double>(count);
    const double nb = static_cast<double>(other.count);
    const double n = na + nb;
    const double delta = other.mean - mean;
    mean += delta * (nb / n);
    m2 += other.m2 + delta * delta * (na * nb / n);
    count += other.count;
    min = std::min(min, other.min);
    max = std::max(max, other.max);
}

double Moments::variance() const {
    if (count < 2) return 0.0;
    return std::max(m2, 0.0) / static_cast<double>(count - 1);
}

double Moments::sd() const {
    return std::sqrt(variance());
}

double Moments::se() const {
    if (count < 1) return 0.0;
    return sd() / std::sqrt(static_cast<double>(count));
}

std::size_t nearest_rank(double p, std::size_t n) {
    SIB_ASSERT(n >= 1);
    SIB_ASSERT(p >= 0.0 && p <= 1.0);
    const double x = p * static_cast<double>(n);
    const double rank = std::ceil(x - (1e-9 + 1e-12 * x));
    if (rank < 1.0) return 1;
    if (rank >= static_cast<double>(n)) return n;
    return static_cast<std::size_t>(rank);
}

Moments Moments::of(std::span<const double> values) {
    Moments m;
    if (values.empty()) return m;
    double sum = 0, lo = values[0], hi = values[0];
    for (double x : values) {
        sum += x;
        lo = std::min(lo, x);
        hi = std::max(hi, x);
    }
    m.count = static_cast<long long>(values.size());
    m.mean = sum / static_cast<double>(values.size());
    double m2 = 0;
    for (double x : values) m2 += (x - m.mean) * (x - m.mean);
    m.m2 = m2;
    m.min = lo;
    m.max = hi;
    return m;
}

namespace {
/// Selects the ranks of probabilities[first, last) within values[from, to): the middle one over
/// the whole part, then the lower ones left of it and the upper ones right of it.
void select_part(std::span<double> values, std::size_t from, std::size_t to,
                 std::span<const double> probabilities, std::size_t first, std::size_t last,
                 std::span<double> out) {
    if (first >= last) return;
    const std::size_t middle = first + (last - first) / 2;
    const std::size_t rank = nearest_rank(probabilities[middle], values.size()) - 1;
    SIB_ASSERT(rank >= from && rank < to);
    std::nth_element(values.begin() + static_cast<std::ptrdiff_t>(from),
                     values.begin() + static_cast<std::ptrdiff_t>(rank),
                     values.begin() + static_cast<std::ptrdiff_t>(to));
    out[middle] = values[rank];
    select_part(values, from, rank + 1, probabilities, first, middle, out);  // equal ranks too
    select_part(values, rank, to, probabilities, middle + 1, last, out);
}
}  // namespace

void select_nearest_ranks(std::span<double> values, std::span<const double> probabilities,
                          std::span<double> out) {
    if (values.empty()) {
        std::fill(out.begin(), out.end(), 0.0);
        return;
    }
    select_part(values, 0, values.size(), probabilities, 0, probabilities.size(), out);
}

void QuantileSketch::append_run(std::size_t level, std::span<const double> run) {
    if (level == levels_.size()) {
        levels_.emplace_back();
        run_ends_.emplace_back();
        odd_.push_back(0);
    }
    auto& values = levels_[level];
    values.insert(values.end(), run.begin(), run.end());
    run_ends_[level].push_back(values.size());
    if (values.size() >= 2 * half_capacity) compact(level);
}

void QuantileSketch::add_sorted(std::span<const double> values) {
    SIB_ASSERT(std::is_sorted(values.begin(), values.end()));
    count_ += static_cast<long long>(values.size());
    // Runs longer than the room left are split so a level never exceeds 2b before compacting.
    while (!values.empty()) {
        const std::size_t room = 2 * half_capacity - (levels_.empty() ? 0 : levels_[0].size());
        const std::size_t take = std::min(room, values.size());
        append_run(0, values.first(take));
        values = values.subspan(take);
    }
}

void QuantileSketch::compact(std::size_t level) {
    // Merge the level's sorted runs pairwise (linear passes, no full sort).
    auto& values = levels_[level];
    auto& ends = run_ends_[level];
    while (ends.size() > 1) {
        std::vector<std::size_t> merged;
        std::size_t begin = 0;
        for (std::size_t i = 0; i < ends.size(); i += 2) {
            if (i + 1 < ends.size()) {
                std::inplace_merge(values.begin() + static_cast<std::ptrdiff_t>(begin),
                                   values.begin() + static_cast<std::ptrdiff_t>(ends[i]),
                                   values.begin() + static_cast<std::ptrdiff_t>(ends[i + 1]));
                merged.push_back(ends[i + 1]);
            } else {
                merged.push_back(ends[i]);
            }
            begin = merged.back();
        }
        ends = std::move(merged);
    }
    std::vector<double> kept;
    kept.reserve(values.size() / 2 + 1);
    for (std::size_t i = odd_[level] ? 1 : 0; i < values.size(); i += 2) kept.push_back(values[i]);
    odd_[level] = !odd_[level];
    values.clear();
    ends.clear();
    append_run(level + 1, kept);
}

void QuantileSketch::quantiles(std::span<const double> probabilities, std::span<double> out) const {
    std::vector<std::pair<double, double>> weighted;  // value, weight
    double weight = 1;
    for (const auto& level : levels_) {
        for (double x : level) weighted.push_back({x, weight});
        weight *= 2;
    }
    std::sort(weighted.begin(), weighted.end());
    double total = 0;
    for (const auto& w : weighted) total += w.second;
    std::size_t at = 0;
    double below = 0;  // weight of the values before `at`
    for (std::size_t i = 0; i < probabilities.size(); ++i) {
        if (weighted.empty()) {
            out[i] = 0;
            continue;
        }
        const auto rank =
            static_cast<double>(nearest_rank(probabilities[i], static_cast<std::size_t>(total)));
        while (at + 1 < weighted.size() && below + weighted[at].second < rank)
            below += weighted[at++].second;
        out[i] = weighted[at].first;
    }
}

}  // namespace sib

namespace sib {

namespace {
/// Below this many values a copy and select_nearest_ranks cost little; the sample would not pay.
constexpr std::size_t bracket_min_values = std::size_t{1} << 16;
/// Values in the stride sample.
constexpr std::size_t bracket_sample = 16384;
}  // namespace

RankBrackets RankBrackets::around(std::span<const double> sorted, std::size_t total,
                                  std::span<const double> probabilities, double width_scale) {
    SIB_ASSERT(!sorted.empty() && total > 0 && 2 * probabilities.size() <= max_boundaries);
    const std::size_t s = sorted.size();
    constexpr double inf = std::numeric_limits<double>::infinity();
    RankBrackets b;
    std::array<std::pair<double, double>, max_boundaries / 2> bracket{};
    for (std::size_t j = 0; j < probabilities.size(); ++j) {
        const double p = probabilities[j];
        const std::size_t rank = nearest_rank(p, total) - 1;
        const std::size_t at = rank * s / total;  // its place in the sample
        // Five standard deviations of the sample rank, plus 8: a bracket misses its rank on
        // values in random order about once in a million.
        const auto half = static_cast<std::size_t>(
            width_scale *
            static_cast<double>(
                static_cast<std::size_t>(5.0 * std::sqrt(static_cast<double>(s) * p * (1.0 - p))) +
                8));
        const double lo = at >= half ? sorted[at - half] : -inf;
        const double hi = at + half < s ? sorted[at + half] : inf;
        bracket[j] = {lo, hi};
        if (std::isfinite(lo)) b.boundary[b.boundaries++] = lo;
        if (std::isfinite(hi)) b.boundary[b.boundaries++] = hi;
    }
    const auto used = b.boundary.begin() + static_cast<std::ptrdiff_t>(b.boundaries);
    std::sort(b.boundary.begin(), used);
    b.boundaries =
        static_cast<std::size_t>(std::unique(b.boundary.begin(), used) - b.boundary.begin());
    for (std::size_t r = 0; r < b.regions(); r += 2) {
        const double below = r == 0 ? -inf : b.boundary[r / 2 - 1];
        const double above = r / 2 < b.boundaries ? b.boundary[r / 2] : inf;
        for (std::size_t j = 0; j < probabilities.size(); ++j)
            b.keep[r] = b.keep[r] || (bracket[j].first <= below && above <= bracket[j].second);
        if (!b.keep[r]) continue;
        const auto first = std::upper_bound(sorted.begin(), sorted.end(), below);
        const auto last = std::lower_bound(sorted.begin(), sorted.end(), above);
        const auto in_sample = static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, last - first));
        b.expected[r] = in_sample * (total / s + 1);
    }
    return b;
}

void RankTally::ensure_room(std::size_t more) {
    if (kept.size() >= used + more) return;
    const std::size_t size = std::max(2 * kept.size(), used + more);
    kept.resize(size);
    kept_region.resize(size);
}

void RankTally::reserve(const RankBrackets& brackets, double share) {
    std::size_t expected = 0;
    for (std::size_t r = 0; r < brackets.regions(); ++r)
        if (brackets.keep[r]) expected += brackets.expected[r];
    ensure_room(static_cast<std::size_t>(share * static_cast<double>(expected)) + 64);
}

void RankTally::add(const RankBrackets& brackets, std::span<const double> values) {
    ensure_room(values.size());
    // Local copies: the byte stores of the regions could alias any member, which would reload
    // the boundaries and counts for every value.
    const RankBrackets b = brackets;
    auto counts = count;
    double* const to = kept.data();
    std::uint8_t* const to_region = kept_region.data();
    std::size_t n = used;
    for (const double x : values) {
        const std::size_t r = b.region_of(x);
        ++counts[r];
        to[n] = x;  // overwritten by the next value unless its region is kept
        to_region[n] = static_cast<std::uint8_t>(r);
        n += static_cast<std::size_t>(b.keep[r]);
    }
    count = counts;
    used = n;
}

void RankTally::merge(const RankTally& other) {
    for (std::size_t r = 0; r < count.size(); ++r) count[r] += other.count[r];
    ensure_room(other.used);
    std::copy_n(other.kept.begin(), other.used, kept.begin() + static_cast<std::ptrdiff_t>(used));
    std::copy_n(other.kept_region.begin(), other.used,
                kept_region.begin() + static_cast<std::ptrdiff_t>(used));
    used += other.used;
}

std::pair<std::size_t, std::size_t> RankTally::place_of_rank(std::size_t rank) const {
    std::size_t r = 0;
    while (rank >= count[r]) rank -= count[r++];
    return {r, rank};
}

bool RankTally::select(const RankBrackets& brackets, std::span<const double> probabilities,
                       std::span<double> out, std::vector<double>& scratch) {
    std::size_t total = 0;
    for (const std::size_t c : count) total += c;
    // The kept values grouped by region (a counting sort): region r's are at start[r].
    std::array<std::size_t, RankBrackets::max_regions + 1> start{};
    for (std::size_t r = 0; r < brackets.regions(); ++r)
        start[r + 1] = start[r] + (brackets.keep[r] ? count[r] : 0);
    SIB_ASSERT(start[brackets.regions()] == used);
    scratch.resize(used);
    std::array<std::size_t, RankBrackets::max_regions> next{};
    std::copy_n(start.begin(), next.size(), next.begin());
    for (std::size_t i = 0; i < used; ++i) scratch[next[kept_region[i]]++] = kept[i];
    for (std::size_t j = 0; j < probabilities.size(); ++j) {
        if (total == 0) {
            out[j] = 0;
            continue;
        }
        auto [r, rank] = place_of_rank(nearest_rank(probabilities[j], total) - 1);
        if (r % 2 == 1) {
            out[j] = brackets.boundary[r / 2];
            continue;
        }
        if (!brackets.keep[r]) return false;
        const auto first = scratch.begin() + static_cast<std::ptrdiff_t>(start[r]);
        std::nth_element(first, first + static_cast<std::ptrdiff_t>(rank),
                         first + static_cast<std::ptrdiff_t>(count[r]));
        out[j] = first[static_cast<std::ptrdiff_t>(rank)];
    }
    return true;
}

RankBrackets RankTally::widened(const RankBrackets& brackets,
                                std::span<const double> probabilities) const {
    RankBrackets wider = brackets;
    std::size_t total = 0;
    for (const std::size_t c : count) total += c;
    if (total == 0) return wider;
    for (const double p : probabilities) {
        const std::size_t r = place_of_rank(nearest_rank(p, total) - 1).first;
        if (r % 2 == 0) wider.keep[r] = true;
        wider.expected[r] = count[r];
    }
    return wider;
}

void select_nearest_ranks_kept(std::span<const double> values,
                               std::span<const double> probabilities, std::span<double> out,
                               std::vector<double>& scratch) {
    const std::size_t n = values.size();
    const std::size_t k = probabilities.size();
    auto fall_back = [&] {
        scratch.assign(values.begin(), values.end());
        select_nearest_ranks(scratch, probabilities, out);
    };
    if (n < bracket_min_values || k == 0 || 2 * k > RankBrackets::max_boundaries) {
        fall_back();
        return;
    }
    // A stride sample places the brackets; one read pass tallies every value.
    scratch.resize(bracket_sample);
    for (std::size_t i = 0; i < bracket_sample; ++i) scratch[i] = values[i * (n / bracket_sample)];
    std::sort(scratch.begin(), scratch.end());
    const RankBrackets brackets = RankBrackets::around(scratch, n, probabilities);
    RankTally tally;
    tally.reserve(brackets, 1.5);
    tally.add(brackets, values);
    if (!tally.select(brackets, probabilities, out, scratch)) fall_back();
}

}  // namespace sib
