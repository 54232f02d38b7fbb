#pragma once
// How much memory compiling and simulating a scenario will take, estimated from the Scenario
// alone, before anything large is allocated (docs/limits.md, "Memory").
#include "sib/scenario.hpp"

namespace sib {

/// Bytes of the compiled plan (payment slots, rule × cohort arrays, per-period tables, metric
/// names) plus `threads` per-thread trial buffers (per-batch counts, rule × cohort state,
/// per-period cash flows of every party). Deliberately generous: it bounds what `compile` and
/// the trial state allocate, not what the run keeps per trial (run's estimated_bytes).
double estimated_plan_bytes(const Scenario& scenario, int threads = 1);

}  // namespace sib
