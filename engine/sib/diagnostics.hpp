#pragma once
// User-facing input errors: "FILE:LINE:COL: error: KEY.PATH: message", all collected, thrown once.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace sib {

/// A position in a user's file; 1-based line and column, 0 when unknown.
struct SourceLoc {
    int line = 0;
    int column = 0;
};

/// One problem in one input: where, which key path, and what is wrong.
struct Diagnostic {
    std::string file;
    SourceLoc loc;
    std::string path;     ///< dotted key path, list entries by name ("cohorts.cohort-1.size")
    std::string message;  ///< lower-case sentence without a final full stop
};

/// "FILE:LINE:COL: error: PATH: MESSAGE" (the path part is left out when empty); for a problem
/// in a command-line option (line 0, file "--set", "--vary", ...) "sibsim: error: OPTION: PATH:
/// MESSAGE".
std::string format(const Diagnostic& d);

/// Thrown once with every problem found in the input; what() is all lines joined by '\n'.
class InputError : public std::runtime_error {
  public:
    explicit InputError(std::vector<Diagnostic> diagnostics);
    const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

  private:
    std::vector<Diagnostic> diagnostics_;
};

/// Collects diagnostics while a stage checks its input; throw_if_any() ends the stage.
struct DiagnosticSink {
    std::string file;
    std::vector<Diagnostic> diagnostics;

    void error(SourceLoc loc, std::string path, std::string message) {
        diagnostics.push_back({file, loc, std::move(path), std::move(message)});
    }
    bool empty() const { return diagnostics.empty(); }
    void throw_if_any() const {
        if (!diagnostics.empty()) throw InputError(diagnostics);
    }
};

/// Levenshtein-closest candidate within a small distance, or "" when none is close enough.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

/// "; did you mean 'NAME'?" for the candidate closest to `word` (closest_match), or "" when
/// none is close or `word` is itself a candidate. Appended to "unknown key" style messages.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

/// Programmer errors (broken invariants), never input checks: aborts with the C++ file and line.
[[noreturn]] void assertion_failed(const char* expr, const char* file, int line);

}  // namespace sib

#define SIB_ASSERT(expr) ((expr) ? (void)0 : ::sib::assertion_failed(#expr, __FILE__, __LINE__))
