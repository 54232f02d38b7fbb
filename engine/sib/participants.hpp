#pragma once
// Participant-level observed results for `settle` (docs/outputs.md, "settle"): one CSV row per
// participant, as evaluators hold them. Plain data and its loader; the file's own form is checked
// here, its names and values against the scenario in settle_observed (settle.hpp).
#include <string>
#include <string_view>
#include <vector>

#include "sib/diagnostics.hpp"

namespace sib {

/// A column of outcome results: `OUTCOME` (achievements or events) or `OUTCOME.period` (the
/// period the outcome was achieved; empty when not achieved).
struct ParticipantColumn {
    std::string outcome;
    bool period = false;
    int value_column = -1;  ///< for a period column: the index of its outcome's value column
    SourceLoc loc;
};

/// One cell of an outcome column: a whole number, or empty (period columns only).
struct ParticipantCell {
    long long value = 0;
    bool empty = false;
    SourceLoc loc;
};

struct ParticipantRow {
    std::string cohort;
    long long enrolled = 0;              ///< enrolment period
    std::vector<ParticipantCell> cells;  ///< one per ParticipantColumn
    SourceLoc loc, cohort_loc, enrolled_loc;
};

struct Participants {
    std::string file;
    std::vector<ParticipantColumn> columns;
    std::vector<ParticipantRow> rows;
};

/// Most rows in a participants file (every cohort at its largest size is far beyond real files).
inline constexpr long long max_participant_rows = 10'000'000;
/// Most events one participant can have of a count outcome.
inline constexpr long long max_participant_count = 1'000'000'000;

/// Parses RFC 4180 CSV (LF or CRLF line ends, a UTF-8 byte order mark skipped) with the header
/// `cohort,enrolled[,id],OUTCOME[,OUTCOME.period]...` in any column order. Checks the form: the
/// header (required, unknown-free, no duplicates), the number of fields in every row, whole
/// numbers, `id` unique. Throws InputError with every problem, located FILE:LINE:COL.
Participants load_participants(std::string_view text, const std::string& file);

}  // namespace sib
