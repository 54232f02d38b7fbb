// The documentation as tests: every command shown in README.md and docs/*.md is run and its output
// compared with what the page shows, and every source tag of scenarios/ is listed in
// docs/sources.md. The conventions are in docs/architecture.md, "Shown commands".
//
// With SIBSIM_UPDATE_DOCS=1 in the environment (scripts/update-docs.sh) the page tests rewrite
// the shown outputs with what the commands print now, keeping `...` trims, instead of comparing.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli_helpers.hpp"
#include "sib/csv.hpp"

namespace {

using namespace sib::test;
namespace fs = std::filesystem;

const fs::path source_dir = SIBSIM_SOURCE_DIR;

/// Every page whose shown commands are checked, relative to the source directory. A page added
/// under docs/ must be added here (checked below); bench/README.md is left out on purpose: its
/// figures are measured timings.
const std::vector<std::string> pages = {
    "README.md",      "docs/architecture.md", "docs/guide.md",           "docs/limits.md",
    "docs/model.md",  "docs/outputs.md",      "docs/scenario-format.md", "docs/sources.md",
    "docs/python.md", "docs/distributed.md",
};

/// The entries of the source directory that a scratch working directory links to, so a shown
/// command sees the repository as a user does; `build/sibsim` is the binary under test.
const std::vector<std::string> linked_entries = {"README.md", "docs", "scenarios", "scripts",
                                                 "tests"};

const std::string skip_marker = "<!-- docs-test: skip ";

/// One `$ ` command in a fenced block and the output shown below it.
struct Shown {
    std::size_t line = 0;             // 0-based page line of the `$ ` line
    std::string command;              // as bash runs it: continuation lines joined by '\n'
    std::size_t output_begin = 0;     // page lines [output_begin, output_end) hold the output
    std::size_t output_end = 0;       // (trailing blank lines excluded)
    std::vector<std::string> output;  // those lines without the block's indentation
    std::string indent;               // the fenced block's indentation
    std::string skip_reason;          // empty: run it
};

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string rtrim(std::string s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
    return s;
}

std::string ltrim(const std::string& s) {
    const auto start = s.find_first_not_of(" \t");
    return start == std::string::npos ? "" : s.substr(start);
}

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

/// Whether a command written so far goes on to the next line: a quote is still open, or the last
/// line ends with a backslash outside single quotes (as bash reads it; no here-documents).
bool continues(const std::string& command) {
    char quote = 0;
    bool escaped_newline = false;
    for (std::size_t i = 0; i < command.size(); ++i) {
        const char c = command[i];
        escaped_newline = false;
        if (quote == '\'') {
            if (c == '\'') quote = 0;
        } else if (c == '\\') {
            if (i + 1 == command.size()) escaped_newline = true;
            ++i;
        } else if (quote == '"') {
            if (c == '"') quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        }
    }
    return quote != 0 || escaped_newline;
}

/// The shown commands of a page: in fenced blocks (```), every line that starts with `$ ` after
/// the block's indentation is a command; it continues while continues() says so, and the lines up
/// to the next `$ ` line or the end of the block are its shown output. Blocks without a `$ ` line
/// are left alone. `<!-- docs-test: skip REASON -->` on the line before a block skips its commands.
std::vector<Shown> shown_commands(const std::string& page, const std::vector<std::string>& lines) {
    std::vector<Shown> found;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string indent = lines[i].substr(0, lines[i].find_first_not_of(' '));
        if (!starts_with(ltrim(lines[i]), "```")) continue;
        std::string skip_reason;
        if (i > 0 && starts_with(ltrim(lines[i - 1]), skip_marker)) {
            const std::string marker = ltrim(lines[i - 1]);
            const auto end = marker.find("-->");
            REQUIRE_MESSAGE(end != std::string::npos, page << ":" << i << ": unclosed skip marker");
            skip_reason = rtrim(marker.substr(skip_marker.size(), end - skip_marker.size()));
            REQUIRE_MESSAGE(!skip_reason.empty(), page << ":" << i << ": a skip needs a reason");
        }
        std::size_t close = i + 1;
        while (close < lines.size() && !starts_with(ltrim(lines[close]), "```")) ++close;
        REQUIRE_MESSAGE(close < lines.size(), page << ":" << i + 1 << ": unclosed code block");
        auto body = [&](std::size_t k) {
            return starts_with(lines[k], indent) ? lines[k].substr(indent.size()) : lines[k];
        };
        bool session = false;
        for (std::size_t k = i + 1; k < close; ++k) session = session || starts_with(body(k), "$ ");
        if (session) {
            REQUIRE_MESSAGE(starts_with(body(i + 1), "$ "),
                            page << ":" << i + 2 << ": output shown before the first command");
        } else {
            CHECK_MESSAGE(skip_reason.empty(),
                          page << ":" << i << ": a skip marker before a block with no command");
        }
        for (std::size_t k = i + 1; session && k < close;) {
            Shown shown;
            shown.line = k;
            shown.indent = indent;
            shown.skip_reason = skip_reason;
            shown.command = body(k).substr(2);
            for (++k; continues(shown.command); ++k) {
                REQUIRE_MESSAGE(k < close,
                                page << ":" << shown.line + 1 << ": the command never ends");
                shown.command += '\n';
                shown.command += body(k);
            }
            shown.output_begin = k;
            while (k < close && !starts_with(body(k), "$ ")) ++k;
            shown.output_end = k;
            while (shown.output_end > shown.output_begin &&
                   rtrim(body(shown.output_end - 1)).empty())
                --shown.output_end;
            for (std::size_t o = shown.output_begin; o < shown.output_end; ++o)
                shown.output.push_back(body(o));
            found.push_back(std::move(shown));
        }
        i = close;
    }
    return found;
}

