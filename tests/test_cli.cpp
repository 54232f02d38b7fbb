// The `run` and `validate` commands, driven in-process through sib::cli::main (docs/outputs.md):
// exit statuses, what goes to stdout and stderr, the files `run -o` writes and their
// headers, the provenance in run.csv, overrides with --set, and reproducibility across runs and
// thread counts.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli_helpers.hpp"
#include "commands.hpp"
#include "sib/sha256.hpp"

namespace fs = std::filesystem;
using namespace sib::test;

namespace {

const Row summary_header = {"metric", "mean", "sd",  "se",  "p5", "p25",
                            "p50",    "p75",  "p95", "min", "max"};

/// Runs `sibsim run` into a new directory `name` under `dir`; the run must succeed.
fs::path run_into(const TempDir& dir, const std::string& name, std::vector<std::string> args,
                  const std::string& scenario = peterborough) {
    const fs::path out = dir.path() / name;
    args.insert(args.begin(), {"run", scenario, "-o", out.string(), "--quiet"});
    const Cli r = sibsim(args);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    return out;
}

/// A small JSON reader for what --format json prints: objects, numbers and strings. Flattens the
/// document to (key path, number) pairs in document order; any syntax error fails the test.
class Json {
  public:
    using Path = std::vector<std::string>;
    explicit Json(std::string text) : text_(std::move(text)) {
        skip_space();
        REQUIRE_MESSAGE(peek() == '{', "JSON output is not an object");
        value({});
        skip_space();
        REQUIRE_MESSAGE(pos_ == text_.size(), "text after the JSON object at " << pos_);
    }
    const std::vector<std::pair<Path, double>>& numbers() const { return numbers_; }
    /// The top-level keys, in order.
    const std::vector<std::string>& keys() const { return top_keys_; }
    double at(const Path& path) const {
        for (const auto& [p, v] : numbers_)
            if (p == path) return v;
        FAIL("no JSON value at " << join(path));
        return 0;
    }
    static std::string join(const Path& p) {
        std::string s;
        for (const auto& k : p) s += (s.empty() ? "" : " / ") + k;
        return s;
    }

  private:
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                       text_[pos_] == '\t' || text_[pos_] == '\r'))
            ++pos_;
    }
    void expect(char c) {
        skip_space();
        REQUIRE_MESSAGE(peek() == c, "expected '" << c << "' at " << pos_ << " in JSON");
        ++pos_;
    }
    std::string string_literal() {
        expect('"');
        std::string s;
        while (peek() != '"') {
            REQUIRE_MESSAGE(pos_ < text_.size(), "unterminated JSON string");
            char c = text_[pos_++];
            REQUIRE_MESSAGE(static_cast<unsigned char>(c) >= 0x20,
                            "control character in a JSON string");
            if (c == '\\') {
                REQUIRE(pos_ < text_.size());
                c = text_[pos_++];
                switch (c) {
                    case '"':
                    case '\\':
                    case '/':
                        s += c;
                        break;
                    case 'n':
                        s += '\n';
                        break;
                    case 't':
                        s += '\t';
                        break;
                    case 'r':
                        s += '\r';
                        break;
                    case 'b':
                        s += '\b';
                        break;
                    case 'f':
                        s += '\f';
                        break;
                    case 'u': {
                        REQUIRE(pos_ + 4 <= text_.size());
                        const unsigned code =
                            static_cast<unsigned>(std::stoul(text_.substr(pos_, 4), nullptr, 16));
                        pos_ += 4;
                        REQUIRE_MESSAGE(code < 0x80, "only ASCII \\u escapes expected");
                        s += static_cast<char>(code);
                        break;
                    }
                    default:
                        FAIL("bad JSON escape \\" << c);
                }
            } else {
                s += c;
            }
        }
        ++pos_;
        return s;
    }
    void value(const Path& path) {
        skip_space();
        if (peek() == '{') {
            ++pos_;
            std::set<std::string> seen;
            skip_space();
            if (peek() == '}') {
                ++pos_;
                return;
            }
            for (;;) {
                const std::string key = string_literal();
                REQUIRE_MESSAGE(seen.insert(key).second, "duplicate JSON key '" << key << "'");
                if (path.empty()) top_keys_.push_back(key);
                expect(':');
                Path inner = path;
                inner.push_back(key);
                value(inner);
                skip_space();
                if (peek() == ',') {
                    ++pos_;
                    continue;
                }
                expect('}');
                return;
            }
        }
        if (peek() == '"') {
            string_literal();
            return;
        }
        // A number exactly as JSON's grammar has it.
        static const std::regex grammar(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)");
        std::size_t end = pos_;
        while (end < text_.size() &&
               (std::isdigit(static_cast<unsigned char>(text_[end])) || text_[end] == '-' ||
                text_[end] == '+' || text_[end] == '.' || text_[end] == 'e' || text_[end] == 'E'))
            ++end;
        const std::string literal = text_.substr(pos_, end - pos_);
        REQUIRE_MESSAGE(std::regex_match(literal, grammar),
                        "not a JSON number: '" << literal << "' at " << pos_);
        numbers_.push_back({path, number(literal)});
        pos_ = end;
    }

    std::string text_;
    std::size_t pos_ = 0;
    std::vector<std::pair<Path, double>> numbers_;
    std::vector<std::string> top_keys_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// validate

