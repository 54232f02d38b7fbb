#pragma once
// settle: the payment calculation on observed results, with no randomness. The observed results
// become the trial's Outcomes; the settlement (settlement.hpp) is the simulation's own, so a
// settlement and a simulated trial can never disagree on the rules.
#include <string>
#include <vector>

#include "sib/observed.hpp"
#include "sib/participants.hpp"
#include "sib/plan.hpp"
#include "sib/trial.hpp"

namespace sib {

struct SettleOptions {
    /// Accept results that leave out an outcome a rule needs: the rules on it are then not
    /// assessed. Without it, a missing outcome is an error.
    bool partial = false;
    /// Participant-level results (one row per participant), or null. With them, cohort and batch
    /// sizes and the counts of their outcome columns are the rows' own, and per-participant caps
    /// apply per row; `observed` may then give comparison means and other outcomes' totals.
    const Participants* participants = nullptr;
};

/// Checks the observations against the plan (unknown cohort or outcome, a cohort observed with
/// two participant counts, successes above participants, a binary mean that is not a whole
/// number of successes, a missing comparison mean for a versus_comparison rule, a missing
/// outcome without `partial`, a term that needs participant-level results) and throws InputError
/// with every problem, located in `observed.file`. Otherwise builds the Outcomes and settles
/// them: `state.metrics` and `state.flows` (rules not assessed have NaN in their `met`), and
/// `notes` lists what was not assessed, one line each, for stderr.
void settle_observed(const Plan& plan, const Observed& observed, const SettleOptions& options,
                     const MetricLayout& metrics, const PartyLayout& parties, TrialState& state,
                     std::vector<std::string>& notes);

}  // namespace sib
