#include "sib/readable.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <system_error>
#include <utility>

namespace sib {

namespace {

/// Inserts a comma every three digits of the whole part of plain fixed-notation text.
std::string group_digits(std::string_view fixed) {
    const bool negative = !fixed.empty() && fixed.front() == '-';
    if (negative) fixed.remove_prefix(1);
    const auto point = std::min(fixed.find('.'), fixed.size());
    std::string out = negative ? "-" : "";
    for (std::size_t i = 0; i < point; ++i) {
        if (i > 0 && (point - i) % 3 == 0) out += ',';
        out += fixed[i];
    }
    out.append(fixed.substr(point));
    return out;
}

/// `x` in fixed notation with `decimals` places, locale-independent.
std::string fixed_text(double x, int decimals) {
    std::array<char, 400> buf{};  // up to 309 digits of a double's whole part, and the decimals
    const auto [end, error] =
        std::to_chars(buf.data(), buf.data() + buf.size(), x, std::chars_format::fixed, decimals);
    if (error != std::errc()) std::abort();  // cannot happen: the buffer holds any double
    std::string text(buf.data(), end);
    // A value that rounds to zero is shown without a sign: "-0.0" would say less than nothing.
    if (text.front() == '-' && text.find_first_not_of("-0.") == std::string::npos) text.erase(0, 1);
    return text;
}

/// A signed amount with a prefix after the sign: "-£8,707,827".
std::string signed_with_prefix(std::string number, const std::string& prefix) {
    if (!number.empty() && number.front() == '-') return "-" + prefix + number.substr(1);
    return prefix + number;
}

std::string percent(double x, int decimals) {
    return with_thousands(100 * x, decimals) + "%";
}

}  // namespace

std::string currency_prefix(const std::string& currency) {
    static const std::array<std::pair<const char*, const char*>, 6> symbols = {{
        {"GBP", "£"},
        {"EUR", "€"},
        {"USD", "$"},
        {"AUD", "A$"},
        {"CAD", "C$"},
        {"NZD", "NZ$"},
    }};
    for (const auto& [code, symbol] : symbols)
        if (currency == code) return symbol;
    return currency.empty() ? std::string() : currency + " ";
}

std::string with_thousands(double x, int decimals) {
    return group_digits(fixed_text(x, decimals));
}

std::string two_significant(double x) {
    if (x == 0) return "0";
    // Scientific with one decimal rounds to two significant figures once, with the exponent
    // of the rounded value (9.96 gives "1.0e+01").
    std::array<char, 32> buf{};
    const auto [end, error] =
        std::to_chars(buf.data(), buf.data() + buf.size(), x, std::chars_format::scientific, 1);
    if (error != std::errc()) std::abort();  // cannot happen: 32 characters hold any double
    const std::string_view text(buf.data(), static_cast<std::size_t>(end - buf.data()));
    const auto e = text.find('e');
    int exponent = 0;
    const auto exponent_text = text.substr(e + 1);
    std::from_chars(exponent_text.data() + (exponent_text.front() == '+' ? 1 : 0),
                    exponent_text.data() + exponent_text.size(), exponent);
    const double rounded = std::strtod(std::string(text).c_str(), nullptr);
    return with_thousands(rounded, std::max(0, 1 - exponent));
}

std::string readable_value(double x, MetricKind kind, const std::string& currency, bool per_trial) {
    if (!std::isfinite(x)) return "n/a";
    switch (kind) {
        case MetricKind::money:
            return signed_with_prefix(with_thousands(x, 0), currency_prefix(currency));
        case MetricKind::probability:
            if (per_trial) return x > 0 ? "yes" : "no";
            return percent(x, 1);
        case MetricKind::rate:
        case MetricKind::relative:
            return percent(x, 1);
        case MetricKind::ratio:
            return with_thousands(x, 2);
        case MetricKind::count: {
            // One decimal, dropped when it is 0: "280.1", "36".
            std::string text = with_thousands(x, 1);
            if (text.ends_with(".0")) text.resize(text.size() - 2);
            return text;
        }
    }
    return "n/a";
}

std::string readable_amount(double x, MinorUnit minor_unit, const std::string& currency) {
    if (!std::isfinite(x)) return "n/a";
    // A minor unit is a power of ten from 0.0001 to 1 (docs/scenario-format.md).
    const int decimals =
        std::clamp(static_cast<int>(std::lround(std::log10(minor_unit.per_currency))), 0, 4);
    return signed_with_prefix(with_thousands(x, x == std::round(x) ? 0 : decimals),
                              currency_prefix(currency));
}

std::string readable_error(double se, MetricKind kind, const std::string& currency) {
    if (!std::isfinite(se)) return "n/a";
    switch (kind) {
        case MetricKind::money:
            return signed_with_prefix(two_significant(se), currency_prefix(currency));
        case MetricKind::probability:
        case MetricKind::rate:
        case MetricKind::relative:
            return two_significant(100 * se) + "%";
        case MetricKind::ratio:
        case MetricKind::count:
            return two_significant(se);
    }
    return "n/a";
}

std::size_t display_width(std::string_view text) {
    // Every byte that does not continue a UTF-8 sequence starts a code point.
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

std::string printable(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return out;
}

void print_text_table(std::ostream& out, const TextTable& source, std::size_t max_width) {
    TextTable table = source;
    for (auto& cell : table.header) cell = printable(cell);
    for (auto& row : table.rows)
        for (auto& cell : row) cell = printable(cell);
    const std::size_t columns = table.header.size();
    std::vector<std::size_t> widths(columns, 0);
    for (std::size_t c = 0; c < columns; ++c) {
        widths[c] = display_width(table.header[c]);
        for (const auto& row : table.rows) widths[c] = std::max(widths[c], display_width(row[c]));
    }
    const std::size_t leading = std::min(table.leading, columns);
    const std::size_t group = std::max<std::size_t>(table.group, 1);
    auto span_width = [&](std::size_t first, std::size_t last) {
        std::size_t w = 0;
        for (std::size_t c = first; c < last; ++c) w += widths[c] + (c ? 2 : 0);
        return w;
    };
    const std::size_t leading_width = span_width(0, leading);

    // Blocks of whole groups: [first, last) column ranges after the leading columns.
    std::vector<std::pair<std::size_t, std::size_t>> blocks;
    for (std::size_t first = leading; first < columns;) {
        std::size_t last = std::min(first + group, columns);
        while (last < columns &&
               leading_width + span_width(first, std::min(last + group, columns)) <= max_width)
            last = std::min(last + group, columns);
        blocks.emplace_back(first, last);
        first = last;
    }
    if (blocks.empty()) blocks.emplace_back(columns, columns);

    auto print_row = [&](const std::vector<std::string>& cells, std::size_t first,
                         std::size_t last) {
        std::vector<std::size_t> shown;
        for (std::size_t c = 0; c < leading; ++c) shown.push_back(c);
        for (std::size_t c = first; c < last; ++c) shown.push_back(c);
        std::string line;
        for (std::size_t i = 0; i < shown.size(); ++i) {
            const std::size_t c = shown[i];
            const std::string pad(widths[c] - display_width(cells[c]), ' ');
            if (i) line += "  ";
            if (table.right_aligned[c]) {
                line += pad + cells[c];
            } else {
                line += cells[c];
                if (i + 1 < shown.size()) line += pad;
            }
        }
        // Blank cells at the end (a metric a point lacks) leave no trailing spaces.
        line.erase(line.find_last_not_of(' ') + 1);
        out << line << '\n';
    };
    for (std::size_t b = 0; b < blocks.size(); ++b) {
        if (b) out << '\n';
        print_row(table.header, blocks[b].first, blocks[b].second);
        for (const auto& row : table.rows) print_row(row, blocks[b].first, blocks[b].second);
    }
}

}  // namespace sib
