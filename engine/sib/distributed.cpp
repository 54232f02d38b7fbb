#include "sib/distributed.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>

#include "sib/diagnostics.hpp"
#include "sib/trial.hpp"

#ifdef SIBSIM_WITH_MPI
// The C interface only: the C++ bindings are deprecated (and warn).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace sib {

namespace {

using std::size_t;

/// Set once by start_processes, before any thread: read-only afterwards.
bool mpi_started = false;
Processes world;
/// start_together's agreement taken in this command, and its status.
bool agreement_taken = false;
int agreement_status = 0;
/// set_stop_signal's source, and the signal a stop taken together carried.
const std::atomic<int>* stop_signal = nullptr;
int together_stopped_by = 0;

/// What this process sends in an agreement to stop: 0 to go on, else its signal, or 1 when it
/// stopped with no signal known.
int stop_code(bool stopped) {
    if (!stopped) return 0;
    const int signal = stop_signal != nullptr ? stop_signal->load() : 0;
    return signal > 1 ? signal : 1;
}

#ifdef SIBSIM_WITH_MPI
/// MPI counts are ints: a message longer than that is refused rather than cut.
int count_of(size_t n) {
    if (n > static_cast<size_t>(std::numeric_limits<int>::max()))
        throw std::length_error("a message between processes exceeds 2^31 elements");
    return static_cast<int>(n);
}
#endif

/// The blocks of [first, end) that `rank` simulates, in increasing order.
std::vector<long long> blocks_of(int rank, long long first, long long end) {
    std::vector<long long> blocks;
    for (long long b = first; b < end; ++b)
        if (b % world.count == rank) blocks.push_back(b);
    return blocks;
}

/// Doubles a block sends: its metric values, its sampled trials' flows and its flow sums.
size_t block_doubles(const BlockWork& work, long long block, size_t metric_count,
                     size_t flow_count) {
    const long long first = block * trials_per_block;
    const long long last = std::min(work.trials, first + trials_per_block);
    const long long sampled = std::max(0LL, std::min(last, work.sampled) - first);
    return static_cast<size_t>(last - first) * metric_count +
           static_cast<size_t>(sampled) * flow_count + flow_count;
}

template <class T>
void put(std::vector<char>& out, const T& value) {
    const auto* bytes = reinterpret_cast<const char*>(&value);
    out.insert(out.end(), bytes, bytes + sizeof(T));
}

template <class T>
T take(const char*& data, const char* end) {
    SIB_ASSERT(end - data >= static_cast<std::ptrdiff_t>(sizeof(T)));
    T value;
    std::memcpy(&value, data, sizeof(T));
    data += sizeof(T);
    return value;
}

/// A list of quantiles of the length sent: resized when it is a vector, checked when fixed.
template <class List>
void resize_to(List& list, size_t n) {
    if constexpr (requires { list.resize(n); })
        list.resize(n);
    else
        SIB_ASSERT(list.size() == n);
}

void put_string(std::vector<char>& out, const std::string& s) {
    put(out, static_cast<std::uint64_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
}

std::string take_string(const char*& data, const char* end) {
    const auto n = static_cast<size_t>(take<std::uint64_t>(data, end));
    SIB_ASSERT(static_cast<size_t>(end - data) >= n);
    std::string s(data, n);
    data += n;
    return s;
}

}  // namespace

void start_processes(int& argc, char**& argv) {
#ifdef SIBSIM_WITH_MPI
    if (std::getenv("OMPI_COMM_WORLD_SIZE") == nullptr && std::getenv("PMIX_RANK") == nullptr &&
        std::getenv("PMI_RANK") == nullptr)
        return;
    // Only the main thread makes MPI calls; worker threads never do.
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    mpi_started = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world.count);
#else
    (void)argc;
    (void)argv;
#endif
}

