#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sib/csv.hpp"

namespace fs = std::filesystem;

namespace {

/// A fresh empty directory under the system temporary directory, removed at scope exit.
struct TempDir {
    fs::path path;
    explicit TempDir(const std::string& name)
        : path(fs::temp_directory_path() /
               ("sibsim-test-" + name + "-" + std::to_string(::getpid()))) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

std::string read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> entries(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
        names.push_back(entry.path().filename().string());
    }
    return names;
}

std::string error_message(const std::function<void()>& f) {
    try {
        f();
    } catch (const sib::OutputError& e) {
        return e.what();
    }
    return "(no OutputError)";
}

}  // namespace

TEST_CASE("format_number: at most 10 significant digits, %.10g with a trimmed exponent") {
    const std::vector<std::pair<double, std::string>> table = {
        {0.0, "0"},
        {-0.0, "0"},
        {1.0, "1"},
        {-1.0, "-1"},
        {0.1, "0.1"},
        {0.5, "0.5"},
        {2600.0, "2600"},
        {-2600.0, "-2600"},
        {1.0 / 3.0, "0.3333333333"},
        {2.0 / 3.0, "0.6666666667"},
        {1234567.891234, "1234567.891"},
        {123456789.0, "123456789"},
        {1234567890.0, "1234567890"},
        {9999999999.0, "9999999999"},
        {9999999999.5, "1e+10"},
        {12345678901.0, "1.23456789e+10"},
        {123456789012.0, "1.23456789e+11"},
        {1e20, "1e+20"},
        {-1.5e300, "-1.5e+300"},
        {0.0001, "0.0001"},
        {0.00012345678912, "0.0001234567891"},
        {1e-5, "1e-5"},
        {-2.5e-7, "-2.5e-7"},
        {1e-12, "1e-12"},
        {5e-324, "4.940656458e-324"},
        {0.05, "0.05"},
        {0.1 + 0.2, "0.3"},
        {100.0 * 1.1, "110"},
        {std::numeric_limits<double>::max(), "1.797693135e+308"},
    };
    for (const auto& entry : table) {  // no structured binding: clang 14 cannot capture one
        const double x = entry.first;
        CAPTURE(x);
        CHECK(sib::format_number(x) == entry.second);
    }
}

