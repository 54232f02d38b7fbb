// The provider's costs and the investors: tranches, guarantee, minimum yield, redemption.
#include <cmath>
#include <utility>

#include "sib/load_detail.hpp"

namespace sib::load_detail {

void Loader::load_provider(const Node& n, Scenario& s) {
    if (!expect_map(n, "provider")) return;
    check_keys(n, "provider", Section::provider);
    const Node* costs = require(n, "provider", "costs");
    if (!costs || !expect_map(*costs, "provider.costs")) return;
    const std::string path = "provider.costs";
    provider_costs_ = costs;
    check_keys(*costs, path, Section::provider_costs);
    ProviderCosts p;
    if (const Node* v = costs->find("per_participant"))
        if (auto x = money(*v, join(path, "per_participant"))) p.per_participant = *x;
    if (const Node* v = costs->find("per_period"))
        if (auto x = money(*v, join(path, "per_period"))) p.per_period = *x;
    int hi = static_cast<int>(max_period);
    std::optional<int> from = 0;
    if (const Node* v = costs->find("from")) {
        from = whole_int(*v, join(path, "from"), 0, hi);
        if (from) p.from = *from;
    }
    if (const Node* v = costs->find("to")) {
        if (auto to = whole_int(*v, join(path, "to"), 0, hi)) {
            p.to = *to;
            if (from && *to < *from)
                error(*v, join(path, "to"),
                      "must not be before from (" + std::to_string(*from) + "), got " +
                          std::to_string(*to));
            else if (horizon_ && *to >= *horizon_)
                error(*v, join(path, "to"),
                      "period " + std::to_string(*to) + " is at or after the horizon (" +
                          std::to_string(*horizon_) + ")");
        }
    } else if (from && horizon_ && *from >= *horizon_) {
        error(*costs->find("from"), join(path, "from"),
              "period " + std::to_string(*from) + " is at or after the horizon (" +
                  std::to_string(*horizon_) + ")");
    }
    s.provider = p;
}

void Loader::load_investors(const Node& n, Scenario& s) {
    if (!expect_map(n, "investors")) return;
    check_keys(n, "investors", Section::investors);
    Investors inv;
    inv.loc = n.loc;
    if (const Node* v = require(n, "investors", "capital"))
        if (auto x = money(*v, "investors.capital")) inv.capital = *x;
    if (const Node* list = n.find("tranches")) {
        Names tranche_names;
        std::vector<const Node*> ranked;  // tranches that give a rank
        double sum = 0;
        bool all_shares = true;
        for (const Entry& e :
             entries(*list, "investors.tranches", tranche_names, true, max_tranches)) {
            const Node& m = *e.node;
            check_keys(m, e.path, Section::tranche);
            Tranche t;
            t.name = e.name;
            t.loc = m.loc;
            std::optional<double> share;
            if (const Node* v = require(m, e.path, "share"))
                share = number(*v, join(e.path, "share"), between(0, 1));
            if (share) {
                t.share = *share;
                sum += *share;
            } else {
                all_shares = false;
            }
            if (const Node* v = m.find("rate"))
                if (auto x = number(*v, join(e.path, "rate"), between(0, 1))) t.rate = *x;
            if (const Node* v = m.find("rank")) {
                t.rank = whole(*v, join(e.path, "rank"), 1, static_cast<long long>(max_tranches));
                ranked.push_back(&m);
            }
            inv.tranches.push_back(std::move(t));
        }
        check_ranks(*list, inv.tranches, ranked);
        if (all_shares && !inv.tranches.empty() && std::abs(sum - 1) > share_tolerance)
            error(*list, "investors.tranches", "shares sum to " + fmt(sum) + ", not 1");
    }
    if (const Node* g = n.find("guarantee")) {
        const std::string path = "investors.guarantee";
        if (expect_map(*g, path)) {
            check_keys(*g, path, Section::guarantee);
            Guarantee guarantee;
            if (const Node* v = g->find("name"))
                if (auto x = name(*v, join(path, "name"))) guarantee.name = *x;
            // A fixed amount, a share of capital drawn, or both (then the lesser binds).
            const Node* amount = g->find("amount");
            const Node* share = g->find("share_of_drawn");
            if (!amount && !share)
                error(*g, path, "missing required key 'amount' or 'share_of_drawn'");
            if (amount) guarantee.amount = money(*amount, join(path, "amount"));
            if (share)
                guarantee.share_of_drawn =
                    number(*share, join(path, "share_of_drawn"), between(0, 1));
            inv.guarantee = guarantee;
        }
    }
    if (const Node* y = n.find("minimum_yield")) inv.minimum_yield = load_minimum_yield(*y);
    if (const Node* r = n.find("redemption")) inv.redemption = load_redemption(*r, s);
    s.investors = std::move(inv);
}

/// `investors.redemption`: at the end of `period`, if rule `if_not_met` was assessed by then
/// and not met, `paid_by` pays a share of the principal outstanding and the contract ends
/// (docs/model.md, section 9.5). The rule must be able to decide by then.
std::optional<Redemption> Loader::load_redemption(const Node& y, const Scenario& s) {
    const std::string path = "investors.redemption";
    if (!expect_map(y, path)) return std::nullopt;
    check_keys(y, path, Section::redemption);
    Redemption red;
    bool ok = true;
    int period = -1;  // valid period, for the rule's timing check
    if (const Node* v = require(y, path, "period")) {
        auto x = whole_int(*v, join(path, "period"), 1, static_cast<int>(max_period));
        if (x && horizon_ && *x >= *horizon_) {
            error(*v, join(path, "period"),
                  "the redemption falls in period " + std::to_string(*x) +
                      ", at or after the horizon (" + std::to_string(*horizon_) + ")");
            x.reset();
        }
        if (x) red.period = period = *x;
        ok = ok && x;
    } else {
        ok = false;
    }
    if (const Node* v = require(y, path, "share_of_principal")) {
        auto x = number(*v, join(path, "share_of_principal"), between(0, 1));
        if (x) red.share_of_principal = *x;
        ok = ok && x;
    } else {
        ok = false;
    }
    if (const Node* v = require(y, path, "paid_by")) {
        auto payer = refer(*v, join(path, "paid_by"), payer_names_, "payer");
        if (payer) red.paid_by = v->text;
        ok = ok && payer;
    } else {
        ok = false;
    }
    if (const Node* v = require(y, path, "if_not_met")) {
        auto rule = refer(*v, join(path, "if_not_met"), rule_names_, "rule");
        if (rule) {
            red.if_not_met = v->text;
            ok = check_redemption_rule(*v, s, *rule, period) && ok;
        } else {
            ok = false;
        }
    } else {
        ok = false;
    }
    if (!ok) return std::nullopt;
    return red;
}

/// `investors.minimum_yield`: a coupon floor paid by a payer in periods 1..periods, as an
/// advance on a rule's payments or in addition to them (docs/model.md, section 9.4).
std::optional<MinimumYield> Loader::load_minimum_yield(const Node& y) {
    const std::string path = "investors.minimum_yield";
    if (!expect_map(y, path)) return std::nullopt;
    check_keys(y, path, Section::minimum_yield);
    MinimumYield my;
    bool ok = true;
    if (const Node* v = require(y, path, "rate")) {
        auto x = number(*v, join(path, "rate"), between(0, 1));
        if (x) my.rate = *x;
        ok = ok && x;
    } else {
        ok = false;
    }
    if (const Node* v = require(y, path, "periods")) {
        auto x = whole_int(*v, join(path, "periods"), 1, static_cast<int>(max_period));
        if (x && horizon_ && *x >= *horizon_) {
            error(*v, join(path, "periods"),
                  "the last coupon falls in period " + std::to_string(*x) +
                      ", at or after the horizon (" + std::to_string(*horizon_) + ")");
            x.reset();
        }
        if (x) my.periods = *x;
        ok = ok && x;
    } else {
        ok = false;
    }
    if (const Node* v = require(y, path, "paid_by")) {
        auto payer = refer(*v, join(path, "paid_by"), payer_names_, "payer");
        if (payer) my.paid_by = v->text;
        ok = ok && payer;
    } else {
        ok = false;
    }
    if (const Node* v = y.find("advance_on")) {
        auto rule = refer(*v, join(path, "advance_on"), rule_names_, "rule");
        if (rule) my.advance_on = v->text;
        ok = ok && rule;
    }
    if (!ok) return std::nullopt;
    return my;
}

/// `rank`: on every tranche or on none, and never decreasing down the list, so that list
/// order stays the order of payment.
void Loader::check_ranks(const Node& list, const std::vector<Tranche>& tranches,
                         const std::vector<const Node*>& ranked) {
    if (ranked.empty()) return;
    if (ranked.size() != tranches.size()) {
        error(list, "investors.tranches", "give rank on every tranche or on none");
        return;
    }
    for (std::size_t j = 1; j < tranches.size(); ++j)
        if (tranches[j].rank && tranches[j - 1].rank && *tranches[j].rank < *tranches[j - 1].rank)
            error(*ranked[j]->find("rank"), "investors.tranches." + tranches[j].name + ".rank",
                  "tranches must be listed in rank order, but rank " +
                      std::to_string(*tranches[j].rank) + " follows rank " +
                      std::to_string(*tranches[j - 1].rank));
}

}  // namespace sib::load_detail
