#include "sib/trial.hpp"

namespace sib {

TrialState::TrialState(const Plan& plan)
    : draws(plan),
      outcomes(plan),
      settlement(plan),
      metrics(metric_layout(plan).names.size()),
      flows(party_layout(plan).names.size() * static_cast<std::size_t>(plan.horizon)) {}

void simulate_trial(const Plan& plan, const MetricLayout& metrics, const PartyLayout& parties,
                    std::uint64_t trial, TrialState& state) {
    draw(plan, trial, state.draws, state.outcomes);
    settle(plan, state.outcomes, state.settlement);
    fill_metrics(plan, metrics, parties, state.outcomes, state.settlement, NotAssessed::zero,
                 state.metrics, state.flows);
}

}  // namespace sib