/// A shown line matches a printed line when they are equal, ignoring trailing spaces, except that
/// `~NUMBER` in the shown line (a run-time or machine figure: seconds, memory available) matches
/// any number.
bool line_matches(const std::string& shown_line, const std::string& printed_line) {
    const std::string e = rtrim(shown_line), a = rtrim(printed_line);
    const auto number_char = [](char c) {
        return (c >= '0' && c <= '9') || c == '.' || c == ',' || c == '-';
    };
    std::size_t i = 0, j = 0;
    while (i < e.size() && j < a.size()) {
        if (e[i] == '~' && i + 1 < e.size() && number_char(e[i + 1])) {
            for (++i; i < e.size() && number_char(e[i]); ++i) {
            }
            const std::size_t start = j;
            while (j < a.size() && number_char(a[j])) ++j;
            if (j == start) return false;
        } else if (e[i++] != a[j++]) {
            return false;
        }
    }
    return i == e.size() && j == a.size();
}

bool is_ellipsis(const std::string& line) {
    return rtrim(ltrim(line)) == "...";
}

/// Whether the shown lines match the printed ones; a shown `...` line stands for any number of
/// printed lines (none included).
bool output_matches(const std::vector<std::string>& shown,
                    const std::vector<std::string>& printed) {
    // matches[i][j]: shown[i..] matches printed[j..]
    const std::size_t S = shown.size(), P = printed.size();
    std::vector<std::vector<char>> matches(S + 1, std::vector<char>(P + 1, 0));
    matches[S][P] = 1;
    for (std::size_t i = S; i-- > 0;)
        for (std::size_t j = P + 1; j-- > 0;) {
            if (is_ellipsis(shown[i]))
                matches[i][j] = matches[i + 1][j] || (j < P && matches[i][j + 1]);
            else
                matches[i][j] =
                    j < P && line_matches(shown[i], printed[j]) && matches[i + 1][j + 1];
        }
    return matches[0][0] != 0;
}

/// The key of a line for regenerating trimmed outputs: its first word, up to a comma or a space
/// (a metric name, a CSV row's first field, a JSON key).
std::string key_of(const std::string& line) {
    const std::string s = ltrim(line);
    return s.substr(0, s.find_first_of(" ,\t"));
}

