#include "sib/xlsx.hpp"

#include <stdlib.h>  // mkdtemp

#include <xlsxwriter.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "sib/csv.hpp"
#include "sib/diagnostics.hpp"

namespace sib {

namespace {

namespace fs = std::filesystem;

/// Widest column, in characters: a long name or path should not push the rest off the screen.
constexpr std::size_t max_column_width = 100;

/// 1980-01-01T00:00:00Z, the date the zip entries carry too: a fixed creation date, so that
/// identical runs give identical workbooks.
constexpr time_t fixed_creation_time = 315532800;

[[noreturn]] void fail(const std::string& message) {
    throw OutputError(message);
}

void check(lxw_error error) {
    if (error != LXW_NO_ERROR) fail(lxw_strerror(error));
}

/// Characters of UTF-8 text (code points; continuation bytes not counted).
std::size_t characters(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

/// Digits of |x| rounded to `decimals` places, before the point.
std::size_t integer_digits(double x, int decimals) {
    std::array<char, 400> text{};
    const int n = std::snprintf(text.data(), text.size(), "%.*f", decimals, std::fabs(x));
    const std::string_view shown(text.data(), static_cast<std::size_t>(std::max(n, 0)));
    return std::min(shown.find('.'), shown.size());
}

/// "YYYY-MM-DD" as a date Excel can hold: 1900-03-01 (before it Excel's 1900 leap-year bug
/// shifts serial numbers) to 9999-12-31.
std::optional<lxw_datetime> excel_date(const std::string& iso) {
    if (iso.size() != 10 || iso[4] != '-' || iso[7] != '-') return std::nullopt;
    auto field = [&](std::size_t at, std::size_t length) {
        int value = -1;
        std::from_chars(iso.data() + at, iso.data() + at + length, value);
        return value;
    };
    const int year = field(0, 4), month = field(5, 2), day = field(8, 2);
    if (year < 1900 || (year == 1900 && month < 3) || month < 1 || month > 12 || day < 1)
        return std::nullopt;
    return lxw_datetime{year, month, day, 0, 0, 0.0};
}

/// The formats of one workbook, made once and shared by its sheets.
struct Formats {
    lxw_format* header = nullptr;
    lxw_format* money = nullptr;
    lxw_format* percent = nullptr;
    lxw_format* multiple = nullptr;
    lxw_format* count = nullptr;
    lxw_format* date = nullptr;
    std::size_t money_symbol = 0;  ///< characters the money format adds to the digits
    int money_decimals = 2;

    lxw_format* of(Unit unit) const {
        switch (unit) {
            case Unit::money:
                return money;
            case Unit::percent:
                return percent;
            case Unit::multiple:
                return multiple;
            case Unit::count:
                return count;
            case Unit::number:
                return nullptr;  // General
        }
        return nullptr;
    }

    /// Characters the number takes as Excel shows it in `unit`'s format.
    std::size_t width(double x, Unit unit) const {
        const std::size_t sign = x < 0 ? 1 : 0;
        auto grouped = [](std::size_t digits) { return digits + (digits - 1) / 3; };
        switch (unit) {
            case Unit::money:
                return sign + money_symbol + grouped(integer_digits(x, money_decimals)) +
                       (money_decimals > 0 ? 1 + static_cast<std::size_t>(money_decimals) : 0);
            case Unit::percent:
                return sign + integer_digits(x * 100, 2) + 4;  // 12.34%
            case Unit::multiple:
                return sign + integer_digits(x, 3) + 4;  // 1.234
            case Unit::count:
                return sign + grouped(integer_digits(x, 1)) + 2;  // 1,234.5
            case Unit::number:
                return std::min<std::size_t>(format_number(x).size(), 11);
        }
        return 11;
    }
};

/// One sheet being filled row by row (constant-memory mode: each row goes to disk when the next
/// begins). Widths are measured as cells are written and set at the end.
class SheetSink final : public TableSink {
  public:
    SheetSink(lxw_worksheet* sheet, const Formats& formats, const std::string& name,
              const std::atomic<bool>* cancel)
        : sheet_(sheet), formats_(formats), name_(name), cancel_(cancel) {}

    void header(const std::vector<std::string>& columns) override {
        if (static_cast<long long>(columns.size()) > xlsx_max_columns)
            fail("sheet '" + name_ + "' would have " + std::to_string(columns.size()) +
                 " columns, more than Excel's " + std::to_string(xlsx_max_columns));
        widths_.assign(columns.size(), 0);
        for (const auto& column : columns) write_text(column, formats_.header);
        end_row();
    }

    void text(std::string_view text) override { write_text(text, nullptr); }

    void number(double x, Unit unit) override {
        SIB_ASSERT(std::isfinite(x));
        const auto [row, column] = next_cell();
        check(worksheet_write_number(sheet_, row, column, x, formats_.of(unit)));
        fit(column, formats_.width(x, unit));
    }

    void integer(long long n) override {
        const auto [row, column] = next_cell();
        check(worksheet_write_number(sheet_, row, column, static_cast<double>(n), nullptr));
        fit(column, std::to_string(n).size());
    }

    void date(const std::string& iso) override {
        const auto date = excel_date(iso);
        if (!date) return write_text(iso, nullptr);  // "" (no start), or beyond Excel's dates
        const auto [row, column] = next_cell();
        lxw_datetime when = *date;
        check(worksheet_write_datetime(sheet_, row, column, &when, formats_.date));
        fit(column, iso.size());
    }

    void value(std::string_view text) override {
        if (!looks_like_number(text)) return write_text(text, nullptr);
        if (text.front() == '+') text.remove_prefix(1);
        double x = 0;
        std::from_chars(text.data(), text.data() + text.size(), x);
        number(x, Unit::number);
    }

    void blank() override { next_cell(); }

    void end_row() override {
        ++row_;
        column_ = 0;
        // A stop request ends a long sheet (trials) within 1024 rows.
        if (cancel_ != nullptr && row_ % 1024 == 0 && cancel_->load())
            throw OutputError("interrupted");
    }

    /// Column widths and the frozen header row and first column.
    void finish() {
        for (std::size_t c = 0; c < widths_.size(); ++c) {
            const double width = static_cast<double>(std::min(std::max<std::size_t>(widths_[c], 6),
                                                              max_column_width)) +
                                 2;
            check(worksheet_set_column(sheet_, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c),
                                       width, nullptr));
        }
        worksheet_freeze_panes(sheet_, 1, 1);
    }

  private:
    struct Cell {
        lxw_row_t row;
        lxw_col_t column;
    };

    Cell next_cell() {
        SIB_ASSERT(column_ < widths_.size());  // a row with more cells than the header
        if (row_ >= xlsx_max_rows)
            fail("sheet '" + name_ + "' would have more than " + std::to_string(xlsx_max_rows) +
                 " rows, Excel's limit");
        return {static_cast<lxw_row_t>(row_), static_cast<lxw_col_t>(column_++)};
    }

    void fit(lxw_col_t column, std::size_t width) {
        widths_[column] = std::max(widths_[column], width);
    }

    void write_text(std::string_view text, lxw_format* format) {
        const auto [row, column] = next_cell();
        if (text.empty()) return;  // an empty CSV field: no cell
        const std::size_t length = characters(text);
        if (length > xlsx_max_text)
            fail("a text of " + std::to_string(length) + " characters in sheet '" + name_ +
                 "' is longer than Excel's " + std::to_string(xlsx_max_text) + " per cell");
        // A string cell: Excel shows "=1+1" as written and never evaluates it.
        check(worksheet_write_string(sheet_, row, column, std::string(text).c_str(), format));
        fit(column, length);
    }

    lxw_worksheet* sheet_;
    const Formats& formats_;
    std::string name_;
    const std::atomic<bool>* cancel_;
    long long row_ = 0;
    std::size_t column_ = 0;
    std::vector<std::size_t> widths_;
};

/// A private directory for libxlsxwriter's files, removed with them.
class ScratchDirectory {
  public:
    ScratchDirectory() {
        std::string pattern = (fs::temp_directory_path() / "sibsim-xlsx-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr)
            fail("cannot create a temporary directory in '" + fs::temp_directory_path().string() +
                 "': " + std::system_category().message(errno));
        path_ = pattern;
    }
    ~ScratchDirectory() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    ScratchDirectory(const ScratchDirectory&) = delete;
    ScratchDirectory& operator=(const ScratchDirectory&) = delete;
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

/// Frees a workbook that was not closed (an exception while filling it).
struct WorkbookGuard {
    lxw_workbook* workbook;
    ~WorkbookGuard() {
        if (workbook != nullptr) lxw_workbook_free(workbook);
    }
};

}  // namespace

WorkbookStyle workbook_style(const Plan& plan) {
    WorkbookStyle style;
    style.title = plan.name;
    style.currency = plan.currency;
    // per_currency is a power of ten: 100 for pennies and cents, 1 with no minor unit.
    style.money_decimals =
        std::clamp(static_cast<int>(std::lround(std::log10(plan.minor_unit.per_currency))), 0, 9);
    return style;
}

std::string money_format(const WorkbookStyle& style) {
    // Built with append, not '+': GCC 12 -Wrestrict false positive.
    std::string digits = "#,##0";
    if (style.money_decimals > 0) {
        digits.push_back('.');
        digits.append(static_cast<std::size_t>(style.money_decimals), '0');
    }
    static const std::array<std::pair<std::string_view, std::string_view>, 4> symbols = {
        {{"GBP", "£"}, {"USD", "$"}, {"EUR", "€"}, {"AUD", "A$"}}};
    std::string format;
    for (const auto& [code, symbol] : symbols)
        if (style.currency == code) {
            format.push_back('"');
            format.append(symbol);
            format.push_back('"');
            format.append(digits);
            return format;
        }
    // Any other label after the number, in quotes (which it cannot itself contain).
    format.append(digits);
    format.append("\" ");
    for (char c : style.currency)
        if (c != '"' && c != '\\') format.push_back(c);
    format.push_back('"');
    return format;
}

void write_workbook(std::ostream& out, const std::vector<Table>& tables, const WorkbookStyle& style,
                    const std::atomic<bool>* cancel) {
    const ScratchDirectory scratch;
    const std::string file = (scratch.path() / "workbook.xlsx").string();
    std::string tmpdir = scratch.path().string();
    lxw_workbook_options options{};
    options.constant_memory = LXW_TRUE;  // rows go to disk as they are written: flat memory
    options.tmpdir = tmpdir.data();
    options.use_zip64 = style.large ? LXW_TRUE : LXW_FALSE;
    WorkbookGuard guard{workbook_new_opt(file.c_str(), &options)};
    if (guard.workbook == nullptr) fail("libxlsxwriter could not create a workbook");
    lxw_workbook* workbook = guard.workbook;

    std::string title = style.title;
    lxw_doc_properties properties{};
    properties.title = title.data();
    properties.created = fixed_creation_time;
    check(workbook_set_properties(workbook, &properties));

    Formats formats;
    formats.header = workbook_add_format(workbook);
    format_set_bold(formats.header);
    const std::string money = money_format(style);
    formats.money = workbook_add_format(workbook);
    format_set_num_format(formats.money, money.c_str());
    formats.money_symbol =
        characters(money) - characters("#,##0") -
        (style.money_decimals > 0 ? 1 + static_cast<std::size_t>(style.money_decimals) : 0) -
        2;  // the two quotes
    formats.money_decimals = style.money_decimals;
    formats.percent = workbook_add_format(workbook);
    format_set_num_format(formats.percent, "0.00%");
    formats.multiple = workbook_add_format(workbook);
    format_set_num_format(formats.multiple, "0.000");
    formats.count = workbook_add_format(workbook);
    format_set_num_format(formats.count, "#,##0.0");
    formats.date = workbook_add_format(workbook);
    format_set_num_format(formats.date, "yyyy-mm-dd");

    for (const auto& table : tables) {
        lxw_worksheet* sheet = workbook_add_worksheet(workbook, table.name.c_str());
        SIB_ASSERT(sheet != nullptr);  // our own names: short, unique, no forbidden characters
        SheetSink sink(sheet, formats, table.name, cancel);
        table.fill(sink);
        sink.finish();
    }
    guard.workbook = nullptr;  // workbook_close frees it, whatever it returns
    check(workbook_close(workbook));

    std::ifstream in(file, std::ios::binary);
    if (!in) fail("cannot read back '" + file + "'");
    std::array<char, 1 << 16> buffer{};
    while (in) {
        in.read(buffer.data(), buffer.size());
        out.write(buffer.data(), in.gcount());
    }
    if (in.bad()) fail("cannot read back '" + file + "'");
}

}  // namespace sib
