#include "sib/plan_size.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>

namespace sib {

double estimated_plan_bytes(const Scenario& s, int threads) {
    const double C = static_cast<double>(s.cohorts.size());
    const double O = static_cast<double>(s.outcomes.size());
    const double R = static_cast<double>(s.rules.size());
    const double H = static_cast<double>(std::max(1, s.horizon));
    const double P = static_cast<double>(s.payers.size());
    const double T = s.investors ? static_cast<double>(s.investors->tranches.size()) + 1 : 0;

    // Payment slots: a rate card can pay in any period; a group rule in any period for each
    // cohort and for all of them. Each slot is stored once in the plan (period, rule, cohort and
    // its place in the lookup) and is due and paid in every trial buffer.
    double slots = 0;
    for (const auto& r : s.rules) slots += r.basis == Basis::rate_card ? H : (C + 1) * H;
    double enrolment_periods = 0;
    for (const auto& c : s.cohorts)
        enrolment_periods += static_cast<double>(c.enrol_last - c.enrol_first + 1);

    // Metric names: payments, met flags and improvements per rule and cohort, caused per
    // outcome, three per payer and tranche; each a string of its parts (kept more than once).
    double metrics = 16 + 3 * P + 3 * T + 2 * O;
    double name_bytes = 0;
    for (const auto& r : s.rules) {
        const double per_rule = r.basis == Basis::rate_card ? 1 : 1 + C;
        metrics += per_rule;
        name_bytes += per_rule * static_cast<double>(r.name.size() + 16);
    }
    for (const auto& o : s.outcomes) {
        metrics += C + 1;
        name_bytes += (C + 1) * static_cast<double>(o.name.size() + 24);
    }
    for (const auto& c : s.cohorts) name_bytes += (R + O) * static_cast<double>(c.name.size());
    const double parties = P + T + 3;

    const double plan = 16.0 * slots               // slots and their lookup
                        + 4.0 * R * H              // rate-card slot index by (rule, period)
                        + 64.0 * R * (C + 1)       // rule × cohort tables
                        + 48.0 * C * O             // parameters of each (cohort, outcome)
                        + 8.0 * (P + 2) * (O + H)  // savings, costs and discount factors
                        + 4.0 * (64.0 * metrics + name_bytes);   // names in the plan and reports
    const double per_thread = 16.0 * slots                       // due and paid per slot
                              + 8.0 * enrolment_periods * O      // per-batch counts
                              + 16.0 * enrolment_periods         // batch sizes
                              + 48.0 * C * O                     // means, totals, comparisons
                              + 16.0 * R * (C + 1)               // paid, met, assessed, known
                              + 8.0 * (parties + 2 * T + 4) * H  // per-period flows and balances
                              + 8.0 * metrics;                   // one trial's metrics
    return plan + std::max(1, threads) * per_thread;
}

std::optional<double> available_memory() {
    std::ifstream meminfo("/proc/meminfo");
    for (std::string key; meminfo >> key;) {
        double kib = 0;
        if (key == "MemAvailable:" && meminfo >> kib) return kib * 1024;
        meminfo.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    return std::nullopt;
}

std::string gib_text(double bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", bytes / (1024.0 * 1024 * 1024));
    return text;
}

std::optional<std::string> memory_refusal(double needed, const std::string& advice) {
    const auto available = available_memory();
    if (!available || needed <= *available) return std::nullopt;
    return "this run needs about " + gib_text(needed) + " GiB of memory but " +
           gib_text(*available) + " GiB is available; " + advice;
}

}  // namespace sib
