#include "sib/indigo.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "sib/csv.hpp"
#include "sib/exact.hpp"
#include "sib/metrics.hpp"
#include "sib/readable.hpp"
#include "sib/reports.hpp"

namespace sib {

namespace {

/// INDIGO's `{"value": …}` wrapper around a number or a text.
std::string value_of(double x) {
    return "{\"value\": " + format_number(x) + "}";
}
std::string value_of(const std::string& text) {
    return "{\"value\": " + json_string(text) + "}";
}

/// A fraction as INDIGO's percentage text, to two decimals: 0.0325 → "3.25%".
std::string percent_text(double fraction) {
    return with_thousands(fraction * 100, 2) + "%";
}

/// {"currency": {"value": CUR}, "amount": {"value": X}}: INDIGO's money objects.
std::string money_of(const Plan& plan, double amount) {
    return "{\"currency\": " + value_of(plan.currency) + ", \"amount\": " + value_of(amount) + "}";
}

/// Money in minor units as currency units; nothing for a cap that never binds.
std::optional<double> cap_money(long long units, const Plan& plan) {
    if (units == no_cap_units) return std::nullopt;
    return static_cast<double>(units) / plan.minor_unit.per_currency;
}

/// The most payer p can be asked to pay: its own maximum, and its largest share of the contract
/// cap (its default share, or a cohort's own split); nothing when neither is finite.
std::optional<double> payer_maximum(const Plan& plan, std::size_t p) {
    std::optional<double> most = cap_money(plan.payers[p].max_units, plan);
    if (const auto cap = cap_money(plan.total_cap_units, plan)) {
        double share = plan.payers[p].share;
        for (const auto& cohort : plan.cohorts)
            if (!cohort.payer_fractions.empty())
                share = std::max(share, static_cast<double>(cohort.payer_fractions[p].num) /
                                            static_cast<double>(cohort.payer_fractions[p].den));
        const double by_share = share * *cap;
        most = most ? std::min(*most, by_share) : by_share;
    }
    return most;
}

int metric_index(const RunResult& result, const std::string& name) {
    for (std::size_t m = 0; m < result.metrics.size(); ++m)
        if (result.metrics[m].name == name) return static_cast<int>(m);
    return -1;
}

/// A number as CSV writes it; null when it is not one (an IRR with nothing drawn).
std::string number_or_null(double x) {
    return std::isfinite(x) ? format_number(x) : "null";
}

/// sibsim's figures for one metric: mean, se and the p5, p50, p95 of the run.
std::string figures_of(const MetricSummary& m) {
    return "{\"mean\": " + number_or_null(m.moments.mean) +
           ", \"se\": " + number_or_null(m.moments.se()) +
           ", \"p5\": " + number_or_null(m.quantiles[0]) +
           ", \"p50\": " + number_or_null(m.quantiles[2]) +
           ", \"p95\": " + number_or_null(m.quantiles[4]) + "}";
}

}  // namespace

std::array<double, 4> repayment_shares(const Plan& plan, const RunResult& result) {
    std::array<double, 4> shares{};
    const int drawn = metric_index(result, "investors.drawn");
    const int received = metric_index(result, "investors.received");
    SIB_ASSERT(drawn >= 0 && received >= 0 && !result.values.empty());
    const auto& d = result.values[static_cast<std::size_t>(drawn)];
    const auto& r = result.values[static_cast<std::size_t>(received)];
    for (std::size_t t = 0; t < d.size(); ++t) {
        const long long du = round_to_units(d[t], plan.minor_unit);
        const long long ru = round_to_units(r[t], plan.minor_unit);
        const std::size_t category = ru == 0 && du > 0 ? 0 : ru < du ? 1 : ru == du ? 2 : 3;
        shares[category] += 1;
    }
    for (auto& s : shares) s /= static_cast<double>(d.size());
    return shares;
}

void print_indigo(std::ostream& out, const Plan& plan, const RunResult& result) {
    const bool investors = plan.investors.has_value();
    out << "{\n  \"indigo_data_standard\": {\"schema\": \"project\", \"version\": "
        << json_string(indigo_schema_version)
        << ", \"url\": \"https://github.com/INDIGO-Initiative/indigo-data-standard\"},\n";

    // overall_project_finance: the contract cap; the investors' worst and best trial.
    out << "  \"overall_project_finance\": {";
    const char* separator = "";
    if (const auto cap = cap_money(plan.total_cap_units, plan)) {
        out << "\n    \"maximum_potential_outcome_payment_v2\": " << money_of(plan, *cap);
        separator = ",";
    }
    if (investors) {
        const auto& d =
            result.values[static_cast<std::size_t>(metric_index(result, "investors.drawn"))];
        const auto& l =
            result.values[static_cast<std::size_t>(metric_index(result, "investors.loss"))];
        double worst = 0;
        for (std::size_t t = 0; t < d.size(); ++t)
            if (d[t] > 0) worst = std::max(worst, l[t] / d[t]);
        const auto& irr =
            result.metrics[static_cast<std::size_t>(metric_index(result, "investors.irr"))];
        out << separator << "\n    \"maximum_potential_loss\": " << value_of(percent_text(worst));
        if (std::isfinite(irr.moments.max))
            out << ",\n    \"maximum_potential_return_type\": " << value_of(std::string("IRR"))
                << ",\n    \"maximum_potential_return\": "
                << value_of(percent_text(irr.moments.max));
        separator = ",";
    }
    out << (*separator ? "\n  },\n" : "},\n");

    // investment_details.internal_rate_of_return.target: the tranches' contracted annual rates.
    if (investors) {
        std::string target;
        bool all_same = true, any_rate = false;
        const auto& tranches = plan.investors->tranches;
        auto annual = [&](const PlanTranche& t) {
            return std::pow(1 + t.periodic_rate, plan.periods_per_year) - 1;
        };
        for (const auto& t : tranches) {
            any_rate = any_rate || t.periodic_rate > 0;
            all_same = all_same && t.periodic_rate == tranches.front().periodic_rate;
        }
        if (any_rate) {
            if (all_same) {
                target = percent_text(annual(tranches.front()));
            } else {
                for (const auto& t : tranches)
                    target += (target.empty() ? "" : ", ") + t.name + " " + percent_text(annual(t));
            }
            out << "  \"investment_details\": {\"internal_rate_of_return\": {\"target\": "
                << value_of(target) << "}},\n";
        }
    }

    // outcome_payment_commitments: one per payer, with its maximum where the scenario has one.
    out << "  \"outcome_payment_commitments\": [";
    for (std::size_t p = 0; p < plan.payers.size(); ++p) {
        out << (p ? ",\n    " : "\n    ")
            << "{\"organisation_id\": " << value_of(plan.payers[p].name);
        if (const auto most = payer_maximum(plan, p))
            out << ", \"maximum_potential_outcome_payment\": " << money_of(plan, *most);
        out << "}";
    }
    out << (plan.payers.empty() ? "],\n" : "\n  ],\n");

    // outcome_pricings: one per payment rule, its price per unit where it has one.
    out << "  \"outcome_pricings\": [";
    for (std::size_t r = 0; r < plan.rules.size(); ++r) {
        const PlanRule& rule = plan.rules[r];
        out << (r ? ",\n    " : "\n    ") << "{\"outcome_metric_id\": " << value_of(rule.name)
            << ", \"currency\": " << value_of(plan.currency);
        const bool priced =
            rule.basis == Basis::rate_card ||
            (rule.basis == Basis::versus_comparison && rule.versus_pay == VersusPay::price);
        if (priced) out << ", \"price_per_unit\": {\"amount\": " << value_of(rule.price) << "}";
        if (const auto cap = cap_money(rule.cap_units, plan))
            out << ", \"maximum_price_if_all_targets_achieved\": {\"amount\": "
                << value_of(format_number(*cap)) << "}";
        out << "}";
    }
    out << (plan.rules.empty() ? "],\n" : "\n  ],\n");

    // sibsim's own figures, from the run.
    out << "  \"sibsim\": {\n    \"trials\": " << result.trials
        << ",\n    \"seed\": " << result.seed;
    if (investors) {
        const auto shares = repayment_shares(plan, result);
        out << ",\n    \"investor_repayment\": {";
        for (std::size_t c = 0; c < shares.size(); ++c)
            out << (c ? ", " : "") << json_string(indigo_repayment_categories[c]) << ": "
                << format_number(shares[c]);
        out << "}";
    }
    out << ",\n    \"metrics\": {";
    separator = "";
    for (const auto& m : result.metrics) {
        // Payments (in all and per rule), what each payer pays, the investors' figures.
        const bool paid = m.name.size() > 5 && m.name.substr(m.name.size() - 5) == ".paid";
        const bool shown = m.name.rfind("payments.", 0) == 0 ||
                           (m.name.rfind("payer.", 0) == 0 && paid) ||
                           m.name.rfind("investors.", 0) == 0;
        if (!shown) continue;
        out << separator << "\n      " << json_string(m.name) << ": " << figures_of(m);
        separator = ",";
    }
    out << "\n    }\n  }\n}\n";
}

}  // namespace sib
