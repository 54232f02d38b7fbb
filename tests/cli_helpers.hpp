#pragma once
// Helpers shared by the tests that drive the command line in-process (test_cli, test_workflows,
// test_golden, test_robustness): running sibsim, temporary folders, files and CSV tables.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "commands.hpp"

namespace sib::test {

namespace fs = std::filesystem;

struct Cli {
    int status = -1;
    std::string out, err;
};

/// Runs `sibsim ARGS...` in-process and captures stdout and stderr.
inline Cli sibsim(const std::vector<std::string>& args) {
    std::vector<const char*> argv{"sibsim"};
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    Cli r;
    r.status = sib::cli::main(static_cast<int>(argv.size()), argv.data(), out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
}

inline std::string scenario_path(const std::string& name) {
    return std::string(SIBSIM_SOURCE_DIR) + "/scenarios/" + name;
}
inline std::string data_path(const std::string& name) {
    return std::string(SIBSIM_SOURCE_DIR) + "/tests/data/" + name;
}
inline std::string observed_path(const std::string& name) {
    return data_path("observed/" + name);
}
inline const std::string peterborough = scenario_path("peterborough.yaml");
inline const std::string augsburg = scenario_path("augsburg.yaml");

/// A fresh directory under the system temporary directory, removed with everything in it.
class TempDir {
  public:
    TempDir() {
        static std::atomic<unsigned> counter{0};
        std::random_device random;
        path_ = fs::temp_directory_path() /
                ("sibsim-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
                 "-" + std::to_string(random()));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }
    std::string operator/(const std::string& name) const { return (path_ / name).string(); }

  private:
    fs::path path_;
};

inline std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot read " << path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

inline void write_file(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    REQUIRE(out.good());
}

/// Names of the entries of a directory, sorted.
inline std::vector<std::string> entries_of(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

using Row = std::vector<std::string>;
using Table = std::vector<Row>;

/// RFC 4180 text (LF or CRLF line ends, quoted fields) as rows of fields. The text must end with a
/// line end; a malformed quote fails the test.
inline Table parse_csv(const std::string& text) {
    Table rows;
    Row row;
    std::string field;
    bool quoted = false, field_started = false;
    REQUIRE_MESSAGE((text.empty() || text.back() == '\n'), "CSV does not end with a line end");
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < text.size() && text[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                field += c;
            }
        } else if (c == '"') {
            REQUIRE_MESSAGE(field.empty(), "quote inside an unquoted field");
            quoted = field_started = true;
        } else if (c == ',') {
            row.push_back(std::move(field));
            field.clear();
            field_started = false;
        } else if (c == '\n' || c == '\r') {
            if (c == '\r') REQUIRE(i + 1 < text.size());
            if (c == '\r') ++i;
            row.push_back(std::move(field));
            rows.push_back(std::move(row));
            field.clear();
            row.clear();
            field_started = false;
        } else {
            field += c;
        }
    }
    REQUIRE_MESSAGE(!quoted, "unterminated quoted field");
    (void)field_started;
    return rows;
}

inline Table read_csv(const fs::path& path) {
    return parse_csv(read_file(path));
}

/// The whole field as a finite number, or the test fails.
inline double number(const std::string& field) {
    double v = 0;
    const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), v);
    REQUIRE_MESSAGE(
        (error == std::errc() && end == field.data() + field.size() && std::isfinite(v)),
        "not a number: '" << field << "'");
    return v;
}

inline std::size_t column_of(const Table& t, const std::string& name) {
    REQUIRE(!t.empty());
    const auto it = std::find(t[0].begin(), t[0].end(), name);
    REQUIRE_MESSAGE(it != t[0].end(), "no column '" << name << "'");
    return static_cast<std::size_t>(it - t[0].begin());
}

/// The row whose first field is `key`.
inline const Row& row_of(const Table& t, const std::string& key) {
    for (const auto& r : t)
        if (!r.empty() && r[0] == key) return r;
    FAIL("no row '" << key << "'");
    static const Row none;
    return none;
}

/// summary.csv cell: metric row, statistic column.
inline std::string cell(const Table& summary, const std::string& metric,
                        const std::string& column) {
    return row_of(summary, metric)[column_of(summary, column)];
}

/// `text` with its first `from` replaced by `to` (which must be there).
inline std::string replace_once(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, "'" << from << "' not found");
    text.replace(at, from.size(), to);
    return text;
}

}  // namespace sib::test
