// Property tests over randomly generated valid scenarios (docs/limits.md): 200 small scenarios
// from a fixed seed, covering the three bases, caps, payers with rule overrides, `after`,
// `net_of`, investors with tranches and a guarantee. In every trial: payments never exceed any
// cap; payer shares add up to the payments; investors never receive more than the payments plus
// the guarantee, and never draw more than the capital; each party's cash flows add up to its
// totals. And whole runs write byte-identical files on 1 and 2 threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sib/load.hpp"
#include "sib/plan.hpp"
#include "sib/reports.hpp"
#include "sib/run.hpp"
#include "sib/trial.hpp"

namespace {

/// What the checks need to know of a generated scenario, besides its YAML.
struct Generated {
    std::string yaml;
    std::map<std::string, double> rule_caps;  ///< rules with a cap
    std::vector<std::string> rate_rules;      ///< rate-card rules
    double per_participant_cap = -1;          ///< -1: none
    double total_cap = -1;
    bool investors = false;
    double capital = 0;
    double guarantee = 0;
};

class Generator {
  public:
    explicit Generator(std::uint64_t seed) : random_(seed) {}

    Generated scenario(int index) {
        Generated g;
        std::ostringstream y;
        const int horizon = pick(10, 20);
        y << "sibsim: 1\nname: random-" << index << "\n";
        y << "period: " << one_of({"month", "quarter", "year"}) << "\n";
        y << "horizon: " << horizon << "\n";
        y << "discount_rate: " << real(-0.05, 0.1) << "\n";

        // Cohorts: enrolment in periods 0..5, so that observation (≤ 3) and lags (≤ 2) fit.
        const int cohorts = pick(1, 3);
        y << "cohorts:\n";
        for (int c = 0; c < cohorts; ++c) {
            const int first = pick(0, 3), last = first + pick(0, 2);
            y << "  - name: c" << c << "\n    size: ";
            if (chance(0.3)) {
                const int lo = pick(0, 100);
                y << "{dist: uniform, min: " << lo << ", max: " << lo + pick(1, 200) << "}\n";
            } else {
                y << pick(0, 300) << "\n";
            }
            y << "    enrol: [" << first << ", " << last << "]\n";
        }

        // Outcomes: binary (some following an earlier binary one) and count, higher or lower.
        struct OutcomeInfo {
            std::string name;
            bool binary, lower, has_baseline;
        };
        std::vector<OutcomeInfo> outcomes;
        const int outcome_count = pick(1, 4);
        y << "outcomes:\n";
        int leader_observed = 0;
        for (int o = 0; o < outcome_count; ++o) {
            std::string outcome_name = "o";
            outcome_name.append(std::to_string(o));
            OutcomeInfo info{outcome_name, chance(0.5), false, true};
            y << "  - name: " << info.name << "\n";
            int observed = pick(0, 3);
            if (info.binary) {
                y << "    kind: binary\n";
                const bool follows =
                    o > 0 && outcomes[static_cast<std::size_t>(o - 1)].binary && chance(0.4);
                if (chance(0.4)) {
                    info.has_baseline = false;
                    y << "    rate: ";
                    if (chance(0.5))
                        y << real(0, 1) << "\n";
                    else
                        y << "{dist: beta, mean: 0.4, sd: 0.15}\n";
                } else {
                    y << "    baseline: " << real(0.05, 0.6) << "\n";
                    y << "    effect: {dist: normal, mean: " << real(-0.2, 0.5) << ", sd: 0.1}\n";
                }
                if (follows) {
                    y << "    after: o" << o - 1 << "\n";
                    observed = std::max(observed, leader_observed);
                }
                leader_observed = observed;
            } else {
                info.lower = chance(0.5);
                y << "    kind: count\n    better: " << (info.lower ? "lower" : "higher") << "\n";
                y << "    baseline: ";
                if (chance(0.5))
                    y << real(0.2, 3) << "\n";
                else
                    y << "{dist: lognormal, mean: 1.5, sd: 0.3}\n";
                y << "    effect: " << real(-0.3, 0.3) << "\n";
                y << "    dispersion: " << real(1, 3) << "\n";
            }
            y << "    observed_after: " << observed << "\n";
            outcomes.push_back(info);
        }

        // Payers first (rules may override their shares).
        const int payers = pick(1, 3);
        const std::vector<std::vector<double>> splits = {{1}, {0.25, 0.75}, {0.5, 0.25, 0.25}};
        const auto& split = splits[static_cast<std::size_t>(payers - 1)];

        bool any_versus = false;
        std::vector<std::string> group_rules;
        const int rules = pick(1, 5);
        y << "payments:\n";
        for (int r = 0; r < rules; ++r) {
            std::string name = "r";  // appended, not '+': GCC 12 -Wrestrict false positive
            name.append(std::to_string(r));
            const auto& o = outcomes[static_cast<std::size_t>(pick(0, outcome_count - 1))];
            std::vector<std::string> bases;
            if (!o.lower) bases.push_back("rate_card");
            if (o.binary) bases.push_back("target");
            if (o.has_baseline) bases.push_back("versus_comparison");
            if (bases.empty()) continue;
            const std::string basis =
                bases[static_cast<std::size_t>(pick(0, static_cast<int>(bases.size()) - 1))];
            y << "  - name: " << name << "\n    basis: " << basis << "\n    outcome: " << o.name
              << "\n";
            y << "    payment_lag: " << pick(0, 2) << "\n";
            if (basis == "rate_card") {
                y << "    price: " << pick(10, 2000) << "\n";
                g.rate_rules.push_back(name);
            } else {
                y << "    per: " << one_of({"all", "cohort"}) << "\n";
                if (basis == "target") {
                    if (chance(0.5))
                        y << "    at_least: " << pick(0, 60) << "\n";
                    else
                        y << "    share_at_least: " << real(0, 0.6) << "\n";
                    if (chance(0.7))
                        y << "    amount: " << pick(0, 100000) << "\n";
                    else
                        y << "    price: " << pick(0, 1000) << "\n";
                } else {
                    any_versus = true;
                    y << "    threshold: " << real(0, 0.2) << "\n";
                    const int pay = pick(0, 2);
                    if (pay == 0) y << "    price: " << pick(100, 5000) << "\n";
                    if (pay == 1)
                        y << "    schedule: [[0, 0], [" << real(0.05, 0.2) << ", " << pick(0, 50000)
                          << "], [0.5, " << pick(50000, 200000) << "]]\n";
                    if (pay == 2) y << "    amount: " << pick(0, 100000) << "\n";
                }
                if (!group_rules.empty() && chance(0.3))
                    y << "    net_of: "
                      << group_rules[static_cast<std::size_t>(
                             pick(0, static_cast<int>(group_rules.size()) - 1))]
                      << "\n";
                group_rules.push_back(name);
            }
            if (chance(0.3)) {
                const double cap = pick(0, 100000);
                y << "    cap: " << cap << "\n";
                g.rule_caps[name] = cap;
            }
            if (payers > 1 && chance(0.3)) {
                y << "    payers: {p0: 0.5, p1: 0.5}\n";
            }
        }
        if (any_versus)
            y << "comparison: " << one_of({"{kind: matched, ratio: 3}", "{kind: historical}"})
              << "\n";
        if (chance(0.5)) {
            y << "caps:\n";
            if (chance(0.7)) {
                g.per_participant_cap = pick(0, 3000);
                y << "  per_participant: " << g.per_participant_cap << "\n";
            }
            if (chance(0.7)) {
                g.total_cap = pick(0, 300000);
                y << "  total: " << g.total_cap << "\n";
            }
            if (g.per_participant_cap < 0 && g.total_cap < 0) y << "  {}\n";
        }
        y << "payers:\n";
        for (int p = 0; p < payers; ++p) {
            y << "  - {name: p" << p << ", share: " << split[static_cast<std::size_t>(p)];
            if (chance(0.3)) y << ", savings: {o0: " << pick(0, 5000) << "}";
            y << "}\n";
        }
        if (chance(0.8)) {
            const int from = pick(0, 3);
            y << "provider:\n  costs: {per_participant: " << pick(0, 1000)
              << ", per_period: " << pick(0, 50000) << ", from: " << from
              << ", to: " << pick(from, horizon - 1) << "}\n";
        }
        if (chance(0.8)) {
            g.investors = true;
            g.capital = pick(0, 500000);
            y << "investors:\n  capital: " << g.capital << "\n";
            if (chance(0.6)) {
                y << "  tranches:\n    - {name: senior, share: 0.6, rate: " << real(0, 0.1) << "}\n"
                  << "    - {name: junior, share: 0.4, rate: " << real(0, 0.2) << "}\n";
            }
            if (chance(0.5)) {
                g.guarantee = pick(0, 200000);
                y << "  guarantee: {amount: " << g.guarantee << "}\n";
            }
        }
        g.yaml = y.str();
        return g;
    }

