#pragma once
// CSV output (docs/outputs.md): numbers through std::to_chars, RFC 4180 quoting, files written
// whole or not at all.
#include <atomic>
#include <concepts>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sib/table.hpp"

namespace sib {

/// An output file or directory could not be written; what() names the path and the system error:
/// "cannot write 'out/summary.csv': No space left on device".
class OutputError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// A finite double as CSV text, locale-independent: printf's "%.10g" via std::to_chars
/// (std::chars_format::general, precision 10), so
///  - at most 10 significant digits, rounded to nearest;
///  - fixed notation when the decimal exponent X (of the rounded value) is in [−4, 10),
///    scientific otherwise: 0.0001, 1234567890, 1e-05 → "1e-5", 12345678901 → "1.23456789e+10";
///  - trailing zeros of the fraction and a bare '.' removed (2600, 0.1, 1.5e+300);
///  - the exponent has an explicit sign and no leading zeros ("1e-12", "1e+20", "1e-5");
///  - minus zero is written "0"; no thousands separators, '.' as decimal point.
/// NaN and infinity are programmer errors (asserted).
std::string format_number(double x);

/// True when the whole text is a finite number as from_chars reads it ("-0.5", "+1", "1e-5").
bool looks_like_number(std::string_view text);

/// Text that a spreadsheet would take for a formula, because it starts with '=', '+', '-', '@',
/// a tab or a CR and is not a number, with a single quote put in front ("=2+2" → "'=2+2"), the
/// usual neutralisation; anything else unchanged. Numbers, negative ones included, stay numbers.
std::string neutralise_formula(std::string_view text);

/// The field as RFC 4180 requires: unchanged, or in double quotes with quotes doubled when it
/// contains a comma, a double quote, CR or LF.
std::string quote_field(std::string_view field);

/// A CSV sink with declared columns. The header is written on construction; each row is built
/// with add() and written by end_row(), which asserts that every column was given (programmer
/// error). Lines end with "\n" (not RFC 4180's CRLF: spreadsheets, R and pandas read both, and
/// LF keeps the files diff-friendly); UTF-8 as given, no BOM.
class CsvWriter {
  public:
    CsvWriter(std::ostream& out, std::vector<std::string> columns);

    /// Adds a text field, neutralised when it would start a formula (neutralise_formula) and
    /// quoted when needed. Column names go through here too.
    void add(std::string_view text);
    void add(const char* text) { add(std::string_view(text)); }
    void add(const std::string& text) { add(std::string_view(text)); }
    /// Adds a number through format_number().
    void add(double x);
    /// Adds an integer in full (no 10-digit rounding).
    template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>) void add(T n) {
        if constexpr (std::is_signed_v<T>) {
            add_integer(static_cast<long long>(n));
        } else {
            add_unsigned(static_cast<unsigned long long>(n));
        }
    }
    /// Writes the row; asserts that it has exactly one field per column.
    void end_row();

    const std::vector<std::string>& columns() const { return columns_; }

  private:
    void add_integer(long long n);
    void add_unsigned(unsigned long long n);
    void begin_field();

    std::ostream& out_;
    std::vector<std::string> columns_;
    std::string row_;
    std::size_t fields_ = 0;
};

/// A table (table.hpp) as CSV through a CsvWriter: units are dropped, dates and values are written
/// as given, a blank is an empty field.
class CsvSink final : public TableSink {
  public:
    explicit CsvSink(std::ostream& out) : out_(out) {}
    void header(const std::vector<std::string>& columns) override { csv_.emplace(out_, columns); }
    void text(std::string_view text) override { csv_->add(text); }
    void number(double x, Unit) override { csv_->add(x); }
    void integer(long long n) override { csv_->add(n); }
    void date(const std::string& iso) override { csv_->add(iso); }
    void value(std::string_view text) override { csv_->add(text); }
    void blank() override { csv_->add(""); }
    void end_row() override { csv_->end_row(); }

  private:
    std::ostream& out_;
    std::optional<CsvWriter> csv_;
};

/// Writes `path` whole or not at all: `write` fills a temporary file beside it
/// (".NAME.tmp-XXXXXX" in the same directory, six random characters, created with O_CREAT |
/// O_EXCL | O_NOFOLLOW, so a file or link already at that name is never opened), which is
/// flushed, checked, fsync'ed and renamed over `path`. On an I/O failure the temporary file is
/// removed and OutputError thrown naming `path` and the system error. If `write` itself throws,
/// the temporary file is removed and that exception propagates unchanged. Once `cancel` (may be
/// null) is set, writing stops at the next 64 KiB and OutputError is thrown (ECANCELED).
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write,
                           const std::atomic<bool>* cancel = nullptr);

/// Creates the directory and its parents (nothing to do if it already is a directory); throws
/// OutputError naming the path when it cannot: "cannot create directory 'out/x': Not a directory".
void create_output_directory(const std::filesystem::path& path);

namespace detail {
/// Writes straight into `path` (created or truncated, not atomic), reporting errors as
/// write_file_atomically() does with `name` as the path. Exposed so tests can write to /dev/full.
void write_file_in_place(const std::filesystem::path& path, const std::filesystem::path& name,
                         const std::function<void(std::ostream&)>& write);
}  // namespace detail

}  // namespace sib
