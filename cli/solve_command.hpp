#pragma once
// `sibsim solve SCENARIO --vary PATH=LO:HI --target METRIC=VALUE`: the value of one input at which
// a metric's mean reaches a target (break-even, power), on common random numbers.
#include "command_support.hpp"

namespace sib::cli {

CommandHook add_solve_command(CLI::App& app);

}  // namespace sib::cli
