#include "sib/reports.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "sib/csv.hpp"
#include "sib/diagnostics.hpp"
#include "sib/readable.hpp"

namespace sib {

namespace {
/// period_date, with a year after 9999 (a start in 9999 and a long horizon) written in full,
/// "10000-01-01", where period_date's four digits would wrap it to "0000-01-01".
std::string date_of(const Plan& plan, int period) {
    std::string text = period_date(plan, period);
    if (!plan.start) return text;
    const int months =
        plan.start->year * 12 + plan.start->month - 1 + period * (12 / plan.periods_per_year);
    if (months / 12 <= 9999) return text;
    std::string full = std::to_string(months / 12);
    full.append(text.substr(4));  // "-MM-01"
    return full;
}

/// "p2.5" for 0.025: p and the percentage as CSV writes numbers.
std::string percentile_column(double p) {
    std::string column = "p";  // appended, not "p" + ...: GCC 12 warns falsely (-Wrestrict) there
    column += format_number(100 * p);
    return column;
}

/// metric,mean,sd,se, the quantile columns (p5 … p95, or those of run --percentiles), min,max.
std::vector<std::string> summary_columns(const RunResult& result) {
    if (result.percentiles.empty())
        return {"metric", "mean", "sd", "se", "p5", "p25", "p50", "p75", "p95", "min", "max"};
    std::vector<std::string> columns = {"metric", "mean", "sd", "se"};
    for (double p : result.percentiles) columns.push_back(percentile_column(p));
    columns.insert(columns.end(), {"min", "max"});
    return columns;
}

std::vector<double> summary_values(const RunResult& result, const MetricSummary& m) {
    std::vector<double> values = {m.moments.mean, m.moments.sd(), m.moments.se()};
    if (result.percentiles.empty())
        values.insert(values.end(), m.quantiles.begin(), m.quantiles.end());
    else
        values.insert(values.end(), m.percentiles.begin(), m.percentiles.end());
    values.insert(values.end(), {m.moments.min, m.moments.max});
    return values;
}
}  // namespace

Unit unit_of(MetricKind kind) {
    switch (kind) {
        case MetricKind::money:
            return Unit::money;
        case MetricKind::probability:
        case MetricKind::rate:
        case MetricKind::relative:
            return Unit::percent;
        case MetricKind::ratio:
            return Unit::multiple;
        case MetricKind::count:
            return Unit::count;
    }
    return Unit::number;
}

void MetricUnits::add(const Plan& plan) {
    const MetricLayout layout = metric_layout(plan);
    for (std::size_t m = 0; m < layout.names.size(); ++m)
        units_.emplace(layout.names[m], unit_of(layout.kinds[m]));
}

Unit MetricUnits::of(const std::string& metric) const {
    if (units_.empty()) return Unit::number;
    const auto found = units_.find(metric);
    SIB_ASSERT(found != units_.end());
    return found->second;
}

void summary_table(TableSink& table, const RunResult& result, const MetricUnits& units) {
    table.header(summary_columns(result));
    for (const auto& m : result.metrics) {
        table.text(m.name);
        const Unit unit = units.of(m.name);
        for (double v : summary_values(result, m)) table.number(v, unit);
        table.end_row();
    }
}

void cashflows_table(TableSink& table, const Plan& plan, const RunResult& result) {
    std::vector<std::string> columns = {"period", "date"};
    for (const auto& party : result.parties)
        for (const char* stat : {".mean", ".p5", ".p95"}) columns.push_back(party + stat);
    table.header(columns);
    const auto horizon = static_cast<std::size_t>(plan.horizon);
    for (std::size_t t = 0; t < horizon; ++t) {
        table.integer(static_cast<long long>(t));
        table.date(date_of(plan, static_cast<int>(t)));
        for (std::size_t p = 0; p < result.parties.size(); ++p) {
            const auto& c = result.cashflows[p * horizon + t];
            table.number(c.mean, Unit::money);
            table.number(c.p5, Unit::money);
            table.number(c.p95, Unit::money);
        }
        table.end_row();
    }
}

void trials_table(TableSink& table, const RunResult& result, const MetricUnits& units) {
    std::vector<std::string> columns = {"trial"};
    std::vector<Unit> column_units;
    for (const auto& m : result.metrics) {
        columns.push_back(m.name);
        column_units.push_back(units.of(m.name));
    }
    table.header(columns);
    SIB_ASSERT(result.values.size() == result.metrics.size());  // kept: --per-trial
    for (long long t = 0; t < result.trials; ++t) {
        table.integer(t);
        for (std::size_t m = 0; m < result.values.size(); ++m)
            table.number(result.values[m][static_cast<std::size_t>(t)], column_units[m]);
        table.end_row();
    }
}

void provenance_table(TableSink& table, const Provenance& provenance) {
    table.header({"key", "value"});
    for (const auto& [key, value] : provenance) {
        table.text(key);
        table.text(value);
        table.end_row();
    }
}

void write_summary(std::ostream& out, const RunResult& result) {
    CsvSink csv(out);
    summary_table(csv, result, MetricUnits());
}

void write_cashflows(std::ostream& out, const Plan& plan, const RunResult& result) {
    CsvSink csv(out);
    cashflows_table(csv, plan, result);
}

void write_trials(std::ostream& out, const RunResult& result) {
    CsvSink csv(out);
    trials_table(csv, result, MetricUnits());
}

void write_provenance(std::ostream& out, const Provenance& provenance) {
    CsvSink csv(out);
    provenance_table(csv, provenance);
}

void print_table(std::ostream& out, const Plan& plan, const RunResult& result) {
    out << printable(plan.name) << ": " << result.trials << " trials, seed " << result.seed
        << ", money in " << printable(plan.currency) << "\n\n";
    const MetricLayout layout = metric_layout(plan);
    // p5, p50, p95, or every percentile of run --percentiles.
    TextTable table{{"metric", "mean", "se"}, {0, 1, 1}, {}};
    if (result.percentiles.empty()) table.header.insert(table.header.end(), {"p5", "p50", "p95"});
    for (double p : result.percentiles) table.header.push_back(percentile_column(p));
    table.right_aligned.resize(table.header.size(), 1);
    for (const auto& m : result.metrics) {
        const int index = metric_index(layout, m.name);
        SIB_ASSERT(index >= 0);  // the run's metrics come from this plan's layout
        const MetricKind kind = layout.kinds[static_cast<std::size_t>(index)];
        auto value = [&](double v) { return readable_value(v, kind, plan.currency, true); };
        std::vector<std::string> row = {m.name, readable_value(m.moments.mean, kind, plan.currency),
                                        readable_error(m.moments.se(), kind, plan.currency)};
        if (result.percentiles.empty())
            row.insert(row.end(),
                       {value(m.quantiles[0]), value(m.quantiles[2]), value(m.quantiles[4])});
        for (double v : m.percentiles) row.push_back(value(v));
        table.rows.push_back(std::move(row));
    }
    // One block: the run table is as wide as its longest metric name and five numbers.
    print_text_table(out, table, std::numeric_limits<std::size_t>::max());
}

namespace {
std::string cohort_label(const Plan& plan, int cohort) {
    return cohort >= 0 ? plan.cohorts[static_cast<std::size_t>(cohort)].name : "all";
}

/// Each payer's part of slot `i`'s payment, in minor units, as the settlement split it.
std::vector<long long> payer_parts(const Plan& plan, const TrialState& state, std::size_t i) {
    const auto P = plan.payers.size();
    const auto first = state.settlement.slot_parts.begin() + static_cast<std::ptrdiff_t>(i * P);
    return std::vector<long long>(first, first + static_cast<std::ptrdiff_t>(P));
}
}  // namespace

void payments_table(TableSink& table, const Plan& plan, const TrialState& state) {
    std::vector<std::string> columns = {"rule", "cohort", "period", "date", "amount"};
    for (const auto& p : plan.payers) columns.push_back(p.name);
    table.header(columns);
    for (std::size_t i = 0; i < plan.slots.size(); ++i) {
        const long long paid = state.settlement.slot_paid[i];
        if (paid == 0) continue;
        const auto& slot = plan.slots[i];
        const auto& rule = plan.rules[static_cast<std::size_t>(slot.rule)];
        table.text(rule.name);
        table.text(cohort_label(plan, slot.cohort));
        table.integer(static_cast<long long>(slot.period));
        table.date(date_of(plan, slot.period));
        table.number(money_of(paid, plan.minor_unit), Unit::money);
        for (long long part : payer_parts(plan, state, i))
            table.number(money_of(part, plan.minor_unit), Unit::money);
        table.end_row();
    }
}

void settled_cashflows_table(TableSink& table, const Plan& plan, const TrialState& state) {
    const PartyLayout parties = party_layout(plan);
    std::vector<std::string> columns = {"period", "date"};
    for (const auto& name : parties.names) columns.push_back(name);
    table.header(columns);
    const auto horizon = static_cast<std::size_t>(plan.horizon);
    for (std::size_t t = 0; t < horizon; ++t) {
        table.integer(static_cast<long long>(t));
        table.date(date_of(plan, static_cast<int>(t)));
        for (std::size_t p = 0; p < parties.names.size(); ++p)
            table.number(state.flows[p * horizon + t] + 0.0, Unit::money);
        table.end_row();
    }
}

void write_payments(std::ostream& out, const Plan& plan, const TrialState& state) {
    CsvSink csv(out);
    payments_table(csv, plan, state);
}

void write_settled_cashflows(std::ostream& out, const Plan& plan, const TrialState& state) {
    CsvSink csv(out);
    settled_cashflows_table(csv, plan, state);
}

std::vector<SettledCondition> settled_conditions(const Plan& plan, const MetricLayout& metrics,
                                                 const TrialState& state) {
    std::vector<SettledCondition> conditions;
    const std::size_t cohorts = plan.cohorts.size();
    for (std::size_t r = 0; r < plan.rules.size(); ++r) {
        if (metrics.rule_met[r] < 0) continue;
        const std::size_t scopes = plan.rules[r].per == Scope::all ? 1 : cohorts;
        for (std::size_t c = 0; c < scopes; ++c) {
            const auto m = static_cast<std::size_t>(metrics.rule_met[r]) + c;
            conditions.push_back(
                {m, state.settlement.assessed[r * cohorts + c] != 0, state.metrics[m] > 0});
        }
    }
    return conditions;
}

void print_settlement(std::ostream& screen, const Plan& plan, const MetricLayout& metrics,
                      const TrialState& state) {
    // Built whole, then printed line by line through printable(): names come from the scenario.
    std::ostringstream out;
    out << plan.name << ": settlement on observed results, money in " << plan.currency << "\n\n";
    bool any = false;
    for (std::size_t i = 0; i < plan.slots.size(); ++i) {
        const long long paid = state.settlement.slot_paid[i];
        if (paid == 0) continue;
        any = true;
        const auto& slot = plan.slots[i];
        const auto& rule = plan.rules[static_cast<std::size_t>(slot.rule)];
        out << "  " << rule.name << ", cohort " << cohort_label(plan, slot.cohort) << ", period "
            << slot.period;
        if (plan.start) out << " (" << date_of(plan, slot.period) << ")";
        auto amount = [&](long long minor_units) {
            return readable_amount(money_of(minor_units, plan.minor_unit), plan.minor_unit,
                                   plan.currency);
        };
        out << ": " << amount(paid);
        const char* separator = " (";
        const auto parts = payer_parts(plan, state, i);
        for (std::size_t p = 0; p < plan.payers.size(); ++p) {
            if (parts[p] == 0) continue;
            out << separator << plan.payers[p].name << " " << amount(parts[p]);
            separator = ", ";
        }
        out << ")\n";
    }
    if (!any) out << "  no payments\n";
    out << "\nconditions:\n";
    const std::size_t cohorts = plan.cohorts.size();
    for (const SettledCondition& condition : settled_conditions(plan, metrics, state)) {
        out << "  " << metrics.names[condition.metric] << ": ";
        if (!condition.assessed) {
            out << "not assessed (a cohort in scope was not observed, or the scope has no "
                   "participants)\n";
        } else {
            out << (condition.met ? "met" : "not met") << "\n";
        }
    }
    for (std::size_t o = 0; o < plan.outcomes.size(); ++o) {
        if (metrics.improvement[o] < 0) continue;
        for (std::size_t c = 0; c <= cohorts; ++c) {
            const auto m = static_cast<std::size_t>(metrics.improvement[o]) + c;
            out << "  " << metrics.names[m] << ": "
                << (std::isnan(state.metrics[m])
                        ? std::string("not assessed")
                        // Two decimals: the decision above uses the exact value, which
                        // --format json gives in full.
                        : with_thousands(100 * state.metrics[m], 2) + "%")
                << "\n";
        }
    }
    out << "\ntotal paid: "
        << readable_amount(state.metrics[static_cast<std::size_t>(metrics.payments_total)],
                           plan.minor_unit, plan.currency)
        << "\n";
    std::istringstream lines(out.str());
    for (std::string line; std::getline(lines, line);) screen << printable(line) << '\n';
}

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
            out += escaped;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

void print_json(std::ostream& out, const RunResult& result, const Provenance& extra) {
    const std::vector<std::string> columns = summary_columns(result);
    out << "{";
    bool first = true;
    for (const auto& m : result.metrics) {
        out << (first ? "\n  " : ",\n  ") << json_string(m.name) << ": {";
        first = false;
        const auto values = summary_values(result, m);
        for (std::size_t i = 0; i < values.size(); ++i)
            out << (i ? ", " : "") << json_string(columns[i + 1]) << ": "
                << format_number(values[i]);
        out << "}";
    }
    for (const auto& [key, value] : extra) {
        out << (first ? "\n  " : ",\n  ") << json_string(key) << ": " << value;
        first = false;
    }
    out << "\n}\n";
}

}  // namespace sib
