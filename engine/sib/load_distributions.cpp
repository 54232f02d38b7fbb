// Uncertain values (docs/scenario-format.md): a plain number or a distribution {dist: ...}, and
// `correlations` between them, whose matrix must be positive definite.
#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "sib/load_detail.hpp"

namespace sib::load_detail {

namespace {

double standard_normal_cdf(double x) {
    return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

/// Rounds down to 4 significant digits, so that a printed upper bound is itself allowed.
double round_down_4(double v) {
    if (!(v > 0)) return v;
    double scale = std::pow(10.0, 3 - std::floor(std::log10(v)));
    return std::floor(v * scale) / scale;
}

}  // namespace

std::optional<Uncertain> Loader::uncertain(const Node& n, const std::string& path) {
    std::optional<Uncertain> u = parse_uncertain(n, path);
    UncertainState state = !u                                       ? UncertainState::invalid
                           : std::holds_alternative<Fixed>(u->dist) ? UncertainState::fixed
                                                                    : UncertainState::distribution;
    if (!uncertain_.count(path)) uncertain_paths_.push_back(path);
    uncertain_[path] = state;
    uncertain_nodes_[path] = &n;
    return u;
}

std::optional<Uncertain> Loader::parse_uncertain(const Node& n, const std::string& path) {
    Uncertain u;
    u.path = path;
    u.loc = n.loc;
    if (n.is_scalar()) {
        auto v = number(n, path);
        if (!v) return std::nullopt;
        u.dist = Fixed{*v};
        return u;
    }
    if (!n.is_map()) {
        error(n, path, "expected a number or a distribution {dist: ...}, got " + describe(n));
        return std::nullopt;
    }
    static const std::vector<std::string> dists = {"normal", "lognormal", "uniform", "triangular",
                                                   "beta"};
    check_keys(n, path, Section::distribution);
    const Node* dist_node = require(n, path, "dist");
    if (!dist_node) return std::nullopt;
    auto which = choice(*dist_node, join(path, "dist"), dists);
    if (!which) return std::nullopt;
    // Bit *which of a key's variants: dist_normal, ..., dist_beta in the order of `dists`.
    reject_keys(n, path, Section::distribution, 1u << *which,
                "a " + dists[*which] + " distribution");
    bool ok = true;
    auto param = [&](const std::string& key, bool required) -> std::optional<double> {
        const Node* p = required ? require(n, path, key) : n.find(key);
        if (!p) {
            if (required) ok = false;
            return std::nullopt;
        }
        auto v = number(*p, join(path, key));
        if (!v) ok = false;
        return v;
    };
    auto node_of = [&](const std::string& key) -> const Node& { return *n.find(key); };
    auto positive_sd = [&](std::optional<double> sd) {
        if (sd && !in_range(node_of("sd"), join(path, "sd"), *sd, greater_than(0),
                            " (use a plain number for a fixed value)"))
            ok = false;
    };
    switch (*which) {
        case 0: {  // normal
            auto mean = param("mean", true), sd = param("sd", true);
            auto lo = param("min", false), hi = param("max", false);
            positive_sd(sd);
            if (lo && hi && !(*lo < *hi)) {
                error(node_of("max"), join(path, "max"),
                      "must be greater than min (" + fmt(*lo) + "), got " + fmt(*hi));
                ok = false;
            }
            if (!ok) return std::nullopt;
            double p_lo = lo ? standard_normal_cdf((*lo - *mean) / *sd) : 0.0;
            double p_hi = hi ? standard_normal_cdf((*hi - *mean) / *sd) : 1.0;
            double q_lo = lo ? standard_normal_cdf((*mean - *lo) / *sd) : 1.0;
            double q_hi = hi ? standard_normal_cdf((*mean - *hi) / *sd) : 0.0;
            if (std::max(p_hi - p_lo, q_lo - q_hi) < 1e-9) {
                error(n, path,
                      "min and max leave almost none of the normal distribution (less than "
                      "1e-9 of it)");
                return std::nullopt;
            }
            u.dist = Normal{*mean, *sd, lo, hi};
            return u;
        }
        case 1: {  // lognormal
            auto mean = param("mean", true), sd = param("sd", true);
            if (mean && !in_range(node_of("mean"), join(path, "mean"), *mean, greater_than(0),
                                  " for a lognormal"))
                ok = false;
            positive_sd(sd);
            if (!ok) return std::nullopt;
            u.dist = Lognormal{*mean, *sd};
            return u;
        }
        case 2: {  // uniform
            auto lo = param("min", true), hi = param("max", true);
            if (!ok) return std::nullopt;
            if (!(*lo < *hi)) {
                error(node_of("max"), join(path, "max"),
                      "must be greater than min (" + fmt(*lo) + "), got " + fmt(*hi));
                return std::nullopt;
            }
            u.dist = Uniform{*lo, *hi};
            return u;
        }
        case 3: {  // triangular
            auto lo = param("min", true), mode = param("mode", true), hi = param("max", true);
            if (!ok) return std::nullopt;
            if (!(*lo < *hi)) {
                error(node_of("max"), join(path, "max"),
                      "must be greater than min (" + fmt(*lo) + "), got " + fmt(*hi));
                return std::nullopt;
            }
            if (!in_range(node_of("mode"), join(path, "mode"), *mode, between(*lo, *hi),
                          " (from min to max)"))
                return std::nullopt;
            u.dist = Triangular{*lo, *mode, *hi};
            return u;
        }
        default: {  // beta
            auto mean = param("mean", true), sd = param("sd", true);
            if (mean && !in_range(node_of("mean"), join(path, "mean"), *mean,
                                  Range{0, 1, true, true}, " for a beta"))
                ok = false;
            positive_sd(sd);
            if (!ok) return std::nullopt;
            double variance_limit = *mean * (1 - *mean);
            if (!(*sd * *sd < variance_limit)) {
                error(node_of("sd"), join(path, "sd"),
                      "must be less than " + fmt(round_down_4(std::sqrt(variance_limit))) +
                          " for a beta with mean " + fmt(*mean) + " (sd^2 < mean*(1-mean)), got " +
                          fmt(*sd));
                return std::nullopt;
            }
            u.dist = Beta{*mean, *sd};
            return u;
        }
    }
}

/// Bounds on a fixed value (a distribution's draws are clamped by the engine instead).
bool Loader::check_fixed(const Node& n, const std::string& path, const Uncertain& u,
                         const Range& range, const std::string& context) {
    if (const auto* f = std::get_if<Fixed>(&u.dist))
        return in_range(n, path, f->value, range, context);
    return true;
}

std::optional<Uncertain> Loader::outcome_value(const Node& n, const std::string& path,
                                               const std::string& key, const OutcomeInfo* info,
                                               const Outcome* o) {
    auto u = uncertain(n, path);
    if (!u) return u;
    if (key == "effect") {
        check_fixed(n, path, *u, at_least(-1), " (a fall of 100%)");
    } else if (info && info->kind_ok) {
        if (o->kind == OutcomeKind::binary)
            check_fixed(n, path, *u, between(0, 1), " for a binary outcome");
        else
            check_fixed(n, path, *u, between(0, max_count_mean), " for a count outcome");
    }
    return u;
}

void Loader::load_correlations(const Node& list, Scenario& s) {
    if (!expect_list(list, "correlations")) return;
    if (!check_count(list, "correlations", max_correlations)) return;
    std::map<std::pair<std::string, std::string>, int> seen;  // pair -> line
    for (std::size_t i = 0; i < list.items.size(); ++i) {
        const Node& item = list.items[i];
        std::string path = index_path("correlations", i);
        if (!item.is_list() || item.items.size() != 3) {
            error(item, path,
                  "expected [PATH, PATH, correlation], got " +
                      (item.is_list() ? "a list of " + std::to_string(item.items.size())
                                      : describe(item)));
            continue;
        }
        bool ok = true;
        std::string names[2];
        for (std::size_t k = 0; k < 2; ++k) {
            const Node& p = item.items[k];
            auto t = text(p, path);
            if (!t) {
                ok = false;
                continue;
            }
            names[k] = *t;
            auto it = uncertain_.find(*t);
            if (it == uncertain_.end()) {
                error(p, path,
                      quote(*t) + " names no uncertain value" + did_you_mean(*t, uncertain_paths_));
                ok = false;
            } else if (it->second == UncertainState::fixed) {
                error(p, path,
                      quote(*t) + " is a fixed number; only distributions can be correlated");
                ok = false;
            } else if (it->second == UncertainState::invalid) {
                ok = false;  // already reported where it is defined
            }
        }
        auto rho = number(item.items[2], path, Range{-1, 1, true, true});
        if (!ok || !rho) continue;
        if (names[0] == names[1]) {
            error(item, path, "a value cannot be correlated with itself");
            continue;
        }
        auto key = std::minmax(names[0], names[1]);
        auto pair = std::make_pair(key.first, key.second);
        if (auto it = seen.find(pair); it != seen.end()) {
            error(item, path,
                  quote(names[0]) + " and " + quote(names[1]) + " are already correlated at line " +
                      std::to_string(it->second));
            continue;
        }
        seen.emplace(pair, item.loc.line);
        s.correlations.push_back({names[0], names[1], *rho, item.loc});
    }
    check_positive_definite(list, s);
}

/// Each group of values joined by correlations must have a positive definite matrix.
void Loader::check_positive_definite(const Node& list, const Scenario& s) {
    std::vector<std::string> vars;
    std::map<std::string, std::size_t> index;
    auto id = [&](const std::string& p) {
        auto [it, added] = index.emplace(p, vars.size());
        if (added) vars.push_back(p);
        return it->second;
    };
    for (const auto& c : s.correlations) {
        id(c.first);
        id(c.second);
    }
    // Connected groups, so the message names only the values involved.
    std::vector<std::size_t> parent(vars.size());
    for (std::size_t i = 0; i < parent.size(); ++i) parent[i] = i;
    auto root = [&](std::size_t i) {
        while (parent[i] != i) i = parent[i] = parent[parent[i]];
        return i;
    };
    for (const auto& c : s.correlations) parent[root(id(c.first))] = root(id(c.second));
    std::map<std::size_t, std::vector<std::size_t>> groups;  // keyed by smallest member
    std::map<std::size_t, std::size_t> group_of_root;
    for (std::size_t i = 0; i < vars.size(); ++i) {
        std::size_t r = root(i);
        auto [it, added] = group_of_root.emplace(r, i);
        groups[it->second].push_back(i);
    }
    for (const auto& [first, members] : groups) {
        const auto n = static_cast<Eigen::Index>(members.size());
        Eigen::MatrixXd m = Eigen::MatrixXd::Identity(n, n);
        std::map<std::size_t, Eigen::Index> local;
        for (Eigen::Index k = 0; k < n; ++k) local[members[static_cast<std::size_t>(k)]] = k;
        bool any = false;
        for (const auto& c : s.correlations) {
            auto a = local.find(index[c.first]);
            auto b = local.find(index[c.second]);
            if (a == local.end() || b == local.end()) continue;
            m(a->second, b->second) = m(b->second, a->second) = c.rho;
            any = true;
        }
        if (!any) continue;
        Eigen::LLT<Eigen::MatrixXd> llt(m);
        if (llt.info() == Eigen::Success) continue;
        std::string names;
        for (std::size_t k : members) names += (names.empty() ? "" : ", ") + vars[k];
        error(list, "correlations", "matrix is not positive definite (entries: " + names + ")");
    }
}

}  // namespace sib::load_detail
