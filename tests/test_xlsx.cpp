// The --xlsx workbook: read back (xlsx_reader.hpp) and compared cell by cell with the CSV files
// of the same run; formats, frozen headers, widths; names kept as text; usage errors.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <sstream>

#include "cli_helpers.hpp"
#include "sib/csv.hpp"
#include "sib/xlsx.hpp"
#include "xlsx_reader.hpp"

namespace {

using namespace sib::test;

/// Excel's date serial number (1900 system, from 1900-03-01) as "YYYY-MM-DD".
std::string iso_of_serial(double serial) {
    // Days since 1970-01-01, then the civil date (H. Hinnant's civil_from_days).
    long long z = static_cast<long long>(serial) - 25569 + 719468;
    const long long era = (z >= 0 ? z : z - 146096) / 146097;
    const long long doe = z - era * 146097;
    const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const long long mp = (5 * doy + 2) / 153;
    const long long day = doy - (153 * mp + 2) / 5 + 1;
    const long long month = mp < 10 ? mp + 3 : mp - 9;
    const long long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    char text[64];
    std::snprintf(text, sizeof text, "%04lld-%02lld-%02lld", year, month, day);
    return text;
}

/// Half a unit in the tenth significant digit of the CSV's value: the CSV's rounding.
double csv_rounding(double csv) {
    if (csv == 0) return 0;
    return 0.5 * std::pow(10.0, std::floor(std::log10(std::fabs(csv))) - 9) * (1 + 1e-9);
}

/// Every cell of `sheet` against the CSV file: same rows and columns; a blank where the field is
/// empty; a number within the CSV's rounding (a numeric cell, when `typed`); a date cell on the
/// same day; text equal to the CSV's once the CSV's formula neutralisation is applied.
void check_sheet_matches_csv(const XlsxSheet& sheet, const Table& csv, bool typed) {
    INFO("sheet " << sheet.name);
    REQUIRE(sheet.rows.size() == csv.size());
    for (std::size_t r = 0; r < csv.size(); ++r) {
        CHECK(sheet.rows[r].size() <= csv[r].size());
        for (std::size_t c = 0; c < csv[r].size(); ++c) {
            const std::string& field = csv[r][c];
            const XlsxCell& cell = sheet.at(r, c);
            INFO("row " << r << ", column " << c << ", CSV '" << field << "'");
            if (field.empty()) {
                CHECK(cell.kind == XlsxCell::Kind::blank);
            } else if (cell.kind == XlsxCell::Kind::number && cell.format == "yyyy-mm-dd") {
                CHECK(iso_of_serial(cell.number) == field);
            } else if (cell.kind == XlsxCell::Kind::number) {
                const double expected = number(field);
                CHECK(std::fabs(cell.number - expected) <= csv_rounding(expected));
            } else {
                REQUIRE(cell.kind == XlsxCell::Kind::text);
                CHECK(sib::neutralise_formula(cell.text) == field);
                if (typed && r > 0) CHECK_FALSE(sib::looks_like_number(field));
            }
        }
    }
}

/// The common shape of every sheet: a frozen header row (and first column), bold header text.
void check_layout(const XlsxSheet& sheet) {
    INFO("sheet " << sheet.name);
    CHECK(sheet.frozen_rows == 1);
    CHECK(sheet.frozen_columns == 1);
    CHECK_FALSE(sheet.has_formula);
    REQUIRE(!sheet.rows.empty());
    for (const auto& cell : sheet.rows[0]) CHECK(cell.kind == XlsxCell::Kind::text);
    // Every column as wide as its header text at least.
    for (std::size_t c = 0; c < sheet.rows[0].size(); ++c) {
        REQUIRE(sheet.widths.count(static_cast<int>(c)) == 1);
        CHECK(sheet.widths.at(static_cast<int>(c)) >=
              static_cast<double>(std::min<std::size_t>(sheet.rows[0][c].text.size(), 100)));
    }
}

std::vector<std::string> names_of(const std::vector<XlsxSheet>& sheets) {
    std::vector<std::string> names;
    for (const auto& s : sheets) names.push_back(s.name);
    return names;
}

const XlsxSheet& sheet_named(const std::vector<XlsxSheet>& sheets, const std::string& name) {
    for (const auto& s : sheets)
        if (s.name == name) return s;
    FAIL("no sheet '" << name << "'");
    return sheets.front();
}

/// The row of the sheet whose first cell is `key`.
const std::vector<XlsxCell>& sheet_row(const XlsxSheet& sheet, const std::string& key) {
    for (const auto& row : sheet.rows)
        if (!row.empty() && row[0].text == key) return row;
    FAIL("no row '" << key << "' in sheet " << sheet.name);
    return sheet.rows.front();
}

}  // namespace