/// The shown output regenerated from what was printed: unchanged when it still matches; without
/// `...`, the printed lines. With `...`: the lines before the first `...` are the printed output's
/// first lines, whatever their text now (a heading, a table's header); each later shown line is
/// the next printed line with the same key, or when none has it and the line comes after the last
/// `...`, the printed line as far from the end; `...` goes wherever printed lines are left out.
/// `fresh` with the `~` marks of `old` kept: a word of `old` that is `~NUMBER` marks the word at
/// the same place in `fresh` (words split at single spaces), when both lines have as many words.
std::string keep_marks(const std::string& old, const std::string& fresh) {
    if (old.find('~') == std::string::npos) return fresh;
    const auto words = [](const std::string& line) {
        std::vector<std::string> w{""};
        for (char c : line) {
            if (c == ' ')
                w.emplace_back();
            else
                w.back().push_back(c);
        }
        return w;
    };
    const auto old_words = words(old);
    auto fresh_words = words(fresh);
    if (old_words.size() != fresh_words.size()) return fresh;
    std::string out;
    for (std::size_t i = 0; i < fresh_words.size(); ++i) {
        if (i > 0) out += ' ';
        if (old_words[i].size() > 1 && old_words[i][0] == '~' && !fresh_words[i].empty() &&
            std::isdigit(static_cast<unsigned char>(fresh_words[i][0])))
            out += '~';
        out += fresh_words[i];
    }
    return out;
}

std::vector<std::string> regenerated(const std::vector<std::string>& shown,
                                     const std::vector<std::string>& printed) {
    if (output_matches(shown, printed)) return shown;
    const auto first = std::find_if(shown.begin(), shown.end(), is_ellipsis);
    if (first == shown.end()) {
        std::vector<std::string> out = printed;
        for (std::size_t i = 0; i < out.size() && out.size() == shown.size(); ++i)
            out[i] = keep_marks(shown[i], out[i]);
        return out;
    }
    const auto last = std::find_if(shown.rbegin(), shown.rend(), is_ellipsis).base() - 1;
    const std::string ellipsis = first->substr(0, first->find('.')) + "...";
    const auto head = static_cast<std::size_t>(first - shown.begin());
    if (head > printed.size()) return printed;
    std::vector<std::string> out;
    for (std::size_t i = 0; i < head; ++i) out.push_back(keep_marks(shown[i], printed[i]));
    std::size_t j = head;
    for (auto line = first; line != shown.end(); ++line) {
        if (is_ellipsis(*line)) continue;
        std::size_t k = j;
        while (k < printed.size() && key_of(printed[k]) != key_of(*line)) ++k;
        if (k == printed.size() && line > last) {
            const auto from_end = static_cast<std::size_t>(shown.end() - line);
            if (from_end <= printed.size() && printed.size() - from_end >= j)
                k = printed.size() - from_end;
        }
        if (k == printed.size()) continue;  // the line is gone from the output
        if (k > j) out.push_back(ellipsis);
        out.push_back(keep_marks(*line, printed[k]));
        j = k + 1;
    }
    if (j < printed.size()) out.push_back(ellipsis);
    return out;
}

/// Runs a page's commands in order in a scratch copy of the repository root and compares (or,
/// when updating, rewrites) their outputs.
struct PageRun {
    std::size_t run = 0, skipped = 0, updated = 0;
};