TEST_CASE("quote_field: RFC 4180") {
    CHECK(sib::quote_field("plain") == "plain");
    CHECK(sib::quote_field("") == "");
    CHECK(sib::quote_field("with space") == "with space");
    CHECK(sib::quote_field("a,b") == "\"a,b\"");
    CHECK(sib::quote_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
    CHECK(sib::quote_field("line\nbreak") == "\"line\nbreak\"");
    CHECK(sib::quote_field("cr\rhere") == "\"cr\rhere\"");
    CHECK(sib::quote_field("\"") == "\"\"\"\"");
    CHECK(sib::quote_field("caf\xc3\xa9") == "caf\xc3\xa9");
}

TEST_CASE("CsvWriter: header, rows, quoting and numbers") {
    std::ostringstream out;
    {
        sib::CsvWriter writer(out, {"metric", "mean", "n", "note"});
        CHECK(writer.columns().size() == 4);
        writer.add("payments.total");
        writer.add(1234567.891234);
        writer.add(42);
        writer.add(std::string("a, b"));
        writer.end_row();
        writer.add(std::string_view("rule.\"x\""));
        writer.add(-0.0);
        writer.add(-9000000000000000000LL);
        writer.add("");
        writer.end_row();
        writer.add("u");
        writer.add(1e-12);
        writer.add(std::size_t{18446744073709551615ULL});
        writer.add("two\nlines");
        writer.end_row();
    }
    CHECK(out.str() ==
          "metric,mean,n,note\n"
          "payments.total,1234567.891,42,\"a, b\"\n"
          "\"rule.\"\"x\"\"\",0,-9000000000000000000,\n"
          "u,1e-12,18446744073709551615,\"two\nlines\"\n");
}

TEST_CASE("CsvWriter: header fields are quoted too") {
    std::ostringstream out;
    sib::CsvWriter writer(out, {"period", "payer \"A\", council.mean"});
    CHECK(out.str() == "period,\"payer \"\"A\"\", council.mean\"\n");
}

TEST_CASE("write_file_atomically: writes the whole file and leaves no temporary file") {
    TempDir dir("atomic");
    const fs::path target = dir.path / "summary.csv";
    sib::write_file_atomically(target, [](std::ostream& out) {
        sib::CsvWriter writer(out, {"a", "b"});
        for (int i = 0; i < 20000; ++i) {  // more than one stream buffer
            writer.add(i);
            writer.add(0.5 * i);
            writer.end_row();
        }
    });
    const std::string text = read_all(target);
    CHECK(text.rfind("a,b\n0,0\n1,0.5\n", 0) == 0);
    CHECK(text.size() > (1 << 16));
    CHECK(text.ends_with("\n19999,9999.5\n"));
    CHECK(entries(dir.path) == std::vector<std::string>{"summary.csv"});

    // Overwrites an existing file whole.
    sib::write_file_atomically(target, [](std::ostream& out) { out << "new\n"; });
    CHECK(read_all(target) == "new\n");
    CHECK(entries(dir.path) == std::vector<std::string>{"summary.csv"});
}

TEST_CASE("write_file_atomically: a relative path in the working directory") {
    TempDir dir("relative");
    const fs::path previous = fs::current_path();
    fs::current_path(dir.path);
    sib::write_file_atomically("run.csv", [](std::ostream& out) { out << "key,value\n"; });
    fs::current_path(previous);
    CHECK(read_all(dir.path / "run.csv") == "key,value\n");
    CHECK(entries(dir.path) == std::vector<std::string>{"run.csv"});
}

TEST_CASE("write_file_atomically: a writer that throws leaves no file and no temporary file") {
    TempDir dir("throwing");
    const fs::path target = dir.path / "trials.csv";
    const auto failing = [](std::ostream& out) {
        out << std::string(100000, 'x');  // some of it reaches the temporary file
        throw std::runtime_error("boom");
    };
    CHECK_THROWS_WITH_AS(sib::write_file_atomically(target, failing), "boom", std::runtime_error);
    CHECK(!fs::exists(target));
    CHECK(entries(dir.path).empty());

    // An existing file is left as it was.
    sib::write_file_atomically(target, [](std::ostream& out) { out << "old\n"; });
    CHECK_THROWS_AS(sib::write_file_atomically(target, failing), std::runtime_error);
    CHECK(read_all(target) == "old\n");
    CHECK(entries(dir.path) == std::vector<std::string>{"trials.csv"});
}

TEST_CASE("write_file_atomically: errors name the path and the system error") {
    TempDir dir("errors");
    const fs::path file = dir.path / "file";
    std::ofstream(file) << "x";
    const auto write = [](std::ostream& out) { out << "a\n"; };

    const fs::path under_file = file / "summary.csv";
    CHECK(error_message([&] { sib::write_file_atomically(under_file, write); }) ==
          "cannot write '" + under_file.string() + "': Not a directory");

    const fs::path missing = dir.path / "missing" / "summary.csv";
    CHECK(error_message([&] { sib::write_file_atomically(missing, write); }) ==
          "cannot write '" + missing.string() + "': No such file or directory");

    const fs::path directory = dir.path / "a-directory";
    fs::create_directory(directory);
    CHECK(error_message([&] { sib::write_file_atomically(directory, write); }) ==
          "cannot write '" + directory.string() + "': Is a directory");
    CHECK(fs::is_directory(directory));
    CHECK(entries(dir.path).size() == 2);  // file, a-directory: no temporary file left
}

TEST_CASE("write_file_in_place: a full device is reported, not ignored") {
    if (::access("/dev/full", W_OK) != 0) return;  // not on this system
    CHECK(error_message([] {
              sib::detail::write_file_in_place("/dev/full", "out/summary.csv",
                                               [](std::ostream& out) { out << "a,b\n1,2\n"; });
          }) == "cannot write 'out/summary.csv': No space left on device");
    // A large writer is stopped at the first failed write rather than running on.
    int rows = 0;
    CHECK_THROWS_AS(sib::detail::write_file_in_place("/dev/full", "big.csv",
                                                     [&](std::ostream& out) {
                                                         for (; rows < 1000000; ++rows) {
                                                             out << "0123456789\n";
                                                         }
                                                     }),
                    sib::OutputError);
    CHECK(rows < 10000);
}

TEST_CASE("create_output_directory: creates parents, accepts existing, names the path") {
    TempDir dir("mkdir");
    const fs::path nested = dir.path / "a" / "b" / "c";
    sib::create_output_directory(nested);
    CHECK(fs::is_directory(nested));
    sib::create_output_directory(nested);  // already there: nothing to do
    CHECK(fs::is_directory(nested));

    const fs::path file = dir.path / "file";
    std::ofstream(file) << "x";
    const fs::path under_file = file / "out";
    CHECK(error_message([&] { sib::create_output_directory(under_file); }) ==
          "cannot create directory '" + under_file.string() + "': Not a directory");
    CHECK(error_message([&] {
              sib::create_output_directory(file);
          }).rfind("cannot create directory '" + file.string() + "': ", 0) == 0);
}