TEST_CASE(
    "run --xlsx: every sheet matches its CSV file and money, percentages and counts are "
    "formatted") {
    TempDir dir;
    const Cli r = sibsim({"run", peterborough, "-n", "2000", "-j", "2", "--per-trial", "-o",
                          dir / "out", "--xlsx", dir / "book.xlsx", "--quiet"});
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const auto sheets = read_xlsx(dir / "book.xlsx");
    CHECK(names_of(sheets) == std::vector<std::string>{"summary", "cashflows", "trials", "run"});
    for (const auto& sheet : sheets) {
        check_layout(sheet);
        check_sheet_matches_csv(sheet, read_csv(fs::path(dir / "out") / (sheet.name + ".csv")),
                                sheet.name != "run");
    }

    const XlsxSheet& summary = sheet_named(sheets, "summary");
    const std::string money = "\"£\"#,##0.00";
    for (std::size_t c = 1; c < 11; ++c) {
        CHECK(sheet_row(summary, "payments.total")[c].format == money);
        CHECK(sheet_row(summary, "payer.Ministry of Justice.net_cost_pv")[c].format == money);
        CHECK(sheet_row(summary, "investors.irr")[c].format == "0.00%");
        CHECK(sheet_row(summary, "investors.any_loss")[c].format == "0.00%");
        CHECK(sheet_row(summary, "rule.final-pooled.met")[c].format == "0.00%");
        CHECK(sheet_row(summary, "outcome.reconviction.improvement")[c].format == "0.00%");
        CHECK(sheet_row(summary, "investors.multiple")[c].format == "0.000");
        CHECK(sheet_row(summary, "outcome.reconviction.caused")[c].format == "#,##0.0");
    }
    CHECK(sheet_row(summary, "metric")[0].format == "General");
    // The metric column fits the longest name.
    std::size_t longest = 0;
    for (const auto& row : summary.rows) longest = std::max(longest, row[0].text.size());
    CHECK(summary.widths.at(0) >= static_cast<double>(longest));

    const XlsxSheet& cashflows = sheet_named(sheets, "cashflows");
    CHECK(cashflows.at(1, 1).format == "yyyy-mm-dd");  // a date cell
    CHECK(cashflows.at(1, 0).kind == XlsxCell::Kind::number);
    for (std::size_t c = 2; c < cashflows.rows[1].size(); ++c)
        CHECK(cashflows.at(1, c).format == money);

    // Provenance as text: the seed keeps every digit whatever its size.
    const XlsxSheet& run = sheet_named(sheets, "run");
    CHECK(sheet_row(run, "seed")[1].kind == XlsxCell::Kind::text);
    CHECK(sheet_row(run, "seed")[1].text == "1");
}

TEST_CASE(
    "run --xlsx without -o writes the workbook alone and identical runs give identical bytes") {
    TempDir dir;
    for (const char* name : {"a.xlsx", "b.xlsx"}) {
        const Cli r =
            sibsim({"run", augsburg, "-n", "500", "-j", "2", "--xlsx", dir / name, "--quiet"});
        REQUIRE_MESSAGE(r.status == 0, r.err);
    }
    CHECK(entries_of(dir.path()) == std::vector<std::string>{"a.xlsx", "b.xlsx"});
    CHECK(read_file(dir / "a.xlsx") == read_file(dir / "b.xlsx"));
    const auto sheets = read_xlsx(dir / "a.xlsx");
    CHECK(names_of(sheets) == std::vector<std::string>{"summary", "cashflows", "run"});
    // Augsburg pays in euros.
    CHECK(sheet_row(sheet_named(sheets, "summary"), "payments.total")[1].format == "\"€\"#,##0.00");
}

