// The payers, the payment rules (`payments`: basis, schedule, the keys each basis gives a
// meaning to), the payers' shares of a rule or a cohort, and `caps`.
#include <algorithm>
#include <cmath>
#include <utility>

#include "sib/load_detail.hpp"

namespace sib::load_detail {

void Loader::load_payers(const Node& list, Scenario& s) {
    double sum = 0;
    bool all_shares = true;
    for (const Entry& e : entries(list, "payers", payer_names_, true, max_payers)) {
        const Node& m = *e.node;
        check_keys(m, e.path, Section::payer);
        Payer p;
        p.name = e.name;
        p.loc = m.loc;
        std::optional<double> share;
        if (const Node* n = require(m, e.path, "share"))
            share = number(*n, join(e.path, "share"), between(0, 1));
        if (share) {
            p.share = *share;
            sum += *share;
        } else {
            all_shares = false;
        }
        if (const Node* n = m.find("max")) p.max = money(*n, join(e.path, "max"));
        if (const Node* n = m.find("savings")) {
            std::string path = join(e.path, "savings");
            if (expect_map(*n, path)) {
                for (std::size_t i = 0; i < n->keys.size(); ++i) {
                    const Key& key = n->keys[i];
                    auto index = refer(key, path, outcome_names_, "outcome");
                    auto v = money(n->items[i], join(path, key.text));
                    if (index && v) p.savings.push_back({key.text, *v, n->items[i].loc});
                }
            }
        }
        record(payer_names_, e, s.payers.size());
        s.payers.push_back(std::move(p));
    }
    if (all_shares && !s.payers.empty() && std::abs(sum - 1) > share_tolerance)
        error(list, "payers", "shares sum to " + fmt(sum) + ", not 1");
}

void Loader::load_rules(const Node& list, Scenario& s) {
    auto found = entries(list, "payments", rule_names_, true, max_rules);
    for (const Entry& e : found) {
        const Node& m = *e.node;
        check_keys(m, e.path, Section::rule);
        Rule r;
        r.name = e.name;
        r.loc = m.loc;
        RuleInfo info;
        info.node = &m;
        info.path = e.path;
        std::optional<std::size_t> basis;
        if (const Node* n = require(m, e.path, "basis"))
            basis = choice(*n, join(e.path, "basis"), {"rate_card", "target", "versus_comparison"});
        if (basis) {
            r.basis = static_cast<Basis>(*basis);
            info.basis_ok = true;
        }
        const Node* outcome_node = require(m, e.path, "outcome");
        if (outcome_node) {
            if (outcome_node->is_scalar()) r.outcome = outcome_node->text;
            info.outcome = refer(*outcome_node, join(e.path, "outcome"), outcome_names_, "outcome");
        }
        info.lag_ok = true;
        if (const Node* n = m.find("payment_lag")) {
            auto v = whole_int(*n, join(e.path, "payment_lag"), 0, static_cast<int>(max_period));
            if (v)
                r.payment_lag = *v;
            else
                info.lag_ok = false;
        }
        if (const Node* n = m.find("cap")) r.cap = money(*n, join(e.path, "cap"));
        if (const Node* n = m.find("per"))
            if (auto v = choice(*n, join(e.path, "per"), {"all", "cohort"}))
                r.per = *v == 0 ? Scope::all : Scope::cohort;
        if (const Node* n = m.find("price")) r.price = money(*n, join(e.path, "price"));
        if (const Node* n = m.find("amount")) r.amount = money(*n, join(e.path, "amount"));
        if (const Node* n = m.find("at_least"))
            if (auto v = whole(*n, join(e.path, "at_least"), 0, 1'000'000'000'000'000))
                r.at_least = static_cast<double>(*v);
        if (const Node* n = m.find("share_at_least"))
            r.share_at_least = number(*n, join(e.path, "share_at_least"), between(0, 1));
        if (const Node* n = m.find("threshold"))
            if (auto v = number(*n, join(e.path, "threshold"), at_least(0))) r.threshold = *v;
        if (const Node* n = m.find("schedule")) load_schedule(*n, e, r);
        if (const Node* n = m.find("interpolate"))
            if (auto v = choice(*n, join(e.path, "interpolate"), {"linear", "step"}))
                r.schedule_steps = *v == 1;
        if (const Node* n = m.find("price_after_repaid"))
            r.price_after_repaid = money(*n, join(e.path, "price_after_repaid"));
        if (const Node* n = m.find("assess"))
            if (auto v =
                    choice(*n, join(e.path, "assess"), {"once", "every_period", "each_period"})) {
                r.every_period = *v >= 1;  // both are assessed every period
                r.each_period = *v == 2;
            }
        if (const Node* n = m.find("observed_after")) {
            if (auto v =
                    whole_int(*n, join(e.path, "observed_after"), 0, static_cast<int>(max_period)))
                r.observed_after = *v;
            else
                info.lag_ok = false;  // no timing check on a measurement time in error
        }
        if (const Node* n = m.find("net_of")) {
            if (auto v = name(*n, join(e.path, "net_of"))) {
                r.net_of = *v;
                info.net_of_node = n;
            }
        }
        if (const Node* n = m.find("payers")) load_rule_payers(*n, e, r);
        if (const Node* n = m.find("coupon")) load_coupon(*n, e, r);
        if (basis) check_basis(m, e, r, info, s);
        record(rule_names_, e, s.rules.size());
        s.rules.push_back(std::move(r));
        rule_info_.push_back(info);
    }
    check_net_of(s);
}

void Loader::load_schedule(const Node& n, const Entry& e, Rule& r) {
    std::string path = join(e.path, "schedule");
    if (!expect_list(n, path)) return;
    if (n.items.empty()) error(n, path, "must have at least one point [improvement, payment]");
    if (!check_count(n, path, max_schedule_points)) return;
    // A plain pair rather than std::optional: GCC 12 at -O2 warns falsely on the optional.
    double previous = 0;
    bool has_previous = false;
    for (std::size_t i = 0; i < n.items.size(); ++i) {
        const Node& point = n.items[i];
        std::string point_path = index_path(path, i);
        if (!point.is_list() || point.items.size() != 2) {
            error(point, point_path,
                  "expected a pair [improvement, payment], got " +
                      (point.is_list() ? "a list of " + std::to_string(point.items.size())
                                       : describe(point)));
            has_previous = false;
            continue;
        }
        auto improvement = number(point.items[0], point_path);
        auto payment = money(point.items[1], point_path);
        if (improvement && has_previous && !(*improvement > previous))
            error(point.items[0], point_path,
                  "improvements must increase, but " + fmt(*improvement) + " follows " +
                      fmt(previous));
        has_previous = improvement.has_value();
        if (improvement) previous = *improvement;
        if (improvement && payment) r.schedule.push_back({*improvement, *payment});
    }
}

void Loader::load_rule_payers(const Node& n, const Entry& e, Rule& r) {
    load_payer_shares(n, join(e.path, "payers"), r.payers);
}

/// `cohorts[].payers`, once the payers and rules are known: the split of the payments that
/// arise from that cohort, unless a rule has its own. A pooled group rule (per: all) mixes
/// cohorts, so it needs its own split; and a per-participant cap's money is not kept by
/// cohort, so the two cannot be combined.
void Loader::load_cohort_payers(Scenario& s) {
    for (std::size_t c = 0; c < s.cohorts.size() && c < cohort_info_.size(); ++c) {
        const CohortInfo& info = cohort_info_[c];
        const Node* n = info.node ? info.node->find("payers") : nullptr;
        if (!n) continue;
        const std::string path = join(info.path, "payers");
        load_payer_shares(*n, path, s.cohorts[c].payers);
        if (s.caps.per_participant)
            error(*n, path,
                  "cannot be combined with caps.per_participant: capped payments are not "
                  "kept by cohort");
        for (std::size_t i = 0; i < s.rules.size() && i < rule_info_.size(); ++i) {
            const Rule& r = s.rules[i];
            if (!rule_info_[i].basis_ok || r.basis == Basis::rate_card || r.per != Scope::all ||
                !r.payers.empty())
                continue;
            error(*n, path,
                  "payments." + r.name +
                      " pools every cohort (per: all), so it needs its own payers when a "
                      "cohort has payers");
        }
    }
}

void Loader::load_payer_shares(const Node& n, const std::string& path,
                               std::vector<PayerShare>& out) {
    if (!expect_map(n, path)) return;
    double sum = 0;
    bool all_ok = true;
    for (std::size_t i = 0; i < n.keys.size(); ++i) {
        const Key& key = n.keys[i];
        auto index = refer(key, path, payer_names_, "payer");
        auto share = number(n.items[i], join(path, key.text), between(0, 1));
        if (!index || !share) {
            all_ok = false;
            continue;
        }
        sum += *share;
        out.push_back({key.text, *share, n.items[i].loc});
    }
    if (all_ok && std::abs(sum - 1) > share_tolerance)
        error(n, path, "shares sum to " + fmt(sum) + ", not 1");
}

void Loader::check_basis(const Node& m, const Entry& e, const Rule& r, const RuleInfo& info,
                         const Scenario& s) {
    const Outcome* o = info.outcome ? &s.outcomes[*info.outcome] : nullptr;
    bool kind_ok = info.outcome && outcome_info_[*info.outcome].kind_ok;
    const Node* outcome_node = m.find("outcome");
    std::string outcome_path = join(e.path, "outcome");
    switch (r.basis) {
        case Basis::rate_card:
            reject_keys(m, e.path, Section::rule, basis_rate_card, "a rate_card rule");
            if (!m.find("price")) error(m, e.path, "missing required key 'price'");
            if (o && o->better == Better::lower)
                error(*outcome_node, outcome_path,
                      "a rate_card rule cannot pay for " + quote(o->name) +
                          ", whose better is lower");
            break;
        case Basis::target: {
            reject_keys(m, e.path, Section::rule, basis_target, "a target rule");
            if (kind_ok && o->kind != OutcomeKind::binary)
                error(*outcome_node, outcome_path,
                      "a target rule needs a binary outcome; " + quote(o->name) +
                          " is a count outcome");
            const Node* at = m.find("at_least");
            const Node* share = m.find("share_at_least");
            if (at && share)
                error(*share, join(e.path, "share_at_least"),
                      "give at_least or share_at_least, not both");
            if (!at && !share)
                error(m, e.path, "missing required key 'at_least' or 'share_at_least'");
            if (!m.find("amount") && !m.find("price"))
                error(m, e.path, "missing required key 'amount' or 'price'");
            break;
        }
        case Basis::versus_comparison: {
            reject_keys(m, e.path, Section::rule, basis_versus_comparison,
                        "a versus_comparison rule");
            if (const Node* n = m.find("interpolate"); n && !m.find("schedule"))
                error(*n, join(e.path, "interpolate"), "has no meaning without a schedule");
            std::vector<std::string> given;
            for (const auto& key : m.keys)
                if ((key.text == "price" || key.text == "schedule" || key.text == "amount") &&
                    std::find(given.begin(), given.end(), key.text) == given.end()) {
                    given.push_back(key.text);
                    if (given.size() == 2)
                        error(key, e.path,
                              "give only one of price, schedule or amount (" + given[0] +
                                  " is given too)");
                }
            if (given.empty())
                error(m, e.path, "missing required key 'price', 'schedule' or 'amount'");
            // Without baseline and rate, the outcome itself has already been reported.
            if (o && !outcome_info_[*info.outcome].baseline_given &&
                outcome_info_[*info.outcome].rate_given)
                error(*outcome_node, outcome_path,
                      "outcome " + quote(o->name) +
                          " has no baseline to draw the comparison group from");
            break;
        }
    }
}

void Loader::load_caps(const Node& n, Scenario& s) {
    if (!expect_map(n, "caps")) return;
    check_keys(n, "caps", Section::caps);
    if (const Node* v = n.find("per_participant"))
        s.caps.per_participant = money(*v, "caps.per_participant");
    if (const Node* v = n.find("total")) s.caps.total = money(*v, "caps.total");
}

/// `payments[].coupon`: true or false.
void Loader::load_coupon(const Node& n, const Entry& e, Rule& r) {
    if (auto v = choice(n, join(e.path, "coupon"), {"false", "true"})) r.coupon = *v == 1;
}

}  // namespace sib::load_detail
