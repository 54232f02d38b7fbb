#include "sib/diagnostics.hpp"

#include <algorithm>

namespace sib {

std::string format(const Diagnostic& d) {
    // Line 0: not in a file but in a command-line option (d.file is "--set", "--vary", ...),
    // worded as the command line's other usage errors are.
    std::string out = d.loc.line == 0 ? "sibsim: error: " + d.file + ": "
                                      : d.file + ":" + std::to_string(d.loc.line) + ":" +
                                            std::to_string(d.loc.column) + ": error: ";
    if (!d.path.empty()) out += d.path + ": ";
    out += d.message;
    return out;
}

namespace {
std::string join(const std::vector<Diagnostic>& diagnostics) {
    std::string out;
    for (const auto& d : diagnostics) {
        if (!out.empty()) out += '\n';
        out += format(d);
    }
    return out;
}

/// Names longer than this get no hint: a hint is for a typo in a short name, and the work stays
/// bounded however long the names are.
constexpr std::size_t max_hint_length = 64;

/// Levenshtein distance of `a` and `b` when it is at most `limit`, else `limit + 1`. Only the
/// band of width 2 * limit + 1 around the diagonal is computed, and the work stops as soon as
/// every cell of a row is beyond `limit`.
std::size_t bounded_edit_distance(const std::string& a, const std::string& b, std::size_t limit) {
    const std::size_t beyond = limit + 1;
    if ((a.size() > b.size() ? a.size() - b.size() : b.size() - a.size()) > limit) return beyond;
    std::vector<std::size_t> row(b.size() + 1, beyond);
    for (std::size_t j = 0; j <= std::min(b.size(), limit); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        const std::size_t from = i > limit ? i - limit : 1;
        const std::size_t to = std::min(b.size(), i + limit);
        std::size_t diagonal = row[from - 1];
        row[from - 1] = i <= limit ? i : beyond;
        std::size_t best = row[from - 1];
        for (std::size_t j = from; j <= to; ++j) {
            const std::size_t above = row[j];
            const std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
            row[j] = std::min({above + 1, row[j - 1] + 1, substitute, beyond});
            diagonal = above;
            best = std::min(best, row[j]);
        }
        if (to < b.size()) row[to + 1] = beyond;
        if (best > limit) return beyond;
    }
    return std::min(row[b.size()], beyond);
}
}  // namespace

InputError::InputError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join(diagnostics)), diagnostics_(std::move(diagnostics)) {}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
    // Close enough: at most a third of the word's letters changed (at least 1, at most 3).
    std::size_t limit = std::clamp<std::size_t>(word.size() / 3, 1, 3);
    std::string best;
    if (word.size() > max_hint_length) return best;
    std::size_t best_distance = limit + 1;
    for (const auto& c : candidates) {
        if (c.size() > max_hint_length) continue;
        std::size_t d = bounded_edit_distance(word, c, std::min(limit, best_distance));
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    return best;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
    // closest_match accepts at most 3 edits of names of at most 64 characters, with a banded
    // distance that stops early: bounded work however long or many the names are.
    const std::string match = closest_match(word, candidates);
    if (match.empty() || match == word) return "";
    return "; did you mean '" + match + "'?";
}

void assertion_failed(const char* expr, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: internal error: assertion failed: %s\n", file, line, expr);
    std::abort();
}

}  // namespace sib