PageRun check_page(const std::string& page) {
    const fs::path path = source_dir / page;
    const std::string text = read_file(path);
    std::vector<std::string> lines = split_lines(text);
    const std::vector<Shown> commands = shown_commands(page, lines);
    const bool update = std::getenv("SIBSIM_UPDATE_DOCS") != nullptr;

    TempDir scratch;
    const fs::path work = scratch.path() / "work";
    fs::create_directories(work / "build");
    for (const auto& entry : linked_entries) fs::create_symlink(source_dir / entry, work / entry);
    fs::create_symlink(fs::path(SIBSIM_BINARY), work / "build" / "sibsim");

    PageRun result;
    int status = 0;  // the last command's exit status, for a shown `echo $?`
    // Replacements of shown outputs, applied from the end so that earlier line numbers hold.
    std::vector<std::pair<const Shown*, std::vector<std::string>>> replacements;
    for (const Shown& shown : commands) {
        if (!shown.skip_reason.empty()) {
            ++result.skipped;
            MESSAGE(page << ":" << shown.line + 1 << ": skipped (" << shown.skip_reason << "): $ "
                         << shown.command);
            continue;
        }
        ++result.run;
        // The README's quick start runs its scenario after `scripts/setup.sh &&`: here the
        // suite's own build stands for the set-up, and the rest of the command is run.
        const std::string setup = "scripts/setup.sh && ";
        const std::string command =
            starts_with(shown.command, setup) ? shown.command.substr(setup.size()) : shown.command;
        write_file(scratch.path() / "command.sh",
                   "(exit " + std::to_string(status) + ")\n" + command + "\n");
        const std::string shell = "cd '" + work.string() + "' && LC_ALL=C bash '" +
                                  (scratch.path() / "command.sh").string() + "' > '" +
                                  (scratch.path() / "printed.txt").string() + "' 2>&1";
        const int wait_status = std::system(shell.c_str());
        REQUIRE_MESSAGE(WIFEXITED(wait_status), page << ":" << shown.line + 1
                                                     << ": the shell did not exit: $ "
                                                     << shown.command);
        status = WEXITSTATUS(wait_status);
        std::vector<std::string> printed = split_lines(read_file(scratch.path() / "printed.txt"));
        for (auto& line : printed) line = rtrim(line);  // as a page would keep them
        while (!printed.empty() && printed.back().empty()) printed.pop_back();
        if (update) {
            std::vector<std::string> fresh = regenerated(shown.output, printed);
            if (fresh != shown.output) replacements.emplace_back(&shown, std::move(fresh));
            continue;
        }
        std::ostringstream shown_text, printed_text;
        for (const auto& l : shown.output) shown_text << "  | " << l << "\n";
        for (const auto& l : printed) printed_text << "  | " << l << "\n";
        CHECK_MESSAGE(output_matches(shown.output, printed),
                      page << ":" << shown.line + 1 << ": $ " << shown.command << "\nshown:\n"
                           << shown_text.str() << "printed (exit status " << status << "):\n"
                           << printed_text.str()
                           << "(scripts/update-docs.sh rewrites shown outputs meant to change)");
    }
    if (update && !replacements.empty()) {
        for (auto it = replacements.rbegin(); it != replacements.rend(); ++it) {
            const Shown& shown = *it->first;
            std::vector<std::string> block;
            for (const auto& l : it->second) block.push_back(l.empty() ? l : shown.indent + l);
            lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(shown.output_begin),
                        lines.begin() + static_cast<std::ptrdiff_t>(shown.output_end));
            lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(shown.output_begin),
                         block.begin(), block.end());
        }
        sib::write_file_atomically(path, [&](std::ostream& out) {
            for (const auto& l : lines) out << l << '\n';
        });
        result.updated = replacements.size();
        MESSAGE(page << ": " << result.updated << " shown outputs rewritten");
    }
    MESSAGE(page << ": " << result.run << " shown commands run, " << result.skipped << " skipped");
    return result;
}

}  // namespace

TEST_CASE("docs page: README.md") {
    check_page("README.md");
}
TEST_CASE("docs page: docs/guide.md") {
    CHECK(check_page("docs/guide.md").run >= 20);
}
TEST_CASE("docs page: docs/outputs.md") {
    check_page("docs/outputs.md");
}
TEST_CASE("docs page: docs/limits.md") {
    check_page("docs/limits.md");
}
TEST_CASE("docs page: the other pages (architecture.md, model.md, scenario-format.md, ...)") {
    const std::set<std::string> own_test = {"README.md", "docs/guide.md", "docs/outputs.md",
                                            "docs/limits.md"};
    for (const auto& page : pages)
        if (own_test.count(page) == 0) check_page(page);
}

