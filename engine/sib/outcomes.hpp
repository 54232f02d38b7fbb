#pragma once
// Outcomes: what happened in one trial (or what was observed), the boundary between the draws
// and the settlement. `draw` (draw.hpp) fills it from random streams; `settle_observed`
// (settle.hpp) fills it from observed results; `settle` (settlement.hpp) turns it into payments.
// Every field is filled by both; nothing else crosses the boundary. Sized once per plan.
#include <vector>

#include "sib/plan.hpp"

namespace sib {

struct Outcomes {
    std::vector<long long> cohort_size;  ///< per cohort: participants
    std::vector<long long> batch_size;   ///< per batch (Plan::cohorts[c].first_batch + b)
    /// Per batch count (Plan::count_index): achievements (binary) or events (count) of the
    /// participants enrolled in that batch. Outcomes not needed per batch keep their cohort total
    /// in batch 0 (PlanOutcome::per_batch).
    std::vector<double> counts;
    std::vector<double> total;  ///< [c*O+o] realised total over the cohort
    /// [c*O+o] comparison group: its total and its members. The comparison mean per member is
    /// total / members (matched: drawn; historical: the baseline over one member; observed: the
    /// written mean over one member), kept apart so decisions on it can be exact.
    std::vector<double> comparison_total;
    std::vector<double> comparison_members;
    /// [c*O+o] mean per participant without the intervention (binary: probability; a follower
    /// times its leader's), the trial's drawn baseline: the reference for units truly caused.
    std::vector<double> base;
    /// [c*O+o] 1 when the outcome is known for the cohort (always in simulation; settle on partial
    /// results leaves it 0 for what was not observed).
    std::vector<char> observed;
    /// Rate cards, [rule * H + period]: achievements (or events) that fall due for payment in that
    /// period, and, under a per-participant cap, the money due after that cap (participants'
    /// capped payments; otherwise unused: the settlement prices the achievements).
    std::vector<double> rate_card_units;
    std::vector<double> rate_card_due;

    explicit Outcomes(const Plan& plan);
};

}  // namespace sib
