// The invalid-input corpus: every tests/data/invalid/NAME.yaml states, in `# expect:` lines at its
// top (or in NAME.expect when the file cannot hold a comment: empty or binary files), the exact
// messages the loader must give for it.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sib/load.hpp"

namespace {

namespace fs = std::filesystem;

/// The expected message: the `# expect: ` lines at the top of `path`, joined by '\n'.
std::string read_expectation(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string prefix = "# expect: ";
    std::string line, expected;
    while (std::getline(in, line) && line.rfind(prefix, 0) == 0) {
        if (!expected.empty()) expected += '\n';
        expected += line.substr(prefix.size());
    }
    return expected;
}

}  // namespace

TEST_CASE("every file in the invalid corpus fails with exactly its expected messages") {
    const fs::path folder = "tests/data/invalid";
    REQUIRE(fs::is_directory(folder));
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(folder))
        if (entry.path().extension() == ".yaml") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    CHECK(files.size() >= 25);

    for (const auto& file : files) {
        const std::string name = (folder / file.filename()).generic_string();
        CAPTURE(name);
        fs::path side = file;
        side.replace_extension(".expect");
        const std::string expected = read_expectation(fs::exists(side) ? side : file);
        REQUIRE_MESSAGE(!expected.empty(), "no '# expect:' line and no .expect file");
        std::string actual = "(loaded without error)";
        try {
            sib::load_scenario_file(name);
        } catch (const sib::InputError& e) {
            actual = e.what();
            CHECK(e.diagnostics().size() ==
                  static_cast<std::size_t>(std::count(expected.begin(), expected.end(), '\n') + 1));
        }
        CHECK(actual == expected);
    }
}
