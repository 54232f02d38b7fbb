// libFuzzer target: the participant-level results loader of `settle` (one CSV row per
// participant) on arbitrary bytes.
//
// Whatever the bytes, load_participants must either return rows or throw InputError; never
// crash, hang, leak or hit undefined behaviour. Rows it accepts are settled against a fixed small
// scenario with a per-participant cap, a follower and a group rule, so that accepted values are
// safe for settle_observed too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sib/load.hpp"
#include "sib/participants.hpp"
#include "sib/plan.hpp"
#include "sib/settle.hpp"
#include "sib/trial.hpp"

namespace {

constexpr std::string_view scenario_text = R"(sibsim: 1
name: fuzz participants
horizon: 12
cohorts:
  - {name: c1, size: 100, enrol: [0, 1]}
  - {name: c2, size: 50, enrol: [2, 3]}
outcomes:
  - {name: job, kind: binary, rate: 0.3, observed_after: 2}
  - {name: kept, kind: binary, after: job, rate: 0.5, observed_after: 4}
  - {name: events, kind: count, rate: 2, observed_by: 5}
payments:
  - {name: card, basis: rate_card, outcome: job, price: 1000}
  - {name: keep, basis: rate_card, outcome: kept, price: 700}
  - {name: goal, basis: target, outcome: kept, at_least: 2, amount: 100}
caps: {per_participant: 1500, total: 200000}
payers:
  - {name: gov, share: 1}
)";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const sib::Plan plan = sib::compile(sib::load_scenario(scenario_text, "s.yaml"));
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    try {
        const sib::Participants rows = sib::load_participants(input, "p.csv");
        const sib::MetricLayout metrics = sib::metric_layout(plan);
        sib::TrialState state(plan);
        std::vector<std::string> notes;
        sib::settle_observed(plan, sib::Observed{}, sib::SettleOptions{true, &rows}, metrics,
                             sib::party_layout(plan), state, notes);
    } catch (const sib::InputError&) {
        // Refused with located messages: the expected outcome for most inputs.
    }
    return 0;
}
