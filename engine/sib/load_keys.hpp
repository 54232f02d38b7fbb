#pragma once
// The keys of every map in a scenario or observed file, listed once, in one table. The loader's
// unknown-key check and its "did you mean" read them from here (Loader::check_keys), and so does
// the check for keys that have no meaning in one variant of a map (Loader::reject_keys: a rule's
// basis, a distribution's `dist`). A new key is one more row here, then its parsing in the
// section's load_*.cpp. The order of a section's rows is the order "did you mean" breaks ties in.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sib::load_detail {

/// A map of the file (docs/scenario-format.md, docs/outputs.md for the observed file).
enum class Section {
    scenario,        ///< the top level of a scenario file
    simulation,      ///< simulation
    outcome,         ///< outcomes[]
    cohort,          ///< cohorts[]
    cohort_outcome,  ///< cohorts[].outcomes.OUTCOME
    comparison,      ///< comparison
    payer,           ///< payers[]
    rule,            ///< payments[]
    caps,            ///< caps
    provider,        ///< provider
    provider_costs,  ///< provider.costs
    investors,       ///< investors
    tranche,         ///< investors.tranches[]
    guarantee,       ///< investors.guarantee
    minimum_yield,   ///< investors.minimum_yield
    redemption,      ///< investors.redemption
    distribution,    ///< any uncertain value written as {dist: ...}
    observed_file,   ///< the top level of an observed file
    observation,     ///< observed[]
};

/// Variants of a map in which a key has a meaning, one bit each; a key given in another variant
/// is reported as having no meaning there. Bit i is option i of the `choice` that picks the
/// variant: `basis` of a rule, `dist` of a distribution.
inline constexpr unsigned every_variant = ~0u;
inline constexpr unsigned basis_rate_card = 1u << 0;
inline constexpr unsigned basis_target = 1u << 1;
inline constexpr unsigned basis_versus_comparison = 1u << 2;
inline constexpr unsigned dist_normal = 1u << 0;
inline constexpr unsigned dist_lognormal = 1u << 1;
inline constexpr unsigned dist_uniform = 1u << 2;
inline constexpr unsigned dist_triangular = 1u << 3;
inline constexpr unsigned dist_beta = 1u << 4;

/// One allowed key of one map.
struct KeySpec {
    Section section;
    std::string_view key;
    unsigned variants = every_variant;  ///< the variants it has a meaning in
};