TEST_CASE("compare, sweep and settle --xlsx: their sheets match their CSV files") {
    TempDir dir;
    SUBCASE("compare") {
        const Cli r = sibsim(
            {"compare", peterborough,
             std::string(SIBSIM_SOURCE_DIR) + "/docs/examples/peterborough-pooled-only.yaml", "-n",
             "1000", "-j", "2", "-o", dir / "out", "--xlsx", dir / "c.xlsx", "--quiet"});
        REQUIRE_MESSAGE(r.status == 0, r.err);
        const auto sheets = read_xlsx(dir / "c.xlsx");
        CHECK(names_of(sheets) == std::vector<std::string>{"compare", "run"});
        for (const auto& sheet : sheets) {
            check_layout(sheet);
            check_sheet_matches_csv(sheet, read_csv(fs::path(dir / "out") / (sheet.name + ".csv")),
                                    sheet.name != "run");
        }
        const auto& irr = sheet_row(sheet_named(sheets, "compare"), "investors.irr");
        for (std::size_t c = 1; c < irr.size(); ++c) CHECK(irr[c].format == "0.00%");
    }
    SUBCASE("sweep") {
        const Cli r =
            sibsim({"sweep", peterborough, "--vary", "payments.cohort-trigger.threshold=0.05,0.15",
                    "--metrics", "payments.total,investors.irr", "-n", "500", "-j", "2", "-o",
                    dir / "out", "--xlsx", dir / "s.xlsx", "--quiet"});
        REQUIRE_MESSAGE(r.status == 0, r.err);
        const auto sheets = read_xlsx(dir / "s.xlsx");
        CHECK(names_of(sheets) == std::vector<std::string>{"sweep", "run"});
        for (const auto& sheet : sheets) {
            check_layout(sheet);
            check_sheet_matches_csv(sheet, read_csv(fs::path(dir / "out") / (sheet.name + ".csv")),
                                    sheet.name != "run");
        }
        const XlsxSheet& sweep = sheet_named(sheets, "sweep");
        // The varied value is a number; each metric in its unit.
        CHECK(sweep.at(2, 0).kind == XlsxCell::Kind::number);
        CHECK(sweep.at(2, 0).number == 0.15);
        CHECK(sweep.at(1, 1).format == "\"£\"#,##0.00");
        CHECK(sweep.at(1, 3).format == "0.00%");
    }
    SUBCASE("settle") {
        const Cli r = sibsim({"settle", augsburg, "--observed", observed_path("augsburg-20.yaml"),
                              "-o", dir / "out", "--xlsx", dir / "p.xlsx", "--quiet"});
        REQUIRE_MESSAGE(r.status == 0, r.err);
        const auto sheets = read_xlsx(dir / "p.xlsx");
        CHECK(names_of(sheets) == std::vector<std::string>{"payments", "cashflows", "run"});
        for (const auto& sheet : sheets) {
            check_layout(sheet);
            check_sheet_matches_csv(sheet, read_csv(fs::path(dir / "out") / (sheet.name + ".csv")),
                                    sheet.name != "run");
        }
        const XlsxSheet& payments = sheet_named(sheets, "payments");
        REQUIRE(payments.rows.size() >= 2);
        CHECK(payments.at(1, 4).kind == XlsxCell::Kind::number);
        CHECK(payments.at(1, 4).format == "\"€\"#,##0.00");
    }
}

TEST_CASE("--xlsx: names that look like formulas are text cells, never formulas") {
    TempDir dir;
    std::string text = read_file(peterborough);
    text = replace_once(text, "name: Ministry of Justice", "name: \"=1+1\"");
    text = replace_once(text, "name: Big Lottery Fund", "name: \"@SUM(A1)\"");
    write_file(dir / "formulas.yaml", text);
    const Cli r = sibsim({"settle", dir / "formulas.yaml", "--observed",
                          observed_path("peterborough-cohort-1.yaml"), "--partial", "-o",
                          dir / "out", "--xlsx", dir / "f.xlsx", "--quiet"});
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const auto sheets = read_xlsx(dir / "f.xlsx");
    const XlsxSheet& payments = sheet_named(sheets, "payments");
    CHECK_FALSE(payments.has_formula);
    CHECK(payments.at(0, 5).kind == XlsxCell::Kind::text);
    CHECK(payments.at(0, 5).text == "=1+1");
    CHECK(payments.at(0, 6).text == "@SUM(A1)");
    const XlsxSheet& cashflows = sheet_named(sheets, "cashflows");
    CHECK(cashflows.at(0, 2).text == "=1+1");
    CHECK(cashflows.at(0, 3).text == "@SUM(A1)");
    // The CSV neutralises them for spreadsheets that would evaluate them; the workbook need not.
    const Table csv = read_csv(fs::path(dir / "out") / "payments.csv");
    CHECK(csv[0][5] == "'=1+1");
    for (const auto& sheet : sheets) {
        CHECK_FALSE(sheet.has_formula);
        check_sheet_matches_csv(sheet, read_csv(fs::path(dir / "out") / (sheet.name + ".csv")),
                                sheet.name != "run");
    }
}

