#pragma once
// Observed results for `settle` (docs/outputs.md, "settle"), as read from the user's file; plain
// data. load.hpp reads them, settle.hpp settles them.
#include <optional>
#include <string>
#include <vector>

#include "sib/diagnostics.hpp"

namespace sib {

/// One observed result: a cohort's participants and their mean for an outcome.
struct Observation {
    std::string cohort;
    std::string outcome;
    double participants = 0;
    std::optional<double> mean;       ///< per participant (binary: share achieving)
    std::optional<double> successes;  ///< binary: number achieving (instead of mean)
    std::optional<double> comparison_mean;
    SourceLoc loc;
};

struct Observed {
    std::string file;
    std::vector<Observation> observations;
};

}  // namespace sib