#ifdef SIBSIM_WITH_MPI
namespace {
/// Waits for a non-blocking collective by polling every 200 µs instead of spinning, as blocking
/// calls do: a process waiting for the others (its blocks done first, or process 0 merging)
/// leaves the cores to those still simulating, on a machine with more processes than cores too.
void wait_for(MPI_Request& request) {
    for (;;) {
        int done = 0;
        MPI_Test(&request, &done, MPI_STATUS_IGNORE);
        if (done) return;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
}
}  // namespace
#endif

int finish_processes(int status) {
#ifdef SIBSIM_WITH_MPI
    if (!mpi_started) return status;
    if (!agreement_taken) {
        // This process never reached the distributed work (a command that has none, or one
        // that failed first): the others learn its status here, as it learns theirs.
        status = agree_status(status);
    } else if (status != 0 && status != agreement_status && status < 128 && world.count > 1) {
        // Failed while the others may be waiting for it in an exchange: stop them all.
        MPI_Abort(MPI_COMM_WORLD, status);
    }
    MPI_Finalize();
#endif
    return status;
}

Processes processes() {
    return world;
}

bool built_with_mpi() {
#ifdef SIBSIM_WITH_MPI
    return true;
#else
    return false;
#endif
}

int agree_status(int status, bool* first_failed) {
    if (first_failed != nullptr) *first_failed = false;
    if (!mpi_started) return status;  // one process: nothing shared (and no state touched)
    agreement_taken = true;
    agreement_status = status;
#ifdef SIBSIM_WITH_MPI
    if (world.count == 1) return status;
    std::vector<int> statuses(static_cast<size_t>(world.count));
    MPI_Request request;
    MPI_Iallgather(&status, 1, MPI_INT, statuses.data(), 1, MPI_INT, MPI_COMM_WORLD, &request);
    wait_for(request);
    if (first_failed != nullptr) *first_failed = statuses[0] != 0;
    agreement_status =
        statuses[0] != 0 ? statuses[0] : *std::max_element(statuses.begin(), statuses.end());
#endif
    return agreement_status;
}

bool agreed() {
    return agreement_taken;
}

bool exchange_blocks(const BlockWork& work, long long first_block, long long end_block,
                     ReceivedBlocks& received) {
    const size_t metric_count = work.metrics->names.size();
    const size_t flow_count = work.parties->names.size() * static_cast<size_t>(work.plan->horizon);
    // This process's blocks, simulated on its threads into `mine`, block after block, each at
    // its own offset (so threads write disjoint parts).
    const std::vector<long long> own = blocks_of(world.rank, first_block, end_block);
    std::vector<size_t> offset(own.size() + 1, 0);
    for (size_t i = 0; i < own.size(); ++i)
        offset[i + 1] = offset[i] + block_doubles(work, own[i], metric_count, flow_count);
    std::vector<double>& mine = received.sent;
    mine.resize(offset.back());
    std::atomic<size_t> next{0};
    std::atomic<bool> stopped{false};
    auto simulate = [&] {
        TrialState state(*work.plan);
        state.draws.cancel = work.cancel;
        for (size_t i = next++; i < own.size(); i = next++) {
            const long long first = own[i] * trials_per_block;
            const long long last = std::min(work.trials, first + trials_per_block);
            const long long sampled_end = std::min(last, work.sampled);
            double* metrics = mine.data() + offset[i];
            double* flows = metrics + static_cast<size_t>(last - first) * metric_count;
            double* sums =
                flows + static_cast<size_t>(std::max(0LL, sampled_end - first)) * flow_count;
            std::fill(sums, sums + flow_count, 0.0);
            for (long long trial = first; trial < last; ++trial) {
                if (work.cancel != nullptr && work.cancel->load(std::memory_order_relaxed)) {
                    stopped = true;
                    return;
                }
                simulate_trial(*work.plan, *work.metrics, *work.parties,
                               static_cast<std::uint64_t>(trial), state);
                std::copy(state.metrics.begin(), state.metrics.end(),
                          metrics + static_cast<size_t>(trial - first) * metric_count);
                for (size_t f = 0; f < flow_count; ++f) sums[f] += state.flows[f];
                if (trial < sampled_end)
                    std::copy(state.flows.begin(), state.flows.end(),
                              flows + static_cast<size_t>(trial - first) * flow_count);
            }
        }
    };
    {
        std::vector<std::jthread> pool;
        const int threads = std::max(1, std::min<int>(work.threads, static_cast<int>(own.size())));
        for (int t = 1; t < threads; ++t) pool.emplace_back(simulate);
        simulate();
    }
    int stop = stop_code(stopped || (work.cancel != nullptr && work.cancel->load()));
    const std::vector<double>* all = &mine;
#ifdef SIBSIM_WITH_MPI
    if (mpi_started && world.count > 1) {
        MPI_Request request;
        MPI_Iallreduce(MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &request);
        wait_for(request);
        if (stop != 0) {
            together_stopped_by = stop > 1 ? stop : 0;
            return true;
        }
        std::vector<int> counts;
        std::vector<int> displacements;
        if (world.rank == 0) {
            size_t total = 0;
            for (int r = 0; r < world.count; ++r) {
                size_t n = 0;
                for (long long b : blocks_of(r, first_block, end_block))
                    n += block_doubles(work, b, metric_count, flow_count);
                counts.push_back(count_of(n));
                displacements.push_back(count_of(total));
                total += n;
            }
            received.gathered.resize(total);
            all = &received.gathered;
        }
        MPI_Igatherv(mine.data(), count_of(mine.size()), MPI_DOUBLE, received.gathered.data(),
                     counts.data(), displacements.data(), MPI_DOUBLE, 0, MPI_COMM_WORLD, &request);
        wait_for(request);
        if (world.rank != 0) return false;
    }
#endif
    if (stop) return true;
    // Process 0: each process's blocks lie in `all` one after the other, in increasing order;
    // laid out again in block order.
    const long long first_trial = first_block * trials_per_block;
    const long long end_trial = std::min(work.trials, end_block * trials_per_block);
    const long long sampled_end = std::min(end_trial, work.sampled);
    received.first_block = first_block;
    received.end_block = end_block;
    received.metrics.resize(static_cast<size_t>(end_trial - first_trial) * metric_count);
    received.flows.resize(static_cast<size_t>(std::max(0LL, sampled_end - first_trial)) *
                          flow_count);
    received.flow_sums.resize(static_cast<size_t>(end_block - first_block) * flow_count);
    const double* from = all->data();
    for (int r = 0; r < world.count; ++r)
        for (long long b : blocks_of(r, first_block, end_block)) {
            const long long first = b * trials_per_block;
            const long long last = std::min(work.trials, first + trials_per_block);
            const auto n_metrics = static_cast<size_t>(last - first) * metric_count;
            const auto n_flows =
                static_cast<size_t>(std::max(0LL, std::min(last, work.sampled) - first)) *
                flow_count;
            std::copy(from, from + n_metrics,
                      received.metrics.begin() +
                          static_cast<std::ptrdiff_t>(static_cast<size_t>(first - first_trial) *
                                                      metric_count));
            from += n_metrics;
            std::copy(from, from + n_flows,
                      received.flows.begin() +
                          static_cast<std::ptrdiff_t>(static_cast<size_t>(first - first_trial) *
                                                      flow_count));
            from += n_flows;
            std::copy(
                from, from + flow_count,
                received.flow_sums.begin() +
                    static_cast<std::ptrdiff_t>(static_cast<size_t>(b - first_block) * flow_count));
            from += flow_count;
        }
    return false;
}

void set_stop_signal(const std::atomic<int>* signal) {
    stop_signal = signal;
}

int stopped_by_signal() {
    return together_stopped_by;
}

int tell_from_first(int value) {
#ifdef SIBSIM_WITH_MPI
    if (mpi_started && world.count > 1) {
        MPI_Request request;
        MPI_Ibcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD, &request);
        wait_for(request);
    }
#endif
    return value;
}

