#pragma once
// The tables sibsim writes (docs/outputs.md), declared once and rendered twice: as a CSV file by
// CsvSink (csv.hpp) and as a workbook sheet by write_workbook (xlsx.hpp). A report fills a
// TableSink cell by cell, so the CSV file and the sheet have the same columns, in the same order,
// from the same values.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sib {

/// What a number measures, so that a workbook can show it (CSV carries no formats).
enum class Unit {
    number,    ///< a plain number
    money,     ///< in the scenario's currency
    percent,   ///< a fraction shown as a percentage: probabilities, IRRs, improvements (0.25 = 25%)
    multiple,  ///< a ratio such as received / drawn
    count,     ///< units of an outcome (events or participants), possibly fractional as a mean
};

/// Receives one table: the header, then rows of cells, each row ended by end_row().
class TableSink {
  public:
    virtual ~TableSink() = default;
    /// The column names; called once, before any cell.
    virtual void header(const std::vector<std::string>& columns) = 0;
    /// Text (a name, a key), stored as text whatever it looks like, never as a formula.
    virtual void text(std::string_view text) = 0;
    /// A finite number measured in `unit`.
    virtual void number(double x, Unit unit) = 0;
    /// A whole number written in full: a period, a trial.
    virtual void integer(long long n) = 0;
    /// A period's first day, "YYYY-MM-DD" (a later year in full), or "" when there is no `start`.
    virtual void date(const std::string& iso) = 0;
    /// A value as the user wrote it (a value of --vary): kept as written in CSV; a workbook stores
    /// it as a number when it is one.
    virtual void value(std::string_view text) = 0;
    /// No value: a metric that a scenario lacks.
    virtual void blank() = 0;
    virtual void end_row() = 0;
};

/// One output table: the CSV file NAME.csv and the workbook sheet NAME.
struct Table {
    std::string name;
    std::function<void(TableSink&)> fill;
};

}  // namespace sib