TEST_CASE("validate prints 'FILE: ok' for each valid file and exits 0") {
    const std::string a = peterborough, b = scenario_path("augsburg.yaml");
    const Cli r = sibsim({"validate", a, b});
    CHECK(r.status == 0);
    CHECK(r.out == a + ": ok\n" + b + ": ok\n");
    CHECK(r.err == "");
}

TEST_CASE("validate: an invalid file exits 2 with located errors on stderr and nothing on stdout") {
    const std::string bad = data_path("invalid/unknown-key-hint.yaml");
    const Cli r = sibsim({"validate", bad});
    CHECK(r.status == 2);
    CHECK(r.out == "");
    REQUIRE(!r.err.empty());
    // Every line: FILE:LINE:COL: error: message, with a real position in the file.
    static const std::regex located(R"(^(.+):([0-9]+):([0-9]+): error: (.+)$)");
    std::istringstream lines(r.err);
    int count = 0;
    for (std::string line; std::getline(lines, line); ++count) {
        std::smatch m;
        REQUIRE_MESSAGE(std::regex_match(line, m, located), "not located: " << line);
        CHECK(m[1] == bad);
        CHECK(std::stoi(m[2]) >= 1);
        CHECK(std::stoi(m[3]) >= 1);
    }
    CHECK(count >= 1);
    CHECK(r.err.find("did you mean") != std::string::npos);
}

TEST_CASE("validate: several files, one bad: ok lines for the good ones only, exit 2") {
    const std::string good1 = peterborough, bad = data_path("invalid/several-errors.yaml"),
                      good2 = scenario_path("augsburg.yaml");
    const Cli r = sibsim({"validate", good1, bad, good2});
    CHECK(r.status == 2);
    CHECK(r.out == good1 + ": ok\n" + good2 + ": ok\n");
    // All of the bad file's errors are reported at once, each naming it; none names a good file.
    std::istringstream lines(r.err);
    int count = 0;
    for (std::string line; std::getline(lines, line); ++count) {
        CHECK_MESSAGE(line.rfind(bad + ":", 0) == 0, line);
        CHECK(line.find(": error: ") != std::string::npos);
    }
    CHECK(count >= 2);
}

