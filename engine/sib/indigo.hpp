#pragma once
// run --format indigo (docs/outputs.md, "INDIGO figures"): the fields of the Government Outcomes
// Lab's INDIGO data standard (project schema, version 4.1.0) that a scenario and its run can
// fill, under INDIGO's own names and nesting, with sibsim's expected values and percentiles
// beside them under "sibsim".
#include <array>
#include <ostream>

#include "sib/plan.hpp"
#include "sib/run.hpp"

namespace sib {

/// The INDIGO project schema version the output follows.
inline constexpr const char* indigo_schema_version = "4.1.0";

/// INDIGO's `investor_repayment` options (overall_project_finance), in its order and wording.
inline constexpr std::array<const char*, 4> indigo_repayment_categories = {
    "no repayment (no principal or return)", "some repayment (but below value of principal)",
    "principal repaid (but no net return)", "principal and positive net financial returns"};

/// The share of trials in each of indigo_repayment_categories, from each trial's capital drawn D
/// and amount received R, compared in whole minor units: R = 0 < D; 0 < R < D; R = D (also when
/// nothing was drawn nor received); R > D. Needs the run's per-trial values
/// (RunOptions::keep_trial_values) and investors.
std::array<double, 4> repayment_shares(const Plan& plan, const RunResult& result);

/// The JSON document of docs/outputs.md. `result` must hold per-trial values when the plan has
/// investors.
void print_indigo(std::ostream& out, const Plan& plan, const RunResult& result);

}  // namespace sib
