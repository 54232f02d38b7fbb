// YAML text -> Scenario: the public functions of load.hpp, and the top level of a scenario.
//
// The YAML text is first copied into a small tree of our own (Node, load_yaml.hpp) that keeps
// 1-based locations and whether a value came from `--set`; overrides are applied to that tree;
// then one pass (Loader, load_detail.hpp) checks every key and builds the Scenario, collecting
// every problem into a DiagnosticSink. Checks that depend on a value that was itself wrong are
// skipped, so that one mistake gives one message.
#include "sib/load.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <system_error>

#include "sib/load_detail.hpp"

namespace sib {
namespace load_detail {

Scenario Loader::load(const Node& root, const std::string& file) {
    Scenario s;
    s.file = file;
    check_keys(root, "", Section::scenario);
    load_header(root, s);
    if (const Node* n = require(root, "", "outcomes")) load_outcomes(*n, s);
    if (const Node* n = require(root, "", "cohorts")) {
        load_cohorts(*n, s);
        check_batch_counts(*n, s);
    }
    if (const Node* n = root.find("comparison")) load_comparison(*n, s);
    if (const Node* n = require(root, "", "payers")) load_payers(*n, s);
    if (const Node* n = require(root, "", "payments")) load_rules(*n, s);
    check_comparison_needed(root, s);
    if (const Node* n = root.find("caps")) load_caps(*n, s);
    load_cohort_payers(s);
    if (const Node* n = root.find("provider")) load_provider(*n, s);
    if (const Node* n = root.find("investors")) load_investors(*n, s);
    if (const Node* n = root.find("correlations")) load_correlations(*n, s);
    if (const Node* n = root.find("participant_correlations")) load_participant_correlations(*n, s);
    check_price_after_repaid(root, s);
    check_coupons(s);
    check_observed_over(s);
    check_timing(s);
    check_output_names(root, s);
    check_magnitudes(s);
    return s;
}

void Loader::load_header(const Node& root, Scenario& s) {
    if (const Node* n = require(root, "", "sibsim")) {
        if (auto v = whole(*n, "sibsim", 0, 1'000'000); v && *v != 1)
            error(*n, "sibsim",
                  "unsupported format version " + std::to_string(*v) +
                      "; this sibsim reads version 1");
    }
    if (const Node* n = require(root, "", "name"))
        if (auto v = name(*n, "name")) s.name = *v;
    if (const Node* n = root.find("description"))
        if (auto v = text(*n, "description")) s.description = *v;
    if (const Node* n = root.find("currency"))
        if (auto v = name(*n, "currency")) s.currency = *v;
    if (const Node* n = root.find("period"))
        if (auto v = choice(*n, "period", {"month", "quarter", "year"}))
            s.period = *v == 0   ? PeriodUnit::month
                       : *v == 1 ? PeriodUnit::quarter
                                 : PeriodUnit::year;
    if (const Node* n = require(root, "", "horizon")) {
        horizon_ = whole_int(*n, "horizon", 1, static_cast<int>(max_period));
        if (horizon_) s.horizon = *horizon_;
    }
    if (const Node* n = root.find("start")) load_start(*n, s);
    if (const Node* n = root.find("discount_rate"))
        if (auto v = number(*n, "discount_rate", Range{-1, 1, true, false})) s.discount_rate = *v;
    if (const Node* n = root.find("minor_unit")) {
        // Money is paid in whole minor units: a power of ten, so that amounts written in
        // decimals stay exact in it.
        if (auto v = number(*n, "minor_unit", Range{0, 1, true, false})) {
            const double exponent = std::log10(*v);
            if (exponent < -4 - 1e-9 || std::abs(exponent - std::round(exponent)) > 1e-9)
                error(*n, "minor_unit",
                      "must be a power of ten from 0.0001 to 1 (0.01 for pennies or cents, 1 "
                      "for a currency without a minor unit), got " +
                          fmt(*v));
            else
                s.minor_unit = std::pow(10.0, std::round(exponent));
        }
    }
    if (const Node* n = root.find("simulation")) {
        if (expect_map(*n, "simulation")) {
            check_keys(*n, "simulation", Section::simulation);
            if (const Node* t = n->find("trials"))
                if (auto v = whole(*t, "simulation.trials", 1, 1'000'000'000)) s.trials = *v;
            if (const Node* seed = n->find("seed")) load_seed(*seed, s);
        }
    }
}

void Loader::load_start(const Node& n, Scenario& s) {
    auto v = text(n, "start");
    if (!v) return;
    const std::string& t = *v;
    bool ok = t.size() == 7 && t[4] == '-';
    int year = 0, month = 0;
    if (ok) {
        auto [p1, e1] = std::from_chars(t.data(), t.data() + 4, year);
        auto [p2, e2] = std::from_chars(t.data() + 5, t.data() + 7, month);
        ok = e1 == std::errc() && p1 == t.data() + 4 && e2 == std::errc() && p2 == t.data() + 7 &&
             std::isdigit(static_cast<unsigned char>(t[0])) &&
             std::isdigit(static_cast<unsigned char>(t[5])) && month >= 1 && month <= 12;
    }
    if (!ok) {
        error(n, "start", "must be a month as YYYY-MM (month 01 to 12), got " + quote(t));
        return;
    }
    s.start = YearMonth{year, month};
}

void Loader::load_seed(const Node& n, Scenario& s) {
    // Seeds go up to 2^64 - 1, beyond what a double holds exactly: parse as an integer.
    if (n.is_scalar() && !n.quoted) {
        unsigned long long seed = 0;
        std::string_view t = n.text;
        if (!t.empty() && t.front() == '+') t.remove_prefix(1);
        auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), seed);
        if (ec == std::errc() && end == t.data() + t.size() && !t.empty() && t[0] != '-') {
            s.seed = seed;
            return;
        }
    }
    auto v = number(n, "simulation.seed");
    if (!v) return;
    if (*v != std::floor(*v)) {
        error(n, "simulation.seed", "must be a whole number, got " + fmt(*v));
    } else if (*v < 0) {
        error(n, "simulation.seed", "must be at least 0, got " + fmt(*v));
    } else if (*v >= 18446744073709551616.0) {
        error(n, "simulation.seed", "must be less than 2^64, got " + fmt(*v));
    } else {
        s.seed = static_cast<unsigned long long>(*v);  // whole and in range, e.g. "1e6"
    }
}

}  // namespace load_detail

using namespace load_detail;

Override parse_override(std::string_view argument) {
    auto fail = [&](std::string message) {
        throw InputError({Diagnostic{"--set", {}, "", std::move(message)}});
    };
    auto eq = argument.find('=');
    if (eq == std::string_view::npos) fail("expected PATH=VALUE, got " + quote(argument));
    std::string_view path = argument.substr(0, eq);
    while (!path.empty() && (path.front() == ' ' || path.front() == '\t')) path.remove_prefix(1);
    while (!path.empty() && (path.back() == ' ' || path.back() == '\t')) path.remove_suffix(1);
    if (path.empty()) fail("expected PATH=VALUE with a path, got " + quote(argument));
    return Override{std::string(path), std::string(argument.substr(eq + 1))};
}

Scenario load_scenario(std::string_view text, const std::string& file,
                       const std::vector<Override>& overrides) {
    DiagnosticSink sink;
    sink.file = file;
    Node root = parse_file(text, sink);
    for (const auto& o : overrides) apply_override(root, o, sink);
    drop_duplicate_keys(root, PathStep{}, sink);
    if (!root.is_map()) {
        sink.error(root.loc, "", "expected a map of scenario keys, got " + describe(root));
        sink.throw_if_any();
    }
    Loader loader(sink);
    Scenario scenario = loader.load(root, file);
    throw_sorted(sink);
    return scenario;
}

Scenario load_scenario_file(const std::string& path, const std::vector<Override>& overrides) {
    return load_scenario(read_file(path), path, overrides);
}

}  // namespace sib
