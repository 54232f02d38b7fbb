#include "sib/diagnostics.hpp"

#include <algorithm>

namespace sib {

std::string format(const Diagnostic& d) {
    std::string out = d.file + ":" + std::to_string(d.loc.line) + ":" +
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

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
            row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
            diagonal = above;
        }
    }
    return row[b.size()];
}
}  // namespace

InputError::InputError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join(diagnostics)), diagnostics_(std::move(diagnostics)) {}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
    // Close enough: at most a third of the word's letters changed (at least 1, at most 3).
    std::size_t limit = std::clamp<std::size_t>(word.size() / 3, 1, 3);
    std::string best;
    std::size_t best_distance = limit + 1;
    for (const auto& c : candidates) {
        std::size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    return best;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
    // closest_match accepts at most 3 edits, so only candidates of about the same length can
    // match; filtering first keeps hints cheap however long or many the names are.
    std::vector<std::string> near;
    for (const auto& c : candidates)
        if (c.size() + 3 >= word.size() && c.size() <= word.size() + 3) near.push_back(c);
    const std::string match = closest_match(word, near);
    if (match.empty() || match == word) return "";
    return "; did you mean '" + match + "'?";
}

void assertion_failed(const char* expr, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: internal error: assertion failed: %s\n", file, line, expr);
    std::abort();
}

}  // namespace sib
