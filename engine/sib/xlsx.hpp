#pragma once
// .xlsx workbooks (docs/outputs.md, "The workbook"): a command's tables (table.hpp), one sheet
// each, written with libxlsxwriter. Only xlsx.cpp sees libxlsxwriter.
#include <atomic>
#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "sib/plan.hpp"
#include "sib/table.hpp"

namespace sib {

/// Excel's limits: rows of a sheet (the header included), columns of a sheet, characters of
/// one cell's text.
inline constexpr long long xlsx_max_rows = 1048576;
inline constexpr long long xlsx_max_columns = 16384;
inline constexpr std::size_t xlsx_max_text = 32767;

/// How a workbook presents itself and its money.
struct WorkbookStyle {
    std::string title;       ///< document title: the scenario's name
    std::string currency;    ///< the scenario's label: £, $, €, A$ for GBP, USD, EUR, AUD
    int money_decimals = 2;  ///< digits after the point: those of the minor unit
    bool large = false;      ///< may pass 4 GiB (a trials sheet): written with ZIP64
};

/// The style of `plan`'s money (currency, minor unit) and its name as title.
WorkbookStyle workbook_style(const Plan& plan);

/// The Excel number format of money in `style`: "£"#,##0.00, or #,##0" CHF" for a label with
/// no symbol here.
std::string money_format(const WorkbookStyle& style);

/// Writes the tables as one .xlsx workbook to `out`, a sheet per table in order, named by it:
/// a bold header row, frozen with the first column; numbers as numeric cells (16 significant
/// digits, libxlsxwriter's precision) formatted by unit (money in the currency, percentages,
/// multiples, counts); dates as date cells; text always as text, never a formula; columns as wide
/// as their longest entry (at most 100 characters). The workbook is assembled in a private
/// temporary directory (under TMPDIR) that is removed afterwards. Nothing in it varies between
/// identical runs (its creation date is fixed at 1980-01-01). Throws OutputError when a sheet
/// exceeds Excel's limits (a text longer than xlsx_max_text, more rows or columns than above),
/// when libxlsxwriter fails, or once `cancel` (may be null) is set.
void write_workbook(std::ostream& out, const std::vector<Table>& tables, const WorkbookStyle& style,
                    const std::atomic<bool>* cancel = nullptr);

}  // namespace sib
