// Tables for a person (docs/outputs.md, "stdout formats"): money with the currency and thousands
// separators, percentages, standard errors to two significant figures, blocks within 120 columns.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "helpers.hpp"
#include "sib/readable.hpp"
#include "sib/reports.hpp"

using namespace sib;

namespace {
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

/// The longest line of `text`, in terminal columns.
std::size_t widest_line(const std::string& text) {
    std::size_t widest = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        widest = std::max(widest, display_width(line));
    return widest;
}
}  // namespace

TEST_CASE("readable: currency symbols for GBP, EUR, USD, AUD, CAD, NZD; any other label as is") {
    CHECK(currency_prefix("GBP") == "£");
    CHECK(currency_prefix("EUR") == "€");
    CHECK(currency_prefix("USD") == "$");
    CHECK(currency_prefix("AUD") == "A$");
    CHECK(currency_prefix("CAD") == "C$");
    CHECK(currency_prefix("NZD") == "NZ$");
    CHECK(currency_prefix("CHF") == "CHF ");
    CHECK(currency_prefix("gbp") == "gbp ");  // a label only: not guessed
}

TEST_CASE("readable: thousands separators, rounding, and no minus sign on a rounded zero") {
    CHECK(with_thousands(4798802.8, 0) == "4,798,803");
    CHECK(with_thousands(-8707826.544, 0) == "-8,707,827");
    CHECK(with_thousands(999.5, 0) == "1,000");
    CHECK(with_thousands(123, 0) == "123");
    CHECK(with_thousands(1234567.891, 2) == "1,234,567.89");
    CHECK(with_thousands(-0.4, 0) == "0");
    CHECK(with_thousands(-0.04, 1) == "0.0");
    CHECK(with_thousands(0, 0) == "0");
    CHECK(with_thousands(1e15, 0) == "1,000,000,000,000,000");
}

TEST_CASE("readable: two significant figures, written out") {
    CHECK(two_significant(37964.88094) == "38,000");
    CHECK(two_significant(3.8449) == "3.8");
    CHECK(two_significant(0.004838095877) == "0.0048");
    CHECK(two_significant(9.96) == "10");          // rounding carries into the next power of ten
    CHECK(two_significant(0.000996) == "0.0010");  // the trailing 0 is significant
    CHECK(two_significant(3.0) == "3.0");
    CHECK(two_significant(150) == "150");
    CHECK(two_significant(0) == "0");
    CHECK(two_significant(-42.7) == "-43");
}

TEST_CASE("readable: each kind of metric, its mean, a trial's value and its standard error") {
    using K = MetricKind;
    // Money: whole units, the currency after the sign.
    CHECK(readable_value(4798802.8, K::money, "GBP") == "£4,798,803");
    CHECK(readable_value(-8707826.544, K::money, "GBP") == "-£8,707,827");
    CHECK(readable_value(0, K::money, "USD") == "$0");
    CHECK(readable_value(-0.3, K::money, "USD") == "$0");
    CHECK(readable_value(1500, K::money, "JPY") == "JPY 1,500");
    CHECK(readable_value(-1500, K::money, "JPY") == "-JPY 1,500");
    CHECK(readable_error(37964.88094, K::money, "EUR") == "€38,000");
    CHECK(readable_error(0.0123456, K::money, "EUR") == "€0.012");
    CHECK(readable_error(0, K::money, "EUR") == "€0");
    // Probabilities: a mean is a percentage; a trial's value is no or yes.
    CHECK(readable_value(0.3737, K::probability, "GBP") == "37.4%");
    CHECK(readable_value(0, K::probability, "GBP") == "0.0%");
    CHECK(readable_value(1, K::probability, "GBP") == "100.0%");
    CHECK(readable_value(0, K::probability, "GBP", true) == "no");
    CHECK(readable_value(1, K::probability, "GBP", true) == "yes");
    CHECK(readable_error(0.004838095877, K::probability, "GBP") == "0.48%");
    // Rates and improvements: percentages with one decimal.
    CHECK(readable_value(-0.2293130133, K::rate, "GBP") == "-22.9%");
    CHECK(readable_value(-1, K::rate, "GBP", true) == "-100.0%");
    CHECK(readable_value(1e6, K::rate, "GBP", true) == "100,000,000.0%");  // the IRR's clamp
    CHECK(readable_value(0.09022115839, K::relative, "GBP") == "9.0%");
    CHECK(readable_error(0.0004877746523, K::relative, "GBP") == "0.049%");
    // Ratios: two decimals. Counts: one decimal, dropped when it is 0.
    CHECK(readable_value(1.090131635, K::ratio, "GBP") == "1.09");
    CHECK(readable_error(0.008819440503, K::ratio, "GBP") == "0.0088");
    CHECK(readable_value(280.0801, K::count, "GBP") == "280.1");
    CHECK(readable_value(36, K::count, "GBP", true) == "36");
    CHECK(readable_value(29.96, K::count, "GBP") == "30");
    CHECK(readable_value(12345.67, K::count, "GBP") == "12,345.7");
    CHECK(readable_error(1.489491385, K::count, "GBP") == "1.5");
    // Not a number (an improvement that was not assessed): n/a, whatever the kind.
    for (auto kind : {K::money, K::probability, K::rate, K::relative, K::ratio, K::count}) {
        CHECK(readable_value(not_a_number, kind, "GBP") == "n/a");
        CHECK(readable_error(not_a_number, kind, "GBP") == "n/a");
    }
}

