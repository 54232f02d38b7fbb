#pragma once
// settle: the payment calculation on observed results, with no randomness. The observed totals
// take the place of a trial's draws; rules, caps, payers and the waterfall are the simulation's
// own (settle_trial), so a settlement and a simulated trial can never disagree on the rules.
#include <optional>
#include <string>
#include <vector>

#include "sib/plan.hpp"
#include "sib/trial.hpp"

namespace sib {

/// One observed result (SPEC section 13): a cohort's participants and their mean for an outcome.
struct Observation {
    std::string cohort;
    std::string outcome;
    double participants = 0;
    std::optional<double> mean;       ///< per participant (binary: share achieving)
    std::optional<double> successes;  ///< binary: number achieving (instead of mean)
    std::optional<double> comparison_mean;
    SourceLoc loc;
};

struct Observed {
    std::string file;
    std::vector<Observation> observations;
};

/// Checks the observations against the plan (unknown cohort or outcome, a cohort observed with
/// two participant counts, successes above participants, a missing comparison mean for a
/// versus_comparison rule) and throws InputError with every problem, located in `observed.file`.
/// Otherwise fills `state` as a trial's draws would and settles it: metrics and flows.
void settle_observed(const Plan& plan, const Scenario& scenario, const Observed& observed,
                     const MetricLayout& metrics, const PartyLayout& parties, TrialState& state);

}  // namespace sib
