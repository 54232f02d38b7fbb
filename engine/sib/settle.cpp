#include "sib/settle.hpp"

#include <algorithm>
#include <cmath>

#include "sib/exact.hpp"

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

std::string whole(double x) {
    return std::to_string(std::llround(x));
}

/// The observed total `mean × participants` as exact decimal arithmetic gives it (0.29 × 100 is
/// 29, not 28.999999999999996), as the nearest double.
double exact_total(double mean, double participants) {
    const Ratio total = decimal_of(mean) * ratio_of_integer(std::llround(participants));
    if (!total.exact) return mean * participants;
    return static_cast<double>(to_long_double(total));
}
}  // namespace

void settle_observed(const Plan& plan, const Observed& observed, const SettleOptions& options,
                     const MetricLayout& metrics, const PartyLayout& parties, TrialState& state,
                     std::vector<std::string>& notes) {
    DiagnosticSink sink{observed.file, {}};
    const size_t C = plan.cohorts.size(), O = plan.outcomes.size();
    Outcomes& out = state.outcomes;
    std::vector<double> participants(C, -1.0);
    std::fill(out.total.begin(), out.total.end(), 0.0);
    std::fill(out.comparison_total.begin(), out.comparison_total.end(), 0.0);
    std::fill(out.comparison_members.begin(), out.comparison_members.end(), 0.0);
    std::fill(out.observed.begin(), out.observed.end(), 0);

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
        const size_t co = at(c) * O + at(o);
        if (out.observed[co]) {
            sink.error(
                ob.loc, path,
                "cohort '" + ob.cohort + "' and outcome '" + ob.outcome + "' observed twice");
            continue;
        }
        out.observed[co] = 1;
        if (participants[at(c)] >= 0 && participants[at(c)] != ob.participants) {
            sink.error(ob.loc, path + ".participants",
                       "cohort '" + ob.cohort + "' was observed with " +
                           whole(participants[at(c)]) + " participants elsewhere");
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
                           "successes (" + whole(*ob.successes) + ") exceed participants (" +
                               whole(ob.participants) + ")");
                continue;
            }
            total = *ob.successes;
        } else if (ob.mean) {
            if (outcome.kind == OutcomeKind::binary && *ob.mean > 1) {
                sink.error(ob.loc, path + ".mean", "a binary outcome's mean is a share, at most 1");
                continue;
            }
            total = exact_total(*ob.mean, ob.participants);
            if (outcome.kind == OutcomeKind::binary && total != std::round(total)) {
                sink.error(ob.loc, path + ".mean",
                           "mean × participants must be a whole number of successes for a binary "
                           "outcome; give successes instead");
                continue;
            }
        }
        out.total[co] = total;
        if (outcome.compared) {
            if (!ob.comparison_mean) {
                sink.error(ob.loc, path,
                           "missing 'comparison_mean', needed by a versus_comparison rule on '" +
                               ob.outcome + "'");
                continue;
            }
            // The written mean over one member: kept as written, so decisions on it are exact.
            out.comparison_total[co] = *ob.comparison_mean;
            out.comparison_members[co] = 1;
        }
    }

    // Terms that aggregate results cannot settle, and outcomes no observation gives.
    if (plan.per_participant_cap != no_limit) {
        for (const auto& rule : plan.rules)
            if (rule.basis == Basis::rate_card) {
                sink.error(SourceLoc{1, 1}, "observed",
                           "the scenario's caps.per_participant needs each participant's "
                           "results, which aggregate results do not give; it cannot be settled "
                           "from cohort totals");
                break;
            }
    }
    if (!options.partial && sink.empty()) {  // an unknown name above already explains a gap
        std::vector<char> needed(O, 0);
        for (const auto& rule : plan.rules) needed[at(rule.outcome)] = 1;
        for (size_t o = 0; o < O; ++o) {
            if (!needed[o]) continue;
            bool any = false;
            for (size_t c = 0; c < C; ++c) any = any || out.observed[c * O + o];
            if (!any)
                sink.error(SourceLoc{1, 1}, "observed",
                           "outcome '" + plan.outcomes[o].name +
                               "' is not observed for any cohort, but payment rules use it; give "
                               "it, or pass --partial to settle without it");
        }
    }
    sink.throw_if_any();

    // Central parameter values stand in for draws: baselines for units caused.
    DrawScratch& scratch = state.draws;
    for (size_t i = 0; i < plan.parameters.size(); ++i)
        scratch.values[i] = mean_of(plan.parameters[i].dist);
    resolve_means(plan, scratch, out);

    std::fill(out.rate_card_units.begin(), out.rate_card_units.end(), 0.0);
    for (size_t c = 0; c < C; ++c) {
        const auto& cohort = plan.cohorts[c];
        const long long n = std::llround(std::max(0.0, participants[c]));
        out.cohort_size[c] = n;
        for (int b = 0; b < cohort.batches; ++b)
            out.batch_size[at(cohort.first_batch + b)] =
                n / cohort.batches + (b < n % cohort.batches ? 1 : 0);
        // Observed totals are spread over enrolment batches in proportion to their participants.
        for (size_t o = 0; o < O; ++o)
            for (int b = 0; b < cohort.batches; ++b)
                out.counts[at(plan.count_index(static_cast<int>(c), static_cast<int>(o), b))] =
                    n > 0 ? out.total[c * O + o] *
                                static_cast<double>(out.batch_size[at(cohort.first_batch + b)]) /
                                static_cast<double>(n)
                          : 0.0;
        add_rate_card_units(plan, static_cast<int>(c), out);
    }
    settle(plan, out, state.settlement);
    fill_metrics(plan, metrics, parties, out, state.settlement, NotAssessed::nan, state.metrics,
                 state.flows);

    // What was not assessed, for the user to see.
    for (size_t r = 0; r < plan.rules.size(); ++r) {
        const auto& rule = plan.rules[r];
        const auto& outcome = plan.outcomes[at(rule.outcome)];
        if (rule.basis == Basis::rate_card) {
            std::vector<std::string> missing;
            for (size_t c = 0; c < C; ++c)
                if (!out.observed[c * O + at(rule.outcome)])
                    missing.push_back("'" + plan.cohorts[c].name + "'");
            if (missing.empty()) continue;
            std::string list;
            for (const auto& name : missing) list += (list.empty() ? "" : ", ") + name;
            notes.push_back("rule '" + rule.name + "' not assessed for " +
                            (missing.size() == 1 ? "cohort " : "cohorts ") + list + ": outcome '" +
                            outcome.name + "' not observed for " +
                            (missing.size() == 1 ? "it" : "them"));
            continue;
        }
        const size_t scopes = rule.per == Scope::all ? 1 : C;
        for (size_t k = 0; k < scopes; ++k) {
            if (state.settlement.assessed[r * C + k]) continue;
            std::string why;
            for (size_t c = 0; c < C; ++c) {
                if (rule.per == Scope::cohort && c != k) continue;
                if (!out.observed[c * O + at(rule.outcome)])
                    why += (why.empty() ? "" : ", ") + plan.cohorts[c].name;
            }
            notes.push_back(
                "rule '" + rule.name + "'" +
                (rule.per == Scope::cohort ? " for cohort '" + plan.cohorts[k].name + "'"
                                           : std::string()) +
                " not assessed: " +
                (why.empty() ? "no participants in its scope"
                             : "outcome '" + outcome.name + "' not observed for " + why));
        }
    }
}

}  // namespace sib
