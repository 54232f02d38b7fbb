#include "sib/participants.hpp"

#include <algorithm>
#include <set>

namespace sib {

namespace {

struct Field {
    std::string text;
    SourceLoc loc;
};

struct Record {
    std::vector<Field> fields;
    SourceLoc loc;
};

/// Length of the UTF-8 sequence starting at text[i], or 0 when it is not valid UTF-8 (or NUL).
std::size_t utf8_length(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) {
        return k < text.size() ? static_cast<unsigned char>(text[k]) : 0u;
    };
    const unsigned c = byte(i);
    std::size_t length = 0;
    if (c == 0) return 0;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF)
        length = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        length = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        length = 4;
    else
        return 0;
    const unsigned c1 = byte(i + 1);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
        (c == 0xF4 && c1 > 0x8F))
        return 0;
    for (std::size_t k = 1; k < length; ++k)
        if ((byte(i + k) & 0xC0) != 0x80) return 0;
    return length;
}

/// RFC 4180 records with the location of each field (column: characters from 1). Stops at the
/// first error of form (an unclosed quote, text after a closing quote, a quote inside an unquoted
/// field, a bare CR, bytes that are not UTF-8): what follows could not be located reliably.
std::vector<Record> read_records(std::string_view text, DiagnosticSink& sink) {
    std::vector<Record> records;
    std::size_t i = 0;
    int line = 1, column = 1;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // a byte order mark, as spreadsheets write
    // Advances over one character (a UTF-8 sequence) of the text; false on bytes that are not text.
    auto advance = [&]() {
        const std::size_t length = utf8_length(text, i);
        if (length == 0) {
            sink.error({line, column}, "", "not a text file: a NUL byte or invalid UTF-8");
            return false;
        }
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
        i += length;
        return true;
    };
    while (i < text.size()) {
        Record record;
        record.loc = {line, column};
        for (;;) {  // one field per turn
            Field field;
            field.loc = {line, column};
            if (i < text.size() && text[i] == '"') {
                if (!advance()) return records;
                for (;;) {
                    if (i >= text.size()) {
                        sink.error(field.loc, "", "a quoted field is not closed");
                        return records;
                    }
                    if (text[i] == '"') {
                        if (i + 1 < text.size() && text[i + 1] == '"') {
                            field.text += '"';
                            advance();
                            advance();
                            continue;
                        }
                        advance();
                        break;
                    }
                    const std::size_t from = i;
                    if (!advance()) return records;
                    field.text.append(text.substr(from, i - from));
                }
                if (i < text.size() && text[i] != ',' && text[i] != '\n' &&
                    !(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
                    sink.error({line, column}, "",
                               "text after a closing quote; a field is quoted whole");
                    return records;
                }
            } else {
                while (i < text.size() && text[i] != ',' && text[i] != '\n') {
                    if (text[i] == '"') {
                        sink.error({line, column}, "",
                                   "a double quote inside an unquoted field; quote the field and "
                                   "double the quote");
                        return records;
                    }
                    if (text[i] == '\r') {
                        if (i + 1 < text.size() && text[i + 1] == '\n') break;
                        sink.error({line, column}, "",
                                   "a carriage return that does not end a line");
                        return records;
                    }
                    const std::size_t from = i;
                    if (!advance()) return records;
                    field.text.append(text.substr(from, i - from));
                }
            }
            record.fields.push_back(std::move(field));
            if (i < text.size() && text[i] == ',') {
                advance();
                continue;
            }
            if (i < text.size() && text[i] == '\r') ++i;  // CRLF: the CR takes no column
            if (i < text.size()) advance();               // the LF
            break;
        }
        records.push_back(std::move(record));
        if (static_cast<long long>(records.size()) > max_participant_rows + 1) {
            sink.error({line, column}, "",
                       "more than " + std::to_string(max_participant_rows) + " participants");
            return records;
        }
    }
    return records;
}

/// A whole number written with digits only ("12"; not "1.0", "+1" or "1e3"), at most `most`.
bool parse_whole(const std::string& text, long long most, long long& value) {
    long long v = 0;
    if (text.empty() || text.size() > 12) return false;
    for (char ch : text) {
        if (ch < '0' || ch > '9') return false;
        v = v * 10 + (ch - '0');
    }
    if (v > most) return false;
    value = v;  // set only when valid: a rejected cell counts as 0 in later checks
    return true;
}

std::string quoted(const std::string& s) {
    return "'" + s + "'";
}

}  // namespace