TEST_CASE("docs: every page is checked, and few shown commands are skipped") {
    std::set<std::string> on_disk{"README.md"};
    for (const auto& entry : fs::directory_iterator(source_dir / "docs"))
        if (entry.path().extension() == ".md")
            on_disk.insert("docs/" + entry.path().filename().string());
    CHECK(on_disk == std::set<std::string>(pages.begin(), pages.end()));

    std::size_t total = 0, skipped = 0;
    for (const auto& page : pages) {
        const auto lines = split_lines(read_file(source_dir / page));
        for (const Shown& shown : shown_commands(page, lines)) {
            ++total;
            if (!shown.skip_reason.empty()) ++skipped;
        }
    }
    MESSAGE(total << " shown commands, " << skipped << " skipped");
    CHECK(total >= 30);
    CHECK(skipped * 10 <= total);  // skipping is for set-up commands, used sparingly
}

TEST_CASE("docs: shown commands are parsed and compared by the documented rules") {
    const std::vector<std::string> page = {
        "text",
        "```",
        "$ build/sibsim run s.yaml --set 'a={x: 1,",
        "    y: 2}' \\",
        "    -o out/",
        "metric  mean",
        "...",
        "",
        "$ echo $?",
        "0",
        "```",
        "<!-- docs-test: skip needs root -->",
        "```",
        "$ scripts/setup.sh",
        "```",
        "```",
        "not a command",
        "```",
    };
    const auto shown = shown_commands("page.md", page);
    REQUIRE(shown.size() == 3);
    CHECK(shown[0].command ==
          "build/sibsim run s.yaml --set 'a={x: 1,\n    y: 2}' \\\n    -o out/");
    CHECK(shown[0].output == std::vector<std::string>{"metric  mean", "..."});
    CHECK(shown[1].command == "echo $?");
    CHECK(shown[1].output == std::vector<std::string>{"0"});
    CHECK(shown[2].skip_reason == "needs root");

    CHECK(output_matches({"a", "...", "d"}, {"a", "b", "c", "d"}));
    CHECK(output_matches({"a", "...", "d"}, {"a", "d"}));
    CHECK_FALSE(output_matches({"a", "...", "d"}, {"a", "b", "c", "d", "e"}));
    CHECK_FALSE(output_matches({"a 1.25"}, {"a 1.26"}));  // numbers exactly
    CHECK(output_matches({"a 1.25   "}, {"a 1.25"}));
    CHECK(output_matches({"took ~0.8 s"}, {"took 12.25 s"}));
    CHECK_FALSE(output_matches({"took ~0.8 s"}, {"took no s"}));
    CHECK_FALSE(output_matches({"x"}, {}));
    CHECK(output_matches({}, {}));

    // Regeneration keeps the trimmed rows by their first word and marks what is left out.
    CHECK(regenerated({"metric mean", "...", "b 2", "...", "d 4"},
                      {"metric  mean", "a  1", "b  2", "c  3", "d  5", "e  6"}) ==
          std::vector<std::string>{"metric  mean", "...", "b  2", "...", "d  5", "..."});
    CHECK(regenerated({"x,1"}, {"x,2", "y,3"}) == std::vector<std::string>{"x,2", "y,3"});
    // A machine figure marked `~` stays marked when its line changes.
    CHECK(regenerated({"needs 2 GiB of ~21.6 GiB"}, {"needs 3 GiB of 18.2 GiB"}) ==
          std::vector<std::string>{"needs 3 GiB of ~18.2 GiB"});
    // A new table format: the lines before the first `...` are taken as printed (a renamed
    // header), the rows by their metric names, a last row that lost its name by its place.
    CHECK(regenerated(
              {"Title: 10000 trials", "metric mean", "...", "b 2", "...", "z 9"},
              {"Title: 10,000 trials", "Metric  Mean", "a  1", "b  2.0", "c  3", "last  9.0"}) ==
          std::vector<std::string>{"Title: 10,000 trials", "Metric  Mean", "...", "b  2.0", "...",
                                   "last  9.0"});
}

