#include "sib/stats.hpp"

#include <algorithm>
#include <cmath>

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

void Quantiles::add(double x) {
    SIB_ASSERT(std::isfinite(x));
    values.push_back(x);
}

void Quantiles::merge(const Quantiles& other) {
    SIB_ASSERT(&other != this);
    values.insert(values.end(), other.values.begin(), other.values.end());
}

double Quantiles::quantile(double p) {
    if (values.empty()) return 0.0;
    const std::size_t rank = nearest_rank(p, values.size());
    if (!std::is_sorted(values.begin(), values.end())) std::sort(values.begin(), values.end());
    return values[rank - 1];
}

std::array<double, 5> Quantiles::quantiles() {
    std::array<double, 5> out{};
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = quantile(kSummaryProbabilities[i]);
    return out;
}

SampleSketch::SampleSketch(std::int64_t max_trials) : capacity(max_trials) {
    SIB_ASSERT(capacity >= 0);
}

void SampleSketch::add(std::int64_t trial_index, double x) {
    SIB_ASSERT(trial_index >= 0);
    if (trial_index < capacity) kept.add(x);
}

void SampleSketch::merge(const SampleSketch& other) {
    SIB_ASSERT(&other != this);
    SIB_ASSERT(other.capacity == capacity);
    kept.merge(other.kept);
}

double SampleSketch::quantile(double p) {
    return kept.quantile(p);
}

}  // namespace sib
