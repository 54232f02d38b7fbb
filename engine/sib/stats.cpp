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
/// At most this many boundaries (two per probability): fixed-size arrays, no allocation.
constexpr std::size_t max_boundaries = 16;

/// Half-width of the bracket of probability p, in sample positions: five standard deviations of
/// the sample rank, sqrt(16384·p·(1 − p)) (at most 64), plus 8, so that a bracket misses its
/// rank on values in random order about once in a million.
std::size_t bracket_half_width(double p) {
    return static_cast<std::size_t>(
               5.0 * std::sqrt(static_cast<double>(bracket_sample) * p * (1.0 - p))) +
           8;
}
}  // namespace

void select_nearest_ranks_kept(std::span<const double> values,
                               std::span<const double> probabilities, std::span<double> out,
                               std::vector<double>& scratch) {
    const std::size_t n = values.size();
    const std::size_t k = probabilities.size();
    auto fall_back = [&] {
        scratch.assign(values.begin(), values.end());
        select_nearest_ranks(scratch, probabilities, out);
    };
    if (n < bracket_min_values || k == 0 || 2 * k > max_boundaries) {
        fall_back();
        return;
    }
    // The boundaries: around each rank's place in the sorted sample, a value below and a value
    // above, deduplicated and sorted. Ends beyond the sample are left open.
    scratch.resize(bracket_sample);
    for (std::size_t i = 0; i < bracket_sample; ++i) scratch[i] = values[i * (n / bracket_sample)];
    std::sort(scratch.begin(), scratch.end());
    std::array<double, max_boundaries> boundary{};  // the first m are used
    std::array<std::pair<double, double>, max_boundaries / 2> bracket{};
    std::size_t m = 0;
    for (std::size_t j = 0; j < k; ++j) {
        const std::size_t rank = nearest_rank(probabilities[j], n) - 1;
        const std::size_t at = rank * bracket_sample / n;  // its place in the sample
        const std::size_t half = bracket_half_width(probabilities[j]);
        const double lo =
            at >= half ? scratch[at - half] : -std::numeric_limits<double>::infinity();
        const double hi = at + half < bracket_sample ? scratch[at + half]
                                                     : std::numeric_limits<double>::infinity();
        bracket[j] = {lo, hi};
        if (std::isfinite(lo)) boundary[m++] = lo;
        if (std::isfinite(hi)) boundary[m++] = hi;
    }
    std::sort(boundary.begin(), boundary.begin() + static_cast<std::ptrdiff_t>(m));
    m = static_cast<std::size_t>(
        std::unique(boundary.begin(), boundary.begin() + static_cast<std::ptrdiff_t>(m)) -
        boundary.begin());
    // Regions: 2i is strictly between boundaries i − 1 and i (open at the ends), 2i + 1 is equal
    // to boundary i. Even regions inside a bracket keep their values; each has room for 1.5
    // times what the sample says it holds, plus 64, and a spare slot an overflow writes into.
    // Other regions write to one shared slot and are only counted.
    const std::size_t regions = 2 * m + 1;
    std::array<std::size_t, 2 * max_boundaries + 1> count{}, base{}, room{};
    const std::size_t per_sample = n / bracket_sample + 1;
    const std::size_t dummy = 0;  // the shared slot
    std::size_t end = 1;
    for (std::size_t r = 0; r < regions; r += 2) {
        const double below =
            r == 0 ? -std::numeric_limits<double>::infinity() : boundary[r / 2 - 1];
        const double above = r / 2 < m ? boundary[r / 2] : std::numeric_limits<double>::infinity();
        bool inside = false;
        for (std::size_t j = 0; j < k; ++j)
            inside = inside || (bracket[j].first <= below && above <= bracket[j].second);
        if (!inside) {
            base[r] = dummy;
            room[r] = 0;
            continue;
        }
        const auto first = std::upper_bound(scratch.begin(), scratch.end(), below);
        const auto last = std::lower_bound(scratch.begin(), scratch.end(), above);
        const auto in_sample = static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, last - first));
        base[r] = end;
        room[r] = (3 * in_sample * per_sample) / 2 + 64;
        end += room[r] + 1;
    }
    for (std::size_t r = 1; r < regions; r += 2) base[r] = dummy;
    const std::size_t sample_end = bracket_sample;
    scratch.resize(sample_end + end);
    double* const store = scratch.data() + sample_end;
    // The pass: no branch on the values (a value's region is a count of comparisons).
    for (const double x : values) {
        std::size_t r = 0;
        for (std::size_t i = 0; i < m; ++i)
            r += static_cast<std::size_t>(boundary[i] < x) +
                 static_cast<std::size_t>(boundary[i] <= x);
        const std::size_t c = count[r]++;
        store[base[r] + std::min(c, room[r])] = x;
    }
    for (std::size_t j = 0; j < k; ++j) {
        std::size_t rank = nearest_rank(probabilities[j], n) - 1;
        std::size_t r = 0;
        while (rank >= count[r]) rank -= count[r++];
        if (r % 2 == 1) {
            out[j] = boundary[r / 2];
            continue;
        }
        if (room[r] == 0 || count[r] > room[r]) {
            fall_back();
            return;
        }
        double* first = store + base[r];
        std::nth_element(first, first + rank, first + count[r]);
        out[j] = first[rank];
    }
}

}  // namespace sib
