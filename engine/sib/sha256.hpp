#pragma once
// SHA-256 (FIPS 180-4) of a scenario's text, for the provenance in run.csv.
#include <string>
#include <string_view>

namespace sib {

/// SHA-256 digest of `data` as 64 lower-case hexadecimal digits.
std::string sha256_hex(std::string_view data);

}  // namespace sib
