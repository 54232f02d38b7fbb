#include "sib/report_html.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <span>

#include "sib/csv.hpp"
#include "sib/exact.hpp"
#include "sib/stats.hpp"
#include "sib/svg.hpp"

namespace sib {

namespace {

using svg::escape;

/// A number with a fixed count of decimals, locale-independent.
std::string fixed(double v, int decimals) {
    char buf[64];
    const auto end =
        std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals).ptr;
    return std::string(buf, end);
}

/// "1234567.5" → "1,234,567.5" (the digits before the point grouped by three).
std::string grouped(const std::string& digits) {
    const auto point = std::min(digits.find('.'), digits.size());
    std::string out;
    for (std::size_t i = 0; i < point; ++i) {
        if (i > 0 && (point - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out + digits.substr(point);
}

/// A minus sign for people (U+2212), or nothing.
std::string sign_of(double v) {
    return v < 0 ? "\xE2\x88\x92" : "";
}

std::string format_multiple(double v) {
    const std::string digits = fixed(std::abs(v), 2);
    return (v < 0 && digits != "0.00" ? sign_of(v) : "") + digits + "\xC3\x97";  // ×
}

std::string format_count(double v) {
    return sign_of(v) + grouped(fixed(std::abs(v), std::abs(v) < 1000 ? 1 : 0));
}

svg::Format formatter(MetricKind kind, const std::string& currency) {
    switch (kind) {
        case MetricKind::money:
            return [currency](double v) { return format_money(v, currency); };
        case MetricKind::probability:
        case MetricKind::rate:
        case MetricKind::relative:
            return format_percent;
        case MetricKind::ratio:
            return format_multiple;
        case MetricKind::count:
            return format_count;
    }
    return format_count;
}

/// The index of metric `name` in `result`, or -1.
int metric_index(const RunResult& result, const std::string& name) {
    for (std::size_t m = 0; m < result.metrics.size(); ++m)
        if (result.metrics[m].name == name) return static_cast<int>(m);
    return -1;
}

/// Every trial's values of metric `m`, or nothing when the run did not keep them.
std::span<const double> trial_values(const RunResult& result, int m) {
    if (m < 0 || static_cast<std::size_t>(m) >= result.values.size()) return {};
    const auto& v = result.values[static_cast<std::size_t>(m)];
    if (result.trials <= 0 || v.size() != static_cast<std::size_t>(result.trials)) return {};
    return {v.data(), v.size()};
}

/// The period's label: its month ("2010-09") when the scenario has a start, else its number.
std::string period_label(const Plan& plan, int period) {
    const std::string date = period_date(plan, period);
    return date.empty() ? std::to_string(period) : date.substr(0, date.size() - 3);
}

const char* const page_css = R"(
body{font-family:"DejaVu Sans","Liberation Sans",Arial,sans-serif;color:#1d2430;background:#fff;max-width:780px;margin:24px auto;padding:0 16px;line-height:1.45;font-size:14px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d5dae1;padding-bottom:4px}
p.lead{color:#4a5568;margin:0 0 16px}
figure{margin:16px 0 24px;page-break-inside:avoid;break-inside:avoid}
figcaption{font-size:13px;color:#4a5568;margin-top:4px}
figcaption strong{color:#1d2430}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px;width:100%}
th,td{border-bottom:1px solid #e2e6eb;padding:3px 8px;text-align:left;vertical-align:top}
th{white-space:normal}
table.metrics{font-size:12px}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th.num{text-align:right}
code{font-size:12px;word-break:break-all}
.note{font-size:13px;color:#4a5568}
.chart{display:block;max-width:100%;height:auto;background:#fff}
.chart text{font-family:inherit;font-size:11px;fill:#1d2430}
.chart .tick{fill:#4a5568}
.chart .legend{font-size:12px}
.chart .axis{stroke:#1d2430;stroke-width:1}
.chart .grid{stroke:#e2e6eb;stroke-width:1}
.chart .bar{fill:#3b6ea5}
.chart .bar.loss{fill:#c0392b}
.chart .loss-region{fill:#c0392b;fill-opacity:.08}
.chart .loss-label{fill:#c0392b;font-weight:bold}
.chart .marker{stroke:#1d2430;stroke-width:1.5;stroke-dasharray:4 3}
.chart .marker-label{font-size:11px}
.chart .whisker{stroke:#1d2430;stroke-width:1.5}
.chart .box{fill:#3b6ea5;fill-opacity:.35;stroke:#3b6ea5}
.chart .median{stroke:#1d2430;stroke-width:2}
.chart .line{fill:none;stroke-width:2}
.chart .outline{fill:none;stroke-width:1.5}
.chart .area{fill-opacity:.15;stroke:none}
.chart .band{fill-opacity:.18;stroke:none}
.chart .s0{fill:#3b6ea5;stroke:#3b6ea5}
.chart .s1{fill:#d9822b;stroke:#d9822b}
.chart .s2{fill:#2e8b57;stroke:#2e8b57}
.chart .s3{fill:#8e44ad;stroke:#8e44ad}
.chart .s4{fill:#c0392b;stroke:#c0392b}
.chart .s5{fill:#16a085;stroke:#16a085}
.chart .s6{fill:#7f8c8d;stroke:#7f8c8d}
.chart .s7{fill:#b7950b;stroke:#b7950b}
.chart .line.s0,.chart .line.s1,.chart .line.s2,.chart .line.s3,.chart .line.s4,.chart .line.s5,.chart .line.s6,.chart .line.s7,.chart .outline{fill:none}
@media print{body{margin:0;max-width:none;font-size:11pt}h2{page-break-after:avoid;break-after:avoid}a{color:inherit;text-decoration:none}}
)";

/// The page up to the start of its content.
/// `extra_css`: rules only some pages need (appended, so the other pages stay as they were).
void begin_page(std::ostream& out, const std::string& title, const std::string& lead,
                const char* extra_css = "") {
    out << "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
           "<meta charset=\"utf-8\"/>\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
           "<meta name=\"generator\" content=\"sibsim\"/>\n<title>"
        << escape(title) << "</title>\n<style>" << page_css << extra_css
        << "</style>\n</head>\n<body>\n<h1>" << escape(title) << "</h1>\n<p class=\"lead\">"
        << escape(lead) << "</p>\n";
}

/// The provenance table (as run.csv) and the end of the page.
void end_page(std::ostream& out, const Provenance& provenance) {
    out << "<h2 id=\"provenance\">Provenance</h2>\n<table class=\"provenance\">\n";
    for (const auto& [key, value] : provenance)
        out << "<tr><th>" << escape(key) << "</th><td><code>" << escape(value)
            << "</code></td></tr>\n";
    out << "</table>\n<p class=\"note\">The same scenario, seed and trials give the same figures "
           "on any machine and thread count. Written by sibsim; no script, nothing fetched.</p>\n"
           "</body>\n</html>\n";
}

/// A chart with its caption, in a <figure> whose id is "fig-" and the chart's id.
void figure(std::ostream& out, const std::string& id, const std::string& title,
            const std::string& chart, const std::string& caption) {
    out << "<figure id=\"fig-" << escape(id) << "\">\n"
        << chart << "\n<figcaption><strong>" << escape(title) << "</strong> " << escape(caption)
        << "</figcaption>\n</figure>\n";
}

/// A table cell showing `text` for a figure whose CSV text is format_number(value), tagged with
/// the metric and statistic it comes from.
std::string value_cell(const std::string& metric, const std::string& stat, double value,
                       const std::string& text) {
    return "<td class=\"num\" data-metric=\"" + escape(metric) + "\" data-stat=\"" + escape(stat) +
           "\" data-value=\"" + format_number(value) + "\">" + escape(text) + "</td>";
}

std::string describe(const Distribution& d, const svg::Format& f) {
    struct Visitor {
        const svg::Format& f;
        std::string operator()(const Fixed& x) const { return f(x.value); }
        std::string operator()(const Normal& x) const {
            std::string s = "normal, mean " + f(x.mean) + ", sd " + f(x.sd);
            if (x.min) s += ", at least " + f(*x.min);
            if (x.max) s += ", at most " + f(*x.max);
            return s;
        }
        std::string operator()(const Lognormal& x) const {
            return "lognormal, mean " + f(x.mean) + ", sd " + f(x.sd);
        }
        std::string operator()(const Uniform& x) const {
            return "uniform from " + f(x.min) + " to " + f(x.max);
        }
        std::string operator()(const Triangular& x) const {
            return "triangular from " + f(x.min) + " to " + f(x.max) + ", mode " + f(x.mode);
        }
        std::string operator()(const Beta& x) const {
            return "beta, mean " + f(x.mean) + ", sd " + f(x.sd);
        }
    };
    return std::visit(Visitor{f}, d);
}

std::string plain(double v) {
    return format_number(v);
}

/// The terms a reader needs to judge the figures: timing, cohorts, rules, caps, payers,
/// investors, and every uncertain assumption.
void key_terms(std::ostream& out, const Plan& plan) {
    const auto money = [&](double v) { return format_money(v, plan.currency); };
    std::vector<std::pair<std::string, std::string>> rows;
    const char* unit = plan.periods_per_year == 12  ? "months"
                       : plan.periods_per_year == 4 ? "quarters"
                                                    : "years";
    std::string timing = std::to_string(plan.horizon) + " " + unit;
    if (plan.start)
        timing += ", " + period_label(plan, 0) + " to " + period_label(plan, plan.horizon - 1);
    rows.push_back({"contract", timing + "; money in " + plan.currency + "; discount rate " +
                                    format_percent(plan.discount_rate)});
    for (const auto& c : plan.cohorts)
        rows.push_back(
            {"cohort " + c.name,
             describe(plan.parameters[static_cast<std::size_t>(c.size_parameter)].dist, plain) +
                 " participants, enrolled in periods " + std::to_string(c.enrol_first) + " to " +
                 std::to_string(c.enrol_first + c.batches - 1)});
    for (const auto& r : plan.rules) {
        const std::string& outcome = plan.outcomes[static_cast<std::size_t>(r.outcome)].name;
        std::string text;
        if (r.basis == Basis::rate_card) {
            text = "rate card on " + outcome + ": " + money(r.price) + " each";
        } else {
            text = std::string(r.basis == Basis::target ? "target" : "against the comparison") +
                   " on " + outcome + (r.per == Scope::cohort ? ", each cohort" : ", all cohorts");
            if (r.basis == Basis::target)
                text += r.share_target ? ", at least " + format_percent(r.at_least)
                                       : ", at least " + plain(r.at_least);
            else
                text += ", from " + format_percent(r.threshold) + " improvement";
            if (r.basis == Basis::versus_comparison && r.versus_pay == VersusPay::schedule)
                text += ", by schedule";
            else if (r.basis == Basis::versus_comparison && r.versus_pay == VersusPay::amount)
                text += ", " + money(r.amount);
            else {
                if (r.price > 0) text += ", " + money(r.price) + " per unit";
                if (r.amount > 0) text += ", " + money(r.amount) + " once";
            }
        }
        if (r.net_of >= 0)
            text += ", net of " + plan.rules[static_cast<std::size_t>(r.net_of)].name;
        if (r.payment_lag > 0) text += ", paid " + std::to_string(r.payment_lag) + " periods later";
        if (r.cap_units != no_cap_units)
            text += ", cap " + money(money_of(r.cap_units, plan.minor_unit));
        rows.push_back({"rule " + r.name, text});
    }
    if (plan.per_participant_cap != no_limit)
        rows.push_back({"cap per participant", money(plan.per_participant_cap)});
    if (plan.total_cap_units != no_cap_units)
        rows.push_back({"total cap", money(money_of(plan.total_cap_units, plan.minor_unit))});
    for (const auto& p : plan.payers)
        rows.push_back({"payer " + p.name, format_percent(p.share) + " of payments"});
    if (plan.investors) {
        rows.push_back({"investors' capital", money(plan.investors->capital)});
        if (plan.investors->tranches_given)
            for (const auto& t : plan.investors->tranches)
                rows.push_back(
                    {"tranche " + t.name,
                     format_percent(t.share) + " of capital, " +
                         format_percent(std::pow(1 + t.periodic_rate, plan.periods_per_year) - 1) +
                         " a year"});
        if (plan.investors->has_guarantee && plan.investors->guarantee != no_limit)
            rows.push_back({"guarantee (" + plan.investors->guarantor + ")",
                            money(plan.investors->guarantee)});
    }
    for (const auto& p : plan.parameters)
        if (!std::holds_alternative<Fixed>(p.dist))
            rows.push_back({p.path, describe(p.dist, plain)});
    out << "<h2 id=\"terms\">Key terms</h2>\n<table class=\"terms\">\n";
    for (const auto& [term, value] : rows)
        out << "<tr><th>" << escape(term) << "</th><td>" << escape(value) << "</td></tr>\n";
    out << "</table>\n";
}

/// Every metric of a run: mean, se, P5, median, P95 for people, with the CSV values tagged.
void metrics_table(std::ostream& out, const RunResult& result, const std::vector<MetricKind>& kinds,
                   const std::string& currency) {
    out << "<h2 id=\"metrics\">Every metric</h2>\n<table class=\"metrics\">\n<tr><th>metric</th>"
           "<th class=\"num\">mean</th><th class=\"num\">se</th><th class=\"num\">P5</th>"
           "<th class=\"num\">median</th><th class=\"num\">P95</th></tr>\n";
    for (std::size_t m = 0; m < result.metrics.size(); ++m) {
        const auto& s = result.metrics[m];
        const auto f = formatter(kinds[m], currency);
        out << "<tr><td>" << escape(s.name) << "</td>"
            << value_cell(s.name, "mean", s.moments.mean, f(s.moments.mean))
            << value_cell(s.name, "se", s.moments.se(), f(s.moments.se()))
            << value_cell(s.name, "p5", s.quantiles[0], f(s.quantiles[0]))
            << value_cell(s.name, "p50", s.quantiles[2], f(s.quantiles[2]))
            << value_cell(s.name, "p95", s.quantiles[4], f(s.quantiles[4])) << "</tr>\n";
    }
    out << "</table>\n<p class=\"note\">The same figures as summary.csv (docs/outputs.md), "
           "rounded for reading.</p>\n";
}

/// A metric's distribution: a histogram of every trial, or, without them, its quantiles.
std::string distribution_chart(const std::string& id, const std::string& description,
                               const RunResult& result, int m, const svg::Format& f,
                               std::optional<double> shade_below, const std::string& shade_label,
                               bool markers) {
    const MetricSummary& s = result.metrics[static_cast<std::size_t>(m)];
    const auto values = trial_values(result, m);
    if (values.empty())
        return svg::quantile_strip(id, description, s.quantiles, f, shade_below, shade_label);
    std::vector<svg::Marker> marks;
    if (markers)
        marks = {{"P5 " + f(s.quantiles[0]), s.quantiles[0]},
                 {"median " + f(s.quantiles[2]), s.quantiles[2]},
                 {"mean " + f(s.moments.mean), s.moments.mean},
                 {"P95 " + f(s.quantiles[4]), s.quantiles[4]}};
    return svg::histogram(id, description, values, f, marks, shade_below, shade_label);
}

/// P5, median and P95 over the sampled trials of each party's cumulative cash flow by period.
std::vector<svg::Band> cumulative_fans(const Plan& plan, const RunResult& result) {
    std::vector<svg::Band> fans;
    const auto horizon = static_cast<std::size_t>(plan.horizon);
    const auto n = static_cast<std::size_t>(result.sampled_trials);
    const PartyLayout parties = party_layout(plan);
    if (n == 0 || result.cashflow_sample.size() != n * parties.names.size() * horizon) return fans;
    constexpr std::array<double, 3> probabilities = {0.05, 0.5, 0.95};
    std::vector<double> cumulative(n), scratch(n);
    for (std::size_t p = 0; p < parties.names.size(); ++p) {
        // Tranches split the investors' flows: the investors' line already shows their sum.
        if (parties.first_tranche >= 0 && static_cast<int>(p) >= parties.first_tranche &&
            static_cast<int>(p) < parties.provider)
            continue;
        svg::Band fan{parties.names[p], {}, {}, {}};
        std::fill(cumulative.begin(), cumulative.end(), 0.0);
        bool any = false;
        for (std::size_t t = 0; t < horizon; ++t) {
            const double* flows = result.cashflow_sample.data() + (p * horizon + t) * n;
            for (std::size_t i = 0; i < n; ++i) cumulative[i] += flows[i];
            scratch = cumulative;
            std::array<double, 3> q{};
            select_nearest_ranks(scratch, probabilities, q);
            fan.low.push_back(q[0]);
            fan.middle.push_back(q[1]);
            fan.high.push_back(q[2]);
            any = any || q[0] != 0 || q[2] != 0;
        }
        if (any) fans.push_back(std::move(fan));
    }
    return fans;
}

std::vector<double> period_axis(const Plan& plan, std::vector<std::string>& labels) {
    std::vector<double> x;
    for (int t = 0; t < plan.horizon; ++t) {
        x.push_back(t);
        labels.push_back(period_label(plan, t));
    }
    return x;
}

}  // namespace

std::string format_percent(double share) {
    const double v = std::abs(share) * 100;
    return sign_of(share * 100 < -0.05 ? -1 : 0) + fixed(v, 1) + "%";
}

std::string format_money(double amount, const std::string& currency) {
    static const std::map<std::string, std::string> symbols = {
        {"GBP", "\xC2\xA3"}, {"USD", "$"},  {"EUR", "\xE2\x82\xAC"},
        {"AUD", "A$"},       {"CAD", "C$"}, {"NZD", "NZ$"}};
    const auto it = symbols.find(currency);
    const std::string symbol = it != symbols.end() ? it->second : currency + " ";
    const double v = std::abs(amount);
    std::string digits;
    if (v >= 1e9) {
        digits = fixed(v / 1e9, 2) + "bn";
    } else if (v >= 1e6) {
        digits = fixed(v / 1e6, 2) + "m";
    } else if (v >= 100 || v == 0) {
        digits = grouped(fixed(v, 0));
    } else {
        digits = fixed(v, 2);
    }
    // A value that rounds to zero has no sign: "£0", not "−£0".
    const bool negative = amount < 0 && digits.find_first_not_of("0.,") != std::string::npos &&
                          digits.find_first_of("123456789") != std::string::npos;
    return (negative ? "\xE2\x88\x92" : "") + symbol + digits;
}

void write_run_report(std::ostream& out, const Plan& plan, const RunResult& result,
                      const Provenance& provenance) {
    const MetricLayout layout = metric_layout(plan);
    const auto kinds = layout.kinds;
    const auto money = formatter(MetricKind::money, plan.currency);
    const auto& total = result.metrics[static_cast<std::size_t>(layout.payments_total)];
    const bool exact = !trial_values(result, layout.payments_total).empty();
    begin_page(out, plan.name,
               std::to_string(result.trials) + " trials, seed " + std::to_string(result.seed) +
                   ", money in " + plan.currency + ". Expected payments " +
                   money(total.moments.mean) + "; in 90% of trials between " +
                   money(total.quantiles[0]) + " and " + money(total.quantiles[4]) + ".");

    out << "<h2 id=\"payments\">What the payers pay</h2>\n";
    figure(out, "payments-histogram", "Total outcome payments.",
           distribution_chart("payments-histogram", "Histogram of total outcome payments", result,
                              layout.payments_total, money, {}, "", true),
           exact ? "Share of trials in each band of total payments, after caps; dashed lines: "
                   "P5, median, mean and P95."
                 : "This run kept no per-trial values (beyond 2,000,000 trials and 2 GiB, or "
                   "with the quantile sketch), so the distribution is drawn from its quantiles: "
                   "the box spans P25 to P75, the whiskers P5 to P95, the line is the median.");
    std::vector<svg::Bar> net;
    for (std::size_t p = 0; p < plan.payers.size(); ++p) {
        const auto& s = result.metrics[static_cast<std::size_t>(layout.first_payer) + 3 * p + 2];
        net.push_back(
            {plan.payers[p].name, s.moments.mean, std::pair(s.quantiles[0], s.quantiles[4])});
    }
    figure(out, "payer-net-cost", "Each payer's net cost.",
           svg::bars("payer-net-cost", "Net cost to each payer, present value", net, money),
           "Present value of payments less savings (negative: savings exceed payments); bar: "
           "mean; whisker: P5 to P95.");

    if (layout.investors >= 0) {
        const double loss =
            result.metrics[static_cast<std::size_t>(layout.investors + 5)].moments.mean;
        const std::string loss_label = "loss: " + format_percent(loss) + " of trials";
        out << "<h2 id=\"investors\">What the investors get</h2>\n";
        figure(
            out, "investors-multiple", "Investors' multiple (received / drawn).",
            distribution_chart("investors-multiple", "Histogram of the investors' multiple", result,
                               layout.investors + 2, format_multiple, 1.0, loss_label, true),
            "Shaded: below 1, the investors get back less than they put in (P(loss) " +
                format_percent(loss) + ").");
        figure(out, "investors-irr", "Investors' IRR (a year).",
               distribution_chart("investors-irr", "Histogram of the investors' IRR", result,
                                  layout.investors + 3, format_percent, 0.0, loss_label, true),
               "Shaded: a negative return; \xE2\x88\x92"
               "100% when nothing comes back.");
    }

    out << "<h2 id=\"cashflows\">Cash over time</h2>\n";
    std::vector<std::string> labels;
    const auto x = period_axis(plan, labels);
    const auto fans = cumulative_fans(plan, result);
    std::string sampled = "every trial";
    if (result.sampled_trials < result.trials)
        sampled = "the first " + std::to_string(result.sampled_trials) +
                  " trials (as cashflows.csv's P5/P95)";
    figure(out, "cumulative-cashflows", "Cumulative cash flows by party.",
           svg::lines("cumulative-cashflows", "Fan chart of cumulative cash flows by party", x,
                      labels, fans, money),
           "Running total of each party's cash flow (positive: it receives); line: median, "
           "band: P5 to P95, over " +
               sampled + ". Parties with no flows are left out.");

    std::vector<svg::Bar> triggers;
    for (std::size_t r = 0; r < plan.rules.size(); ++r) {
        if (layout.rule_met[r] < 0) continue;
        const std::size_t scopes = plan.rules[r].per == Scope::all ? 1 : plan.cohorts.size();
        for (std::size_t c = 0; c < scopes; ++c) {
            const auto& s = result.metrics[static_cast<std::size_t>(layout.rule_met[r]) + c];
            const double half = 1.96 * s.moments.se();
            triggers.push_back(
                {plan.rules[r].name + (scopes > 1 ? ", " + plan.cohorts[c].name : ""),
                 s.moments.mean,
                 std::pair(std::max(0.0, s.moments.mean - half),
                           std::min(1.0, s.moments.mean + half))});
        }
    }
    if (!triggers.empty()) {
        out << "<h2 id=\"triggers\">How often each condition holds</h2>\n";
        figure(
            out, "trigger-probability", "Trigger probability of each group rule.",
            svg::bars("trigger-probability", "Probability that each group rule's condition holds",
                      triggers, format_percent),
            "Share of trials in which the rule's condition held (per cohort for per-cohort "
            "rules); whisker: \xC2\xB1"
            "1.96 standard errors.");
    }
    key_terms(out, plan);
    metrics_table(out, result, kinds, plan.currency);
    end_page(out, provenance);
}

void write_compare_report(std::ostream& out, const std::vector<Plan>& plans,
                          const std::vector<std::string>& names,
                          const std::vector<RunResult>& results,
                          const std::vector<ComparisonRow>& rows, const Provenance& provenance) {
    const std::string& currency = plans.front().currency;
    const auto money = formatter(MetricKind::money, currency);
    std::string lead = std::to_string(results.front().trials) + " trials, seed " +
                       std::to_string(results.front().seed) +
                       ", the same random numbers for every scenario; differences are to " +
                       names.front() + ".";
    begin_page(out,
               "Comparison: " + names.front() + " and " + std::to_string(names.size() - 1) +
                   " other" + (names.size() > 2 ? "s" : ""),
               lead);
    out << "<h2 id=\"distributions\">Distributions</h2>\n";
    auto overlaid = [&](const std::string& metric, const std::string& id, const std::string& title,
                        const svg::Format& f) {
        std::vector<svg::Distribution> series;
        for (std::size_t k = 0; k < results.size(); ++k) {
            const auto values = trial_values(results[k], metric_index(results[k], metric));
            if (values.empty()) return;
            series.push_back({names[k], values});
        }
        figure(out, id, title,
               svg::overlaid_histograms(id, "Distributions of " + metric, series, f),
               "Share of trials in each band, one outline per scenario.");
    };
    overlaid("payments.total", "compare-payments", "Total outcome payments.", money);
    overlaid("investors.irr", "compare-irr", "Investors' IRR (a year).", format_percent);

    // Kinds by metric name, from each scenario's own layout.
    std::map<std::string, MetricKind> kind_of;
    for (const auto& plan : plans) {
        const MetricLayout layout = metric_layout(plan);
        const auto kinds = layout.kinds;
        for (std::size_t m = 0; m < layout.names.size(); ++m)
            kind_of.emplace(layout.names[m], kinds[m]);
    }
    out << "<h2 id=\"differences\">Paired differences</h2>\n";
    for (std::size_t k = 1; k < names.size(); ++k) {
        std::vector<svg::Bar> money_rows, share_rows;
        for (const auto& r : rows) {
            if (!r.diffs[k - 1] || !r.diff_ses[k - 1]) continue;
            const double d = *r.diffs[k - 1], half = 1.96 * *r.diff_ses[k - 1];
            if (d == 0 && half == 0) continue;
            const MetricKind kind = kind_of.count(r.metric) ? kind_of[r.metric] : MetricKind::money;
            svg::Bar bar{r.metric, d, std::pair(d - half, d + half)};
            if (kind == MetricKind::money) money_rows.push_back(bar);
            if (kind == MetricKind::probability || kind == MetricKind::rate ||
                kind == MetricKind::relative)
                share_rows.push_back(bar);
        }
        const std::string suffix = std::to_string(k);
        const std::string caption = names[k] + " minus " + names.front() +
                                    ", mean over paired trials; whisker: 95% interval "
                                    "(\xC2\xB1"
                                    "1.96 paired standard errors). Metrics that do "
                                    "not differ are left out.";
        if (!money_rows.empty())
            figure(
                out, "diff-money-" + suffix, "Differences in money: " + names[k] + ".",
                svg::bars("diff-money-" + suffix, "Paired differences in money", money_rows, money),
                caption);
        if (!share_rows.empty())
            figure(
                out, "diff-share-" + suffix,
                "Differences in probabilities and rates: " + names[k] + ".",
                svg::bars("diff-share-" + suffix, "Paired differences in probabilities and rates",
                          share_rows, format_percent),
                caption + " In percentage points.");
        if (money_rows.empty() && share_rows.empty())
            out << "<p>" << escape(names[k]) << " gives the same figures as "
                << escape(names.front()) << " in every trial.</p>\n";
    }
    out << "<h2 id=\"compare-table\">Every metric</h2>\n<table "
           "class=\"metrics\">\n<tr><th>metric</th>";
    for (const auto& n : names) out << "<th class=\"num\">" << escape(n) << "</th>";
    for (std::size_t k = 1; k < names.size(); ++k)
        out << "<th class=\"num\">difference, " << escape(names[k])
            << "</th><th class=\"num\">95% interval</th>";
    out << "</tr>\n";
    for (const auto& r : rows) {
        const MetricKind kind = kind_of.count(r.metric) ? kind_of[r.metric] : MetricKind::money;
        const auto f = formatter(kind, currency);
        out << "<tr><td>" << escape(r.metric) << "</td>";
        for (std::size_t k = 0; k < r.means.size(); ++k)
            out << (r.means[k]
                        ? value_cell(r.metric, "mean." + names[k], *r.means[k], f(*r.means[k]))
                        : "<td></td>");
        for (std::size_t k = 0; k < r.diffs.size(); ++k) {
            if (!r.diffs[k] || !r.diff_ses[k]) {
                out << "<td></td><td></td>";
                continue;
            }
            const double half = 1.96 * *r.diff_ses[k];
            out << value_cell(r.metric, "diff." + names[k + 1], *r.diffs[k], f(*r.diffs[k]))
                << "<td class=\"num\">" << escape(f(*r.diffs[k] - half)) << " to "
                << escape(f(*r.diffs[k] + half)) << "</td>";
        }
        out << "</tr>\n";
    }
    out << "</table>\n";
    end_page(out, provenance);
}

void write_sweep_report(std::ostream& out, const Plan& plan, const std::vector<VaryAxis>& axes,
                        const std::vector<std::vector<std::string>>& points,
                        const std::vector<RunResult>& results,
                        const std::vector<std::string>& metrics, const Provenance& provenance) {
    const MetricLayout layout = metric_layout(plan);
    const auto kinds = layout.kinds;
    std::string varied;
    for (const auto& a : axes) varied += (varied.empty() ? "" : ", ") + a.path;
    begin_page(out, "Sweep: " + plan.name,
               std::to_string(points.size()) + " points over " + varied + "; " +
                   std::to_string(results.front().trials) + " trials each, seed " +
                   std::to_string(results.front().seed) +
                   ", the same random numbers at every point.");
    // x: the first axis' values (as numbers when all are numbers, else evenly spaced).
    const VaryAxis& first = axes.front();
    const bool numeric = std::all_of(first.values.begin(), first.values.end(),
                                     [](const std::string& v) { return looks_like_number(v); });
    std::vector<double> x;
    for (std::size_t i = 0; i < first.values.size(); ++i) {
        double v = static_cast<double>(i);
        if (numeric) {
            const std::string& text = first.values[i];
            const char* begin = text.data() + (text.starts_with('+') ? 1 : 0);
            std::from_chars(begin, text.data() + text.size(), v);
        }
        x.push_back(v);
    }
    if (numeric && !std::is_sorted(x.begin(), x.end())) {
        // Values listed out of order: evenly spaced in the order given.
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i);
    }
    std::size_t lines_per_x = 1;  // combinations of the other axes, the grid's fastest part
    for (std::size_t a = 1; a < axes.size(); ++a) lines_per_x *= axes[a].values.size();
    std::vector<std::string> chosen = metrics;
    if (chosen.empty())
        for (const auto& m : results.front().metrics) chosen.push_back(m.name);
    out << "<h2 id=\"sweep\">Each metric against " << escape(first.path) << "</h2>\n";
    for (std::size_t c = 0; c < chosen.size(); ++c) {
        const auto it = std::find(layout.names.begin(), layout.names.end(), chosen[c]);
        const MetricKind kind = it == layout.names.end()
                                    ? MetricKind::money
                                    : kinds[static_cast<std::size_t>(it - layout.names.begin())];
        std::vector<svg::Band> series(lines_per_x);
        bool complete = true;
        for (std::size_t p = 0; p < points.size(); ++p) {
            const int m = metric_index(results[p], chosen[c]);
            if (m < 0) {
                complete = false;
                break;
            }
            svg::Band& line = series[p % lines_per_x];
            if (line.name.empty()) {
                for (std::size_t a = 1; a < axes.size(); ++a)
                    line.name += (a > 1 ? ", " : "") + axes[a].path + " = " + points[p][a];
                if (line.name.empty()) line.name = chosen[c];
            }
            const Moments& mo = results[p].metrics[static_cast<std::size_t>(m)].moments;
            line.middle.push_back(mo.mean);
            line.low.push_back(mo.mean - 1.96 * mo.se());
            line.high.push_back(mo.mean + 1.96 * mo.se());
        }
        const std::string id = "sweep-" + std::to_string(c);
        if (!complete) {
            out << "<p class=\"note\">" << escape(chosen[c])
                << ": not drawn, some points do not have this metric (see sweep.csv).</p>\n";
            continue;
        }
        figure(out, id, chosen[c] + ".",
               svg::lines(id, chosen[c] + " against " + first.path, x, first.values, series,
                          formatter(kind, plan.currency)),
               "Mean at each value of " + first.path +
                   "; band: \xC2\xB1"
                   "1.96 standard errors" +
                   (axes.size() > 1 ? "; one line per value of the other varied paths." : "."));
    }
    key_terms(out, plan);
    end_page(out, provenance);
}

void write_settle_report(std::ostream& out, const Plan& plan, const MetricLayout& metrics,
                         const TrialState& state, const Provenance& provenance) {
    const auto money = formatter(MetricKind::money, plan.currency);
    const double total = state.metrics[static_cast<std::size_t>(metrics.payments_total)];
    begin_page(out, "Settlement: " + plan.name,
               "On observed results, no randomness. Total paid " + money(total) + ".");
    const PartyLayout parties = party_layout(plan);
    const auto horizon = static_cast<std::size_t>(plan.horizon);
    std::vector<std::string> labels;
    period_axis(plan, labels);
    std::vector<svg::Columns> bill;
    for (std::size_t p = 0; p < plan.payers.size(); ++p) {
        svg::Columns c{plan.payers[p].name, {}};
        const auto row = static_cast<std::size_t>(parties.first_payer) + p;
        for (std::size_t t = 0; t < horizon; ++t)
            c.values.push_back(-state.flows[row * horizon + t] + 0.0);
        bill.push_back(std::move(c));
    }
    out << "<h2 id=\"bill\">The bill</h2>\n";
    figure(out, "settle-bill", "Payments by period and payer.",
           svg::stacked_columns("settle-bill", "Outcome payments by period, stacked by payer",
                                labels, bill, money),
           "What each payer pays in each period, after caps.");
    const int party = parties.investors >= 0 ? parties.investors : parties.provider;
    svg::Columns flows{parties.names[static_cast<std::size_t>(party)], {}};
    svg::Band cumulative{"cumulative", {}, {}, {}};
    double running = 0;
    for (std::size_t t = 0; t < horizon; ++t) {
        const double v = state.flows[static_cast<std::size_t>(party) * horizon + t] + 0.0;
        flows.values.push_back(v);
        running += v;
        cumulative.middle.push_back(running);
    }
    const std::string whose = parties.investors >= 0 ? "The investors'" : "The provider's";
    out << "<h2 id=\"investor-flows\">" << whose << " flows</h2>\n";
    figure(out, "settle-flows", whose + " cash flow by period.",
           svg::stacked_columns("settle-flows", "Cash flow by period", labels, {flows}, money),
           "Positive: received; negative: drawn (investors) or costs not covered.");
    std::vector<std::string> x_labels;
    const auto x = period_axis(plan, x_labels);
    figure(
        out, "settle-cumulative", whose + " cumulative cash flow.",
        svg::lines("settle-cumulative", "Cumulative cash flow", x, x_labels, {cumulative}, money),
        "Running total; above zero, they have got back more than they put in.");

    out << "<h2 id=\"payments-table\">Payments</h2>\n<table class=\"payments\">\n<tr><th>rule</th>"
           "<th>cohort</th><th>period</th><th class=\"num\">amount</th>";
    for (const auto& p : plan.payers) out << "<th class=\"num\">" << escape(p.name) << "</th>";
    out << "</tr>\n";
    for (std::size_t i = 0; i < plan.slots.size(); ++i) {
        const long long paid = state.settlement.slot_paid[i];
        if (paid == 0) continue;
        const auto& slot = plan.slots[i];
        out << "<tr><td>" << escape(plan.rules[static_cast<std::size_t>(slot.rule)].name)
            << "</td><td>"
            << escape(slot.cohort >= 0 ? plan.cohorts[static_cast<std::size_t>(slot.cohort)].name
                                       : "all")
            << "</td><td>" << escape(period_label(plan, slot.period)) << "</td><td class=\"num\">"
            << escape(money(money_of(paid, plan.minor_unit))) << "</td>";
        for (std::size_t p = 0; p < plan.payers.size(); ++p)
            out << "<td class=\"num\">"
                << escape(money(money_of(state.settlement.slot_parts[i * plan.payers.size() + p],
                                         plan.minor_unit)))
                << "</td>";
        out << "</tr>\n";
    }
    out << "</table>\n<p>Total paid: <span data-metric=\"payments.total\" data-value=\""
        << format_number(total) << "\">" << escape(money(total)) << "</span></p>\n";
    out << "<h2 id=\"conditions\">Conditions</h2>\n<table class=\"conditions\">\n";
    for (const SettledCondition& condition : settled_conditions(plan, metrics, state))
        out << "<tr><td>" << escape(metrics.names[condition.metric]) << "</td><td>"
            << (!condition.assessed ? "not assessed"
                : condition.met     ? "met"
                                    : "not met")
            << "</td></tr>\n";
    out << "</table>\n";
    key_terms(out, plan);
    end_page(out, provenance);
}

namespace {

/// The sensitivity and solve pages' extra styles: the solution's interval and the target line.
const char* const analysis_css = R"(.chart .interval{fill:#3b6ea5;fill-opacity:.12}
.chart .target{stroke:#c0392b;stroke-width:1.5}
.chart .dot{stroke:none}
)";

/// An input's value for people: four significant figures (as the terminal table shows it).
std::string input_text(double v) {
    char buf[64];
    const auto end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 4).ptr;
    return std::string(buf, end);
}

/// A Sobol' index for people: three decimals, no sign on what rounds to zero.
std::string index_text(double v) {
    const std::string digits = fixed(std::abs(v), 3);
    return (v < 0 && digits != "0.000" ? sign_of(v) : "") + digits;
}

/// A table cell of a sensitivity or solve page: `text` for people, the CSV text of `value` in
/// data-value, tagged with the metric, the input (or the evaluation) and the CSV column.
std::string tagged_cell(const std::string& metric, const std::string& key,
                        const std::string& key_value, const std::string& column, double value,
                        const std::string& text) {
    return "<td class=\"num\" data-metric=\"" + escape(metric) + "\" " + key + "=\"" +
           escape(key_value) + "\" data-stat=\"" + escape(column) + "\" data-value=\"" +
           format_number(value) + "\">" + escape(text) + "</td>";
}

/// `prefix` and the percentile: ("mean_p", 0.1) → "mean_p10", spider.csv's column. (Built by
/// appending: GCC 12 warns falsely, -Wrestrict, about "literal" + std::string.)
std::string level_name(const char* prefix, double level) {
    std::string name = prefix;
    name += std::to_string(static_cast<int>(std::lround(level * 100)));
    return name;
}

}  // namespace

void write_tornado_report(std::ostream& out, const Plan& plan, const MetricLayout& layout,
                          const SpiderResult& spider, const std::vector<TornadoRow>& rows,
                          long long trials, std::uint64_t seed, const Provenance& provenance) {
    begin_page(out, "Sensitivity: " + plan.name,
               "Tornado and spider: each input held at its 10th, 25th, 50th, 75th and 90th "
               "percentile while every other input stays uncertain; " +
                   std::to_string(trials) + " trials per run, seed " + std::to_string(seed) +
                   ", the same random numbers in every run.",
               analysis_css);
    const std::size_t levels = spider_levels.size();
    const std::size_t median = levels / 2;  // spider_levels[2] is 0.5
    const std::size_t nm = spider.metrics.size();
    auto mean_at = [&](std::size_t input, std::size_t level, std::size_t m) {
        return spider.moments[(input * levels + level) * nm + m].mean;
    };
    auto path_of = [&](std::size_t input) -> const std::string& {
        return plan.parameters[static_cast<std::size_t>(spider.inputs[input])].path;
    };
    for (std::size_t m = 0; m < nm; ++m) {
        const auto metric = static_cast<std::size_t>(spider.metrics[m]);
        const std::string& name = layout.names[metric];
        const auto f = formatter(layout.kinds[metric], plan.currency);
        std::vector<const TornadoRow*> mine;
        for (const auto& row : rows)
            if (static_cast<std::size_t>(row.metric) == m) mine.push_back(&row);
        out << "<h2 id=\"metric-" << m << "\">" << escape(name) << "</h2>\n";

        std::vector<svg::Bar> bars;
        for (const TornadoRow* row : mine) {
            const auto input = static_cast<std::size_t>(row->input);
            const double base = mean_at(input, median, m);
            bars.push_back({path_of(input) + " at P10", row->low, {}, base, 1});
            bars.push_back({path_of(input) + " at P90", row->high, {}, base, 0});
        }
        const std::string tornado_id = "tornado-" + std::to_string(m);
        figure(out, tornado_id, "Tornado: " + name + ".",
               svg::bars(tornado_id, "Tornado chart of " + name, bars, f, false),
               "Mean of " + name +
                   " with each input held at its 10th percentile (orange) and its 90th "
                   "(blue); each bar starts from the mean with that input at its median. "
                   "Inputs by swing, largest at the top.");
        out << "<table class=\"tornado\">\n<tr><th>input</th><th class=\"num\">P10</th>"
               "<th class=\"num\">P90</th><th class=\"num\">mean at P10</th>"
               "<th class=\"num\">mean at P50</th><th class=\"num\">mean at P90</th>"
               "<th class=\"num\">swing</th></tr>\n";
        for (const TornadoRow* row : mine) {
            const auto input = static_cast<std::size_t>(row->input);
            const std::string& path = path_of(input);
            const double base = mean_at(input, median, m);
            auto cell = [&](const std::string& column, double v, const std::string& text) {
                return tagged_cell(name, "data-input", path, column, v, text);
            };
            out << "<tr><td>" << escape(path) << "</td>"
                << cell("low_value", row->low_value, input_text(row->low_value))
                << cell("high_value", row->high_value, input_text(row->high_value))
                << cell("low", row->low, f(row->low)) << cell("mean_p50", base, f(base))
                << cell("high", row->high, f(row->high)) << cell("swing", row->swing, f(row->swing))
                << "</tr>\n";
        }
        out << "</table>\n";

        std::vector<double> x;
        std::vector<std::string> x_labels;
        for (double level : spider_levels) {
            x.push_back(level * 100);
            x_labels.push_back(level_name("P", level));
        }
        std::vector<svg::Band> series;
        for (std::size_t i = 0; i < spider.inputs.size(); ++i) {
            svg::Band line{path_of(i), {}, {}, {}};
            for (std::size_t l = 0; l < levels; ++l) line.middle.push_back(mean_at(i, l, m));
            series.push_back(std::move(line));
        }
        const std::string spider_id = "spider-" + std::to_string(m);
        figure(out, spider_id, "Spider: " + name + ".",
               svg::lines(spider_id, "Spider chart of " + name, x, x_labels, series, f),
               "Mean of " + name +
                   " with one input held at each percentile of its distribution, one line per "
                   "input; a steep line is an input that matters.");
        out << "<table class=\"spider\">\n<tr><th>input</th>";
        for (const auto& label : x_labels) out << "<th class=\"num\">mean at " << label << "</th>";
        out << "</tr>\n";
        for (std::size_t i = 0; i < spider.inputs.size(); ++i) {
            out << "<tr><td>" << escape(path_of(i)) << "</td>";
            for (std::size_t l = 0; l < levels; ++l) {
                const double v = mean_at(i, l, m);
                out << tagged_cell(name, "data-input", path_of(i),
                                   level_name("mean_p", spider_levels[l]), v, f(v));
            }
            out << "</tr>\n";
        }
        out << "</table>\n";
    }
    out << "<p class=\"note\">The same figures as tornado.csv and spider.csv (docs/outputs.md), "
           "rounded for reading.</p>\n";
    key_terms(out, plan);
    end_page(out, provenance);
}

void write_sobol_report(std::ostream& out, const Plan& plan, const MetricLayout& layout,
                        const std::vector<int>& inputs, const std::vector<int>& metrics,
                        const std::vector<SobolIndex>& indices, long long base, std::uint64_t seed,
                        const Provenance& provenance) {
    const long long rows = base * (static_cast<long long>(inputs.size()) + 2);
    begin_page(out, "Sensitivity: " + plan.name,
               "Sobol' indices: base sample " + std::to_string(base) + " (" + std::to_string(rows) +
                   " evaluations), seed " + std::to_string(seed) +
                   "; whiskers and \xC2\xB1 are 95% half-widths from " +
                   std::to_string(sobol_resamples) + " bootstrap resamples.",
               analysis_css);
    for (std::size_t m = 0; m < metrics.size(); ++m) {
        const std::string& name = layout.names[static_cast<std::size_t>(metrics[m])];
        std::vector<svg::Bar> bars;
        std::vector<const SobolIndex*> mine;
        for (const auto& index : indices) {
            if (static_cast<std::size_t>(index.metric) != m) continue;
            mine.push_back(&index);
            const std::string& path =
                plan.parameters[static_cast<std::size_t>(
                                    inputs[static_cast<std::size_t>(index.input)])]
                    .path;
            bars.push_back({path + " S1", index.s1,
                            std::pair(index.s1 - index.s1_conf, index.s1 + index.s1_conf), 0, 0});
            bars.push_back({path + " ST", index.st,
                            std::pair(index.st - index.st_conf, index.st + index.st_conf), 0, 1});
        }
        out << "<h2 id=\"metric-" << m << "\">" << escape(name) << "</h2>\n";
        const std::string id = "sobol-" + std::to_string(m);
        figure(out, id, "Sobol' indices: " + name + ".",
               svg::bars(id, "Sobol' indices of " + name, bars, index_text),
               "S1 (blue): the share of the variance of " + name +
                   " due to the input alone; ST (orange): with all its interactions. Whisker: "
                   "95% interval (\xC2\xB1 half-width).");
        out << "<table class=\"sobol\">\n<tr><th>input</th><th class=\"num\">S1</th>"
               "<th class=\"num\">\xC2\xB1</th><th class=\"num\">ST</th>"
               "<th class=\"num\">\xC2\xB1</th></tr>\n";
        for (const SobolIndex* index : mine) {
            const std::string& path =
                plan.parameters[static_cast<std::size_t>(
                                    inputs[static_cast<std::size_t>(index->input)])]
                    .path;
            auto cell = [&](const std::string& column, double v) {
                return tagged_cell(name, "data-input", path, column, v, index_text(v));
            };
            out << "<tr><td>" << escape(path) << "</td>" << cell("S1", index->s1)
                << cell("S1_conf", index->s1_conf) << cell("ST", index->st)
                << cell("ST_conf", index->st_conf) << "</tr>\n";
        }
        out << "</table>\n";
    }
    out << "<p class=\"note\">The same figures as sobol.csv (docs/outputs.md), rounded for "
           "reading.</p>\n";
    key_terms(out, plan);
    end_page(out, provenance);
}

void write_solve_report(std::ostream& out, const Plan& plan, const SolveInterval& interval,
                        const SolveTarget& target, const SolveResult& result, MetricKind kind,
                        long long trials, std::uint64_t seed, const Provenance& provenance) {
    const auto f = formatter(kind, plan.currency);
    begin_page(out, "Solve: " + plan.name,
               target.metric + " = " + f(target.value) + " at " + interval.path + " = " +
                   input_text(result.value) + "; " + std::to_string(result.points.size()) +
                   " evaluations of " + std::to_string(trials) + " trials each, seed " +
                   std::to_string(seed) + ", the same random numbers in every evaluation.",
               analysis_css);
    std::vector<svg::ErrorPoint> points;
    for (const auto& p : result.points)
        points.push_back({p.x, p.mean, p.mean - 1.96 * p.se, p.mean + 1.96 * p.se});
    out << "<h2 id=\"search\">The search</h2>\n";
    figure(out, "solve-search", target.metric + " against " + interval.path + ".",
           svg::points_chart("solve-search", target.metric + " against " + interval.path, points,
                             input_text, f, {"target " + f(target.value), target.value, {}},
                             {"solution " + input_text(result.value), result.value,
                              std::pair(result.ci_lo, result.ci_hi)}),
           "Each evaluation's mean with \xC2\xB1"
           "1.96 standard errors; red line: the target; dashed line: the solution, shaded: "
           "its 95% interval.");
    const std::string& m = target.metric;
    out << "<table class=\"solve\">\n<tr><th>input</th><th>metric</th><th class=\"num\">target"
           "</th><th class=\"num\">value</th><th class=\"num\">95% from</th>"
           "<th class=\"num\">95% to</th></tr>\n<tr><td>"
        << escape(interval.path) << "</td><td>" << escape(m) << "</td>"
        << tagged_cell(m, "data-input", interval.path, "target", target.value, f(target.value))
        << tagged_cell(m, "data-input", interval.path, "value", result.value,
                       input_text(result.value))
        << tagged_cell(m, "data-input", interval.path, "ci_lo", result.ci_lo,
                       input_text(result.ci_lo))
        << tagged_cell(m, "data-input", interval.path, "ci_hi", result.ci_hi,
                       input_text(result.ci_hi))
        << "</tr>\n</table>\n";
    out << "<h2 id=\"evaluations\">Evaluations</h2>\n<table class=\"evaluations\">\n<tr>"
           "<th class=\"num\">evaluation</th><th class=\"num\">"
        << escape(interval.path) << "</th><th class=\"num\">mean</th><th class=\"num\">se</th>"
        << "</tr>\n";
    for (std::size_t k = 0; k < result.points.size(); ++k) {
        const SolvePoint& p = result.points[k];
        const std::string n = std::to_string(k + 1);
        out << "<tr><td class=\"num\">" << n << "</td>"
            << tagged_cell(m, "data-evaluation", n, interval.path, p.x, input_text(p.x))
            << tagged_cell(m, "data-evaluation", n, m + ".mean", p.mean, f(p.mean))
            << tagged_cell(m, "data-evaluation", n, m + ".se", p.se, f(p.se)) << "</tr>\n";
    }
    out << "</table>\n<p class=\"note\">The same figures as solve.csv and evaluations.csv "
           "(docs/outputs.md), rounded for reading. The key terms are the scenario's at the "
           "solution.</p>\n";
    key_terms(out, plan);
    end_page(out, provenance);
}

}  // namespace sib