  private:
    std::mt19937_64 random_;
    int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(random_); }
    double real(double lo, double hi) {
        // Rounded to 4 decimals, so the YAML holds exactly what is checked.
        return std::round(std::uniform_real_distribution<double>(lo, hi)(random_) * 1e4) / 1e4;
    }
    bool chance(double p) { return std::bernoulli_distribution(p)(random_); }
    std::string one_of(const std::vector<std::string>& options) {
        return options[static_cast<std::size_t>(pick(0, static_cast<int>(options.size()) - 1))];
    }
};

double metric(const sib::MetricLayout& layout, const sib::TrialState& state,
              const std::string& name) {
    const auto it = std::find(layout.names.begin(), layout.names.end(), name);
    REQUIRE_MESSAGE(it != layout.names.end(), "no metric " << name);
    return state.metrics[static_cast<std::size_t>(it - layout.names.begin())];
}

double flows_sum(const sib::PartyLayout& parties, const sib::TrialState& state,
                 const std::string& party, int horizon) {
    const auto it = std::find(parties.names.begin(), parties.names.end(), party);
    REQUIRE_MESSAGE(it != parties.names.end(), "no party " << party);
    const auto p = static_cast<std::size_t>(it - parties.names.begin());
    double sum = 0;
    for (std::size_t t = 0; t < static_cast<std::size_t>(horizon); ++t)
        sum += state.flows[p * static_cast<std::size_t>(horizon) + t];
    return sum;
}