TEST_CASE("docs: every source tag used in scenarios/ is listed in docs/sources.md") {
    // A tag such as [S80] or [S113] in a scenario's comments must be an entry of docs/sources.md,
    // whose entries start "- **[S80]**".
    const std::string sources = read_file(source_dir / "docs/sources.md");
    const std::regex entry(R"(^- \*\*\[(S[0-9]+[a-z]?)\]\*\*)");
    std::set<std::string> listed;
    const std::vector<std::string> lines = split_lines(sources);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::smatch match;
        if (!std::regex_search(lines[i], match, entry)) continue;
        const std::string name = match[1];
        CHECK_MESSAGE(listed.insert(name).second, name << " is listed twice");
        // Publisher, title and date, then where to find it, then each citing scenario's figures.
        CHECK_MESSAGE(lines[i].find(". Web: ") != std::string::npos, name << " has no 'Web: '");
        CHECK_MESSAGE((i + 1 < lines.size() && starts_with(lines[i + 1], "  - `scenarios/")),
                      name << " is not followed by the figures a scenario takes from it");
    }
    REQUIRE(listed.size() >= 50);

    const std::regex tag(R"(\[(S[0-9]+[a-z]?)\])");
    std::size_t used = 0;
    for (const auto& file : fs::directory_iterator(source_dir / "scenarios")) {
        if (file.path().extension() != ".yaml") continue;
        const std::string text = read_file(file.path());
        CHECK_MESSAGE(text.find("docs/sources.md") != std::string::npos,
                      file.path().filename() << " does not point to docs/sources.md");
        for (auto it = std::sregex_iterator(text.begin(), text.end(), tag);
             it != std::sregex_iterator(); ++it) {
            ++used;
            CHECK_MESSAGE(listed.count((*it)[1]) == 1,
                          file.path().filename() << " cites [" << (*it)[1].str()
                                                 << "], which docs/sources.md does not list");
        }
    }
    CHECK(used >= 100);
}

