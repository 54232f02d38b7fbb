#include "sib/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "sib/finance.hpp"

namespace sib {

namespace {

using std::size_t;

constexpr size_t at(int i) {
    return static_cast<size_t>(i);
}

/// Losses smaller than this (money) are rounding in the waterfall's interest, not losses.
constexpr double loss_tolerance = 1e-6;

/// Fills drawn, received, multiple (optional), irr, loss and any_loss style metrics.
void fill_investor_metrics(double drawn, double received, std::span<const double> flows,
                           int periods_per_year, double* out, bool full) {
    const double loss = drawn - received > loss_tolerance ? drawn - received : 0.0;
    out[0] = drawn;
    out[1] = received;
    if (!full) {
        out[2] = irr_annual(flows, periods_per_year);
        return;
    }
    out[2] = drawn > 0 ? received / drawn : 0.0;
    out[3] = irr_annual(flows, periods_per_year);
    out[4] = loss;
    out[5] = loss > 0 ? 1.0 : 0.0;
}

}  // namespace

MetricLayout metric_layout(const Plan& plan) {
    MetricLayout m;
    using K = MetricKind;
    auto add = [&](std::string name, MetricKind kind, std::string meaning) {
        m.names.push_back(std::move(name));
        m.kinds.push_back(kind);
        m.meanings.push_back(std::move(meaning));
        return static_cast<int>(m.names.size()) - 1;
    };
    m.payments_total = add("payments.total", K::money, "all outcome payments, after all caps");
    m.first_rule_payment = static_cast<int>(m.names.size());
    for (const auto& r : plan.rules)
        add("payments." + r.name, K::money, "what rule '" + r.name + "' paid, after caps");
    m.first_payer = static_cast<int>(m.names.size());
    m.payers = static_cast<int>(plan.payers.size());
    for (const auto& p : plan.payers) {
        add("payer." + p.name + ".paid", K::money, "what " + p.name + " paid");
        add("payer." + p.name + ".savings", K::money,
            "units truly caused times " + p.name + "'s value per unit, undiscounted");
        add("payer." + p.name + ".net_cost_pv", K::money,
            "present value of " + p.name + "'s payments less its savings; positive = net cost");
    }
    if (plan.investors) {
        m.investors = add("investors.drawn", K::money, "capital drawn for provider costs");
        add("investors.received", K::money, "distributions and guarantee received");
        add("investors.multiple", K::ratio, "received / drawn (0 when nothing is drawn)");
        add("investors.irr", K::rate, "annual IRR of the investors' flows; -100% = nothing back");
        add("investors.loss", K::money, "drawn - received when positive, else 0");
        add("investors.any_loss", K::probability, "the investors lose money; mean = P(loss)");
        if (plan.investors->tranches_given) {
            m.first_tranche = static_cast<int>(m.names.size());
            for (const auto& t : plan.investors->tranches) {
                add("tranche." + t.name + ".drawn", K::money,
                    "capital drawn from tranche '" + t.name + "'");
                add("tranche." + t.name + ".received", K::money,
                    "what tranche '" + t.name + "' received");
                add("tranche." + t.name + ".irr", K::rate,
                    "annual IRR of the flows of tranche '" + t.name + "'");
            }
        }
        if (plan.investors->has_guarantee)
            m.guarantee_paid =
                add("guarantee.paid", K::money, "what the guarantor paid in the last period");
        if (plan.investors->yield_payer >= 0)
            m.minimum_yield_paid =
                add("minimum_yield.paid", K::money, "minimum-yield top-ups paid to the investors");
        if (plan.investors->redemption_payer >= 0) {
            m.redemption = add("redemption.redeemed", K::probability,
                               "the investors were redeemed early; mean = P(redeemed)");
            add("redemption.paid", K::money, "what the early redemption paid the investors");
        }
    }
    m.provider_costs =
        add("provider.costs", K::money, "all provider costs, fixed and per participant");
    if (plan.investors)
        m.provider_unfunded = add("provider.unfunded", K::money,
                                  "costs beyond the committed capital, borne by the provider");
    for (const auto& r : plan.rules) {
        if (r.basis == Basis::rate_card) {
            m.rule_met.push_back(-1);
        } else if (r.per == Scope::all) {
            m.rule_met.push_back(add("rule." + r.name + ".met", K::probability,
                                     "the condition of rule '" + r.name + "' held; mean = P(met)"));
        } else {
            m.rule_met.push_back(static_cast<int>(m.names.size()));
            for (const auto& c : plan.cohorts)
                add("rule." + r.name + "." + c.name + ".met", K::probability,
                    "the condition of rule '" + r.name + "' held for cohort '" + c.name +
                        "'; mean = P(met)");
        }
    }
    for (const auto& o : plan.outcomes) {
        if (!o.compared) {
            m.improvement.push_back(-1);
            continue;
        }
        m.improvement.push_back(
            add("outcome." + o.name + ".improvement", K::relative,
                "measured improvement in '" + o.name + "' against the comparison, cohorts pooled"));
        for (const auto& c : plan.cohorts)
            add("outcome." + o.name + "." + c.name + ".improvement", K::relative,
                "measured improvement in '" + o.name + "' against the comparison, cohort '" +
                    c.name + "'");
    }
    m.first_caused = static_cast<int>(m.names.size());
    for (const auto& o : plan.outcomes)
        add("outcome." + o.name + ".caused", K::count,
            "units of '" + o.name + "' truly caused, against the drawn baseline");
    return m;
}

int metric_index(const MetricLayout& layout, std::string_view name) {
    const auto it = std::find(layout.names.begin(), layout.names.end(), name);
    return it == layout.names.end() ? -1 : static_cast<int>(it - layout.names.begin());
}

std::vector<std::string> key_metrics(const MetricLayout& layout) {
    std::vector<int> keys = {layout.payments_total};
    for (int p = 0; p < layout.payers; ++p)
        keys.push_back(layout.first_payer + 3 * p + 2);  // paid, savings, net_cost_pv
    if (layout.investors >= 0)
        for (int offset : {2, 3, 5}) keys.push_back(layout.investors + offset);
    std::vector<std::string> names;
    for (int k : keys) names.push_back(layout.names[at(k)]);
    return names;
}

PartyLayout party_layout(const Plan& plan) {
    PartyLayout p;
    p.first_payer = 0;
    for (const auto& payer : plan.payers) p.names.push_back(payer.name);
    if (plan.investors) {
        p.investors = static_cast<int>(p.names.size());
        p.names.push_back("investors");
        if (plan.investors->tranches_given) {
            p.first_tranche = static_cast<int>(p.names.size());
            for (const auto& t : plan.investors->tranches) p.names.push_back(t.name);
        }
    }
    p.provider = static_cast<int>(p.names.size());
    p.names.push_back("provider");
    if (plan.investors && plan.investors->has_guarantee) {
        p.guarantor = static_cast<int>(p.names.size());
        p.names.push_back(plan.investors->guarantor);
    }
    return p;
}

void fill_metrics(const Plan& plan, const MetricLayout& m, const PartyLayout& parties,
                  const Outcomes& out, const Settlement& s, NotAssessed not_assessed,
                  std::vector<double>& metrics, std::vector<double>& flows) {
    // Every metric and every flow is written below, each trial: nothing is zeroed first
    // (tests/test_properties.cpp poisons them to check).
    const size_t H = at(plan.horizon), C = plan.cohorts.size(), O = plan.outcomes.size();

    // Payments by rule and payer.
    metrics[at(m.payments_total)] = money_of(s.total_paid, plan.minor_unit);
    for (size_t r = 0; r < plan.rules.size(); ++r)
        metrics[at(m.first_rule_payment) + r] = money_of(s.rule_paid[r], plan.minor_unit);
    for (size_t p = 0; p < plan.payers.size(); ++p) {
        // A payer's minimum-yield top-ups count in what it paid (not in payments.*).
        const bool tops_up = plan.investors && plan.investors->yield_payer == static_cast<int>(p);
        // So does an early redemption.
        const bool redeems =
            plan.investors && plan.investors->redemption_payer == static_cast<int>(p);
        metrics[at(m.first_payer) + 3 * p] = money_of(
            s.payer_paid[p] + (tops_up ? s.yield_paid : 0) + (redeems ? s.redemption_paid : 0),
            plan.minor_unit);
        metrics[at(m.first_payer) + 3 * p + 1] = 0;  // savings, added below
        metrics[at(m.first_payer) + 3 * p + 2] = s.payer_pv[p];
        std::copy(s.payer_flows.begin() + static_cast<std::ptrdiff_t>(p * H),
                  s.payer_flows.begin() + static_cast<std::ptrdiff_t>((p + 1) * H),
                  flows.begin() + static_cast<std::ptrdiff_t>((at(parties.first_payer) + p) * H));
    }

    // Units truly caused, and the savings they bring each payer when they are observed.
    for (size_t o = 0; o < O; ++o) {
        const auto& outcome = plan.outcomes[o];
        double caused = 0;
        for (size_t c = 0; c < C; ++c) {
            if (!out.observed[c * O + o]) continue;
            const auto& cohort = plan.cohorts[c];
            for (int b = 0; b < cohort.batches; ++b) {
                const double n = static_cast<double>(out.batch_size[at(cohort.first_batch + b)]);
                const double realised =
                    out.counts[at(plan.count_index(static_cast<int>(c), static_cast<int>(o), b))];
                const double expected = n * out.base[c * O + o];
                const double units =
                    outcome.better == Better::lower ? expected - realised : realised - expected;
                caused += units;
                const int observed = outcome.known(cohort.enrol_first + b);
                for (size_t p = 0; p < plan.payers.size(); ++p) {
                    const double saving = units * plan.payers[p].saving_per_unit[o];
                    metrics[at(m.first_payer) + 3 * p + 1] += saving;
                    metrics[at(m.first_payer) + 3 * p + 2] -= saving * plan.discount[at(observed)];
                }
            }
        }
        metrics[at(m.first_caused) + o] = caused;
    }

    // Whether each group rule's condition held, and measured improvements.
    const double not_assessed_value =
        not_assessed == NotAssessed::nan ? std::numeric_limits<double>::quiet_NaN() : 0.0;
    for (size_t r = 0; r < plan.rules.size(); ++r) {
        if (m.rule_met[r] < 0) continue;
        const size_t cohorts = plan.rules[r].per == Scope::all ? 1 : C;
        for (size_t c = 0; c < cohorts; ++c)
            metrics[at(m.rule_met[r]) + c] =
                s.assessed[r * C + c] ? static_cast<double>(s.met[r * C + c]) : not_assessed_value;
    }
    for (size_t o = 0; o < O; ++o) {
        if (m.improvement[o] < 0) continue;
        const Better better = plan.outcomes[o].better;
        double n_all = 0, total_all = 0, comparison_all = 0;
        bool all_observed = true;
        for (size_t c = 0; c < C; ++c) {
            const size_t co = c * O + o;
            const double n = static_cast<double>(out.cohort_size[c]);
            const double comparison = out.comparison_members[co] > 0
                                          ? out.comparison_total[co] / out.comparison_members[co]
                                          : 0.0;
            all_observed = all_observed && out.observed[co];
            n_all += n;
            total_all += out.total[co];
            comparison_all += n * comparison;
            double& cell = metrics[at(m.improvement[o]) + 1 + c];
            if (!out.observed[co])
                cell = not_assessed_value;
            else
                cell = n > 0 ? relative_improvement(better, out.total[co] / n, comparison) : 0.0;
        }
        double& pooled = metrics[at(m.improvement[o])];
        if (!all_observed)
            pooled = not_assessed_value;
        else
            pooled = n_all > 0
                         ? relative_improvement(better, total_all / n_all, comparison_all / n_all)
                         : 0.0;
    }

    metrics[at(m.provider_costs)] = s.provider_costs;
    std::copy(s.provider_flows.begin(), s.provider_flows.end(),
              flows.begin() + static_cast<std::ptrdiff_t>(at(parties.provider) * H));
    if (!plan.investors) return;
    metrics[at(m.provider_unfunded)] = s.unfunded;
    if (m.minimum_yield_paid >= 0)
        metrics[at(m.minimum_yield_paid)] = money_of(s.yield_paid, plan.minor_unit);
    if (m.redemption >= 0) {
        metrics[at(m.redemption)] = s.redeemed_period >= 0 ? 1.0 : 0.0;
        metrics[at(m.redemption) + 1] = money_of(s.redemption_paid, plan.minor_unit);
    }
    if (m.guarantee_paid >= 0) {
        metrics[at(m.guarantee_paid)] = s.guarantee_paid;
        for (size_t t = 0; t < H; ++t) flows[at(parties.guarantor) * H + t] = 0;
        flows[at(parties.guarantor) * H + H - 1] = -s.guarantee_paid;
    }
    std::copy(s.investor_flows.begin(), s.investor_flows.end(),
              flows.begin() + static_cast<std::ptrdiff_t>(at(parties.investors) * H));
    double drawn = 0, received = 0;
    for (size_t j = 0; j < plan.investors->tranches.size(); ++j) {
        drawn += s.tranche_drawn[j];
        received += s.tranche_received[j];
        const std::span<const double> tranche_flows(s.tranche_flows.data() + j * H, H);
        if (parties.first_tranche >= 0)
            std::copy(
                tranche_flows.begin(), tranche_flows.end(),
                flows.begin() + static_cast<std::ptrdiff_t>((at(parties.first_tranche) + j) * H));
        if (m.first_tranche >= 0)
            fill_investor_metrics(s.tranche_drawn[j], s.tranche_received[j], tranche_flows,
                                  plan.periods_per_year, &metrics[at(m.first_tranche) + 3 * j],
                                  false);
    }
    fill_investor_metrics(drawn, received, std::span<const double>(s.investor_flows.data(), H),
                          plan.periods_per_year, &metrics[at(m.investors)], true);
}

}  // namespace sib