bool owns_row(std::size_t row) {
    return static_cast<int>(row % static_cast<size_t>(world.count)) == world.rank;
}

void share_rows(std::vector<RunResult>& results) {
#ifdef SIBSIM_WITH_MPI
    if (!mpi_started || world.count == 1) return;
    bool cancelled = false;
    for (size_t row = 0; row < results.size(); ++row)
        cancelled = cancelled || (owns_row(row) && results[row].cancelled);
    int stop = stop_code(cancelled);
    MPI_Request stop_request;
    MPI_Iallreduce(MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &stop_request);
    wait_for(stop_request);
    if (stop > 1) together_stopped_by = stop;
    std::vector<char> mine;
    for (size_t row = 0; row < results.size(); ++row)
        if (owns_row(row)) {
            const std::vector<char> bytes = serialise_summary(results[row]);
            mine.insert(mine.end(), bytes.begin(), bytes.end());
        }
    const int size = count_of(mine.size());
    std::vector<int> sizes(static_cast<size_t>(world.count));
    MPI_Request request;
    MPI_Iallgather(&size, 1, MPI_INT, sizes.data(), 1, MPI_INT, MPI_COMM_WORLD, &request);
    wait_for(request);
    std::vector<int> displacements(sizes.size(), 0);
    size_t total = 0;
    for (size_t r = 0; r < sizes.size(); ++r) {
        displacements[r] = count_of(total);
        total += static_cast<size_t>(sizes[r]);
    }
    std::vector<char> all(total);
    MPI_Iallgatherv(mine.data(), size, MPI_CHAR, all.data(), sizes.data(), displacements.data(),
                    MPI_CHAR, MPI_COMM_WORLD, &request);
    wait_for(request);
    for (size_t r = 0; r < sizes.size(); ++r) {
        const char* data = all.data() + displacements[r];
        const char* end = data + sizes[r];
        for (size_t row = r; row < results.size(); row += sizes.size())
            results[row] = deserialise_summary(data, end);
    }
#else
    (void)results;
#endif
}