TEST_CASE("--xlsx: usage errors and invalid input leave no file") {
    TempDir dir;
    SUBCASE("not .xlsx") {
        const Cli r = sibsim({"run", augsburg, "-n", "10", "--xlsx", dir / "book.csv"});
        CHECK(r.status == 2);
        CHECK(r.err == "sibsim: error: --xlsx: the file name must end in .xlsx, got '" +
                           (dir / "book.csv") + "'\n");
    }
    SUBCASE("empty name") {
        const Cli r = sibsim({"compare", augsburg, augsburg, "-n", "10", "--xlsx", ""});
        CHECK(r.status == 2);
        CHECK(r.err.find("--xlsx: the file name must end in .xlsx") != std::string::npos);
    }
    SUBCASE("invalid scenario") {
        const Cli r = sibsim({"run", augsburg, "--set", "horizon=-1", "--xlsx", dir / "book.xlsx"});
        CHECK(r.status == 2);
        CHECK(r.err.find(": error: horizon: ") != std::string::npos);
    }
    SUBCASE("missing directory: refused before the run") {
        const Cli r = sibsim({"run", augsburg, "-n", "10", "--xlsx", dir / "no/book.xlsx"});
        CHECK(r.status == 1);
        CHECK(r.err == "sibsim: error: cannot write '" + (dir / "no/book.xlsx") +
                           "': no directory '" + (dir / "no") + "'\n");
    }
    SUBCASE("a workbook inside the -o folder that -o creates") {
        const Cli r = sibsim({"run", augsburg, "-n", "10", "-o", dir / "new", "--xlsx",
                              dir / "new/book.xlsx", "--quiet"});
        REQUIRE_MESSAGE(r.status == 0, r.err);
        CHECK(entries_of(dir / "new") ==
              std::vector<std::string>{"book.xlsx", "cashflows.csv", "run.csv", "summary.csv"});
        fs::remove_all(dir / "new");
    }
    SUBCASE("a trials sheet beyond Excel's rows: refused before the run") {
        const Cli r = sibsim({"run", augsburg, "-n", "1048576", "--per-trial", "--xlsx",
                              dir / "book.xlsx", "--quiet"});
        CHECK(r.status == 2);
        CHECK(r.err ==
              "sibsim: error: --xlsx: the trials sheet would have 1048577 rows, header included; "
              "Excel holds at most 1048576; use -n 1048575 or fewer, or write trials.csv alone "
              "(drop --xlsx)\n");
    }
    SUBCASE("--per-trial with neither -o nor --xlsx") {
        const Cli r = sibsim({"run", augsburg, "-n", "10", "--per-trial"});
        CHECK(r.status == 2);
        CHECK(r.err.find("--per-trial: ") != std::string::npos);
    }
    CHECK(entries_of(dir.path()).empty());
}

TEST_CASE("write_workbook: numbers to 16 significant digits, Excel's limits, a stop request") {
    TempDir dir;
    const std::array<double, 7> values = {
        1.0 / 3, 0.1 + 0.2, 1e-300, -4798802.8, 9007199254740993.0, 123456789.05, -0.2293130133};
    const std::vector<sib::Table> tables = {{"numbers", [&](sib::TableSink& t) {
                                                 t.header({"x"});
                                                 for (double v : values) {
                                                     t.number(v, sib::Unit::number);
                                                     t.end_row();
                                                 }
                                             }}};
    sib::WorkbookStyle style;
    style.currency = "CHF";
    std::ostringstream bytes;
    sib::write_workbook(bytes, tables, style);
    write_file(dir / "n.xlsx", bytes.str());
    const auto sheets = read_xlsx(dir / "n.xlsx");
    REQUIRE(sheets.size() == 1);
    for (std::size_t i = 0; i < values.size(); ++i) {
        INFO(values[i]);
        CHECK(std::fabs(sheets[0].at(i + 1, 0).number - values[i]) <= 5e-16 * std::fabs(values[i]));
    }
    CHECK(sib::money_format(style) == "#,##0.00\" CHF\"");
    style.currency = "JPY";
    style.money_decimals = 0;
    CHECK(sib::money_format(style) == "#,##0\" JPY\"");

    auto fails_with = [&](const std::vector<sib::Table>& t, const std::string& message,
                          const std::atomic<bool>* cancel = nullptr) {
        std::ostringstream out;
        try {
            sib::write_workbook(out, t, style, cancel);
            FAIL("no error");
        } catch (const sib::OutputError& e) {
            CHECK(std::string(e.what()) == message);
        }
    };
    fails_with(
        {{"wide", [](sib::TableSink& t) { t.header(std::vector<std::string>(16385, "c")); }}},
        "sheet 'wide' would have 16385 columns, more than Excel's 16384");
    fails_with({{"long",
                 [](sib::TableSink& t) {
                     t.header({"a"});
                     t.text(std::string(32768, 'x'));
                 }}},
               "a text of 32768 characters in sheet 'long' is longer than Excel's 32767 per cell");
    const std::atomic<bool> stop{true};
    fails_with({{"t",
                 [](sib::TableSink& t) {
                     t.header({"a"});
                     for (int i = 0; i < 2000; ++i) {
                         t.integer(i);
                         t.end_row();
                     }
                 }}},
               "interrupted", &stop);
}
