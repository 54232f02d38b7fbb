#pragma once
// Reads back an .xlsx workbook for the tests (test_xlsx.cpp): the zip members through `unzip -p`,
// then the few parts of SpreadsheetML that sibsim writes (sheets, cells, number formats, panes,
// column widths), parsed by hand. Not a general reader: enough to check every cell.
#include <doctest/doctest.h>

#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cli_helpers.hpp"

namespace sib::test {

struct XlsxCell {
    enum class Kind { blank, number, text } kind = Kind::blank;
    double number = 0;
    std::string text;
    std::string format = "General";  ///< its number format code
};

struct XlsxSheet {
    std::string name;
    std::string xml;  ///< the worksheet part as stored
    std::vector<std::vector<XlsxCell>> rows;
    int frozen_rows = 0, frozen_columns = 0;
    std::map<int, double> widths;  ///< 0-based column → width in characters
    bool has_formula = false;

    const XlsxCell& at(std::size_t row, std::size_t column) const {
        static const XlsxCell blank;
        if (row >= rows.size() || column >= rows[row].size()) return blank;
        return rows[row][column];
    }
};

/// A member of the zip file, or the test fails.
inline std::string unzip_member(const fs::path& file, const std::string& member) {
    const std::string command = "unzip -p '" + file.string() + "' '" + member + "' 2>/dev/null";
    std::FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string text;
    char buffer[65536];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
        text.append(buffer, n);
    const int status = ::pclose(pipe);
    REQUIRE_MESSAGE(status == 0, "unzip -p " << file << " " << member << " failed");
    return text;
}

/// XML text with its entities replaced.
inline std::string xml_text(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '&') {
            out += s[i];
            continue;
        }
        const auto end = s.find(';', i);
        REQUIRE(end != std::string_view::npos);
        const std::string_view entity = s.substr(i + 1, end - i - 1);
        if (entity == "amp")
            out += '&';
        else if (entity == "lt")
            out += '<';
        else if (entity == "gt")
            out += '>';
        else if (entity == "quot")
            out += '"';
        else if (entity == "apos")
            out += '\'';
        else
            FAIL("entity &" << std::string(entity) << ";");
        i = end;
    }
    return out;
}

/// The value of attribute `name` in the tag text, or "".
inline std::string attribute(std::string_view tag, const std::string& name) {
    const std::string key = " " + name + "=\"";
    const auto at = tag.find(key);
    if (at == std::string_view::npos) return "";
    const auto start = at + key.size();
    return xml_text(tag.substr(start, tag.find('"', start) - start));
}

/// Every tag `<NAME ...>` or `<NAME .../>` in order, as its text up to '>'.
inline std::vector<std::string_view> tags(std::string_view xml, const std::string& name) {
    std::vector<std::string_view> found;
    const std::string open = "<" + name + " ";
    for (auto at = xml.find(open); at != std::string_view::npos; at = xml.find(open, at + 1))
        found.push_back(xml.substr(at, xml.find('>', at) - at + 1));
    return found;
}

/// "AB12" → 0-based column 27.
inline std::size_t column_index(std::string_view reference) {
    std::size_t column = 0;
    for (char c : reference) {
        if (c < 'A' || c > 'Z') break;
        column = column * 26 + static_cast<std::size_t>(c - 'A' + 1);
    }
    return column - 1;
}

inline std::vector<XlsxSheet> read_xlsx(const fs::path& file) {
    // Number formats: cell style index → format code (built-in ids sibsim may get: General).
    const std::string styles = unzip_member(file, "xl/styles.xml");
    std::map<std::string, std::string> codes = {{"0", "General"}, {"10", "0.00%"}};
    for (auto tag : tags(styles, "numFmt"))
        codes[attribute(tag, "numFmtId")] = attribute(tag, "formatCode");
    std::vector<std::string> style_formats;
    const std::string_view all_styles = styles;
    const std::string_view xfs_from = all_styles.substr(all_styles.find("<cellXfs"));
    const std::string_view xfs = xfs_from.substr(0, xfs_from.find("</cellXfs>"));
    for (auto tag : tags(xfs, "xf")) style_formats.push_back(codes.at(attribute(tag, "numFmtId")));

    const std::string workbook = unzip_member(file, "xl/workbook.xml");
    const std::string relations = unzip_member(file, "xl/_rels/workbook.xml.rels");
    std::map<std::string, std::string> targets;
    for (auto tag : tags(relations, "Relationship"))
        targets[attribute(tag, "Id")] = attribute(tag, "Target");
    std::vector<XlsxSheet> sheets;
    for (auto sheet_tag : tags(workbook, "sheet")) {
        XlsxSheet sheet;
        sheet.name = attribute(sheet_tag, "name");
        sheet.xml = unzip_member(file, "xl/" + targets.at(attribute(sheet_tag, "r:id")));
        const std::string_view xml = sheet.xml;
        sheet.has_formula =
            xml.find("<f>") != std::string_view::npos || xml.find("<f ") != std::string_view::npos;
        for (auto pane : tags(xml, "pane")) {
            CHECK(attribute(pane, "state") == "frozen");
            const std::string x = attribute(pane, "xSplit"), y = attribute(pane, "ySplit");
            sheet.frozen_columns = x.empty() ? 0 : std::stoi(x);
            sheet.frozen_rows = y.empty() ? 0 : std::stoi(y);
        }
        for (auto col : tags(xml, "col"))
            for (int c = std::stoi(attribute(col, "min")); c <= std::stoi(attribute(col, "max"));
                 ++c)
                sheet.widths[c - 1] = number(attribute(col, "width"));
        for (auto at = xml.find("<c r=\""); at != std::string_view::npos;
             at = xml.find("<c r=\"", at + 1)) {
            const auto tag_end = xml.find('>', at);
            const std::string_view tag = xml.substr(at, tag_end - at + 1);
            const std::string reference = attribute(tag, "r");
            const auto digits = reference.find_first_of("0123456789");
            const auto row = static_cast<std::size_t>(std::stoul(reference.substr(digits))) - 1;
            const std::size_t column = column_index(reference);
            if (sheet.rows.size() <= row) sheet.rows.resize(row + 1);
            if (sheet.rows[row].size() <= column) sheet.rows[row].resize(column + 1);
            XlsxCell& cell = sheet.rows[row][column];
            const std::string style = attribute(tag, "s");
            cell.format = style_formats.at(style.empty() ? 0 : std::stoul(style));
            if (tag.ends_with("/>")) continue;  // a blank with a format
            const std::string_view body =
                xml.substr(tag_end + 1, xml.find("</c>", tag_end) - tag_end - 1);
            const std::string type = attribute(tag, "t");
            if (type == "inlineStr") {
                const auto t = body.find("<t");
                const auto start = body.find('>', t) + 1;
                cell.kind = XlsxCell::Kind::text;
                cell.text = xml_text(body.substr(start, body.find("</t>") - start));
            } else {
                REQUIRE_MESSAGE(type.empty(), "cell " << reference << " of type " << type);
                const auto start = body.find("<v>") + 3;
                cell.kind = XlsxCell::Kind::number;
                cell.number = number(std::string(body.substr(start, body.find("</v>") - start)));
            }
        }
        sheets.push_back(std::move(sheet));
    }
    return sheets;
}

}  // namespace sib::test
