// libFuzzer target: the observed-results loader of `settle` on arbitrary bytes.
//
// Whatever the bytes, load_observed must either return observations or throw InputError; never
// crash, hang, leak or hit undefined behaviour. Observations it accepts are settled against a
// fixed small scenario (below), so that accepted
// values are safe for settle_observed and the settled cash flows too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sib/load.hpp"
#include "sib/plan.hpp"
#include "sib/settle.hpp"
#include "sib/trial.hpp"

namespace {

// Names that observed files can refer to: two cohorts, a binary and a count outcome, every basis.
constexpr std::string_view scenario_text = R"(sibsim: 1
name: fuzz settle
horizon: 12
cohorts:
  - {name: c1, size: 100, enrol: [0, 1]}
  - {name: c2, size: 50, enrol: [2, 3]}
outcomes:
  - {name: job, kind: binary, baseline: 0.3, effect: 0.2, observed_after: 2}
  - {name: events, kind: count, better: lower, baseline: 2, effect: -0.1, observed_after: 1}
comparison: {kind: matched, ratio: 2}
payments:
  - {name: card, basis: rate_card, outcome: job, price: 1000}
  - {name: goal, basis: target, outcome: job, per: cohort, share_at_least: 0.3, amount: 5000}
  - {name: fall, basis: versus_comparison, outcome: events, threshold: 0.05, price: 300}
caps: {total: 200000}
payers:
  - {name: gov, share: 1, savings: {events: 50}}
investors:
  capital: 20000
  guarantee: {amount: 5000}
provider:
  costs: {per_participant: 100, per_period: 500}
)";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const sib::Plan plan = sib::compile(sib::load_scenario(scenario_text, "settle.yaml"));
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    try {
        const sib::Observed observed = sib::load_observed(input, "observed.yaml");
        const sib::MetricLayout metrics = sib::metric_layout(plan);
        sib::TrialState state(plan);
        std::vector<std::string> notes;
        sib::settle_observed(plan, observed, sib::SettleOptions{true}, metrics,
                             sib::party_layout(plan), state, notes);
    } catch (const sib::InputError&) {
        // Refused with located messages: the expected outcome for most inputs.
    }
    return 0;
}