TEST_CASE("validate: a file that does not exist is invalid input") {
    TempDir dir;
    const std::string missing = dir / "no-such-file.yaml";
    const Cli r = sibsim({"validate", missing});
    CHECK(r.status == 2);
    CHECK(r.out == "");
    CHECK(r.err.find(missing) != std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// run -o: the files and their form

TEST_CASE(
    "run -o writes exactly summary.csv, cashflows.csv and run.csv, with docs/model.md headers") {
    TempDir dir;
    const fs::path out = run_into(dir, "out", {"-n", "64", "--seed", "3", "-j", "2"});
    CHECK(entries_of(out) == std::vector<std::string>{"cashflows.csv", "run.csv", "summary.csv"});

    const Table summary = read_csv(out / "summary.csv");
    REQUIRE(summary.size() > 1);
    CHECK(summary[0] == summary_header);
    std::set<std::string> metrics;
    for (std::size_t i = 1; i < summary.size(); ++i) {
        CHECK_MESSAGE(summary[i].size() == 11, "row " << i);
        CHECK_MESSAGE(metrics.insert(summary[i][0]).second, "metric twice: " << summary[i][0]);
        for (std::size_t c = 1; c < summary[i].size(); ++c) number(summary[i][c]);
        // min ≤ p5 ≤ ... ≤ p95 ≤ max and min ≤ mean ≤ max.
        const double mn = number(summary[i][9]), mx = number(summary[i][10]);
        double previous = mn;
        for (std::size_t c = 4; c <= 8; ++c) {
            CHECK(number(summary[i][c]) >= previous);
            previous = number(summary[i][c]);
        }
        CHECK(previous <= mx);
        CHECK(number(summary[i][1]) >= mn - 1e-9 * std::abs(mn));
        CHECK(number(summary[i][1]) <= mx + 1e-9 * std::abs(mx));
    }
    for (const char* m :
         {"payments.total", "payments.cohort-trigger", "payments.final-pooled",
          "payer.Ministry of Justice.paid", "investors.irr", "rule.cohort-trigger.cohort-1.met",
          "rule.final-pooled.met", "outcome.reconviction.cohort-2.improvement",
          "outcome.reconviction.caused"})
        CHECK_MESSAGE(metrics.count(m) == 1, m);

    const Table cashflows = read_csv(out / "cashflows.csv");
    REQUIRE(cashflows.size() == 1 + 28);  // horizon 28
    const Row cash_header = {"period",
                             "date",
                             "Ministry of Justice.mean",
                             "Ministry of Justice.p5",
                             "Ministry of Justice.p95",
                             "Big Lottery Fund.mean",
                             "Big Lottery Fund.p5",
                             "Big Lottery Fund.p95",
                             "investors.mean",
                             "investors.p5",
                             "investors.p95",
                             "provider.mean",
                             "provider.p5",
                             "provider.p95"};
    CHECK(cashflows[0] == cash_header);
    for (std::size_t t = 1; t < cashflows.size(); ++t) {
        REQUIRE(cashflows[t].size() == cash_header.size());
        CHECK(cashflows[t][0] == std::to_string(t - 1));
    }
    CHECK(cashflows[1][1] == "2010-09-01");  // start: 2010-09, quarters
    CHECK(cashflows[2][1] == "2010-12-01");
    CHECK(cashflows[28][1] == "2017-06-01");

    const Table provenance = read_csv(out / "run.csv");
    REQUIRE(provenance.size() == 7);
    CHECK(provenance[0] == Row{"key", "value"});
    CHECK(provenance[1][0] == "sibsim_version");
    CHECK(provenance[2] == Row{"scenario", peterborough});
    CHECK(provenance[3] == Row{"scenario_sha256", sib::sha256_hex(read_file(peterborough))});
    CHECK(provenance[4] == Row{"seed", "3"});
    CHECK(provenance[5] == Row{"trials", "64"});
    CHECK(provenance[6] == Row{"quantiles", "exact"});
}

TEST_CASE("run --per-trial adds trials.csv: one row per trial, one column per metric") {
    TempDir dir;
    const fs::path out = run_into(dir, "out", {"-n", "37", "--per-trial", "-j", "2"});
    CHECK(entries_of(out) ==
          std::vector<std::string>{"cashflows.csv", "run.csv", "summary.csv", "trials.csv"});
    const Table summary = read_csv(out / "summary.csv");
    const Table trials = read_csv(out / "trials.csv");
    REQUIRE(trials.size() == 1 + 37);
    Row expected_header = {"trial"};
    for (std::size_t i = 1; i < summary.size(); ++i) expected_header.push_back(summary[i][0]);
    CHECK(trials[0] == expected_header);
    for (std::size_t t = 1; t < trials.size(); ++t) {
        REQUIRE(trials[t].size() == expected_header.size());
        CHECK(trials[t][0] == std::to_string(t - 1));
    }
    // The summary is of these trials: the mean and the extremes of payments.total agree.
    const std::size_t col = column_of(trials, "payments.total");
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (std::size_t t = 1; t < trials.size(); ++t) {
        const double v = number(trials[t][col]);
        sum += v;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    CHECK(sum / 37 ==
          doctest::Approx(number(cell(summary, "payments.total", "mean"))).epsilon(1e-9));
    CHECK(lo == number(cell(summary, "payments.total", "min")));
    CHECK(hi == number(cell(summary, "payments.total", "max")));
}

TEST_CASE(
    "run.csv records the version, scenario, its SHA-256, each --set in order, seed, trials and "
    "the quantile method") {
    TempDir dir;
    const fs::path out =
        run_into(dir, "out",
                 {"-n", "20", "--seed", "11", "--set", "payments.cohort-trigger.threshold=0.2",
                  "--set", "outcomes.reconviction.effect.mean=0", "-j", "1"});
    const Cli version = sibsim({"--version"});
    REQUIRE(version.status == 0);
    REQUIRE(version.out.rfind("sibsim ", 0) == 0);
    const std::string v =
        version.out.substr(7, version.out.size() - 8);  // without "sibsim " and "\n"
    const Table expected = {{"key", "value"},
                            {"sibsim_version", v},
                            {"scenario", peterborough},
                            {"scenario_sha256", sib::sha256_hex(read_file(peterborough))},
                            {"set", "payments.cohort-trigger.threshold=0.2"},
                            {"set", "outcomes.reconviction.effect.mean=0"},
                            {"seed", "11"},
                            {"trials", "20"},
                            {"quantiles", "exact"}};
    CHECK(read_csv(out / "run.csv") == expected);
    // The digest is of the file's text: 64 lower-case hex digits, not of the overridden scenario.
    CHECK(std::regex_match(expected[3][1], std::regex("[0-9a-f]{64}")));
}

TEST_CASE("run.csv takes seed and trials from the scenario when not given") {
    TempDir dir;
    const std::string text = read_file(peterborough);
    // A copy with a small simulation section; everything else as in the file.
    std::string small = text;
    const auto at = small.find("  trials: 10000");
    REQUIRE(at != std::string::npos);
    small.replace(at, 15, "  trials: 30");
    const auto seed_at = small.find("  seed: 1\n");
    REQUIRE(seed_at != std::string::npos);
    small.replace(seed_at, 10, "  seed: 42\n");
    write_file(dir.path() / "small.yaml", small);
    const fs::path out = run_into(dir, "out", {"-j", "1"}, dir / "small.yaml");
    const Table provenance = read_csv(out / "run.csv");
    CHECK(row_of(provenance, "seed")[1] == "42");
    CHECK(row_of(provenance, "trials")[1] == "30");
    CHECK(row_of(provenance, "scenario_sha256")[1] == sib::sha256_hex(small));
    CHECK(row_of(provenance, "scenario_sha256")[1] != sib::sha256_hex(text));
}

// ---------------------------------------------------------------------------------------------
// Invalid input, usage errors and write failures

TEST_CASE("invalid input exits 2 and does not create the -o directory") {
    TempDir dir;
    const std::string out = dir / "out";
    SUBCASE("bad YAML") {
        write_file(dir.path() / "bad.yaml", "sibsim: 1\nname: [unclosed\n");
        const Cli r = sibsim({"run", dir / "bad.yaml", "-n", "10", "-o", out});
        CHECK(r.status == 2);
        CHECK(r.err.find(dir / "bad.yaml") != std::string::npos);
    }
    SUBCASE("a scenario with a located error") {
        const Cli r =
            sibsim({"run", data_path("invalid/unknown-key-hint.yaml"), "-n", "10", "-o", out});
        CHECK(r.status == 2);
        CHECK(r.err.find(": error: ") != std::string::npos);
    }
    SUBCASE("a scenario file that does not exist") {
        const Cli r = sibsim({"run", dir / "missing.yaml", "-n", "10", "-o", out});
        CHECK(r.status == 2);
    }
    SUBCASE("a --set path that names nothing") {
        const Cli r = sibsim({"run", peterborough, "-n", "10", "-o", out, "--set",
                              "payments.cohort-triger.threshold=1"});
        CHECK(r.status == 2);
        CHECK(r.err.find("did you mean 'cohort-trigger'") != std::string::npos);
    }
    SUBCASE("a --set value out of range") {
        const Cli r = sibsim({"run", peterborough, "-n", "10", "-o", out, "--set",
                              "payments.cohort-trigger.threshold=-1"});
        CHECK(r.status == 2);
        CHECK(r.err.find("threshold") != std::string::npos);
    }
    SUBCASE("a --set without '='") {
        const Cli r = sibsim({"run", peterborough, "-n", "10", "-o", out, "--set",
                              "payments.cohort-trigger.threshold"});
        CHECK(r.status == 2);
    }
    CHECK(!fs::exists(out));
    CHECK(entries_of(dir.path()).size() <= 1);  // at most the bad.yaml written above
}

TEST_CASE("usage errors exit 2 and write nothing") {
    TempDir dir;
    const std::string out = dir / "out";
    std::vector<std::string> args;
    SUBCASE("unknown option") {
        args = {"run", peterborough, "--bogus", "-o", out};
    }
    SUBCASE("-n 0") {
        args = {"run", peterborough, "-n", "0", "-o", out};
    }
    SUBCASE("-n not a number") {
        args = {"run", peterborough, "-n", "many", "-o", out};
    }
    SUBCASE("-j 0") {
        args = {"run", peterborough, "-j", "0", "-o", out};
    }
    SUBCASE("--format xml") {
        args = {"run", peterborough, "--format", "xml", "-o", out};
    }
    SUBCASE("no scenario") {
        args = {"run", "-o", out};
    }
    SUBCASE("no subcommand") {
        args = {"-o", out};
    }
    SUBCASE("unknown subcommand") {
        args = {"simulate", peterborough};
    }
    SUBCASE("validate with no file") {
        args = {"validate"};
    }
    const Cli r = sibsim(args);
    CHECK(r.status == 2);
    CHECK(!r.err.empty());
    CHECK(!fs::exists(out));
}

TEST_CASE("a write failure exits 1 with a message naming the path, and writes nothing") {
    TempDir dir;
    const fs::path blocker = dir.path() / "not-a-directory";
    write_file(blocker, "a regular file\n");
    SUBCASE("-o under a regular file") {
        const std::string out = (blocker / "out").string();
        const Cli r = sibsim({"run", peterborough, "-n", "10", "-j", "1", "-o", out, "--quiet"});
        CHECK(r.status == 1);
        CHECK_MESSAGE(r.err.find(out) != std::string::npos, r.err);
        CHECK(r.out == "");
    }
    SUBCASE("-o naming a regular file") {
        const Cli r =
            sibsim({"run", peterborough, "-n", "10", "-j", "1", "-o", blocker.string(), "--quiet"});
        CHECK(r.status == 1);
        CHECK_MESSAGE(r.err.find(blocker.string()) != std::string::npos, r.err);
    }
    CHECK(entries_of(dir.path()) == std::vector<std::string>{"not-a-directory"});
    CHECK(read_file(blocker) == "a regular file\n");
}

// ---------------------------------------------------------------------------------------------
// stdout formats

TEST_CASE("--format json prints one JSON object keyed by metric, with the summary's numbers") {
    TempDir dir;
    const std::string out = dir / "out";
    const Cli r =
        sibsim({"run", peterborough, "-n", "50", "-j", "2", "--format", "json", "-o", out});
    REQUIRE(r.status == 0);
    CHECK(r.out.front() == '{');
    CHECK(r.out.back() == '\n');
    const Json json(r.out);
    const Table summary = read_csv(fs::path(out) / "summary.csv");
    // Keys: the metrics of summary.csv, in its order; each an object of its ten statistics.
    std::vector<std::string> metrics;
    for (std::size_t i = 1; i < summary.size(); ++i) metrics.push_back(summary[i][0]);
    CHECK(json.keys() == metrics);
    REQUIRE(json.numbers().size() == metrics.size() * 10);
    for (std::size_t i = 1; i < summary.size(); ++i)
        for (std::size_t c = 1; c < summary_header.size(); ++c)
            CHECK_MESSAGE(json.at({summary[i][0], summary_header[c]}) == number(summary[i][c]),
                          summary[i][0] << " " << summary_header[c]);
    CHECK(json.at({"payments.total", "mean"}) > 0);
}

TEST_CASE("--format csv prints summary.csv; --quiet prints nothing; the table names the metrics") {
    TempDir dir;
    const std::string out = dir / "out";
    const Cli csv =
        sibsim({"run", peterborough, "-n", "40", "-j", "1", "--format", "csv", "-o", out});
    REQUIRE(csv.status == 0);
    CHECK(csv.out == read_file(fs::path(out) / "summary.csv"));
    CHECK(parse_csv(csv.out)[0] == summary_header);

    const std::string quiet_out = dir / "quiet";
    const Cli quiet =
        sibsim({"run", peterborough, "-n", "40", "-j", "1", "--quiet", "-o", quiet_out});
    CHECK(quiet.status == 0);
    CHECK(quiet.out == "");
    CHECK(quiet.err == "");
    // --quiet still writes the files, and the same ones.
    CHECK(read_file(fs::path(quiet_out) / "summary.csv") == csv.out);

    const Cli table = sibsim({"run", peterborough, "-n", "40", "-j", "1"});
    CHECK(table.status == 0);
    CHECK(table.out.find("Peterborough SIB (two cohorts)") != std::string::npos);
    CHECK(table.out.find("payments.total") != std::string::npos);
    CHECK(table.out.find("investors.irr") != std::string::npos);
}

TEST_CASE("--version prints 'sibsim X.Y.Z'") {
    const Cli r = sibsim({"--version"});
    CHECK(r.status == 0);
    CHECK_MESSAGE(std::regex_match(r.out, std::regex("sibsim [0-9]+\\.[0-9]+\\.[0-9]+\n")), r.out);
}

TEST_CASE("--help of each subcommand exits 0 and shows an example") {
    for (const char* command : {"run", "validate", "sweep", "compare", "settle"}) {
        CAPTURE(command);
        const Cli r = sibsim({command, "--help"});
        CHECK(r.status == 0);
        CHECK(r.out.find("Example:") != std::string::npos);
        CHECK(r.out.find(std::string("sibsim ") + command) != std::string::npos);
    }
    const Cli top = sibsim({"--help"});
    CHECK(top.status == 0);
    for (const char* command : {"run", "validate", "sweep", "compare", "settle"})
        CHECK_MESSAGE(top.out.find(command) != std::string::npos, command);
}

// ---------------------------------------------------------------------------------------------
// --set

TEST_CASE("--set of a nested path: no effect on average lowers the improvement and the payments") {
    TempDir dir;
    const Table base = read_csv(run_into(dir, "base", {"-n", "300", "-j", "2"}) / "summary.csv");
    const fs::path set_dir = run_into(
        dir, "set", {"-n", "300", "-j", "2", "--set", "outcomes.reconviction.effect.mean=0"});
    const Table set = read_csv(set_dir / "summary.csv");
    const double improvement_base = number(cell(base, "outcome.reconviction.improvement", "mean"));
    const double improvement_set = number(cell(set, "outcome.reconviction.improvement", "mean"));
    // Effect -0.09 on average against 0: about 9 points of improvement lost (se well under 1
    // point).
    CHECK(improvement_base == doctest::Approx(0.09).epsilon(0.2));
    CHECK(std::abs(improvement_set) < 0.02);
    CHECK(number(cell(set, "payments.total", "mean")) <
          0.5 * number(cell(base, "payments.total", "mean")));
    CHECK(number(cell(set, "outcome.reconviction.caused", "mean")) <
          number(cell(base, "outcome.reconviction.caused", "mean")));
    CHECK(row_of(read_csv(set_dir / "run.csv"), "set") ==
          Row{"set", "outcomes.reconviction.effect.mean=0"});
}

TEST_CASE("--set of a named path: a higher threshold is met less often, trial by trial") {
    TempDir dir;
    const fs::path base_dir = run_into(dir, "base", {"-n", "300", "-j", "2", "--per-trial"});
    const fs::path set_dir = run_into(
        dir, "set",
        {"-n", "300", "-j", "2", "--per-trial", "--set", "payments.cohort-trigger.threshold=0.2"});
    const Table base = read_csv(base_dir / "summary.csv"), set = read_csv(set_dir / "summary.csv");
    const std::string met = "rule.cohort-trigger.cohort-1.met";
    CHECK(number(cell(set, met, "mean")) < number(cell(base, met, "mean")) - 0.1);
    CHECK(number(cell(set, "payments.cohort-trigger", "mean")) <
          number(cell(base, "payments.cohort-trigger", "mean")));

    // Common random numbers: the measured improvements are the same in every trial; only the
    // condition moves, and it can only fail more often.
    const Table trials_base = read_csv(base_dir / "trials.csv"),
                trials_set = read_csv(set_dir / "trials.csv");
    REQUIRE(trials_base.size() == trials_set.size());
    const std::size_t met_col = column_of(trials_base, met);
    const std::size_t imp_col = column_of(trials_base, "outcome.reconviction.cohort-1.improvement");
    for (std::size_t t = 1; t < trials_base.size(); ++t) {
        CHECK(trials_set[t][imp_col] == trials_base[t][imp_col]);
        CHECK(number(trials_set[t][met_col]) <= number(trials_base[t][met_col]));
        if (number(trials_base[t][imp_col]) >= 0.2) CHECK(trials_set[t][met_col] == "1");
    }
    CHECK(row_of(read_csv(set_dir / "run.csv"), "set") ==
          Row{"set", "payments.cohort-trigger.threshold=0.2"});
}

TEST_CASE("--set of a path that names nothing exits 2 with 'did you mean'") {
    for (const std::string& set : {std::string("outcomes.reconviction.efect.mean=0"),
                                   std::string("payments.cohort-triger.threshold=0.2"),
                                   std::string("payments.cohort-trigger.treshold=0.2"),
                                   std::string("cohorts.cohort-3.size=10")}) {
        CAPTURE(set);
        const Cli r = sibsim({"run", peterborough, "-n", "10", "--set", set});
        CHECK(r.status == 2);
        CHECK(r.out == "");
        CHECK(r.err.find("did you mean") != std::string::npos);
        CHECK(r.err.find(peterborough + ":") == 0);  // located in the scenario file
    }
}

// ---------------------------------------------------------------------------------------------
// Reproducibility

TEST_CASE("--seed changes the results; the same seed gives identical files") {
    TempDir dir;
    const fs::path a = run_into(dir, "a", {"-n", "200", "--seed", "5", "-j", "2", "--per-trial"});
    const fs::path b = run_into(dir, "b", {"-n", "200", "--seed", "5", "-j", "2", "--per-trial"});
    const fs::path c = run_into(dir, "c", {"-n", "200", "--seed", "6", "-j", "2", "--per-trial"});
    for (const char* file : {"summary.csv", "cashflows.csv", "trials.csv", "run.csv"}) {
        CAPTURE(file);
        CHECK(read_file(a / file) == read_file(b / file));
        CHECK(read_file(a / file) != read_file(c / file));
    }
    CHECK(cell(read_csv(a / "summary.csv"), "payments.total", "mean") !=
          cell(read_csv(c / "summary.csv"), "payments.total", "mean"));
}

TEST_CASE("-j 1 and -j 2 (and -j 3) write byte-identical files") {
    // 2500 trials: three blocks of work, so threads really share the trials.
    TempDir dir;
    const fs::path one = run_into(dir, "j1", {"-n", "2500", "-j", "1", "--per-trial"});
    const fs::path two = run_into(dir, "j2", {"-n", "2500", "-j", "2", "--per-trial"});
    const fs::path three = run_into(dir, "j3", {"-n", "2500", "-j", "3", "--per-trial"});
    for (const char* file : {"summary.csv", "cashflows.csv", "trials.csv", "run.csv"}) {
        CAPTURE(file);
        const std::string expected = read_file(one / file);
        CHECK(read_file(two / file) == expected);
        CHECK(read_file(three / file) == expected);
    }
}

TEST_CASE("a run into an existing directory replaces its files and leaves no temporary file") {
    TempDir dir;
    const fs::path out = run_into(dir, "out", {"-n", "20", "--seed", "1", "-j", "1"});
    const std::string first = read_file(out / "summary.csv");
    run_into(dir, "out", {"-n", "20", "--seed", "2", "-j", "1"});
    CHECK(entries_of(out) == std::vector<std::string>{"cashflows.csv", "run.csv", "summary.csv"});
    CHECK(read_file(out / "summary.csv") != first);
    CHECK(row_of(read_csv(out / "run.csv"), "seed")[1] == "2");
}

TEST_CASE("--set takes any YAML value, and a later --set of the same path wins") {
    TempDir dir;
    // A whole distribution as the value: no effect on average, little spread.
    const Table flat =
        read_csv(run_into(dir, "flat",
                          {"-n", "200", "-j", "2", "--set",
                           "outcomes.reconviction.effect={dist: normal, mean: 0, sd: 0.01}"}) /
                 "summary.csv");
    CHECK(std::abs(number(cell(flat, "outcome.reconviction.improvement", "mean"))) < 0.02);
    CHECK(number(cell(flat, "outcome.reconviction.improvement", "sd")) < 0.045);

    const fs::path twice =
        run_into(dir, "twice",
                 {"-n", "200", "-j", "2", "--set", "payments.cohort-trigger.threshold=0", "--set",
                  "payments.cohort-trigger.threshold=0.3"});
    const fs::path once = run_into(
        dir, "once", {"-n", "200", "-j", "2", "--set", "payments.cohort-trigger.threshold=0.3"});
    CHECK(read_file(twice / "summary.csv") == read_file(once / "summary.csv"));
    int sets = 0;
    for (const auto& row : read_csv(twice / "run.csv")) sets += row[0] == "set" ? 1 : 0;
    CHECK(sets == 2);
}

// Regression: CLI11 let a repeatable option go on taking words, so `run --set PATH=V SCENARIO`
// took the scenario path as a second --set and stopped with "SCENARIO is required".
TEST_CASE("repeatable options take one value each: the scenario may follow them") {
    TempDir dir;
    const std::string set = "payments.cohort-trigger.threshold=0.3";
    const std::string after = dir / "after", before = dir / "before";
    REQUIRE(
        sibsim({"run", peterborough, "-n", "200", "-j", "1", "--set", set, "-o", after, "--quiet"})
            .status == 0);
    const Cli r = sibsim({"run", "--set", set, "--prob", "payments.total>0", peterborough, "-n",
                          "200", "-j", "1", "-o", before, "--quiet"});
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(read_file(fs::path(before) / "summary.csv") ==
          read_file(fs::path(after) / "summary.csv"));
    const Cli sweep = sibsim({"sweep", "--vary", "payments.cohort-trigger.threshold=0.1,0.2",
                              "--set", set, peterborough, "-n", "100", "-j", "1", "--quiet"});
    CHECK_MESSAGE(sweep.status == 0, sweep.err);
    const Cli two = sibsim({"run", "--set", set, "--set", "simulation.seed=3", peterborough,
                            "extra.yaml", "-n", "10", "--quiet"});
    CHECK(two.status == 2);  // a second path is still an error, not a third override
    CHECK(two.err.find("extra.yaml") != std::string::npos);
}

// Regression: CLI11 once converted "-1" into an unsigned seed by wrapping it to
// 18446744073709551615, so `--seed -1` ran (exit 0), while `simulation: {seed: -1}` in a file is
// rejected (tests/data/invalid/seed-negative.yaml).
TEST_CASE("--seed -1 is a usage error, as a negative seed in the file is") {
    TempDir dir;
    const std::string out = dir / "out";
    const Cli r =
        sibsim({"run", peterborough, "-n", "5", "-j", "1", "--seed", "-1", "-o", out, "--quiet"});
    CHECK(r.status == 2);
    CHECK(!fs::exists(out));
}

// ---------------------------------------------------------------------------------------------
// --quantiles exact|sketch|auto

TEST_CASE("--quantiles: its values, and the usage errors (exit 2, nothing written)") {
    TempDir dir;
    const std::string out = dir / "out";
    SUBCASE("an unknown method") {
        const Cli r = sibsim({"run", peterborough, "-n", "10", "--quantiles", "approx", "-o", out});
        CHECK(r.status == 2);
        CHECK(r.err.find("--quantiles") != std::string::npos);
    }
    SUBCASE("sketch with --per-trial: trials.csv needs every value") {
        const Cli r = sibsim({"run", peterborough, "-n", "10", "--quantiles", "sketch",
                              "--per-trial", "-o", out, "--quiet"});
        CHECK(r.status == 2);
        CHECK(r.err.find("sibsim: error: --quantiles sketch") == 0);
        CHECK(r.err.find("--per-trial") != std::string::npos);
    }
    SUBCASE("exact beyond the 2 GiB budget: refused before any trial, naming the estimate") {
        // 10^9 trials: a pilot of 2^20 trials and about 1.9% of the values near the ranks, for
        // 24 metrics, plus the block accumulators: about 9.5 GiB.
        const Cli r = sibsim({"run", peterborough, "-n", "1000000000", "--quantiles", "exact", "-o",
                              out, "--quiet"});
        CHECK(r.status == 2);
        CHECK(r.err.find("sibsim: error: --quantiles exact") == 0);
        CHECK(std::regex_search(r.err, std::regex("about [0-9]+\\.[0-9] GiB")));
        CHECK(r.err.find("use --quantiles sketch") != std::string::npos);
    }
    SUBCASE("compare keeps every value for its pairs and has no quantiles") {
        const Cli r = sibsim({"compare", peterborough, peterborough, "-n", "10", "--quantiles",
                              "sketch", "-o", out, "--quiet"});
        CHECK(r.status == 2);
        CHECK(r.err.find("compare") != std::string::npos);
        CHECK(r.err.find("paired") != std::string::npos);
    }
    SUBCASE("sweep has no quantiles") {
        const Cli r =
            sibsim({"sweep", peterborough, "--vary", "payments.cohort-trigger.threshold=0.1,0.2",
                    "-n", "10", "--quantiles", "exact", "-o", out, "--quiet"});
        CHECK(r.status == 2);
        CHECK(r.err.find("sweep") != std::string::npos);
    }
    CHECK(!fs::exists(out));
}

TEST_CASE("run.csv records the quantile method used: exact by default, sketch when asked") {
    TempDir dir;
    CHECK(row_of(read_csv(run_into(dir, "auto", {"-n", "50", "-j", "1"}) / "run.csv"),
                 "quantiles")[1] == "exact");
    CHECK(row_of(read_csv(run_into(dir, "exact",
                                   {"-n", "50", "-j", "1", "--quantiles", "exact", "--per-trial"}) /
                          "run.csv"),
                 "quantiles")[1] == "exact");
    CHECK(
        row_of(read_csv(run_into(dir, "sketch", {"-n", "50", "-j", "1", "--quantiles", "sketch"}) /
                        "run.csv"),
               "quantiles")[1] == "sketch");
}

TEST_CASE("--quantiles sketch and exact: byte-identical files for -j 1, 2 and 3") {
    // 40,000 trials: 40 blocks, and more values than the sketch holds before it compacts.
    TempDir dir;
    for (const char* method : {"sketch", "exact"}) {
        CAPTURE(method);
        const std::string m = method;
        const fs::path one = run_into(dir, m + "1", {"-n", "40000", "-j", "1", "--quantiles", m});
        const fs::path two = run_into(dir, m + "2", {"-n", "40000", "-j", "2", "--quantiles", m});
        const fs::path three = run_into(dir, m + "3", {"-n", "40000", "-j", "3", "--quantiles", m});
        for (const char* file : {"summary.csv", "cashflows.csv", "run.csv"}) {
            CAPTURE(file);
            const std::string expected = read_file(one / file);
            CHECK(read_file(two / file) == expected);
            CHECK(read_file(three / file) == expected);
        }
    }
}

TEST_CASE("--quantiles sketch: each quantile within the sketch's rank error of the exact one") {
    // The same 100,000 trials twice: every value kept (trials.csv), and sketched. Each sketched
    // quantile must sit, among the kept values, within 0.05% of N ranks (stats.hpp) of the exact
    // nearest rank ⌈p·N⌉. Ties: the value covers ranks count(< q) + 1 to count(≤ q).
    constexpr long long n = 100000;
    TempDir dir;
    const fs::path exact = run_into(
        dir, "exact", {"-n", std::to_string(n), "-j", "2", "--quantiles", "exact", "--per-trial"});
    const fs::path sketch =
        run_into(dir, "sketch", {"-n", std::to_string(n), "-j", "2", "--quantiles", "sketch"});
    const Table trials = read_csv(exact / "trials.csv");
    const Table exact_summary = read_csv(exact / "summary.csv");
    const Table sketch_summary = read_csv(sketch / "summary.csv");
    REQUIRE(trials.size() == static_cast<std::size_t>(n) + 1);
    const std::vector<std::string> columns = {"p5", "p25", "p50", "p75", "p95"};
    const std::vector<double> probabilities = {0.05, 0.25, 0.50, 0.75, 0.95};
    const double allowed = 0.0005 * static_cast<double>(n);
    int differing = 0;  // quantiles where the sketch did not give the exact value
    for (std::size_t m = 1; m < trials[0].size(); ++m) {
        const std::string metric = trials[0][m];
        CAPTURE(metric);
        std::vector<double> values;
        values.reserve(static_cast<std::size_t>(n));
        for (std::size_t t = 1; t < trials.size(); ++t) values.push_back(number(trials[t][m]));
        std::sort(values.begin(), values.end());
        for (std::size_t k = 0; k < columns.size(); ++k) {
            const std::string column = columns[k];
            CAPTURE(column);
            const auto target =
                static_cast<double>(std::ceil(probabilities[k] * static_cast<double>(n) - 1e-9));
            // The exact summary is the value at the nearest rank.
            CHECK(number(cell(exact_summary, metric, column)) ==
                  values[static_cast<std::size_t>(target) - 1]);
            const double q = number(cell(sketch_summary, metric, column));
            const auto below = std::lower_bound(values.begin(), values.end(), q) - values.begin();
            const auto upto = std::upper_bound(values.begin(), values.end(), q) - values.begin();
            CHECK(upto > below);  // the sketch returns one of the values
            const double lowest_rank = static_cast<double>(below) + 1;
            const double highest_rank = static_cast<double>(upto);
            CHECK(highest_rank >= target - allowed);
            CHECK(lowest_rank <= target + allowed);
            differing += q != values[static_cast<std::size_t>(target) - 1] ? 1 : 0;
        }
    }
    // Not a requirement of the bound, but a sign the sketch really compacted and was compared.
    CHECK(differing > 0);
}
