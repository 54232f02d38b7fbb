#include "sib/settle.hpp"

#include <algorithm>
#include <cmath>

#include "sib/csv.hpp"
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
/// Participant rows against the plan: which outcome each column is, which cohort each row is,
/// and the counted totals.
struct ParticipantIndex {
    std::vector<long long> size;     ///< per cohort: rows
    std::vector<int> value_column;   ///< per outcome: its column, or -1
    std::vector<int> period_column;  ///< per outcome: its period column, or -1
    std::vector<int> row_cohort;     ///< per row: cohort index, or -1 when unknown
    std::vector<double> total;       ///< [c*O+o]: counted achievements or events
    std::vector<long long> counted;  ///< per outcome: one row's counted value (working space)
};

/// The period in which the outcome of a participant enrolled in `enrolled` is known.
long long known_for(const PlanOutcome& outcome, long long enrolled) {
    return outcome.known(static_cast<int>(enrolled));
}

/// One row's counted values into index.counted, leaders first: an achievement counts when it
/// came no later than the period its outcome is known (when the period is given), and a
/// follower's only when its leader's counts (any time with `rate_without`).
void count_row(const Plan& plan, const ParticipantRow& row, ParticipantIndex& index) {
    for (int o : plan.outcome_order) {
        const auto& outcome = plan.outcomes[at(o)];
        long long v = 0;
        if (index.value_column[at(o)] >= 0) {
            v = row.cells[at(index.value_column[at(o)])].value;
            const int pc = index.period_column[at(o)];
            if (pc >= 0 && !row.cells[at(pc)].empty &&
                row.cells[at(pc)].value > known_for(outcome, row.enrolled))
                v = 0;
            if (outcome.leader >= 0 && !outcome.leader_optional &&
                index.value_column[at(outcome.leader)] >= 0 &&
                index.counted[at(outcome.leader)] == 0)
                v = 0;
            if (outcome.excluded >= 0 && index.value_column[at(outcome.excluded)] >= 0 &&
                index.counted[at(outcome.excluded)] > 0)
                v = 0;
        }
        index.counted[at(o)] = v;
    }
}

ParticipantIndex check_participants(const Plan& plan, const Participants& csv,
                                    DiagnosticSink& sink) {
    const size_t C = plan.cohorts.size(), O = plan.outcomes.size();
    ParticipantIndex index;
    index.size.assign(C, 0);
    index.value_column.assign(O, -1);
    index.period_column.assign(O, -1);
    index.total.assign(C * O, 0.0);
    index.counted.assign(O, 0);
    for (size_t k = 0; k < csv.columns.size(); ++k) {
        const auto& column = csv.columns[k];
        const int o = find_named(plan.outcomes, column.outcome);
        if (o < 0) {
            sink.error(column.loc, column.outcome + (column.period ? ".period" : ""),
                       unknown("outcome", column.outcome, names_of(plan.outcomes)));
            continue;
        }
        (column.period ? index.period_column : index.value_column)[at(o)] = static_cast<int>(k);
    }
    for (const auto& row : csv.rows) {
        const int c = find_named(plan.cohorts, row.cohort);
        index.row_cohort.push_back(c);
        if (c < 0) {
            sink.error(row.cohort_loc, "cohort",
                       unknown("cohort", row.cohort, names_of(plan.cohorts)));
            continue;
        }
        const auto& cohort = plan.cohorts[at(c)];
        const int last = cohort.enrol_first + cohort.batches - 1;
        if (row.enrolled < cohort.enrol_first || row.enrolled > last) {
            sink.error(row.enrolled_loc, "enrolled",
                       "period " + std::to_string(row.enrolled) + " is outside cohort '" +
                           cohort.name + "''s enrolment [" + std::to_string(cohort.enrol_first) +
                           ", " + std::to_string(last) + "]");
            continue;
        }
        bool ok = true;
        for (size_t o = 0; o < O; ++o) {
            const auto& outcome = plan.outcomes[o];
            const int vc = index.value_column[o];
            if (vc < 0) continue;
            const auto& cell = row.cells[at(vc)];
            if (outcome.kind == OutcomeKind::binary && cell.value > 1) {
                sink.error(cell.loc, outcome.name,
                           "a binary outcome is 0 or 1, got " + std::to_string(cell.value));
                ok = false;
            }
            const int pc = index.period_column[o];
            if (pc >= 0 && !row.cells[at(pc)].empty && row.cells[at(pc)].value < row.enrolled) {
                sink.error(row.cells[at(pc)].loc, outcome.name + ".period",
                           "achieved in period " + std::to_string(row.cells[at(pc)].value) +
                               ", before enrolment (period " + std::to_string(row.enrolled) + ")");
                ok = false;
            }
            if (outcome.leader >= 0 && !outcome.leader_optional && cell.value > 0 &&
                index.value_column[at(outcome.leader)] >= 0 &&
                row.cells[at(index.value_column[at(outcome.leader)])].value == 0) {
                sink.error(cell.loc, outcome.name,
                           "achieved without '" + plan.outcomes[at(outcome.leader)].name +
                               "', which it comes after");
                ok = false;
            }
            if (outcome.excluded >= 0 && cell.value > 0 &&
                index.value_column[at(outcome.excluded)] >= 0 &&
                row.cells[at(index.value_column[at(outcome.excluded)])].value > 0) {
                sink.error(cell.loc, outcome.name,
                           "achieved together with '" + plan.outcomes[at(outcome.excluded)].name +
                               "', which it is instead of");
                ok = false;
            }
        }
        if (!ok) continue;
        ++index.size[at(c)];
        count_row(plan, row, index);
        for (size_t o = 0; o < O; ++o)
            index.total[at(c) * O + o] += static_cast<double>(index.counted[o]);
    }
    return index;
}

