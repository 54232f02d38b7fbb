// libFuzzer target: the scenario loader and `--set` parsing on arbitrary bytes.
//
// The input's first line is given to parse_override as a `--set PATH=VALUE` argument (ignored
// when it is not one); the rest is the scenario text. Whatever the bytes, load_scenario must
// either return a Scenario or throw InputError; never crash, hang, leak or hit undefined
// behaviour. A scenario it accepts is compiled and, when small, one trial is simulated, so that
// accepted values are safe for the engine too.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include "sib/load.hpp"
#include "sib/plan.hpp"
#include "sib/trial.hpp"

namespace {

/// Participants a trial may draw one by one (a per-participant cap): kept small, so that one
/// input takes well under libFuzzer's -timeout and only real hangs are reported.
bool small_enough_to_simulate(const sib::Scenario& scenario, const sib::Plan& plan) {
    if (plan.batch_counts > 100'000) return false;
    double participants = 0;
    for (const auto& cohort : scenario.cohorts) {
        const auto* fixed = std::get_if<sib::Fixed>(&cohort.size.dist);
        participants += fixed ? fixed->value : 10'000'000.0;  // a drawn size may reach the limit
    }
    return plan.participant_mode == sib::ParticipantMode::aggregate || participants <= 1e6;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::vector<sib::Override> overrides;
    const std::size_t end_of_line = input.find('\n');
    if (end_of_line != std::string_view::npos) {
        try {
            overrides.push_back(sib::parse_override(input.substr(0, end_of_line)));
            input.remove_prefix(end_of_line + 1);
        } catch (const sib::InputError&) {
            // Not a --set argument: the whole input is the scenario.
        }
    }
    try {
        const sib::Scenario scenario = sib::load_scenario(input, "fuzz.yaml", overrides);
        const sib::Plan plan = sib::compile(scenario);
        if (small_enough_to_simulate(scenario, plan)) {
            const sib::MetricLayout metrics = sib::metric_layout(plan);
            sib::TrialState state(plan);
            sib::simulate_trial(plan, metrics, sib::party_layout(plan), 0, state);
        }
    } catch (const sib::InputError&) {
        // Refused with located messages: the expected outcome for most inputs.
    }
    return 0;
}
