#pragma once
// Runs spread over the processes of an `mpirun` (docs/distributed.md). Every process runs the same
// command on the same inputs; the work is dealt out in a fixed way (blocks of trials, or rows of
// work such as sweep points), and process 0 alone merges, in the single-process order, and writes.
// Only distributed.cpp sees MPI: without MPI at build time, or without mpirun at run time, there
// is one process and every function here is a no-op.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "sib/plan.hpp"
#include "sib/run.hpp"

namespace sib {

/// This process's place among the processes of the run: `rank` 0 of `count` 1 without mpirun.
struct Processes {
    int rank = 0;
    int count = 1;
};

/// Starts MPI when this process was launched by mpirun (OMPI_COMM_WORLD_SIZE or PMIX_RANK in the
/// environment) and sibsim was built with MPI; otherwise does nothing, so that the same binary
/// never touches MPI outside mpirun. Call once, from main, before any thread starts.
void start_processes(int& argc, char**& argv);

/// Ends MPI (when started) and returns `status`, the process's exit status. Call once, from main,
/// when the command is done. A process whose command failed after the others had started working
/// together (start_together passed) stops all of them: MPI_Abort with `status`.
int finish_processes(int status);

Processes processes();

/// True when sibsim was built with MPI (the SIBSIM_MPI CMake option).
bool built_with_mpi();

/// Every process says how its command stands: 0 (ready to start the distributed work) or its
/// exit status (it failed, e.g. a scenario error). Returns the status all of them take: 0 when
/// every one is ready; else process 0's status when it failed (it has printed the message), else
/// the largest. Called once per command: by a command just before its work (start_together), or
/// by finish_processes for a process that never got there. `first_failed` tells whether process
/// 0 failed.
int agree_status(int status, bool* first_failed = nullptr);

/// Whether start_together's agreement has been taken by this process in this command.
bool agreed();

/// The merged run's blocks, handed over by the processes that simulated them: trial-major metric
/// values of every trial, the cash flows of the sampled trials, and each block's cash-flow sums
/// (added in trial order by the process that ran the block, as run() adds them).
struct ReceivedBlocks {
    long long first_block = 0;  ///< blocks [first_block, end_block)
    long long end_block = 0;
    std::vector<double> metrics;    ///< [(trial - first trial) * metric_count + m]
    std::vector<double> flows;      ///< [(trial - first trial) * flow_count + f], sampled trials
    std::vector<double> flow_sums;  ///< [(block - first_block) * flow_count + f]
    /// Scratch kept from one exchange to the next (no fresh pages each time): this process's
    /// blocks as sent, and on process 0 every process's as gathered.
    std::vector<double> sent, gathered;
};

/// What one exchange of blocks needs to know about the run.
struct BlockWork {
    const Plan* plan = nullptr;  ///< seeded with the run's seed
    const MetricLayout* metrics = nullptr;
    const PartyLayout* parties = nullptr;
    long long trials = 0;
    long long sampled = 0;  ///< trials whose cash flows are sent (cashflow_sample_trials)
    int threads = 1;
    const std::atomic<bool>* cancel = nullptr;
};

/// Blocks per process in one exchange: process 0 holds the values of `count` times this many
/// blocks at once.
inline constexpr long long blocks_per_exchange = 32;

/// Every process simulates its blocks of [first_block, end_block) (block b belongs to process
/// b mod count) on `work.threads` threads, and sends them to process 0, which gets them all in
/// `received` (others: left empty). Collective: every process calls it with the same range.
/// Returns true when any process was asked to stop (work.cancel); then `received` is incomplete.
bool exchange_blocks(const BlockWork& work, long long first_block, long long end_block,
                     ReceivedBlocks& received);

/// Where this process records the signal that interrupts it (the CLI's handler): sent with a
/// stop, so that every process ends with the status of the signal that stopped the work.
void set_stop_signal(const std::atomic<int>* signal);
/// The signal that stopped the processes' work together (0: none, or not known).
int stopped_by_signal();

/// Process 0 tells the others an integer (run() uses it for "a second look is needed").
int tell_from_first(int value);

/// Rows of work (sweep points, design rows) dealt to the processes: row r belongs to process
/// r mod count. After each process has filled its own rows' results, every process gets every
/// row's summary (metrics with their moments and quantiles, cash-flow summaries; not per-trial
/// values or the cash-flow sample). Collective.
bool owns_row(std::size_t row);
void share_rows(std::vector<RunResult>& results);

/// Chunks of work dealt to the processes as rows (sensitivity's tornado blocks and Sobol' design
/// rows): `data` holds every chunk, chunk c at bytes [c * chunk_bytes, (c + 1) * chunk_bytes)
/// (the last one may be shorter), and chunk c belongs to process c mod count (owns_row(c)). Each
/// process has filled its own chunks; afterwards process 0 has every chunk, byte for byte, and
/// the others keep only theirs. First the processes agree whether any of them stopped
/// (`stopped`: interrupted): then nothing is gathered and every one returns true. Collective;
/// without mpirun it returns `stopped` and touches nothing.
bool gather_chunks(std::span<std::byte> data, std::size_t chunk_bytes, bool stopped);

/// gather_chunks on values of a plain type, `chunk_size` values per chunk.
template <class T>
bool gather_chunks(std::vector<T>& values, std::size_t chunk_size, bool stopped) {
    static_assert(std::is_trivially_copyable_v<T>);
    return gather_chunks(std::as_writable_bytes(std::span<T>(values)), chunk_size * sizeof(T),
                         stopped);
}

/// A RunResult's summary as bytes and back (share_rows; exact: every double bit for bit).
std::vector<char> serialise_summary(const RunResult& result);
RunResult deserialise_summary(const char*& data, const char* end);

}  // namespace sib