bool gather_chunks(std::span<std::byte> data, size_t chunk_bytes, bool stopped) {
#ifdef SIBSIM_WITH_MPI
    if (!mpi_started || world.count == 1) return stopped;
    int stop = stop_code(stopped);
    MPI_Request request;
    MPI_Iallreduce(MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &request);
    wait_for(request);
    if (stop > 1) together_stopped_by = stop;
    if (stop != 0) return true;
    const size_t chunks = chunk_bytes == 0 ? 0 : (data.size() + chunk_bytes - 1) / chunk_bytes;
    const auto count = static_cast<size_t>(world.count);
    auto chunk = [&](size_t c) {
        return data.subspan(c * chunk_bytes, std::min(chunk_bytes, data.size() - c * chunk_bytes));
    };
    // Every process's chunks, one after the other in chunk order: sizes known to all alike.
    std::vector<int> sizes(count, 0), displacements(count, 0);
    size_t total = 0;
    for (size_t r = 0; r < count; ++r) {
        size_t bytes = 0;
        for (size_t c = r; c < chunks; c += count) bytes += chunk(c).size();
        sizes[r] = count_of(bytes);
        displacements[r] = count_of(total);
        total += bytes;
    }
    std::vector<std::byte> mine;
    mine.reserve(static_cast<size_t>(sizes[static_cast<size_t>(world.rank)]));
    for (size_t c = static_cast<size_t>(world.rank); c < chunks; c += count)
        mine.insert(mine.end(), chunk(c).begin(), chunk(c).end());
    std::vector<std::byte> all(world.rank == 0 ? total : 0);
    MPI_Igatherv(mine.data(), count_of(mine.size()), MPI_BYTE, all.data(), sizes.data(),
                 displacements.data(), MPI_BYTE, 0, MPI_COMM_WORLD, &request);
    wait_for(request);
    if (world.rank == 0)
        for (size_t r = 1; r < count; ++r) {  // process 0's own chunks are in place already
            const std::byte* from = all.data() + displacements[r];
            for (size_t c = r; c < chunks; c += count) {
                const std::span<std::byte> to = chunk(c);
                std::copy(from, from + to.size(), to.begin());
                from += to.size();
            }
        }
    return false;
#else
    (void)data;
    (void)chunk_bytes;
    return stopped;
#endif
}

std::vector<char> serialise_summary(const RunResult& result) {
    std::vector<char> out;
    put(out, result.trials);
    put(out, result.seed);
    put(out, static_cast<std::uint8_t>(result.cancelled));
    put(out, result.second_look);
    put(out, static_cast<std::uint64_t>(result.metrics.size()));
    for (const MetricSummary& m : result.metrics) {
        put_string(out, m.name);
        put(out, m.moments.count);
        for (double x : {m.moments.mean, m.moments.m2, m.moments.min, m.moments.max}) put(out, x);
        put(out, static_cast<std::uint64_t>(m.quantiles.size()));
        for (double q : m.quantiles) put(out, q);
    }
    put(out, static_cast<std::uint64_t>(result.parties.size()));
    for (const std::string& p : result.parties) put_string(out, p);
    put(out, static_cast<std::uint64_t>(result.cashflows.size()));
    for (const CashflowSummary& c : result.cashflows)
        for (double x : {c.mean, c.p5, c.p95}) put(out, x);
    return out;
}

RunResult deserialise_summary(const char*& data, const char* end) {
    RunResult result;
    result.trials = take<long long>(data, end);
    result.seed = take<std::uint64_t>(data, end);
    result.cancelled = take<std::uint8_t>(data, end) != 0;
    result.second_look = take<long long>(data, end);
    result.metrics.resize(static_cast<size_t>(take<std::uint64_t>(data, end)));
    for (MetricSummary& m : result.metrics) {
        m.name = take_string(data, end);
        m.moments.count = take<long long>(data, end);
        m.moments.mean = take<double>(data, end);
        m.moments.m2 = take<double>(data, end);
        m.moments.min = take<double>(data, end);
        m.moments.max = take<double>(data, end);
        resize_to(m.quantiles, static_cast<size_t>(take<std::uint64_t>(data, end)));
        for (double& q : m.quantiles) q = take<double>(data, end);
    }
    result.parties.resize(static_cast<size_t>(take<std::uint64_t>(data, end)));
    for (std::string& p : result.parties) p = take_string(data, end);
    result.cashflows.resize(static_cast<size_t>(take<std::uint64_t>(data, end)));
    for (CashflowSummary& c : result.cashflows) {
        c.mean = take<double>(data, end);
        c.p5 = take<double>(data, end);
        c.p95 = take<double>(data, end);
    }
    return result;
}

}  // namespace sib
