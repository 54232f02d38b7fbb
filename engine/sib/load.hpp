#pragma once
// YAML text -> Scenario, or InputError carrying every problem found. The loader's parts are in
// load_*.hpp/.cpp (load_detail.hpp lists them); only load_yaml.cpp sees yaml-cpp.
#include <string>
#include <string_view>
#include <vector>

#include "sib/observed.hpp"
#include "sib/scenario.hpp"

namespace sib {

/// One `--set PATH=VALUE` (docs/scenario-format.md); `value` is parsed as YAML.
struct Override {
    std::string path;
    std::string value;
};

/// Parses "PATH=VALUE"; an argument without '=' or with an empty path is an InputError.
Override parse_override(std::string_view argument);

/// Loads a scenario from its text. `file` names it in messages. Overrides are applied to the
/// YAML tree before any check. Throws InputError with every problem in the file.
Scenario load_scenario(std::string_view text, const std::string& file,
                       const std::vector<Override>& overrides = {});

/// Reads `path` and loads it; an unreadable file is an InputError too.
Scenario load_scenario_file(const std::string& path, const std::vector<Override>& overrides = {});

/// Loads observed results for `settle` (docs/outputs.md): a map with one key `observed`, a list
/// of {cohort, outcome, participants, mean | successes, comparison_mean}. Checks the file's own
/// form (keys, types, finite numbers, whole participants ≥ 0, exactly one of mean and successes);
/// settle_observed checks it against the scenario.
Observed load_observed(std::string_view text, const std::string& file);
Observed load_observed_file(const std::string& path);

}  // namespace sib
