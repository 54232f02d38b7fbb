// The outcomes, the cohorts (their enrolment and per-cohort outcome values), the comparison
// group, and `participant_correlations` between outcomes.
#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <map>
#include <utility>

#include "sib/load_detail.hpp"

namespace sib::load_detail {

void Loader::load_outcomes(const Node& list, Scenario& s) {
    for (const Entry& e : entries(list, "outcomes", outcome_names_, true, max_outcomes)) {
        const Node& m = *e.node;
        check_keys(m, e.path, Section::outcome);
        Outcome o;
        o.name = e.name;
        o.loc = m.loc;
        OutcomeInfo info;
        info.node = &m;
        info.path = e.path;
        if (const Node* n = require(m, e.path, "kind")) {
            if (auto v = choice(*n, join(e.path, "kind"), {"count", "binary"})) {
                o.kind = *v == 0 ? OutcomeKind::count : OutcomeKind::binary;
                info.kind_ok = true;
            }
        }
        if (const Node* n = m.find("better"))
            if (auto v = choice(*n, join(e.path, "better"), {"higher", "lower"}))
                o.better = *v == 0 ? Better::higher : Better::lower;
        for (const char* key : {"baseline", "rate", "effect"}) {
            const Node* n = m.find(key);
            if (!n) continue;
            auto u = outcome_value(*n, join(e.path, key), key, &info, &o);
            if (std::string_view(key) == "baseline") o.baseline = u;
            if (std::string_view(key) == "rate") o.rate = u;
            if (std::string_view(key) == "effect") o.effect = u;
        }
        info.baseline_given = m.find("baseline") != nullptr;
        info.rate_given = m.find("rate") != nullptr;
        const Node* effect = m.find("effect");
        if (effect && m.find("rate"))
            error(*effect, join(e.path, "effect"),
                  "effect has no meaning with rate; give baseline and effect, or rate");
        if (!m.find("baseline") && !m.find("rate"))
            error(m, e.path, "missing required key 'baseline' or 'rate'");
        if (const Node* n = m.find("dispersion")) {
            if (info.kind_ok && o.kind == OutcomeKind::binary) {
                error(*n, join(e.path, "dispersion"), "dispersion applies to count outcomes only");
            } else if (auto v = number(*n, join(e.path, "dispersion"), between(1, 1000))) {
                o.dispersion = *v;
            }
        }
        info.timing_ok = true;
        if (const Node* n = m.find("observed_after")) {
            info.observed_after_node = n;
            auto v = whole_int(*n, join(e.path, "observed_after"), 0, static_cast<int>(max_period));
            if (v)
                o.observed_after = *v;
            else
                info.timing_ok = false;
        }
        if (const Node* n = m.find("observed_by")) {
            info.observed_after_node = n;
            if (m.find("observed_after")) {
                error(*n, join(e.path, "observed_by"),
                      "give observed_after or observed_by, not both");
                info.timing_ok = false;
            } else if (auto v = whole_int(*n, join(e.path, "observed_by"), 0,
                                          static_cast<int>(max_period))) {
                o.observed_by = *v;
            } else {
                info.timing_ok = false;
            }
        }
        if (const Node* n = m.find("observed_over")) load_observed_over(*n, m, e.path, o, info);
        if (const Node* n = m.find("instead_of")) {
            if (o.kind != OutcomeKind::binary) {
                if (info.kind_ok)
                    error(*n, join(e.path, "instead_of"),
                          "instead_of applies to binary outcomes only");
            } else if (auto v = name(*n, join(e.path, "instead_of"))) {
                o.instead_of = *v;
                info.instead_of_node = n;
            }
        }
        if (const Node* n = m.find("after")) {
            if (info.kind_ok && o.kind == OutcomeKind::count) {
                error(*n, join(e.path, "after"), "after applies to binary outcomes only");
            } else if (auto v = name(*n, join(e.path, "after"))) {
                o.after = *v;
                info.after_node = n;
            }
        }
        if (const Node* n = m.find("rate_without")) load_rate_without(*n, m, e.path, info, o);
        record(outcome_names_, e, s.outcomes.size());
        s.outcomes.push_back(std::move(o));
        outcome_info_.push_back(info);
    }
    check_after(s);
}

/// `rate_without`: a binary follower's probability for participants without its leader.
void Loader::load_rate_without(const Node& n, const Node& m, const std::string& outcome_path,
                               const OutcomeInfo& info, Outcome& o) {
    const std::string path = join(outcome_path, "rate_without");
    if (info.kind_ok && o.kind != OutcomeKind::binary) {
        error(n, path, "rate_without applies to binary outcomes only");
    } else if (!m.find("after")) {
        error(n, path,
              "needs 'after': it is the probability for participants without the "
              "outcome named there");
    } else if (m.find("instead_of")) {
        error(n, path, "cannot be combined with instead_of");
    } else if (m.find("baseline")) {
        // A baseline is given the leader; there would be none for participants without it.
        error(n, path,
              "cannot be combined with baseline: give rate, and every achievement "
              "counts as caused");
    } else {
        o.rate_without = outcome_value(n, path, "rate_without", &info, &o);
    }
}

void Loader::load_cohorts(const Node& list, Scenario& s) {
    for (const Entry& e : entries(list, "cohorts", cohort_names_, true, max_cohorts)) {
        const Node& m = *e.node;
        check_keys(m, e.path, Section::cohort);
        Cohort c;
        c.name = e.name;
        c.loc = m.loc;
        CohortInfo info;
        info.node = &m;
        info.path = e.path;
        if (const Node* n = require(m, e.path, "size")) {
            std::string path = join(e.path, "size");
            if (auto u = uncertain(*n, path)) {
                if (std::holds_alternative<Fixed>(u->dist))
                    check_fixed(*n, path, *u, between(0, max_size), "");
                else if (double mean = mean_of(u->dist); mean > max_size)
                    error(*n, path, "mean must be at most " + fmt(max_size) + ", got " + fmt(mean));
                c.size = *u;
            }
        }
        if (const Node* n = require(m, e.path, "enrol")) info.enrol_ok = load_enrol(*n, e, c);
        if (const Node* n = m.find("outcomes")) load_overrides(*n, e, c, s);
        record(cohort_names_, e, s.cohorts.size());
        s.cohorts.push_back(std::move(c));
        cohort_info_.push_back(info);
    }
}

bool Loader::load_enrol(const Node& n, const Entry& e, Cohort& c) {
    std::string path = join(e.path, "enrol");
    if (!n.is_list() || n.items.size() != 2) {
        error(n, path,
              "expected a list [first, last] of two periods, got " +
                  (n.is_list() ? "a list of " + std::to_string(n.items.size()) : describe(n)));
        return false;
    }
    int hi = static_cast<int>(max_period);
    auto first = whole_int(n.items[0], path, 0, hi);
    auto last = whole_int(n.items[1], path, 0, hi);
    if (!first || !last) return false;
    if (*last < *first) {
        error(n.items[1], path,
              "last period " + std::to_string(*last) + " is before the first " +
                  std::to_string(*first));
        return false;
    }
    c.enrol_first = *first;
    c.enrol_last = *last;
    if (horizon_ && *last >= *horizon_) {
        error(n.items[1], path,
              "last period " + std::to_string(*last) + " is at or after the horizon (" +
                  std::to_string(*horizon_) + ")");
        return false;
    }
    return true;
}

void Loader::load_overrides(const Node& map, const Entry& e, Cohort& c, const Scenario& s) {
    std::string path = join(e.path, "outcomes");
    if (!expect_map(map, path)) return;
    for (std::size_t i = 0; i < map.keys.size(); ++i) {
        const Key& key = map.keys[i];
        const Node& value = map.items[i];
        std::string item_path = join(path, key.text);
        auto index = refer(key, path, outcome_names_, "outcome");
        if (!expect_map(value, item_path)) continue;
        check_keys(value, item_path, Section::cohort_outcome);
        const OutcomeInfo* info = index ? &outcome_info_[*index] : nullptr;
        const Outcome* o = index ? &s.outcomes[*index] : nullptr;
        OutcomeOverride ov;
        ov.outcome = key.text;
        ov.loc = value.loc;
        for (const char* k : {"baseline", "rate", "effect"}) {
            const Node* n = value.find(k);
            if (!n) continue;
            auto u = outcome_value(*n, join(item_path, k), k, info, o);
            if (std::string_view(k) == "baseline") ov.baseline = u;
            if (std::string_view(k) == "rate") ov.rate = u;
            if (std::string_view(k) == "effect") ov.effect = u;
        }
        const Node* effect = value.find("effect");
        bool has_rate = value.find("rate") || (o && o->rate);
        if (effect && has_rate)
            error(*effect, join(item_path, "effect"),
                  "effect has no meaning with rate; give baseline and effect, or rate");
        if (const Node* b = value.find("baseline"); b && o && o->rate_without)
            error(*b, join(item_path, "baseline"),
                  "cannot be combined with the outcome's rate_without");
        if (index) c.overrides.push_back(std::move(ov));
    }
}

void Loader::load_comparison(const Node& n, Scenario& s) {
    if (!expect_map(n, "comparison")) return;
    check_keys(n, "comparison", Section::comparison);
    Comparison c;
    c.loc = n.loc;
    const Node* kind = require(n, "comparison", "kind");
    std::optional<std::size_t> k;
    if (kind) k = choice(*kind, "comparison.kind", {"matched", "historical"});
    const Node* ratio = n.find("ratio");
    if (k && *k == 0) {
        c.kind = ComparisonKind::matched;
        if (!ratio) error(n, "comparison", "missing required key 'ratio'");
    } else if (k) {
        c.kind = ComparisonKind::historical;
        if (ratio)
            error(n.keys[static_cast<std::size_t>(ratio - n.items.data())], "comparison",
                  "ratio applies to matched comparisons only");
    }
    if (ratio && (!k || *k == 0))
        if (auto v = number(*ratio, "comparison.ratio", Range{0, 1000, true, false})) c.ratio = *v;
    if (const Node* h = n.find("historical_until")) load_historical_until(*h, k, c);
    s.comparison = c;
}

/// `participant_correlations`: [OUTCOME, OUTCOME, rho], binary outcomes without `after` or
/// `instead_of` (their latent normals decide them on their own), each pair once, and a
/// positive definite matrix over all of them.
void Loader::load_participant_correlations(const Node& list, Scenario& s) {
    const std::string key = "participant_correlations";
    if (!expect_list(list, key)) return;
    if (!check_count(list, key, max_correlations)) return;
    std::map<std::pair<std::size_t, std::size_t>, int> seen;  // pair -> line
    bool all_ok = true;
    for (std::size_t i = 0; i < list.items.size(); ++i) {
        const Node& item = list.items[i];
        const std::string path = index_path(key, i);
        if (!item.is_list() || item.items.size() != 3) {
            error(item, path,
                  "expected [OUTCOME, OUTCOME, correlation], got " +
                      (item.is_list() ? "a list of " + std::to_string(item.items.size())
                                      : describe(item)));
            all_ok = false;
            continue;
        }
        bool ok = true;
        std::size_t index[2] = {0, 0};
        for (std::size_t k = 0; k < 2; ++k) {
            auto j = refer(item.items[k], path, outcome_names_, "outcome");
            if (!j) {
                ok = false;
                continue;
            }
            index[k] = *j;
            const Outcome& o = s.outcomes[*j];
            std::string why;
            if (outcome_info_[*j].kind_ok && o.kind != OutcomeKind::binary)
                why = quote(o.name) + " is a count outcome";
            else if (o.after)
                why = quote(o.name) + " follows " + quote(*o.after);
            else if (o.instead_of)
                why = quote(o.name) + " is instead of " + quote(*o.instead_of);
            if (!why.empty()) {
                error(item.items[k], path,
                      "must name a binary outcome without 'after' or 'instead_of'; " + why);
                ok = false;
            }
        }
        auto rho = number(item.items[2], path, Range{-1, 1, true, true});
        if (!ok || !rho) {
            all_ok = false;
            continue;
        }
        if (index[0] == index[1]) {
            error(item, path, "an outcome cannot be correlated with itself");
            all_ok = false;
            continue;
        }
        const auto pair = std::minmax(index[0], index[1]);
        if (auto it = seen.find(pair); it != seen.end()) {
            error(item, path,
                  quote(s.outcomes[index[0]].name) + " and " + quote(s.outcomes[index[1]].name) +
                      " are already correlated at line " + std::to_string(it->second));
            all_ok = false;
            continue;
        }
        seen.emplace(pair, item.loc.line);
        s.participant_correlations.push_back(
            {s.outcomes[index[0]].name, s.outcomes[index[1]].name, *rho, item.loc});
    }
    if (!all_ok || seen.empty()) return;
    // One joint normal distribution must have all the pairs' correlations.
    std::map<std::size_t, Eigen::Index> local;
    for (const auto& [pair, line] : seen) {
        local.emplace(pair.first, 0);
        local.emplace(pair.second, 0);
    }
    Eigen::Index next = 0;
    std::string names;
    for (auto& [outcome, k] : local) {
        k = next++;
        names += (names.empty() ? "" : ", ") + s.outcomes[outcome].name;
    }
    Eigen::MatrixXd m = Eigen::MatrixXd::Identity(next, next);
    for (const auto& c : s.participant_correlations) {
        const Eigen::Index a = local[*outcome_names_.find(c.first)];
        const Eigen::Index b = local[*outcome_names_.find(c.second)];
        m(a, b) = m(b, a) = c.rho;
    }
    if (Eigen::LLT<Eigen::MatrixXd>(m).info() != Eigen::Success)
        error(list, key, "matrix is not positive definite (outcomes: " + names + ")");
}

/// `outcomes[].observed_over`: a count known one period's part at a time, over this many periods
/// from observed_after on. Count outcomes only, not with observed_by.
void Loader::load_observed_over(const Node& n, const Node& m, const std::string& path, Outcome& o,
                                OutcomeInfo& info) {
    const std::string key = join(path, "observed_over");
    if (info.kind_ok && o.kind != OutcomeKind::count) {
        error(n, key, "observed_over applies to count outcomes only");
        return;
    }
    if (m.find("observed_by")) {
        error(n, key,
              "cannot be combined with observed_by: give observed_after, the period after "
              "enrolment in which the first part is known");
        info.timing_ok = false;
        return;
    }
    if (auto v = whole_int(n, key, 1, static_cast<int>(max_period)))
        o.observed_over = *v;
    else
        info.timing_ok = false;
}

/// `comparison.historical_until`: matched comparisons only, a period before the horizon.
void Loader::load_historical_until(const Node& n, std::optional<std::size_t> kind, Comparison& c) {
    const std::string key = "comparison.historical_until";
    if (kind && *kind != 0) {
        error(n, key,
              "applies to matched comparisons only: a historical comparison uses the "
              "baseline throughout");
        return;
    }
    // A period before the horizon (later would never switch to the matched group).
    const int last = horizon_ ? *horizon_ - 1 : static_cast<int>(max_period);
    if (auto v = whole_int(n, key, 0, last)) c.historical_until = *v;
}

}  // namespace sib::load_detail
