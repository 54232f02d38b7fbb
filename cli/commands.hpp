#pragma once
#include <iosfwd>

namespace sib::cli {

/// Runs the sibsim command line; returns the exit status (0 ok, 2 invalid input or usage,
/// 1 any other failure). Output goes to `out` and `err` so tests can capture it.
int main(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace sib::cli