/// Batch sizes, the outcome columns' counts per batch and totals, and under a per-participant
/// cap each row's capped rate-card payments, exactly as the simulation pays one participant
/// (draw.cpp, individuals mode): in the plan's payment order, each min(price × count, cap − paid).
void add_participants(const Plan& plan, const Participants& csv, ParticipantIndex& index,
                      Outcomes& out) {
    const size_t O = plan.outcomes.size(), H = at(plan.horizon);
    for (size_t c = 0; c < plan.cohorts.size(); ++c) {
        if (index.size[c] == 0) continue;
        const auto& cohort = plan.cohorts[c];
        for (int b = 0; b < cohort.batches; ++b) {
            out.batch_size[at(cohort.first_batch + b)] = 0;
            for (size_t o = 0; o < O; ++o)
                if (index.value_column[o] >= 0)
                    out.counts[at(plan.count_index(static_cast<int>(c), static_cast<int>(o), b))] =
                        0;
        }
        for (size_t o = 0; o < O; ++o)
            if (index.value_column[o] >= 0) out.total[c * O + o] = index.total[c * O + o];
    }
    for (size_t i = 0; i < csv.rows.size(); ++i) {
        const int c = index.row_cohort[i];
        if (c < 0) continue;
        const auto& row = csv.rows[i];
        const auto& cohort = plan.cohorts[at(c)];
        const int b = static_cast<int>(row.enrolled) - cohort.enrol_first;
        ++out.batch_size[at(cohort.first_batch + b)];
        count_row(plan, row, index);
        for (size_t o = 0; o < O; ++o)
            if (index.value_column[o] >= 0)
                out.counts[at(plan.count_index(c, static_cast<int>(o), b))] +=
                    static_cast<double>(index.counted[o]);
        if (plan.participant_mode == ParticipantMode::aggregate) continue;
        double paid = 0;
        for (int r : plan.capped_rate_rules) {
            const auto& rule = plan.rules[at(r)];
            const long long achieved = index.counted[at(rule.outcome)];
            if (achieved == 0) continue;
            const double amount = std::min(rule.price * static_cast<double>(achieved),
                                           std::max(0.0, plan.per_participant_cap - paid));
            paid += amount;
            const long long period =
                known_for(plan.outcomes[at(rule.outcome)], row.enrolled) + rule.payment_lag;
            if (amount > 0) out.rate_card_due[at(r) * H + static_cast<size_t>(period)] += amount;
        }
    }
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

    // Participant-level results: their cohorts' sizes and their outcome columns' counts.
    const Participants* csv = options.participants;
    DiagnosticSink csv_sink{csv ? csv->file : std::string(), {}};
    ParticipantIndex index;
    if (csv) {
        index = check_participants(plan, *csv, csv_sink);
        for (size_t c = 0; c < C; ++c) {
            if (index.size[c] == 0) continue;
            for (size_t o = 0; o < O; ++o) {
                if (index.value_column[o] < 0) continue;
                const size_t co = c * O + o;
                if (plan.outcomes[o].compared && !out.observed[co])
                    csv_sink.error(csv->columns[at(index.value_column[o])].loc,
                                   csv->columns[at(index.value_column[o])].outcome,
                                   "used by a versus_comparison rule: give cohort '" +
                                       plan.cohorts[c].name +
                                       "''s comparison_mean for it in the --observed file");
                out.observed[co] = 1;
            }
        }
        // The two files must agree where both speak of a cohort.
        for (size_t i = 0; i < observed.observations.size(); ++i) {
            const auto& ob = observed.observations[i];
            const std::string path = "observed[" + std::to_string(i) + "]";
            const int c = find_named(plan.cohorts, ob.cohort);
            const int o = find_named(plan.outcomes, ob.outcome);
            if (c < 0 || o < 0 || index.size[at(c)] == 0) continue;
            const auto rows = static_cast<double>(index.size[at(c)]);
            if (ob.participants != rows) {
                sink.error(ob.loc, path + ".participants",
                           "cohort '" + ob.cohort + "' has " + whole(rows) + " participants in " +
                               csv->file);
                continue;
            }
            if (index.value_column[at(o)] >= 0 && (ob.mean || ob.successes) &&
                out.total[at(c) * O + at(o)] != index.total[at(c) * O + at(o)])
                sink.error(ob.loc, path,
                           "outcome '" + ob.outcome + "' totals " +
                               format_number(out.total[at(c) * O + at(o)]) + " here but " +
                               format_number(index.total[at(c) * O + at(o)]) + " in " + csv->file);
        }
        for (size_t c = 0; c < C; ++c)
            if (index.size[c] > 0) participants[c] = static_cast<double>(index.size[c]);
    }
    DiagnosticSink& general = observed.file.empty() && csv ? csv_sink : sink;

    // Terms that aggregate results cannot settle, and outcomes no observation gives.
    if (plan.participant_mode != ParticipantMode::aggregate) {
        if (!csv) {
            sink.error(SourceLoc{1, 1}, "observed",
                       "the scenario's caps.per_participant needs each participant's results, "
                       "which cohort totals do not give; give them with --participants FILE.csv "
                       "(one row per participant)");
        } else {
            for (int r : plan.capped_rate_rules) {
                const int o = plan.rules[at(r)].outcome;
                if (index.value_column[at(o)] < 0)
                    csv_sink.error(SourceLoc{1, 1}, "",
                                   "no column '" + plan.outcomes[at(o)].name + "': rule '" +
                                       plan.rules[at(r)].name +
                                       "' is paid under caps.per_participant, which needs each "
                                       "participant's result");
            }
            for (size_t i = 0; i < observed.observations.size(); ++i) {
                const auto& ob = observed.observations[i];
                const int c = find_named(plan.cohorts, ob.cohort);
                if (c >= 0 && index.size[at(c)] == 0)
                    sink.error(ob.loc, "observed[" + std::to_string(i) + "].cohort",
                               "cohort '" + ob.cohort + "' has no rows in " + csv->file +
                                   ": caps.per_participant needs each participant's results");
            }
        }
    }
    if (!options.partial && sink.empty() &&
        csv_sink.empty()) {  // an unknown name above already explains a gap
        std::vector<char> needed(O, 0);
        for (const auto& rule : plan.rules) needed[at(rule.outcome)] = 1;
        for (size_t o = 0; o < O; ++o) {
            if (!needed[o]) continue;
            bool any = false;
            for (size_t c = 0; c < C; ++c) any = any || out.observed[c * O + o];
            if (!any)
                general.error(
                    SourceLoc{1, 1}, observed.file.empty() ? "" : "observed",
                    "outcome '" + plan.outcomes[o].name +
                        "' is not observed for any cohort, but payment rules use it; give "
                        "it, or pass --partial to settle without it");
        }
    }
    if (!sink.empty() || !csv_sink.empty()) {
        std::vector<Diagnostic> all = sink.diagnostics;
        all.insert(all.end(), csv_sink.diagnostics.begin(), csv_sink.diagnostics.end());
        throw InputError(all);
    }

    // Central parameter values stand in for draws: baselines for units caused.
    DrawScratch& scratch = state.draws;
    for (size_t i = 0; i < plan.parameters.size(); ++i)
        scratch.values[i] = mean_of(plan.parameters[i].dist);
    resolve_means(plan, scratch, out);

    std::fill(out.rate_card_units.begin(), out.rate_card_units.end(), 0.0);
    std::fill(out.rate_card_due.begin(), out.rate_card_due.end(), 0.0);
    if (csv) add_participants(plan, *csv, index, out);
    for (size_t c = 0; c < C; ++c) {
        const auto& cohort = plan.cohorts[c];
        const long long n = std::llround(std::max(0.0, participants[c]));
        const bool rows = csv && index.size[c] > 0;  // sizes and columns' counts set from rows
        out.cohort_size[c] = n;
        for (int b = 0; b < cohort.batches && !rows; ++b)
            out.batch_size[at(cohort.first_batch + b)] =
                n / cohort.batches + (b < n % cohort.batches ? 1 : 0);
        // Observed totals are spread over enrolment batches in proportion to their participants.
        for (size_t o = 0; o < O; ++o)
            for (int b = 0; b < cohort.batches && !(rows && index.value_column[o] >= 0); ++b)
                out.counts[at(plan.count_index(static_cast<int>(c), static_cast<int>(o), b))] =
                    n > 0 ? out.total[c * O + o] *
                                static_cast<double>(out.batch_size[at(cohort.first_batch + b)]) /
                                static_cast<double>(n)
                          : 0.0;
        if (plan.participant_mode == ParticipantMode::aggregate)
            add_rate_card_units(plan, static_cast<int>(c), out);
    }
    state.settlement.slot_parts.assign(plan.slots.size() * plan.payers.size(), 0);  // payments.csv
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