namespace {

/// `value` printed like printf's `format` (one conversion).
std::string printed(const char* format, double value) {
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

/// The summary of a shipped scenario, run as the docs run it (`--format csv`).
Table summary_of(const std::string& scenario) {
    const Cli r = sibsim({"run", scenario_path(scenario), "--format", "csv"});
    REQUIRE(r.status == 0);
    return parse_csv(r.out);
}

double mean_of(const Table& summary, const std::string& metric,
               const std::string& column = "mean") {
    return number(cell(summary, metric, column));
}

/// A page's text with every run of spaces and line ends as one space, so that rewrapping a
/// paragraph does not matter.
std::string prose_of(const std::string& page) {
    std::string text;
    for (char c : read_file(source_dir / page)) {
        const bool space = c == ' ' || c == '\n';
        if (!(space && !text.empty() && text.back() == ' ')) text += space ? ' ' : c;
    }
    return text;
}

void check_quoted(const std::string& page, const std::string& text, const std::string& phrase) {
    CHECK_MESSAGE(text.find(phrase) != std::string::npos,
                  page << " should say \"" << phrase << "\" (a figure quoted in prose)");
}

}  // namespace

TEST_CASE("docs: figures quoted in the prose of README.md and guide.md match the outputs") {
    // Shown outputs are compared by the page tests; these are the figures that sentences quote,
    // rounded as the sentences round them.
    const std::string readme = prose_of("README.md");
    const std::string guide = prose_of("docs/guide.md");

    const Table p = summary_of("peterborough.yaml");
    const double total = mean_of(p, "payments.total");
    check_quoted("README.md", readme, "expect to pay " + printed("£%.2fm", total / 1e6));
    check_quoted("README.md", readme,
                 "lose money in " + printed("%.0f%%", 100 * mean_of(p, "investors.any_loss")));
    check_quoted("README.md", readme,
                 "median IRR of " + printed("%.1f%%", 100 * mean_of(p, "investors.irr", "p50")));
    const std::string cohort_1 =
        printed("%.0f%%", 100 * mean_of(p, "rule.cohort-trigger.cohort-1.met"));
    check_quoted("README.md", readme, "10% trigger fires in " + cohort_1);

    const std::string moj = "payer.Ministry of Justice.paid";
    check_quoted("docs/guide.md", guide,
                 "expects to pay " + printed("£%.2fm", mean_of(p, moj) / 1e6) + " (±" +
                     printed("£%.2fm", mean_of(p, moj, "se") / 1e6));
    CHECK(mean_of(p, moj, "p5") == 0);  // "In 5% of worlds it pays nothing"
    check_quoted("docs/guide.md", guide,
                 "in 5% it pays at least " + printed("£%.2fm", mean_of(p, moj, "p95") / 1e6));
    check_quoted("docs/guide.md", guide, printed("£%.2fm", total / 1e6) + " on average");
    check_quoted("docs/guide.md", guide, "10% trigger fires in " + cohort_1);
    check_quoted(
        "docs/guide.md", guide,
        "pooled 7.5% trigger in " + printed("%.0f%%", 100 * mean_of(p, "rule.final-pooled.met")));

    const Table rikers = summary_of("rikers.yaml");
    const double any_loss = mean_of(rikers, "investors.any_loss");
    check_quoted("docs/guide.md", guide,
                 "`investors.any_loss` at " + printed("%.1f%%", 100 * any_loss) + ": in " +
                     printed("%.0f%%", 100 * any_loss));
    check_quoted(
        "docs/guide.md", guide,
        "p95 of `irr` is " + printed("%.1f%%", 100 * mean_of(rikers, "investors.irr", "p95")));

    const Cli compared = sibsim(
        {"compare", peterborough,
         (source_dir / "docs/examples/peterborough-pooled-only.yaml").string(), "--format", "csv"});
    REQUIRE(compared.status == 0);
    const Table c = parse_csv(compared.out);
    const auto thousands = [](double v) {  // 154366.8 -> "154,367"
        const std::string digits = printed("%.0f", v);
        std::string grouped;
        for (std::size_t i = 0; i < digits.size(); ++i) {
            if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
            grouped += digits[i];
        }
        return grouped;
    };
    check_quoted("docs/guide.md", guide,
                 "saves the payers £" +
                     thousands(-mean_of(c, "payments.total", "diff.peterborough-pooled-only")) +
                     " on average");
    check_quoted(
        "docs/guide.md", guide,
        "compare.csv has it in full, " +
            printed("%.10g", mean_of(c, "payments.total", "diff_se.peterborough-pooled-only")));
}

namespace {

/// GitHub's anchor of a heading: lower case, spaces as '-', punctuation other than '-' and '_'
/// dropped ("## 9. Provider costs and the investors' vehicle" →
/// 9-provider-costs-and-the-investors-vehicle).
std::string anchor_of(const std::string& heading) {
    std::string anchor;
    for (char c : heading) {
        const auto u = static_cast<unsigned char>(c);
        if (c == ' ')
            anchor += '-';
        else if (std::isalnum(u) || c == '-' || c == '_' || u >= 0x80)
            anchor += static_cast<char>(std::tolower(u));
    }
    return anchor;
}

struct Headings {
    std::set<std::string> anchors;   // of every heading
    std::set<std::string> sections;  // numbers of numbered headings: "6", "6.4", "7a"
};

Headings headings_of(const std::string& page) {
    Headings h;
    const std::regex heading(R"(^#+\s+(.*?)\s*$)"), number(R"(^([0-9]+[a-z]?(\.[0-9]+)*)\.?\s)");
    bool fenced = false;
    for (const auto& line : split_lines(read_file(source_dir / page))) {
        if (starts_with(ltrim(line), "```")) fenced = !fenced;
        std::smatch m, n;
        if (fenced || !std::regex_match(line, m, heading)) continue;
        const std::string text = m[1];
        h.anchors.insert(anchor_of(text));
        if (std::regex_search(text, n, number)) h.sections.insert(n[1]);
    }
    return h;
}

}  // namespace

TEST_CASE("docs: links between pages, and the sections that docs and code cite, exist") {
    std::map<std::string, Headings> headings;
    for (const auto& page : pages) headings[page] = headings_of(page);

    // Markdown links to a page of the repository, with or without #anchor.
    const std::regex link(R"(\]\(([^)#\s]*)(#([^)\s]*))?\))");
    std::size_t links = 0;
    for (const auto& page : pages) {
        const std::string text = read_file(source_dir / page);
        for (auto it = std::sregex_iterator(text.begin(), text.end(), link);
             it != std::sregex_iterator(); ++it) {
            const std::string target = (*it)[1], anchor = (*it)[3];
            if (starts_with(target, "http")) continue;
            const std::string resolved =
                target.empty()
                    ? page
                    : (fs::path(page).parent_path() / target).lexically_normal().generic_string();
            ++links;
            CHECK_MESSAGE(fs::exists(source_dir / resolved),
                          page << " links to " << target << ", which does not exist");
            if (!(*it)[2].matched) continue;
            REQUIRE_MESSAGE(headings.count(resolved) == 1, page << " links into " << resolved);
            CHECK_MESSAGE(headings[resolved].anchors.count(anchor) == 1,
                          page << " links to " << resolved << "#" << anchor
                               << ", a heading that does not exist");
        }
    }
    CHECK(links >= 20);

    // "docs/model.md section 7.6", "model.md §6", "Section 9.4 of [model.md]": the page named just
    // before (or right after) the number; a number with no page named near it is the page's own.
    const std::regex cited(R"((§ ?|[Ss]ection )([0-9]+[a-z]?(\.[0-9]+)*))");
    const std::regex page_name(
        R"((model|scenario-format|outputs|limits|guide|architecture|sources)\.md)");
    std::vector<std::pair<std::string, bool>> files;  // path, is a page
    for (const auto& page : pages) files.emplace_back(page, true);
    for (const char* dir : {"engine/sib", "cli", "tests"})
        for (const auto& entry : fs::directory_iterator(source_dir / dir))
            if (entry.path().extension() == ".cpp" || entry.path().extension() == ".hpp")
                files.emplace_back(fs::relative(entry.path(), source_dir).generic_string(), false);
    std::size_t sections = 0;
    for (const auto& entry : files) {
        const std::string& file = entry.first;
        const bool is_page = entry.second;
        const std::string text = read_file(source_dir / file);
        for (auto it = std::sregex_iterator(text.begin(), text.end(), cited);
             it != std::sregex_iterator(); ++it) {
            const auto at = static_cast<std::size_t>(it->position());
            const std::size_t from = at > 60 ? at - 60 : 0;
            const std::string before = text.substr(from, at - from);
            const std::string after = text.substr(at, static_cast<std::size_t>(it->length()) + 20);
            std::string named;
            for (auto p = std::sregex_iterator(before.begin(), before.end(), page_name);
                 p != std::sregex_iterator(); ++p)
                named = (*p)[0];  // the nearest before
            std::smatch next;
            if (std::regex_search(after, next, page_name) && named.empty()) named = next[0];
            if (named.empty() && !is_page) continue;  // code names its page
            const std::string target = named.empty() ? file : "docs/" + named;
            ++sections;
            CHECK_MESSAGE(headings[target].sections.count((*it)[2]) == 1,
                          file << " cites " << target << " section " << (*it)[2].str()
                               << ", which has no such heading");
        }
    }
    CHECK(sections >= 20);
}