/// a ≤ b, up to rounding in sums of money.
bool at_most(double a, double b) {
    return a <= b + 1e-6 + 1e-9 * std::abs(b);
}
bool same(double a, double b) {
    return std::abs(a - b) <= 1e-6 + 1e-9 * std::max(std::abs(a), std::abs(b));
}

std::string run_files(const sib::Plan& plan, int threads) {
    sib::RunOptions options;
    options.trials = 1100;  // two blocks of 1024
    options.seed = 7;
    options.threads = threads;
    const sib::RunResult result = sib::run(plan, options);
    std::ostringstream out;
    sib::write_summary(out, result);
    sib::write_cashflows(out, plan, result);
    sib::write_trials(out, result);
    return out.str();
}

}  // namespace

TEST_CASE("properties of 200 random valid scenarios hold in every trial") {
    Generator generator(20240607);
    int scenarios = 0, trials_checked = 0;
    for (int index = 0; index < 200; ++index) {
        const Generated g = generator.scenario(index);
        CAPTURE(g.yaml);
        sib::Scenario scenario;
        try {
            scenario = sib::load_scenario(g.yaml, "random.yaml");
        } catch (const sib::InputError& e) {
            FAIL_CHECK("generated scenario is invalid: " << e.what());
            continue;
        }
        ++scenarios;
        const sib::Plan plan = sib::compile(scenario);
        const sib::MetricLayout layout = sib::metric_layout(plan);
        const sib::PartyLayout parties = sib::party_layout(plan);
        sib::TrialState state(plan);
        for (std::uint64_t trial = 0; trial < 200; ++trial) {
            CAPTURE(trial);
            sib::simulate_trial(plan, layout, parties, trial, state);
            ++trials_checked;
            const double total = metric(layout, state, "payments.total");
            double rules_sum = 0;
            for (const auto& rule : scenario.rules) {
                const double paid = metric(layout, state, "payments." + rule.name);
                CHECK(paid >= 0);
                rules_sum += paid;
                if (auto cap = g.rule_caps.find(rule.name); cap != g.rule_caps.end())
                    CHECK(at_most(paid, cap->second));
            }
            CHECK(same(rules_sum, total));
            if (g.total_cap >= 0) CHECK(at_most(total, g.total_cap));
            if (g.per_participant_cap >= 0) {
                double participants = 0, rate_paid = 0;
                for (const auto n : state.outcomes.cohort_size)
                    participants += static_cast<double>(n);
                for (const auto& r : g.rate_rules)
                    rate_paid += metric(layout, state, "payments." + r);
                CHECK(at_most(rate_paid, g.per_participant_cap * participants));
            }
            double payers_sum = 0;
            for (const auto& payer : scenario.payers) {
                const double paid = metric(layout, state, "payer." + payer.name + ".paid");
                payers_sum += paid;
                CHECK(same(flows_sum(parties, state, payer.name, plan.horizon), -paid));
            }
            CHECK(same(payers_sum, total));
            if (g.investors) {
                const double drawn = metric(layout, state, "investors.drawn");
                const double received = metric(layout, state, "investors.received");
                CHECK(at_most(drawn, g.capital));
                CHECK(at_most(received, total + g.guarantee));
                CHECK(same(flows_sum(parties, state, "investors", plan.horizon), received - drawn));
            }
            for (const double m : state.metrics) CHECK(std::isfinite(m));
            for (const double f : state.flows) CHECK(std::isfinite(f));
        }
        // Byte-identical on 1 and 2 threads: every fourth scenario keeps the suite fast.
        if (index % 4 == 0) CHECK(run_files(plan, 1) == run_files(plan, 2));
    }
    CHECK(scenarios == 200);
    MESSAGE(trials_checked << " trials of " << scenarios << " random scenarios checked");
}

