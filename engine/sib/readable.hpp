#pragma once
// Numbers and tables for a person reading a terminal (docs/outputs.md, "stdout formats"): money in
// whole currency units with thousands separators, probabilities and rates as percentages,
// standard errors to two significant figures. CSV and JSON never go through here: they keep
// every number in full (csv.hpp).
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "sib/exact.hpp"
#include "sib/metrics.hpp"

namespace sib {

/// What goes before an amount of `currency`: "£" for GBP, "€" for EUR, "$" for USD, "A$", "C$"
/// and "NZ$" for AUD, CAD and NZD, otherwise the label and a space ("CHF ", "JPY ").
std::string currency_prefix(const std::string& currency);

/// `x` rounded to `decimals` places (0 to 330) with a comma between thousands: "-1,234,567.9".
/// A value that rounds to zero has no minus sign.
std::string with_thousands(double x, int decimals);

/// `x` to two significant figures, written out in fixed notation with thousands separators
/// ("38,000", "3.8", "0.0038"); 0 is "0".
std::string two_significant(double x);

/// How a table shows one value of a metric of `kind` (a mean, or a quantile when `per_trial`):
///  - money: whole units, thousands separators, the currency ("£4,798,803", "-£8,707,827");
///  - probability: a mean as a percentage with one decimal ("37.4%"); a trial's value, 0 or 1,
///    as "no" or "yes";
///  - rate and relative: a percentage with one decimal ("-22.9%", "9.0%");
///  - ratio: two decimals ("1.09"); count: thousands separators and one decimal, dropped when
///    it is 0 ("280.1", "36").
/// A value that is not a number (an improvement that was not assessed) is "n/a".
std::string readable_value(double x, MetricKind kind, const std::string& currency,
                           bool per_trial = false);

/// An exact amount owed, as `settle` shows it: whole units when it is whole ("€250,000"),
/// otherwise to the minor unit (pennies: "£1,234.50").
std::string readable_amount(double x, MinorUnit minor_unit, const std::string& currency);

/// How a table shows a standard error of a metric of `kind`: two significant figures in the
/// metric's unit ("£38,000", "0.48%", "0.0088"). Not a number: "n/a".
std::string readable_error(double se, MetricKind kind, const std::string& currency);

/// Columns on a terminal: the number of UTF-8 code points ("£" is one column, two bytes).
std::size_t display_width(std::string_view text);

/// `text` safe to print on a terminal: each control character (below U+0020, and DEL) becomes
/// '?', so a name in a scenario cannot move the cursor or recolour the screen.
std::string printable(std::string_view text);

/// A table of text cells for a person. Cells go through printable().
struct TextTable {
    std::vector<std::string> header;
    std::vector<char> right_aligned;  ///< per column: numbers are right-aligned, text is not
    std::vector<std::vector<std::string>> rows;
    /// The first `leading` columns name the row; the rest come in groups of `group` columns that
    /// belong together (a mean and its standard error).
    std::size_t leading = 1;
    std::size_t group = 1;
};

/// Prints `table` as aligned columns, two spaces apart, no trailing spaces. When it is wider than
/// `max_width`, the groups are split over several blocks, one after another with a blank line
/// between, each repeating the leading columns; a block holds as many whole groups as fit (at
/// least one).
void print_text_table(std::ostream& out, const TextTable& table, std::size_t max_width);

/// The width tables for a terminal keep to: sweep and compare split their columns beyond it.
inline constexpr std::size_t table_width = 120;

}  // namespace sib