TEST_CASE("readable: settle's exact amounts show the minor unit only when there is one") {
    CHECK(readable_amount(250000, MinorUnit{100}, "EUR") == "€250,000");
    CHECK(readable_amount(1234.5, MinorUnit{100}, "GBP") == "£1,234.50");
    CHECK(readable_amount(-0.01, MinorUnit{100}, "GBP") == "-£0.01");
    CHECK(readable_amount(1234.5678, MinorUnit{10000}, "USD") == "$1,234.5678");
}

TEST_CASE("readable: control characters in names are shown as '?'") {
    CHECK(printable("a\033[31mred\tx\x7f") == "a?[31mred?x?");
    CHECK(printable("Ministère £") == "Ministère £");
    TextTable table{{"metric\033[2J"}, {0}, {{"p\n"}}};
    std::ostringstream out;
    print_text_table(out, table, 120);
    CHECK(out.str() == "metric?[2J\np?\n");
}

TEST_CASE("readable: terminal columns count characters, not bytes") {
    CHECK(display_width("£4,798,803") == 10);
    CHECK(display_width("Ministère") == 9);
    CHECK(display_width("€") == 1);
    CHECK(display_width("") == 0);
}

TEST_CASE("readable: a wide table is split into blocks of whole groups that repeat the row names") {
    TextTable table;
    table.leading = 1;
    table.group = 2;
    table.header = {"point", "alpha", "se", "beta", "se", "gamma", "se"};
    table.right_aligned = {0, 1, 1, 1, 1, 1, 1};
    table.rows = {{"a", "£1", "£0", "2.0%", "0.1%", "3", "0.5"},
                  {"bb", "£10,000", "£20", "-4.0%", "0.2%", "", ""}};
    std::ostringstream wide, narrow;
    print_text_table(wide, table, 120);
    CHECK(wide.str() ==
          "point    alpha   se   beta    se  gamma   se\n"
          "a           £1   £0   2.0%  0.1%      3  0.5\n"
          "bb     £10,000  £20  -4.0%  0.2%\n");
    // 24 columns: "point" and one group take 20; two groups would take 33.
    print_text_table(narrow, table, 24);
    CHECK(narrow.str() ==
          "point    alpha   se\n"
          "a           £1   £0\n"
          "bb     £10,000  £20\n"
          "\n"
          "point   beta    se\n"
          "a       2.0%  0.1%\n"
          "bb     -4.0%  0.2%\n"
          "\n"
          "point  gamma   se\n"
          "a          3  0.5\n"
          "bb\n");
    CHECK(widest_line(narrow.str()) <= 24);
}