TEST_CASE("a trial writes every metric and every flow: nothing left from before counts") {
    // fill_metrics zeroes nothing first (the hot loop writes each value once); a state whose
    // metrics and flows hold NaN from "before" must end the trial exactly like a fresh one.
    auto bits = [](double x) { return std::bit_cast<std::uint64_t>(x); };
    auto check_plan = [&](const sib::Plan& plan) {
        const sib::MetricLayout layout = sib::metric_layout(plan);
        const sib::PartyLayout parties = sib::party_layout(plan);
        for (std::uint64_t trial = 0; trial < 5; ++trial) {
            sib::TrialState fresh(plan), poisoned(plan);
            std::fill(poisoned.metrics.begin(), poisoned.metrics.end(), std::nan(""));
            std::fill(poisoned.flows.begin(), poisoned.flows.end(), std::nan(""));
            sib::simulate_trial(plan, layout, parties, trial, fresh);
            sib::simulate_trial(plan, layout, parties, trial, poisoned);
            for (std::size_t i = 0; i < layout.names.size(); ++i) {
                CAPTURE(layout.names[i]);
                CHECK(bits(poisoned.metrics[i]) == bits(fresh.metrics[i]));
            }
            for (std::size_t f = 0; f < fresh.flows.size(); ++f) {
                CAPTURE(f);
                CHECK(bits(poisoned.flows[f]) == bits(fresh.flows[f]));
            }
        }
    };
    for (const char* name :
         {"peterborough", "augsburg", "chicago-cpc", "dwp-innovation-fund", "essex",
          "fair-chance-fund", "life-chances-fund", "newpin", "rikers", "utah-preschool"}) {
        CAPTURE(name);
        check_plan(sib::compile(sib::load_scenario_file(std::string(SIBSIM_SOURCE_DIR) +
                                                        "/scenarios/" + name + ".yaml")));
    }
    Generator generator(20240607);
    for (int index = 0; index < 50; ++index) {
        const Generated g = generator.scenario(index);
        CAPTURE(g.yaml);
        check_plan(sib::compile(sib::load_scenario(g.yaml, "random.yaml")));
    }
}
