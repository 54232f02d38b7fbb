// Checks across sections, once the sections they join are loaded: names that refer to other
// entries (`after`, `instead_of`, `net_of`), the comparison a rule needs, timing against the
// horizon, the size of counts and money (docs/limits.md), and names that meet in the output.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>
#include <variant>

#include "sib/load_detail.hpp"

namespace sib::load_detail {

/// `after`: names another binary outcome, no cycles, not observed before its leader.
void Loader::check_after(const Scenario& s) {
    std::vector<std::optional<std::size_t>> leader(s.outcomes.size());
    for (std::size_t i = 0; i < s.outcomes.size(); ++i) {
        const OutcomeInfo& info = outcome_info_[i];
        if (!info.after_node) continue;
        std::string path = join(info.path, "after");
        auto j = refer(*info.after_node, path, outcome_names_, "outcome");
        if (!j) continue;
        if (*j == i) {
            error(*info.after_node, path, "an outcome cannot follow itself");
            continue;
        }
        const Outcome& l = s.outcomes[*j];
        if (outcome_info_[*j].kind_ok && l.kind != OutcomeKind::binary) {
            error(*info.after_node, path,
                  "must name a binary outcome; " + quote(l.name) + " is a count outcome");
            continue;
        }
        leader[i] = j;
    }
    // instead_of: an earlier binary outcome with the same leader, so that the participants
    // who can achieve this one are those with the leader (or all) less those with the other.
    for (std::size_t i = 0; i < s.outcomes.size(); ++i) {
        const OutcomeInfo& info = outcome_info_[i];
        if (!info.instead_of_node) continue;
        const std::string path = join(info.path, "instead_of");
        auto j = refer(*info.instead_of_node, path, outcome_names_, "outcome");
        if (!j) continue;
        const Outcome& x = s.outcomes[*j];
        if (*j >= i) {
            error(*info.instead_of_node, path,
                  "must name an outcome listed before this one; " + quote(x.name) +
                      (*j == i ? " is this outcome" : " comes after it"));
        } else if (outcome_info_[*j].kind_ok && x.kind != OutcomeKind::binary) {
            error(*info.instead_of_node, path,
                  "must name a binary outcome; " + quote(x.name) + " is a count outcome");
        } else if (x.after != s.outcomes[i].after) {
            error(*info.instead_of_node, path,
                  "must name an outcome with the same 'after' as this one (" +
                      (s.outcomes[i].after ? quote(*s.outcomes[i].after) : "none") + "); " +
                      quote(x.name) + " has " + (x.after ? quote(*x.after) : "none"));
        }
    }
    // Cycles: follow each chain; report a cycle once, at its first member in the file.
    std::set<std::size_t> reported;
    for (std::size_t i = 0; i < s.outcomes.size(); ++i) {
        std::vector<std::size_t> chain{i};
        std::optional<std::size_t> next = leader[i];
        while (next && *next != i && chain.size() <= s.outcomes.size()) {
            chain.push_back(*next);
            next = leader[*next];
        }
        if (!next || *next != i) continue;
        if (*std::min_element(chain.begin(), chain.end()) != i) continue;
        std::string cycle;
        for (std::size_t k : chain) cycle += s.outcomes[k].name + " -> ";
        cycle += s.outcomes[i].name;
        error(*outcome_info_[i].after_node, join(outcome_info_[i].path, "after"),
              "outcomes follow each other in a cycle: " + cycle);
        for (std::size_t k : chain) reported.insert(k);
    }
    for (std::size_t i = 0; i < s.outcomes.size(); ++i) {
        if (!leader[i] || reported.count(i)) continue;
        std::size_t j = *leader[i];
        if (!outcome_info_[i].timing_ok || !outcome_info_[j].timing_ok) continue;
        const Outcome& f = s.outcomes[i];
        const Outcome& l = s.outcomes[j];
        const OutcomeInfo& info = outcome_info_[i];
        if (f.observed_by || l.observed_by) {
            // Decided in check_timing, once the cohorts are known.
            continue;
        }
        if (f.observed_after >= l.observed_after) continue;
        const Node& at = info.observed_after_node ? *info.observed_after_node : *info.node;
        error(at, join(info.path, "observed_after"),
              "must not be earlier than that of " + quote(l.name) + " (" +
                  std::to_string(l.observed_after) + "), the outcome it follows; got " +
                  std::to_string(f.observed_after));
    }
}

/// Each trial draws one count per enrolment period of each cohort and outcome: bounded, so
/// that per-trial arrays stay small (docs/limits.md).
void Loader::check_batch_counts(const Node& list, const Scenario& s) {
    long long periods = 0;
    for (std::size_t c = 0; c < s.cohorts.size(); ++c)
        if (cohort_info_[c].enrol_ok)
            periods += s.cohorts[c].enrol_last - s.cohorts[c].enrol_first + 1;
    const auto outcomes = static_cast<long long>(s.outcomes.size());
    if (periods * outcomes <= max_batch_counts) return;
    error(list, "cohorts",
          "enrolment periods over all cohorts (" + std::to_string(periods) + ") times outcomes (" +
              std::to_string(outcomes) + ") must be at most " + std::to_string(max_batch_counts) +
              ", got " + std::to_string(periods * outcomes));
}

/// `net_of`: names another rule, and no rule is net of itself through a chain.
void Loader::check_net_of(const Scenario& s) {
    std::vector<std::optional<std::size_t>> target(s.rules.size());
    for (std::size_t i = 0; i < s.rules.size(); ++i) {
        const RuleInfo& info = rule_info_[i];
        if (!info.net_of_node) continue;
        std::string path = join(info.path, "net_of");
        if (info.basis_ok && s.rules[i].basis == Basis::rate_card) continue;  // reported
        auto j = refer(*info.net_of_node, path, rule_names_, "rule");
        if (!j) continue;
        if (*j == i) {
            error(*info.net_of_node, path, "a rule cannot be net of itself");
            continue;
        }
        target[i] = j;
    }
    for (std::size_t i = 0; i < s.rules.size(); ++i) {
        std::vector<std::size_t> chain{i};
        std::optional<std::size_t> next = target[i];
        while (next && *next != i && chain.size() <= s.rules.size()) {
            chain.push_back(*next);
            next = target[*next];
        }
        if (!next || *next != i) continue;
        if (*std::min_element(chain.begin(), chain.end()) != i) continue;
        std::string cycle;
        for (std::size_t k : chain) cycle += s.rules[k].name + " -> ";
        cycle += s.rules[i].name;
        error(*rule_info_[i].net_of_node, join(rule_info_[i].path, "net_of"),
              "rules are net of each other in a cycle: " + cycle);
    }
}

void Loader::check_comparison_needed(const Node& root, const Scenario& s) {
    if (root.find("comparison")) return;
    for (std::size_t i = 0; i < s.rules.size(); ++i) {
        if (rule_info_[i].basis_ok && s.rules[i].basis == Basis::versus_comparison) {
            error(root, "",
                  "missing required key 'comparison' (rule " + quote(s.rules[i].name) +
                      " is versus_comparison)");
            return;
        }
    }
}

/// The rule a redemption depends on has one condition (a group rule, `per: all`) and is
/// decided (assessed and its payment slot reached) by the redemption period, when known.
bool Loader::check_redemption_rule(const Node& at, const Scenario& s, std::size_t i, int period) {
    const std::string path = "investors.redemption.if_not_met";
    const Rule& r = s.rules[i];
    const RuleInfo& info = rule_info_[i];
    if (!info.basis_ok) return false;
    if (r.basis == Basis::rate_card || r.per != Scope::all) {
        error(at, path,
              "rule " + quote(r.name) +
                  " must be a target or versus_comparison rule with per: all, which has one "
                  "condition to be met");
        return false;
    }
    if (period < 0 || !info.lag_ok || !info.outcome || !outcome_info_[*info.outcome].timing_ok)
        return true;
    const int observed_after = r.observed_after.value_or(s.outcomes[*info.outcome].observed_after);
    // First decided: assessed every period, when the first participant is measured;
    // assessed once, when the last is.
    std::optional<int> first;
    for (std::size_t c = 0; c < s.cohorts.size(); ++c) {
        if (!cohort_info_[c].enrol_ok) return true;
        const int enrol = r.every_period ? s.cohorts[c].enrol_first : s.cohorts[c].enrol_last;
        const int p = enrol + observed_after + r.payment_lag +
                      (r.every_period ? 0 : s.outcomes[*info.outcome].observed_over - 1);
        if (!first || (r.every_period ? p < *first : p > *first)) first = p;
    }
    if (!first || *first <= period) return true;
    error(at, path,
          "rule " + quote(r.name) + " is first decided in period " + std::to_string(*first) +
              ", after the redemption period (" + std::to_string(period) +
              "); assess it every period or earlier");
    return false;
}

/// `price_after_repaid` needs investors to be repaid, and cannot be settled exactly under a
/// per-participant cap: a participant's capped total would depend on the period in which
/// the investors happen to be repaid, which the draws do not know.
void Loader::check_price_after_repaid(const Node& root, const Scenario& s) {
    const Node* list = root.find("payments");
    if (!list || !list->is_list()) return;
    for (std::size_t i = 0; i < s.rules.size() && i < rule_info_.size(); ++i) {
        // Other bases have had it reported as meaningless already.
        if (!s.rules[i].price_after_repaid || !rule_info_[i].node ||
            s.rules[i].basis != Basis::rate_card)
            continue;
        const Node& key = *rule_info_[i].node->find("price_after_repaid");
        const std::string path = join(rule_info_[i].path, "price_after_repaid");
        if (!s.investors)
            error(key, path, "needs investors: the price changes once they are repaid");
        if (s.caps.per_participant)
            error(key, path,
                  "cannot be combined with caps.per_participant: a participant's capped "
                  "payments would depend on when the investors are repaid");
    }
}

// ---- Magnitudes: counts and money far inside exact double range (docs/limits.md) ----

/// The most a value can be in a trial: its fixed value, or the top of its distribution (a
/// normal quantile of the engine's uniform draws never exceeds 9 standard deviations).
double Loader::top_of(const Distribution& d) {
    struct Visitor {
        double operator()(const Fixed& x) const { return x.value; }
        double operator()(const Normal& x) const {
            const double top = x.mean + 9 * x.sd;
            return x.max ? std::min(*x.max, top) : top;
        }
        double operator()(const Lognormal& x) const {
            const double sigma2 = std::log1p((x.sd / x.mean) * (x.sd / x.mean));
            return std::exp(std::log(x.mean) - sigma2 / 2 + 9 * std::sqrt(sigma2));
        }
        double operator()(const Uniform& x) const { return x.max; }
        double operator()(const Triangular& x) const { return x.max; }
        double operator()(const Beta&) const { return 1; }
    };
    const double top = std::visit(Visitor{}, d);
    return std::isfinite(top) ? top : infinity;
}

void Loader::too_large(const Uncertain& u, std::string message) {
    auto it = uncertain_nodes_.find(u.path);
    if (it != uncertain_nodes_.end())
        error(*it->second, u.path, std::move(message));
    else
        sink_.error(u.loc, u.path, std::move(message));
}

void Loader::check_magnitudes(const Scenario& s) {
    const std::size_t C = s.cohorts.size(), O = s.outcomes.size();
    std::vector<double> size_top(C);
    for (std::size_t c = 0; c < C; ++c)
        size_top[c] = std::clamp(top_of(s.cohorts[c].size.dist), 0.0, max_size);
    const double ratio = s.comparison && s.comparison->kind == ComparisonKind::matched
                             ? std::max(1.0, s.comparison->ratio)
                             : 1.0;
    // events[c][o]: the most events (or achievements) of outcome o in cohort c.
    std::vector<std::vector<double>> events(C, std::vector<double>(O, 0));
    std::vector<double> mean_top(O, 0);  // per participant, over cohorts
    std::set<std::string> reported;
    for (std::size_t o = 0; o < O; ++o) {
        const Outcome& out = s.outcomes[o];
        const bool count = outcome_info_[o].kind_ok && out.kind == OutcomeKind::count;
        for (std::size_t c = 0; c < C; ++c) {
            const Uncertain* baseline = out.baseline ? &*out.baseline : nullptr;
            const Uncertain* effect = out.effect ? &*out.effect : nullptr;
            const Uncertain* rate = out.rate ? &*out.rate : nullptr;
            for (const auto& ov : s.cohorts[c].overrides) {
                if (ov.outcome != out.name) continue;
                if (ov.baseline) baseline = &*ov.baseline;
                if (ov.effect) effect = &*ov.effect;
                if (ov.rate) rate = &*ov.rate;
            }
            double m = count ? 0 : 1;
            if (count) {
                // Each value's top, and the participants' mean baseline × (1 + effect).
                // A fixed baseline or rate out of range was reported where it is given.
                const Uncertain* worst = nullptr;
                bool own_fixed = false;
                auto consider = [&](const Uncertain* u, double v, bool own) {
                    if (u && v > m) {
                        m = v;
                        worst = u;
                        own_fixed = own && std::holds_alternative<Fixed>(u->dist);
                    }
                };
                const double b = baseline ? std::max(0.0, top_of(baseline->dist)) : 0;
                consider(baseline, b, true);
                consider(rate, rate ? top_of(rate->dist) : 0, true);
                if (!rate && effect)
                    consider(effect, b * std::max(1.0, 1 + top_of(effect->dist)), false);
                if (worst && !own_fixed && m > max_count_mean &&
                    reported.insert(worst->path).second)
                    too_large(*worst, "a count outcome's mean may reach " + fmt(m) +
                                          " events per participant here (at the top of its "
                                          "distributions), more than " +
                                          fmt(max_count_mean));
                m = std::min(m, max_count_mean);
            }
            mean_top[o] = std::max(mean_top[o], m);
            events[c][o] = size_top[c] * m;
            const bool compared = count && baseline;
            const double group = size_top[c] * m * (compared ? ratio : 1.0);
            if (count && group > max_events && s.cohorts[c].size.path.size() > 0 &&
                reported.insert(s.cohorts[c].size.path).second)
                too_large(s.cohorts[c].size,
                          "outcome " + quote(out.name) + " may count up to " + fmt(group) +
                              " events in this cohort" +
                              (compared && ratio > 1 ? " or its comparison group" : "") +
                              ", more than " + fmt(max_events));
        }
    }
    auto total = [&](std::size_t o) {
        double sum = 0;
        for (std::size_t c = 0; c < C; ++c) sum += events[c][o];
        return sum;
    };
    double participants = 0;
    for (double n : size_top) participants += n;
    auto product = [&](const Node* at, const std::string& path, double value, double quantity,
                       const std::string& what) {
        if (!at || value * quantity <= max_money_product) return;
        error(*at, path,
              fmt(value) + " times " + what + " (" + fmt(quantity) + ") may come to " +
                  fmt(value * quantity) + ", more than " + fmt(max_money_product));
    };
    for (std::size_t i = 0; i < s.rules.size(); ++i) {
        const Rule& r = s.rules[i];
        const RuleInfo& info = rule_info_[i];
        if (!info.basis_ok || !info.outcome || !r.price) continue;
        const std::size_t o = *info.outcome;
        const Node* at = info.node->find("price");
        const std::string path = join(info.path, "price");
        switch (r.basis) {
            case Basis::rate_card:
                product(at, path, *r.price, total(o), "the most achievements it pays for");
                if (r.price_after_repaid)
                    product(info.node->find("price_after_repaid"),
                            join(info.path, "price_after_repaid"), *r.price_after_repaid, total(o),
                            "the most achievements it pays for");
                break;
            case Basis::target:
                product(at, path, *r.price, participants, "the most participants");
                break;
            case Basis::versus_comparison:
                product(at, path, *r.price, participants * mean_top[o],
                        "the most participants times the largest difference of means");
                break;
        }
    }
    for (std::size_t p = 0; p < s.payers.size(); ++p) {
        for (const auto& saving : s.payers[p].savings) {
            const std::size_t* o = outcome_names_.find(saving.outcome);
            if (!o) continue;
            const std::string path =
                join(join(join("payers", s.payers[p].name), "savings"), saving.outcome);
            Node at;
            at.loc = saving.loc;
            product(&at, path, saving.value_per_unit, total(*o), "the most units caused");
        }
    }
    if (s.provider && provider_costs_) {
        const int periods = s.provider->to.value_or(s.horizon - 1) - s.provider->from + 1;
        product(provider_costs_->find("per_participant"), "provider.costs.per_participant",
                s.provider->per_participant, participants, "the most participants");
        product(provider_costs_->find("per_period"), "provider.costs.per_period",
                s.provider->per_period, std::max(0, periods), "the periods costs run");
    }
}

/// Names that share a namespace in the output must differ: payers, tranches, the guarantor,
/// `investors` and `provider` name the columns of cashflows.csv, and rules, cohorts and
/// outcomes are joined with dots into metric names (docs/limits.md).
void Loader::check_output_names(const Node& root, const Scenario& s) {
    struct Use {
        const Node* at;
        std::string path;
        std::string what;
    };
    std::map<std::string, Use> parties;
    auto party = [&](const std::string& name, const Node* at, const std::string& path,
                     const std::string& what) {
        if (name.empty()) return;
        auto [it, added] = parties.emplace(name, Use{at, path, what});
        if (added || !at) return;
        const Use& first = it->second;
        error(*at, path,
              (first.at ? "name " + quote(name) + " is already " + first.what + " (line " +
                              std::to_string(first.at->loc.line) + ")"
                        : "name " + quote(name) + " is reserved for " + first.what) +
                  "; payers, tranches, the guarantor, the investors and the provider share "
                  "the columns of cashflows.csv, so their names must differ");
    };
    auto named = [&](const Node* list, const std::string& path, const std::string& what) {
        if (!list || !list->is_list()) return;
        for (const Node& item : list->items) {
            const Node* n = item.find("name");
            if (n && n->is_scalar()) party(n->text, n, join(join(path, n->text), "name"), what);
        }
    };
    const Node* inv = root.find("investors");
    if (s.investors) party("investors", nullptr, "", "the investors' cash flows");
    party("provider", nullptr, "", "the provider's cash flows");
    named(root.find("payers"), "payers", "a payer's");
    if (s.investors) named(inv->find("tranches"), "investors.tranches", "a tranche's");
    if (s.investors && s.investors->guarantee)
        if (const Node* g = inv->find("guarantee"))
            if (const Node* n = g->find("name"); n && n->is_scalar())
                party(n->text, n, "investors.guarantee.name", "a payer's or a tranche's");

    // Metric names, as the engine forms them from rules, cohorts and outcomes. Only when
    // their text is of a sane size: a larger run is refused by its memory estimate anyway.
    double metric_bytes = 0;
    for (const auto& r : s.rules)
        metric_bytes +=
            static_cast<double>(r.name.size() + 16) * static_cast<double>(s.cohorts.size() + 1);
    for (const auto& o : s.outcomes)
        metric_bytes +=
            static_cast<double>(o.name.size() + 24) * static_cast<double>(s.cohorts.size() + 2);
    for (const auto& c : s.cohorts)
        metric_bytes += static_cast<double>(c.name.size()) *
                        static_cast<double>(s.rules.size() + s.outcomes.size());
    if (metric_bytes > static_cast<double>(max_text_bytes)) return;
    std::map<std::string, std::pair<const Node*, std::string>> metrics;
    auto metric = [&](const std::string& name, const Node* at, const std::string& path) {
        auto [it, added] = metrics.emplace(name, std::make_pair(at, path));
        if (added || !at) return;
        error(*at, path,
              "makes the metric " + quote(name) + ", which " +
                  (it->second.first
                       ? "line " + std::to_string(it->second.first->loc.line) + " makes too"
                       : "sibsim reports itself") +
                  "; rename one");
    };
    metric("payments.total", nullptr, "");
    // A name given twice was reported as such: only the first of each counts here.
    auto first_of = [](const Names& names, const std::string& name, std::size_t i) {
        const std::size_t* at = names.find(name);
        return at && *at == i;
    };
    std::vector<std::string> cohorts;
    for (std::size_t c = 0; c < s.cohorts.size(); ++c)
        if (first_of(cohort_names_, s.cohorts[c].name, c)) cohorts.push_back(s.cohorts[c].name);
    for (std::size_t i = 0; i < s.rules.size(); ++i) {
        const Rule& r = s.rules[i];
        const Node* at = rule_info_[i].node ? rule_info_[i].node->find("name") : nullptr;
        if (!first_of(rule_names_, r.name, i) || !at) continue;
        const std::string path = join(rule_info_[i].path, "name");
        metric("payments." + r.name, at, path);
        if (!rule_info_[i].basis_ok || r.basis == Basis::rate_card) continue;
        if (r.per == Scope::all) {
            metric("rule." + r.name + ".met", at, path);
        } else {
            for (const auto& c : cohorts) metric("rule." + r.name + "." + c + ".met", at, path);
        }
    }
    for (std::size_t o = 0; o < s.outcomes.size(); ++o) {
        const std::string& name = s.outcomes[o].name;
        const Node* at = outcome_info_[o].node ? outcome_info_[o].node->find("name") : nullptr;
        if (!first_of(outcome_names_, name, o) || !at) continue;
        const std::string path = join(outcome_info_[o].path, "name");
        bool compared = false;
        for (std::size_t i = 0; i < s.rules.size(); ++i)
            compared |= rule_info_[i].basis_ok && rule_info_[i].outcome == o &&
                        s.rules[i].basis == Basis::versus_comparison;
        if (compared) {
            metric("outcome." + name + ".improvement", at, path);
            for (const auto& c : cohorts)
                metric("outcome." + name + "." + c + ".improvement", at, path);
        }
        metric("outcome." + name + ".caused", at, path);
    }
}

int Loader::index_of_outcome(const Scenario& s, const std::string& name) {
    for (std::size_t o = 0; o < s.outcomes.size(); ++o)
        if (s.outcomes[o].name == name) return static_cast<int>(o);
    return -1;
}

std::size_t Loader::at(int i) {
    return static_cast<std::size_t>(i);
}

/// The period in which the outcome of a participant enrolled in `enrolled` is known.
int Loader::known_period(const Outcome& o, int enrolled) {
    return o.observed_by ? *o.observed_by : enrolled + o.observed_after + o.observed_over - 1;
}

/// Every payment must fall before the horizon (docs/model.md).
void Loader::check_timing(const Scenario& s) {
    if (!horizon_) return;
    // observed_by: every participant is enrolled by then.
    for (std::size_t o = 0; o < s.outcomes.size(); ++o) {
        if (!s.outcomes[o].observed_by || !outcome_info_[o].timing_ok) continue;
        for (std::size_t c = 0; c < s.cohorts.size(); ++c) {
            if (!cohort_info_[c].enrol_ok || s.cohorts[c].enrol_last <= *s.outcomes[o].observed_by)
                continue;
            error(*outcome_info_[o].observed_after_node, join(outcome_info_[o].path, "observed_by"),
                  "period " + std::to_string(*s.outcomes[o].observed_by) +
                      " is before the last enrolment period of cohort " + quote(s.cohorts[c].name) +
                      " (" + std::to_string(s.cohorts[c].enrol_last) + ")");
            break;
        }
    }
    // A follower of an outcome with observed_by, or with observed_by itself: known no
    // earlier than its leader for any participant. Known periods are straight lines in the
    // enrolment period, so each cohort's first and last enrolment decide.
    for (std::size_t i = 0; i < s.outcomes.size(); ++i) {
        const Outcome& f = s.outcomes[i];
        if (!f.after) continue;
        const int j = index_of_outcome(s, *f.after);
        if (j < 0 || !outcome_info_[i].timing_ok || !outcome_info_[at(j)].timing_ok) continue;
        const Outcome& l = s.outcomes[at(j)];
        if (!f.observed_by && !l.observed_by) continue;
        const OutcomeInfo& info = outcome_info_[i];
        for (std::size_t c = 0; c < s.cohorts.size(); ++c) {
            if (!cohort_info_[c].enrol_ok) continue;
            bool early = false;
            for (int e : {s.cohorts[c].enrol_first, s.cohorts[c].enrol_last})
                early = early || known_period(f, e) < known_period(l, e);
            if (!early) continue;
            error(info.observed_after_node ? *info.observed_after_node : *info.node,
                  join(info.path, f.observed_by ? "observed_by" : "observed_after"),
                  "is known before " + quote(l.name) +
                      ", the outcome it follows, for participants of cohort " +
                      quote(s.cohorts[c].name));
            break;
        }
    }
    for (std::size_t i = 0; i < s.rules.size(); ++i) {
        const Rule& r = s.rules[i];
        const RuleInfo& info = rule_info_[i];
        if (!info.basis_ok || !info.lag_ok || !info.outcome) continue;
        if (!outcome_info_[*info.outcome].timing_ok) continue;
        const Outcome& outcome = s.outcomes[*info.outcome];
        if (outcome.observed_by && r.basis == Basis::rate_card && s.caps.per_participant)
            error(*info.node, info.path,
                  "a rate card on an outcome with observed_by cannot be combined with "
                  "caps.per_participant");
        if (r.observed_after && outcome.observed_by) {
            // One date for everyone: a second, later measurement needs a second outcome.
            error(*info.node->find("observed_after"), join(info.path, "observed_after"),
                  "has no meaning for an outcome with observed_by (" + quote(outcome.name) +
                      " is known in period " + std::to_string(*outcome.observed_by) + ")");
            continue;
        }
        if (r.observed_after && *r.observed_after < outcome.observed_after) {
            // A rule measures what the outcome is once known: not before it is known.
            error(*info.node->find("observed_after"), join(info.path, "observed_after"),
                  "must be at least the outcome's observed_after (" +
                      std::to_string(outcome.observed_after) + "), when " + quote(outcome.name) +
                      " is first known; got " + std::to_string(*r.observed_after));
            continue;
        }
        // When the rule measures a participant enrolled in period e.
        auto rule_known = [&](int e) {
            return r.observed_after ? e + *r.observed_after + outcome.observed_over - 1
                                    : known_period(outcome, e);
        };
        std::optional<std::size_t> latest;
        int period = 0;
        for (std::size_t c = 0; c < s.cohorts.size(); ++c) {
            if (!cohort_info_[c].enrol_ok) continue;
            int p = rule_known(s.cohorts[c].enrol_last) + r.payment_lag;
            if (!latest || p > period) {
                latest = c;
                period = p;
            }
        }
        if (!latest || period < *horizon_) continue;
        bool pooled = r.basis != Basis::rate_card && r.per == Scope::all;
        std::string scope = pooled ? "all cohorts" : "cohort " + s.cohorts[*latest].name;
        error(*info.node, info.path,
              "pays in period " + std::to_string(period) + " for " + scope +
                  ", at or after the horizon (" + std::to_string(*horizon_) + ")");
    }
}

/// A coupon is paid to the investors: it needs them.
void Loader::check_coupons(const Scenario& s) {
    for (std::size_t i = 0; i < s.rules.size() && i < rule_info_.size(); ++i) {
        if (!s.rules[i].coupon || !rule_info_[i].node || s.investors) continue;
        error(*rule_info_[i].node->find("coupon"), join(rule_info_[i].path, "coupon"),
              "needs investors: a coupon is a return paid to them");
    }
}

/// A count observed over several periods is paid by group rules as each part is known; a rate
/// card would pay events of a period that the draws do not time.
void Loader::check_observed_over(const Scenario& s) {
    for (std::size_t i = 0; i < s.rules.size() && i < rule_info_.size(); ++i) {
        const RuleInfo& info = rule_info_[i];
        if (!info.basis_ok || !info.outcome || s.rules[i].basis != Basis::rate_card) continue;
        const Outcome& o = s.outcomes[*info.outcome];
        if (o.observed_over <= 1) continue;
        error(*info.node->find("outcome"), join(info.path, "outcome"),
              "a rate_card rule cannot pay for " + quote(o.name) + ", which is observed over " +
                  std::to_string(o.observed_over) +
                  " periods; use a versus_comparison rule with assess: every_period");
    }
}

}  // namespace sib::load_detail
