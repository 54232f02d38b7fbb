#pragma once
// Small helpers shared by the engine tests: scenarios from inline YAML, one trial or one
// settlement as a map from metric name to value.
#include <map>

#include <doctest/doctest.h>
#include <string>
#include <vector>

#include "sib/load.hpp"
#include "sib/plan.hpp"
#include "sib/settle.hpp"
#include "sib/trial.hpp"

namespace sib::test {

inline Scenario scenario_of(const std::string& yaml) {
    return load_scenario(yaml, "test.yaml");
}

/// A trial's metrics by name. Reading a name that is not a metric fails the test: a misspelt or
/// removed metric can never pass as a 0.
class Metrics {
  public:
    void set(const std::string& name, double value) { values_[name] = value; }
    bool has(const std::string& name) const { return values_.count(name) != 0; }
    double operator[](const std::string& name) const {
        const auto it = values_.find(name);
        if (it == values_.end()) FAIL("no metric named '" << name << "'");
        return it->second;
    }
    std::size_t size() const { return values_.size(); }

  private:
    std::map<std::string, double> values_;
};

inline Metrics metrics_of(const MetricLayout& layout, const TrialState& state) {
    Metrics out;
    for (std::size_t i = 0; i < layout.names.size(); ++i)
        out.set(layout.names[i], state.metrics[i]);
    return out;
}

/// Runs trial `trial` of the scenario and returns its metrics.
inline Metrics one_trial(const std::string& yaml, std::uint64_t trial = 0) {
    const Plan plan = compile(scenario_of(yaml));
    const MetricLayout layout = metric_layout(plan);
    TrialState state(plan);
    simulate_trial(plan, layout, party_layout(plan), trial, state);
    return metrics_of(layout, state);
}

/// The cash flows of one party in a settled or simulated state, one per period.
inline std::vector<double> flows_of(const Plan& plan, const TrialState& state,
                                    const std::string& party) {
    const PartyLayout parties = party_layout(plan);
    std::vector<double> out;
    for (std::size_t p = 0; p < parties.names.size(); ++p) {
        if (parties.names[p] != party) continue;
        const auto h = static_cast<std::size_t>(plan.horizon);
        out.assign(state.flows.begin() + static_cast<long>(p * h),
                   state.flows.begin() + static_cast<long>((p + 1) * h));
    }
    return out;
}

/// Settles the scenario on observed results and returns its metrics.
inline Metrics settle(const std::string& yaml, const std::vector<Observation>& observations,
                      SettleOptions options = {}) {
    const Scenario scenario = scenario_of(yaml);
    const Plan plan = compile(scenario);
    const MetricLayout layout = metric_layout(plan);
    TrialState state(plan);
    std::vector<std::string> notes;
    settle_observed(plan, Observed{"observed.yaml", observations}, options, layout,
                    party_layout(plan), state, notes);
    return metrics_of(layout, state);
}

inline Observation observe(std::string cohort, std::string outcome, double participants,
                           double mean, std::optional<double> comparison_mean = std::nullopt) {
    Observation o;
    o.cohort = std::move(cohort);
    o.outcome = std::move(outcome);
    o.participants = participants;
    o.mean = mean;
    o.comparison_mean = comparison_mean;
    return o;
}

}  // namespace sib::test