// clang-format off
inline constexpr KeySpec key_table[] = {
    {Section::scenario,       "sibsim"},
    {Section::scenario,       "name"},
    {Section::scenario,       "description"},
    {Section::scenario,       "currency"},
    {Section::scenario,       "period"},
    {Section::scenario,       "horizon"},
    {Section::scenario,       "start"},
    {Section::scenario,       "discount_rate"},
    {Section::scenario,       "minor_unit"},
    {Section::scenario,       "simulation"},
    {Section::scenario,       "cohorts"},
    {Section::scenario,       "outcomes"},
    {Section::scenario,       "payments"},
    {Section::scenario,       "payers"},
    {Section::scenario,       "comparison"},
    {Section::scenario,       "caps"},
    {Section::scenario,       "provider"},
    {Section::scenario,       "investors"},
    {Section::scenario,       "correlations"},
    {Section::scenario,       "participant_correlations"},

    {Section::simulation,     "trials"},
    {Section::simulation,     "seed"},

    {Section::outcome,        "name"},
    {Section::outcome,        "kind"},
    {Section::outcome,        "better"},
    {Section::outcome,        "baseline"},
    {Section::outcome,        "effect"},
    {Section::outcome,        "rate"},
    {Section::outcome,        "dispersion"},
    {Section::outcome,        "observed_after"},
    {Section::outcome,        "observed_by"},
    {Section::outcome,        "observed_over"},
    {Section::outcome,        "after"},
    {Section::outcome,        "instead_of"},
    {Section::outcome,        "rate_without"},

    {Section::cohort,         "name"},
    {Section::cohort,         "size"},
    {Section::cohort,         "enrol"},
    {Section::cohort,         "outcomes"},
    {Section::cohort,         "payers"},

    {Section::cohort_outcome, "baseline"},
    {Section::cohort_outcome, "effect"},
    {Section::cohort_outcome, "rate"},

    {Section::comparison,     "kind"},
    {Section::comparison,     "ratio"},
    {Section::comparison,     "historical_until"},

    {Section::payer,          "name"},
    {Section::payer,          "share"},
    {Section::payer,          "max"},
    {Section::payer,          "savings"},

    {Section::rule,           "name"},
    {Section::rule,           "basis"},
    {Section::rule,           "outcome"},
    {Section::rule,           "payment_lag"},
    {Section::rule,           "cap"},
    {Section::rule,           "per",                basis_target | basis_versus_comparison},
    {Section::rule,           "price"},
    {Section::rule,           "amount",             basis_target | basis_versus_comparison},
    {Section::rule,           "at_least",           basis_target},
    {Section::rule,           "share_at_least",     basis_target},
    {Section::rule,           "threshold",          basis_versus_comparison},
    {Section::rule,           "schedule",           basis_versus_comparison},
    {Section::rule,           "net_of",             basis_target | basis_versus_comparison},
    {Section::rule,           "payers"},
    {Section::rule,           "interpolate",        basis_versus_comparison},
    {Section::rule,           "price_after_repaid", basis_rate_card},
    {Section::rule,           "assess",             basis_target | basis_versus_comparison},
    {Section::rule,           "observed_after",     basis_target | basis_versus_comparison},
    {Section::rule,           "coupon"},

    {Section::caps,           "per_participant"},
    {Section::caps,           "total"},

    {Section::provider,       "costs"},

    {Section::provider_costs, "per_participant"},
    {Section::provider_costs, "per_period"},
    {Section::provider_costs, "from"},
    {Section::provider_costs, "to"},

    {Section::investors,      "capital"},
    {Section::investors,      "tranches"},
    {Section::investors,      "guarantee"},
    {Section::investors,      "minimum_yield"},
    {Section::investors,      "redemption"},

    {Section::tranche,        "name"},
    {Section::tranche,        "share"},
    {Section::tranche,        "rate"},
    {Section::tranche,        "rank"},

    {Section::guarantee,      "name"},
    {Section::guarantee,      "amount"},
    {Section::guarantee,      "share_of_drawn"},

    {Section::minimum_yield,  "rate"},
    {Section::minimum_yield,  "periods"},
    {Section::minimum_yield,  "paid_by"},
    {Section::minimum_yield,  "advance_on"},

    {Section::redemption,     "period"},
    {Section::redemption,     "share_of_principal"},
    {Section::redemption,     "paid_by"},
    {Section::redemption,     "if_not_met"},

    {Section::distribution,   "dist"},
    {Section::distribution,   "mean",               dist_normal | dist_lognormal | dist_beta},
    {Section::distribution,   "sd",                 dist_normal | dist_lognormal | dist_beta},
    {Section::distribution,   "min",                dist_normal | dist_uniform | dist_triangular},
    {Section::distribution,   "mode",               dist_triangular},
    {Section::distribution,   "max",                dist_normal | dist_uniform | dist_triangular},

    {Section::observed_file,  "observed"},

    {Section::observation,    "cohort"},
    {Section::observation,    "outcome"},
    {Section::observation,    "participants"},
    {Section::observation,    "mean"},
    {Section::observation,    "successes"},
    {Section::observation,    "comparison_mean"},
};
// clang-format on

/// No section lists a key twice.
constexpr bool keys_are_unique() {
    constexpr std::size_t n = sizeof key_table / sizeof key_table[0];
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j)
            if (key_table[i].section == key_table[j].section &&
                key_table[i].key == key_table[j].key)
                return false;
    return true;
}
static_assert(keys_are_unique(), "a key is listed twice in one section of key_table");

/// The row of `key` in `section`, or nullptr when the key is unknown there.
inline const KeySpec* find_key(Section section, std::string_view key) {
    for (const KeySpec& spec : key_table)
        if (spec.section == section && spec.key == key) return &spec;
    return nullptr;
}

/// Every key of `section`, in table order: the candidates of "did you mean".
inline std::vector<std::string> keys_of(Section section) {
    std::vector<std::string> out;
    for (const KeySpec& spec : key_table)
        if (spec.section == section) out.emplace_back(spec.key);
    return out;
}

}  // namespace sib::load_detail
