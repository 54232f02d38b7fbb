#pragma once
// How much memory compiling and simulating a scenario will take, estimated from the Scenario
// alone, before anything large is allocated (docs/limits.md, "Memory").
#include <optional>
#include <string>

#include "sib/scenario.hpp"

namespace sib {

/// Bytes of the compiled plan (payment slots, rule × cohort arrays, per-period tables, metric
/// names) plus `threads` per-thread trial buffers (per-batch counts, rule × cohort state,
/// per-period cash flows of every party). Deliberately generous: it bounds what `compile` and
/// the trial state allocate, not what the run keeps per trial (run's estimated_bytes).
double estimated_plan_bytes(const Scenario& scenario, int threads = 1);

/// MemAvailable of /proc/meminfo in bytes; nothing when it cannot be read (then no check).
std::optional<double> available_memory();

/// Bytes as GiB with one decimal, as the refusals print them.
std::string gib_text(double bytes);

/// The refusal of a run whose memory estimate `needed` (bytes) exceeds the memory available
/// (docs/limits.md), ending with `advice`; nothing when it fits or the memory is unknown. The
/// CLI and the Python module raise it in their own way.
std::optional<std::string> memory_refusal(double needed, const std::string& advice);

}  // namespace sib