Participants load_participants(std::string_view text, const std::string& file) {
    DiagnosticSink sink{file, {}};
    Participants out;
    out.file = file;
    const std::vector<Record> records = read_records(text, sink);
    sink.throw_if_any();
    if (records.empty()) {
        sink.error({1, 1}, "", "empty file; expected the header 'cohort,enrolled,OUTCOME,...'");
        sink.throw_if_any();
    }

    // The header: cohort and enrolled, an optional id, then outcome and period columns.
    const Record& header = records.front();
    int cohort = -1, enrolled = -1, id = -1;
    std::vector<int> column_of(header.fields.size(), -1);  // header field -> out.columns
    std::set<std::string> seen;
    for (std::size_t f = 0; f < header.fields.size(); ++f) {
        const Field& field = header.fields[f];
        if (field.text.empty()) {
            sink.error(field.loc, "", "empty column name");
            continue;
        }
        if (!seen.insert(field.text).second) {
            sink.error(field.loc, "", "column " + quoted(field.text) + " given twice");
            continue;
        }
        if (field.text == "cohort") {
            cohort = static_cast<int>(f);
        } else if (field.text == "enrolled") {
            enrolled = static_cast<int>(f);
        } else if (field.text == "id") {
            id = static_cast<int>(f);
        } else {
            column_of[f] = static_cast<int>(out.columns.size());
            out.columns.push_back({field.text, false, -1, field.loc});
        }
    }
    // OUTCOME.period is the period column of OUTCOME when that column is there too.
    const std::string suffix = ".period";
    for (auto& column : out.columns) {
        if (column.outcome.size() <= suffix.size() ||
            column.outcome.compare(column.outcome.size() - suffix.size(), suffix.size(), suffix) !=
                0)
            continue;
        const std::string outcome = column.outcome.substr(0, column.outcome.size() - suffix.size());
        for (std::size_t k = 0; k < out.columns.size(); ++k)
            if (!out.columns[k].period && out.columns[k].outcome == outcome) {
                column.outcome = outcome;
                column.period = true;
                column.value_column = static_cast<int>(k);
                break;
            }
    }
    if (cohort < 0) sink.error(header.loc, "", "missing column 'cohort'");
    if (enrolled < 0) sink.error(header.loc, "", "missing column 'enrolled'");
    if (out.columns.empty())
        sink.error(header.loc, "", "no outcome columns; give one column per outcome observed");
    sink.throw_if_any();

    // The rows: every field checked, all problems reported.
    std::set<std::string> ids;
    out.rows.reserve(records.size() - 1);
    for (std::size_t r = 1; r < records.size(); ++r) {
        const Record& record = records[r];
        if (record.fields.size() != header.fields.size()) {
            sink.error(record.loc, "",
                       "has " + std::to_string(record.fields.size()) +
                           (record.fields.size() == 1 ? " field" : " fields") +
                           "; the header has " + std::to_string(header.fields.size()));
            continue;
        }
        ParticipantRow row;
        row.loc = record.loc;
        const Field& c = record.fields[static_cast<std::size_t>(cohort)];
        row.cohort = c.text;
        row.cohort_loc = c.loc;
        if (c.text.empty()) sink.error(c.loc, "cohort", "empty; give the participant's cohort");
        const Field& e = record.fields[static_cast<std::size_t>(enrolled)];
        row.enrolled_loc = e.loc;
        if (!parse_whole(e.text, 1'000'000, row.enrolled))
            sink.error(
                e.loc, "enrolled",
                "expected the enrolment period, a whole number of periods, got " + quoted(e.text));
        if (id >= 0) {
            const Field& name = record.fields[static_cast<std::size_t>(id)];
            if (name.text.empty())
                sink.error(name.loc, "id", "empty; give each participant an id, or no id column");
            else if (!ids.insert(name.text).second)
                sink.error(name.loc, "id", "participant " + quoted(name.text) + " given twice");
        }
        row.cells.resize(out.columns.size());
        for (std::size_t f = 0; f < record.fields.size(); ++f) {
            if (column_of[f] < 0) continue;
            const auto& column = out.columns[static_cast<std::size_t>(column_of[f])];
            const Field& field = record.fields[f];
            ParticipantCell& cell = row.cells[static_cast<std::size_t>(column_of[f])];
            cell.loc = field.loc;
            const std::string path = column.outcome + (column.period ? suffix : "");
            if (field.text.empty() && column.period) {
                cell.empty = true;
            } else if (field.text.empty()) {
                sink.error(field.loc, path, "empty; give 0 when not achieved");
            } else if (!parse_whole(field.text, column.period ? 1'000'000 : max_participant_count,
                                    cell.value)) {
                sink.error(field.loc, path,
                           column.period
                               ? "expected the period achieved, a whole number, or empty when "
                                 "not achieved, got " +
                                     quoted(field.text)
                               : "expected a whole number of achievements or events from 0 to " +
                                     std::to_string(max_participant_count) + ", got " +
                                     quoted(field.text));
            }
        }
        out.rows.push_back(std::move(row));
    }
    // A period with no achievement, or an achievement with no period.
    for (const auto& row : out.rows)
        for (std::size_t k = 0; k < out.columns.size(); ++k) {
            const auto& column = out.columns[k];
            if (!column.period) continue;
            const auto& value = row.cells[static_cast<std::size_t>(column.value_column)];
            const auto& period = row.cells[k];
            if (value.value > 0 && period.empty)
                sink.error(period.loc, column.outcome + suffix,
                           "empty, but the outcome was achieved; give the period achieved");
            else if (value.value == 0 && !period.empty && !value.empty)
                sink.error(period.loc, column.outcome + suffix,
                           "a period achieved, but the outcome's count is 0; leave it empty");
        }
    if (out.rows.empty())
        sink.error(header.loc, "", "no participants; give one row per participant");
    std::stable_sort(sink.diagnostics.begin(), sink.diagnostics.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                         return a.loc.line != b.loc.line ? a.loc.line < b.loc.line
                                                         : a.loc.column < b.loc.column;
                     });
    sink.throw_if_any();
    return out;
}

}  // namespace sib
