#pragma once
// One trial, end to end: draw (draw.hpp) → Outcomes → settle (settlement.hpp) → Settlement →
// metrics and cash flows (metrics.hpp). TrialState holds each stage's buffers, sized once per
// plan and reused across trials, so the hot loop allocates nothing.
#include <cstdint>
#include <vector>

#include "sib/draw.hpp"
#include "sib/metrics.hpp"
#include "sib/outcomes.hpp"
#include "sib/plan.hpp"
#include "sib/settlement.hpp"

namespace sib {

struct TrialState {
    DrawScratch draws;
    Outcomes outcomes;
    Settlement settlement;
    std::vector<double> metrics;  ///< per metric (MetricLayout)
    std::vector<double> flows;    ///< [party * H + period] (PartyLayout)

    explicit TrialState(const Plan& plan);
};

/// Simulates trial `trial` of the plan into `state`: draw, settle, then metrics and flows.
void simulate_trial(const Plan& plan, const MetricLayout& metrics, const PartyLayout& parties,
                    std::uint64_t trial, TrialState& state);

}  // namespace sib
