#pragma once
// `sibsim sensitivity SCENARIO`: tornado and spider, or Sobol' indices (docs/outputs.md).
#include <CLI/CLI.hpp>

#include "command_support.hpp"

namespace sib::cli {

CommandHook add_sensitivity_command(CLI::App& app);

}  // namespace sib::cli