TEST_CASE("readable: the run table of a hand-made result, cell by cell") {
    const Plan plan = compile(test::scenario_of(R"(
sibsim: 1
name: small bond
currency: GBP
period: year
horizon: 5
cohorts: [{name: c, size: 10, enrol: [0, 0]}]
outcomes: [{name: done, kind: binary, rate: 0.5, observed_after: 1}]
payments: [{name: pay, basis: rate_card, outcome: done, price: 50}]
payers: [{name: p, share: 1}]
provider: {costs: {per_period: 100, from: 0, to: 1}}
investors: {capital: 250}
)"));
    RunResult result;
    result.trials = 10000;
    result.seed = 7;
    // Each metric's mean, standard error and p5, p50, p95 (p25, p75 are not shown).
    struct Figures {
        const char* name;
        double mean, se, p5, p50, p95;
    };
    const std::vector<Figures> figures = {
        {"payments.total", 4798802.8, 37964.88094, 0, 5584000, 10486000},
        {"payments.pay", 0.4, 0, 0, 0, 0},
        {"payer.p.paid", 999.5, 0.0123456, 0, 999.5, 999.5},
        {"payer.p.savings", 0, 0, 0, 0, 0},
        {"payer.p.net_cost_pv", -8707826.544, 42339.74997, -15440960, -8692480, -1440000},
        {"investors.drawn", 4342960, 2969.229778, 4000000, 4600000, 4600000},
        {"investors.received", 4541762.8, 35884.67841, 0, 5378000, 9896000},
        {"investors.multiple", 1.090131635, 0.008819440503, 0, 1.224782609, 2.4715},
        {"investors.irr", -0.2293130133, 0.005535112245, -1, 0.05426268335, 0.353743856},
        {"investors.loss", 1569200, 21451.41321, 0, 0, 4600000},
        {"investors.any_loss", 0.3737, 0.004838095877, 0, 0, 1},
        {"provider.costs", 200, 0, 200, 200, 200},
        {"provider.unfunded", 0, 0, 0, 0, 0},
        {"outcome.done.caused", 280.0801, 1.489491385, 36, 280, 521.5},
    };
    REQUIRE(metric_layout(plan).names.size() == figures.size());
    for (const auto& f : figures) {
        MetricSummary m;
        m.name = f.name;
        m.moments.count = result.trials;
        m.moments.mean = f.mean;
        // se = sqrt(m2 / (n − 1)) / sqrt(n)
        const auto n = static_cast<double>(result.trials);
        m.moments.m2 = f.se * f.se * n * (n - 1);
        m.quantiles = {f.p5, 0, f.p50, 0, f.p95};
        result.metrics.push_back(m);
    }
    std::ostringstream out;
    print_table(out, plan, result);
    CHECK(out.str() ==
          "small bond: 10000 trials, seed 7, money in GBP\n"
          "\n"
          "metric                      mean       se            p5          p50          p95\n"
          "payments.total        £4,798,803  £38,000            £0   £5,584,000  £10,486,000\n"
          "payments.pay                  £0       £0            £0           £0           £0\n"
          "payer.p.paid              £1,000   £0.012            £0       £1,000       £1,000\n"
          "payer.p.savings               £0       £0            £0           £0           £0\n"
          "payer.p.net_cost_pv  -£8,707,827  £42,000  -£15,440,960  -£8,692,480  -£1,440,000\n"
          "investors.drawn       £4,342,960   £3,000    £4,000,000   £4,600,000   £4,600,000\n"
          "investors.received    £4,541,763  £36,000            £0   £5,378,000   £9,896,000\n"
          "investors.multiple          1.09   0.0088          0.00         1.22         2.47\n"
          "investors.irr             -22.9%    0.55%       -100.0%         5.4%        35.4%\n"
          "investors.loss        £1,569,200  £21,000            £0           £0   £4,600,000\n"
          "investors.any_loss         37.4%    0.48%            no           no          yes\n"
          "provider.costs              £200       £0          £200         £200         £200\n"
          "provider.unfunded             £0       £0            £0           £0           £0\n"
          "outcome.done.caused        280.1      1.5            36          280        521.5\n");
}

TEST_CASE("readable: extreme values stay finite text") {
    CHECK(two_significant(5e-324) == "0." + std::string(323, '0') + "49");
    CHECK(two_significant(1e308).size() == 309 + 102);  // 309 digits and 102 commas
    CHECK(readable_error(1e-12, MetricKind::money, "GBP") == "£0.0000000000010");
}
