// run --format indigo: every field on a scenario whose figures are known by hand, and the JSON
// checked to be well formed by a small strict parser.
#include <doctest/doctest.h>

#include <cctype>
#include <cmath>
#include <string>

#include "cli_helpers.hpp"

namespace {

using sib::test::sibsim;

/// A strict JSON reader that only checks the grammar (RFC 8259): objects, arrays, strings with
/// escapes, numbers, true, false, null; no trailing commas, nothing after the value.
class JsonCheck {
  public:
    explicit JsonCheck(const std::string& text) : s_(text) {}
    bool valid() {
        skip();
        if (!value()) return false;
        skip();
        return i_ == s_.size();
    }

  private:
    void skip() {
        while (i_ < s_.size() &&
               (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r'))
            ++i_;
    }
    bool eat(char c) {
        skip();
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    bool literal(const std::string& word) {
        if (s_.compare(i_, word.size(), word) != 0) return false;
        i_ += word.size();
        return true;
    }
    bool string() {
        if (!eat('"')) return false;
        while (i_ < s_.size() && s_[i_] != '"') {
            if (static_cast<unsigned char>(s_[i_]) < 0x20) return false;
            if (s_[i_] == '\\') {
                ++i_;
                if (i_ >= s_.size() || std::string("\"\\/bfnrtu").find(s_[i_]) == std::string::npos)
                    return false;
            }
            ++i_;
        }
        return eat('"');
    }
    bool number() {
        const std::size_t start = i_;
        if (i_ < s_.size() && s_[i_] == '-') ++i_;
        auto digits = [&] {
            const std::size_t from = i_;
            while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
            return i_ > from;
        };
        if (!digits()) return false;
        if (s_[start + (s_[start] == '-' ? 1 : 0)] == '0' && i_ - start > 1 + (s_[start] == '-'))
            return false;  // no leading zeros
        if (i_ < s_.size() && s_[i_] == '.') {
            ++i_;
            if (!digits()) return false;
        }
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            ++i_;
            if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
            if (!digits()) return false;
        }
        return true;
    }
    bool value() {
        skip();
        if (i_ >= s_.size()) return false;
        const char c = s_[i_];
        if (c == '{') {
            ++i_;
            if (eat('}')) return true;
            do {
                if (!string() || !eat(':') || !value()) return false;
            } while (eat(','));
            return eat('}');
        }
        if (c == '[') {
            ++i_;
            if (eat(']')) return true;
            do {
                if (!value()) return false;
            } while (eat(','));
            return eat(']');
        }
        if (c == '"') return string();
        if (c == 't') return literal("true");
        if (c == 'f') return literal("false");
        if (c == 'n') return literal("null");
        return number();
    }

    const std::string& s_;
    std::size_t i_ = 0;
};

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

/// 100 participants each find a job with one probability U ~ uniform(0, 1) per trial, so the
/// number of jobs J is uniform on 0..100 (each 1/101). Each job pays 2,000, at most 120,000 in
/// all (the rule's cap), within a contract cap of 150,000. Investors put in 50,000 in year 0 and
/// receive every payment in year 1: nothing back when J = 0, less than the principal for
/// 1 ≤ J ≤ 24, the principal exactly at J = 25 and more from J = 26: probabilities 1/101,
/// 24/101, 1/101 and 75/101. The best trial pays 120,000: an IRR of 140%.
const std::string scenario = R"(sibsim: 1
name: indigo-check
currency: EUR
period: year
horizon: 4
simulation: {trials: 4000, seed: 3}
cohorts: [{name: c, size: 100, enrol: [0, 0]}]
outcomes: [{name: job, kind: binary, rate: {dist: uniform, min: 0, max: 1}, observed_after: 1}]
payments:
  - {name: jobs, basis: rate_card, outcome: job, price: 2000, cap: 120000}
caps: {total: 150000}
payers:
  - {name: city, share: 0.75, max: 100000}
  - {name: state, share: 0.25}
provider: {costs: {per_period: 50000, from: 0, to: 0}}
investors:
  capital: 50000
  tranches: [{name: senior, share: 0.6, rate: 0.05}, {name: junior, share: 0.4, rate: 0.1}]
)";

/// The number after `"KEY": ` in the text.
double number_after(const std::string& text, const std::string& key) {
    const auto at = text.find("\"" + key + "\": ");
    REQUIRE_MESSAGE(at != std::string::npos, key);
    return std::stod(text.substr(at + key.size() + 4));
}

}  // namespace

TEST_CASE("the JSON checker accepts JSON and rejects near misses") {
    CHECK(JsonCheck(R"({"a": [1, -2.5e+3, "x\"y", true, null], "b": {}})").valid());
    CHECK_FALSE(JsonCheck(R"({"a": 1,})").valid());
    CHECK_FALSE(JsonCheck(R"({"a": 01})").valid());
    CHECK_FALSE(JsonCheck(R"({"a": nan})").valid());
    CHECK_FALSE(JsonCheck(R"({"a": 1} x)").valid());
    CHECK_FALSE(JsonCheck(R"({a: 1})").valid());
}

