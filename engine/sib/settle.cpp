#include "sib/settle.hpp"

#include <algorithm>
#include <cmath>

namespace sib {

namespace {
using std::size_t;
constexpr size_t at(int i) {
    return static_cast<size_t>(i);
}

template <class T>
int find_named(const std::vector<T>& items, const std::string& name) {
    for (size_t i = 0; i < items.size(); ++i)
        if (items[i].name == name) return static_cast<int>(i);
    return -1;
}

template <class T>
std::vector<std::string> names_of(const std::vector<T>& items) {
    std::vector<std::string> names;
    for (const auto& item : items) names.push_back(item.name);
    return names;
}

std::string unknown(const std::string& what, const std::string& name,
                    const std::vector<std::string>& names) {
    return what + " '" + name + "' is not in the scenario" + did_you_mean(name, names);
}
}  // namespace

void settle_observed(const Plan& plan, const Scenario& scenario, const Observed& observed,
                     const MetricLayout& metrics, const PartyLayout& parties, TrialState& s) {
    DiagnosticSink sink{observed.file, {}};
    const size_t C = plan.cohorts.size(), O = plan.outcomes.size();
    std::vector<double> participants(C, -1.0);
    std::fill(s.counts.begin(), s.counts.end(), 0.0);
    std::fill(s.total.begin(), s.total.end(), 0.0);
    std::fill(s.comparison_mean.begin(), s.comparison_mean.end(), 0.0);
    std::vector<char> seen(C * O, 0);

    for (size_t i = 0; i < observed.observations.size(); ++i) {
        const auto& ob = observed.observations[i];
        const std::string path = "observed[" + std::to_string(i) + "]";
        const int c = find_named(plan.cohorts, ob.cohort);
        const int o = find_named(plan.outcomes, ob.outcome);
        if (c < 0)
            sink.error(ob.loc, path + ".cohort",
                       unknown("cohort", ob.cohort, names_of(plan.cohorts)));
        if (o < 0)
            sink.error(ob.loc, path + ".outcome",
                       unknown("outcome", ob.outcome, names_of(plan.outcomes)));
        if (c < 0 || o < 0) continue;
        const auto& outcome = plan.outcomes[at(o)];
        if (seen[at(c) * O + at(o)]) {
            sink.error(
                ob.loc, path,
                "cohort '" + ob.cohort + "' and outcome '" + ob.outcome + "' observed twice");
            continue;
        }
        seen[at(c) * O + at(o)] = 1;
        if (participants[at(c)] >= 0 && participants[at(c)] != ob.participants) {
            sink.error(ob.loc, path + ".participants",
                       "cohort '" + ob.cohort + "' was observed with " +
                           std::to_string(std::llround(participants[at(c)])) +
                           " participants elsewhere");
            continue;
        }
        participants[at(c)] = ob.participants;
        double total = 0;
        if (ob.successes) {
            if (outcome.kind != OutcomeKind::binary) {
                sink.error(ob.loc, path + ".successes",
                           "successes apply to binary outcomes; give mean");
                continue;
            }
            if (*ob.successes > ob.participants) {
                sink.error(ob.loc, path + ".successes",
                           "successes (" + std::to_string(std::llround(*ob.successes)) +
                               ") exceed participants (" +
                               std::to_string(std::llround(ob.participants)) + ")");
                continue;
            }
            total = *ob.successes;
        } else if (ob.mean) {
            if (outcome.kind == OutcomeKind::binary && *ob.mean > 1) {
                sink.error(ob.loc, path + ".mean", "a binary outcome's mean is a share, at most 1");
                continue;
            }
            total = *ob.mean * ob.participants;
        }
        s.total[at(c) * O + at(o)] = total;
        if (outcome.compared) {
            if (!ob.comparison_mean) {
                sink.error(ob.loc, path,
                           "missing 'comparison_mean', needed by a versus_comparison rule on '" +
                               ob.outcome + "'");
                continue;
            }
            s.comparison_mean[at(c) * O + at(o)] = *ob.comparison_mean;
        }
    }
    sink.throw_if_any();
    (void)scenario;

    // Central parameter values stand in for draws: baselines for units caused.
    for (size_t i = 0; i < plan.parameters.size(); ++i)
        s.values[i] = mean_of(plan.parameters[i].dist);
    resolve_means(plan, s);

    std::fill(s.slot_due.begin(), s.slot_due.end(), 0.0);
    for (size_t c = 0; c < C; ++c) {
        const auto& cohort = plan.cohorts[c];
        s.cohort_observed[c] = participants[c] >= 0 ? 1 : 0;
        const long long n = std::llround(std::max(0.0, participants[c]));
        s.cohort_size[c] = n;
        for (int b = 0; b < cohort.batches; ++b)
            s.batch_size[at(cohort.first_batch + b)] =
                n / cohort.batches + (b < n % cohort.batches ? 1 : 0);
        // Observed totals are spread over enrolment batches in proportion to their participants.
        for (size_t o = 0; o < O; ++o)
            for (int b = 0; b < cohort.batches; ++b)
                s.counts[at(plan.count_index(static_cast<int>(c), static_cast<int>(o), b))] =
                    n > 0 ? s.total[c * O + o] *
                                static_cast<double>(s.batch_size[at(cohort.first_batch + b)]) /
                                static_cast<double>(n)
                          : 0.0;
        add_rate_card_dues(plan, static_cast<int>(c), s);
    }
    settle_trial(plan, metrics, parties, s);
}

}  // namespace sib