TEST_CASE("run --format indigo fills INDIGO's fields from the scenario and the run") {
    sib::test::TempDir dir;
    const std::string file = dir / "indigo.yaml";
    sib::test::write_file(file, scenario);
    const auto r = sibsim({"run", file, "--format", "indigo", "-j", "2"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    const std::string& json = r.out;
    CHECK(JsonCheck(json).valid());

    // The version followed, then each field under INDIGO's own name and nesting.
    CHECK(contains(json,
                   "\"indigo_data_standard\": {\"schema\": \"project\", \"version\": "
                   "\"4.1.0\""));
    CHECK(contains(json,
                   "\"overall_project_finance\": {\n    "
                   "\"maximum_potential_outcome_payment_v2\": {\"currency\": {\"value\": "
                   "\"EUR\"}, \"amount\": {\"value\": 150000}},\n    "
                   "\"maximum_potential_loss\": {\"value\": \"100.00%\"},\n    "
                   "\"maximum_potential_return_type\": {\"value\": \"IRR\"},\n    "
                   "\"maximum_potential_return\": {\"value\": \"140.00%\"}\n  }"));
    CHECK(contains(json,
                   "\"investment_details\": {\"internal_rate_of_return\": {\"target\": "
                   "{\"value\": \"senior 5.00%, junior 10.00%\"}}}"));
    // city: its own maximum, 100,000, below 0.75 × 150,000; state: 0.25 × 150,000.
    CHECK(contains(json,
                   "{\"organisation_id\": {\"value\": \"city\"}, "
                   "\"maximum_potential_outcome_payment\": {\"currency\": {\"value\": "
                   "\"EUR\"}, \"amount\": {\"value\": 100000}}}"));
    CHECK(contains(json,
                   "{\"organisation_id\": {\"value\": \"state\"}, "
                   "\"maximum_potential_outcome_payment\": {\"currency\": {\"value\": "
                   "\"EUR\"}, \"amount\": {\"value\": 37500}}}"));
    CHECK(contains(json,
                   "{\"outcome_metric_id\": {\"value\": \"jobs\"}, \"currency\": "
                   "{\"value\": \"EUR\"}, \"price_per_unit\": {\"amount\": {\"value\": "
                   "2000}}, \"maximum_price_if_all_targets_achieved\": {\"amount\": "
                   "{\"value\": \"120000\"}}}"));

    // sibsim's figures: the repayment categories against 1/101, 24/101, 1/101, 75/101.
    CHECK(contains(json, "\"sibsim\": {\n    \"trials\": 4000,\n    \"seed\": 3,"));
    const double expected[] = {1.0 / 101, 24.0 / 101, 1.0 / 101, 75.0 / 101};
    const char* names[] = {
        "no repayment (no principal or return)", "some repayment (but below value of principal)",
        "principal repaid (but no net return)", "principal and positive net financial returns"};
    double sum = 0;
    for (int c = 0; c < 4; ++c) {
        const double p = number_after(json, names[c]);
        const double se = std::sqrt(expected[c] * (1 - expected[c]) / 4000);
        INFO(names[c] << ": " << p << ", expected " << expected[c] << " ± " << se);
        CHECK(std::abs(p - expected[c]) < 4 * se);
        sum += p;
    }
    CHECK(sum == doctest::Approx(1).epsilon(1e-12));
    // The two loss categories are the trials with a loss, exactly.
    const auto any_loss = json.find("\"investors.any_loss\": {\"mean\": ");
    REQUIRE(any_loss != std::string::npos);
    CHECK(number_after(json, names[0]) + number_after(json, names[1]) ==
          doctest::Approx(std::stod(json.substr(any_loss + 32))).epsilon(1e-12));
    // The metrics agree with run --format json, and the table's figures are unchanged by it.
    const auto plain = sibsim({"run", file, "--format", "json", "-j", "2"});
    REQUIRE(plain.status == 0);
    for (const std::string metric : {"payments.total", "investors.multiple", "payer.city.paid"}) {
        const auto a = json.find("\"" + metric + "\": {\"mean\": ");
        const auto b = plain.out.find("\"" + metric + "\": {\"mean\": ");
        REQUIRE(a != std::string::npos);
        REQUIRE(b != std::string::npos);
        CHECK(json.substr(a, json.find(',', a) - a) ==
              plain.out.substr(b, plain.out.find(',', b) - b));
    }
}

TEST_CASE("run --format indigo without investors or caps leaves those fields out") {
    sib::test::TempDir dir;
    const std::string file = dir / "plain.yaml";
    sib::test::write_file(file, R"(sibsim: 1
name: plain
horizon: 2
cohorts: [{name: c, size: 10, enrol: [0, 0]}]
outcomes: [{name: job, kind: binary, rate: 0.5, observed_after: 1}]
payments: [{name: jobs, basis: rate_card, outcome: job, price: 100}]
payers: [{name: p, share: 1}]
)");
    const auto r = sibsim({"run", file, "--format", "indigo", "-n", "100"});
    REQUIRE(r.status == 0);
    CHECK(JsonCheck(r.out).valid());
    CHECK(contains(r.out, "\"overall_project_finance\": {},\n"));
    CHECK(contains(r.out,
                   "\"outcome_payment_commitments\": [\n    {\"organisation_id\": "
                   "{\"value\": \"p\"}}\n  ],"));
    CHECK_FALSE(contains(r.out, "investment_details"));
    CHECK_FALSE(contains(r.out, "investor_repayment"));
}
