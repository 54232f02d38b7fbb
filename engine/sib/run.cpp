#include "sib/run.hpp"

#include "sib/distributed.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <mutex>
#include <thread>

namespace sib {

namespace {

using std::size_t;

/// What a block of trials leaves behind for the merge: metric moments and cash-flow sums.
struct BlockAccumulators {
    std::vector<Moments> metrics;
    std::vector<char> zero_one;  ///< per metric: every value in the block is 0 or 1
    std::vector<double> flow_sums;
    std::vector<long long> threshold_counts;  ///< per RunOptions::thresholds
};

/// Where a run's quantiles come from (docs/model.md §11): exact from every value kept in trial
/// order (small runs, trials.csv, paired comparisons), exact from a pilot's brackets
/// (`bracketing`, beyond bracket_min_trials without values in trial order), or from the sketch.
/// run() and estimated_bytes() both decide by this.
struct QuantileSource {
    bool exact = false;
    bool bracketing = false;
    bool keep_all = false;  ///< every value kept in trial order
    bool sketching = false;
};

/// Whether the run may stop early: some watched metric has a precision target.
bool stops_early(const RunOptions& options) {
    return std::any_of(options.watch.begin(), options.watch.end(),
                       [](const PrecisionTarget& t) { return t.is_target(); });
}

QuantileSource quantile_source(const RunOptions& options, long long trials) {
    QuantileSource q;
    // A run that may stop early keeps every value: its quantiles are then those of the trials
    // it used, exactly as a run of that many trials gives them (brackets and the sketch would
    // have taken in blocks beyond the stop).
    const bool stopping = stops_early(options);
    q.exact =
        options.quantiles && (options.keep_trial_values || options.exact_quantiles || stopping);
    q.bracketing =
        q.exact && !options.keep_trial_values && !stopping && trials >= bracket_min_trials;
    q.keep_all = options.keep_trial_values || stopping || (q.exact && !q.bracketing);
    q.sketching = options.quantiles && !q.exact;
    return q;
}

/// Quantiles without selection when a metric's values allow: all equal, or all 0 or 1 (then the
/// count of ones gives every rank). Returns false when the values are needed.
bool quantiles_from_moments(const Moments& m, bool zero_one, std::span<const double> probabilities,
                            std::span<double> out) {
    if (m.count == 0) return false;
    if (m.min == m.max) {
        std::fill(out.begin(), out.end(), m.min);
        return true;
    }
    if (!zero_one) return false;
    const auto n = static_cast<std::size_t>(m.count);
    const auto ones = static_cast<std::size_t>(std::llround(m.mean * static_cast<double>(m.count)));
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = nearest_rank(probabilities[i], n) > n - ones ? 1.0 : 0.0;
    return true;
}

/// Trial `trial`'s metric values, and its cash flows when sampled, as another process simulated
/// them (under mpirun), in place of simulate_trial.
void take_received(const ReceivedBlocks& received, long long trial, long long sampled,
                   TrialState& state) {
    const auto at = static_cast<size_t>(trial - received.first_block * trials_per_block);
    std::copy_n(received.metrics.data() + at * state.metrics.size(), state.metrics.size(),
                state.metrics.data());
    if (trial < sampled)
        std::copy_n(received.flows.data() + at * state.flows.size(), state.flows.size(),
                    state.flows.data());
}

/// A received block's cash-flow sums, added in trial order by the process that ran it.
void take_received_sums(const ReceivedBlocks& received, long long block,
                        std::vector<double>& flow_sums) {
    const auto at = static_cast<size_t>(block - received.first_block) * flow_sums.size();
    std::copy_n(received.flow_sums.data() + at, flow_sums.size(), flow_sums.data());
}

}  // namespace

RunResult run(const Plan& plan, const RunOptions& options) {
    const MetricLayout metric_names = metric_layout(plan);
    const PartyLayout parties = party_layout(plan);
    const size_t metric_count = metric_names.names.size();
    const size_t flow_count = parties.names.size() * static_cast<size_t>(plan.horizon);
    // `trials`, `sampled` and `sampled_blocks` shrink when a precision target stops the run.
    long long trials = std::max(0LL, options.trials);
    const long long blocks = (trials + trials_per_block - 1) / trials_per_block;
    long long sampled = std::min(trials, cashflow_sample_trials);

    RunResult result;
    result.trials = trials;
    result.seed = options.seed;
    result.parties = parties.names;
    const QuantileSource source = quantile_source(options, trials);
    const bool bracketing = source.bracketing;
    // Under mpirun (options.spread): every process simulates its share of the blocks; process
    // 0 alone merges them (distributed.hpp), so only it holds values and samples.
    const Processes procs = processes();
    const bool spreading = options.spread && procs.count > 1;
    const bool merging = !spreading || procs.rank == 0;
    // The probabilities whose quantiles are found: the summary's five, and those of
    // RunOptions::percentiles, in increasing order, each once (without percentiles: the five).
    std::vector<double> wanted(kSummaryProbabilities.begin(), kSummaryProbabilities.end());
    wanted.insert(wanted.end(), options.percentiles.begin(), options.percentiles.end());
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    SIB_ASSERT(2 * wanted.size() <= RankBrackets::max_boundaries);
    const size_t wanted_count = wanted.size();
    // Each metric's quantiles at `wanted`: found[m * wanted_count + i].
    std::vector<double> quantiles_found(metric_count * wanted_count, 0.0);
    auto found_of = [&](size_t m) {
        return std::span<double>(quantiles_found.data() + m * wanted_count, wanted_count);
    };
    const size_t kept = source.keep_all && merging ? static_cast<size_t>(trials) : 0;
    result.values.resize(metric_count);
    for (auto& v : result.values) v.resize(kept);  // uninitialised: the workers write every value
    std::vector<BlockAccumulators> accumulators(static_cast<size_t>(blocks));
    const int threads =
        std::max(1, std::min<int>(options.threads, static_cast<int>(std::max(1LL, blocks))));

    // Bracketed exact quantiles: the first pilot_trials trials keep their values (metric-major,
    // pilot_values[m * pilot + trial]); sorted, they place each metric's RankBrackets; then every
    // trial's values, the pilot's included, are tallied by the thread that ran it. Tallies hold
    // counts and the values near the wanted ranks, so no page of per-trial memory is touched.
    const long long pilot = bracketing ? pilot_trials(trials) : 0;
    std::vector<double> pilot_values(merging ? metric_count * static_cast<size_t>(pilot) : 0);
    std::vector<RankBrackets> brackets(bracketing ? metric_count : 0);
    std::vector<char> tally_metric(metric_count, 1);  // the second look tallies only its misses
    std::vector<RankTally> tallies(bracketing ? static_cast<size_t>(threads) * metric_count : 0);
    bool tallying = false;  // blocks tally (true) or fill the pilot (false)

    // Without exact quantiles, quantiles come from sketches fed strictly in block order: a
    // finished block waits in `pending` until every block before it has been added.
    const bool sketching = source.sketching;
    std::vector<QuantileSketch> sketches(sketching ? metric_count : 0);
    std::map<long long, std::vector<double>> pending;
    long long next_to_sketch = 0;
    bool feeding = false;  // a thread is adding blocks to the sketches
    std::mutex sketch_mutex;

    Plan seeded_plan = plan;
    seeded_plan.seed = options.seed;

    // Sampled cash flows, flow-major: flow_samples[flow * sampled + trial], uninitialised. Most
    // flows are the same in every trial (fixed costs, quiet periods), so a block writes a flow's
    // values only when they are not all equal (bit for bit) to the block's first; otherwise it
    // keeps that one value in `block_constant` [block * flow_count + flow]. The rest of the
    // mapping is never touched: no page of it is faulted in or zeroed. The summary fills in the
    // constant blocks of a flow that is not the same in every block before selecting its p5/p95.
    BulkDoubles flow_samples(merging ? static_cast<size_t>(sampled) * flow_count : 0);
    auto sampled_blocks = static_cast<size_t>((sampled + trials_per_block - 1) / trials_per_block);
    std::vector<char> block_varies(sampled_blocks * flow_count, 0);
    std::vector<double> block_constant(sampled_blocks * flow_count, 0.0);
    // Watched metrics (RunOptions::watch): each finished block is marked in `block_done`; the
    // blocks finished in an unbroken run from the first are merged, in block order, into
    // `prefix`, which is recorded at 1,024 · 2^k trials and checked against the targets after
    // every block. When the targets are met after block b, no block from b + 1 on is started,
    // and those already run are discarded: the stopping point depends on the seed alone.
    const size_t watched = options.watch.size();
    const bool stopping = stops_early(options);
    std::vector<char> block_done(watched > 0 ? static_cast<size_t>(blocks) : 0, 0);
    std::vector<Moments> prefix(watched);
    // A percentile target's order statistics of the prefix (docs/model.md §11), fed each merged
    // block's kept values; none for a mean, so a run without percentile targets does no more.
    std::vector<PercentileWindow> windows;
    for (const auto& t : options.watch)
        windows.emplace_back(t.on_percentile() ? t.percentile : 0.5);
    std::vector<PercentileInterval> intervals(watched);
    long long merged_blocks = 0;
    bool watching = watched > 0;  // off for the second look, which runs the blocks again
    std::mutex watch_mutex;
    std::atomic<long long> end_of_run{blocks};  // blocks from here on are not started
    result.stop = stopping ? StopReason::maximum : StopReason::trials;
    auto record_point = [&] {
        result.convergence.push_back(
            {std::min(trials, merged_blocks * trials_per_block), prefix, intervals});
    };
    auto watch_block = [&](long long block) {
        std::lock_guard lock(watch_mutex);
        block_done[static_cast<size_t>(block)] = 1;
        while (merged_blocks < end_of_run.load() &&
               block_done[static_cast<size_t>(merged_blocks)]) {
            const BlockAccumulators& acc = accumulators[static_cast<size_t>(merged_blocks)];
            for (size_t w = 0; w < watched; ++w) {
                const PrecisionTarget& t = options.watch[w];
                prefix[w].merge(acc.metrics[t.metric]);
                if (!t.on_percentile()) continue;
                // A run with a percentile target stops early, so keeps every value in trial order.
                SIB_ASSERT(kept > 0);
                const long long first = merged_blocks * trials_per_block;
                const long long last = std::min(trials, first + trials_per_block);
                windows[w].add(std::span<const double>(result.values[t.metric].data() + first,
                                                       static_cast<size_t>(last - first)));
                intervals[w] = windows[w].interval();
            }
            ++merged_blocks;
            if (std::has_single_bit(static_cast<unsigned long long>(merged_blocks))) record_point();
            if (!stopping || merged_blocks * trials_per_block < precision_min_trials) continue;
            bool met = true;
            for (size_t w = 0; w < watched && met; ++w)
                met = options.watch[w].on_percentile()
                          ? precision_met(intervals[w], options.watch[w].absolute)
                          : precision_met(prefix[w], options.watch[w].relative);
            if (met) {
                end_of_run = merged_blocks;
                result.stop = StopReason::precision;
            }
        }
    };
    std::atomic<long long> next_block{0};
    std::atomic<long long> finished{0};
    std::atomic<bool> stopped{false};
    // A stop request is looked at before every trial (a trial can take long: a million
    // participants drawn one by one), not only between blocks; a relaxed load costs nothing.
    auto stop_requested = [&] {
        if (options.cancel == nullptr || !options.cancel->load(std::memory_order_relaxed))
            return false;
        stopped = true;
        return true;
    };

    // One thread at a time feeds the sketches, in block order, outside the lock; the others hand
    // their sorted block over and go on simulating.
    auto hand_over = [&](long long block, std::vector<double> sorted) {
        {
            std::lock_guard lock(sketch_mutex);
            pending.emplace(block, std::move(sorted));
            if (feeding) return;
            feeding = true;
        }
        for (;;) {
            std::vector<double> next;
            {
                std::lock_guard lock(sketch_mutex);
                auto it = pending.find(next_to_sketch);
                if (it == pending.end()) {
                    feeding = false;
                    return;
                }
                next = std::move(it->second);
                pending.erase(it);
                ++next_to_sketch;
            }
            const size_t n = next.size() / std::max<size_t>(metric_count, 1);
            for (size_t m = 0; m < metric_count; ++m)
                sketches[m].add_sorted(std::span<const double>(next.data() + m * n, n));
        }
    };

    // Under mpirun, the blocks being merged, as other processes simulated them; else null.
    const ReceivedBlocks* received = nullptr;
    // Runs blocks until next_block reaches end_block; `thread` picks the tallies it fills.
    auto work = [&](size_t thread, long long end_block) {
        TrialState state(seeded_plan);
        state.draws.cancel = options.cancel;  // participant-by-participant draws stop early too
        // Without kept values: this block's metric values, metric-major, so each metric's
        // moments are one pass. With kept values the trials write straight into them.
        std::vector<double> block_values(
            kept ? 0 : metric_count * static_cast<size_t>(trials_per_block));
        // A sampled block's cash flows, trial-major, until the block knows which flows vary.
        std::vector<double> block_flows(
            sampled > 0 ? flow_count * static_cast<size_t>(trials_per_block) : 0);
        for (;;) {
            if (stop_requested()) return;
            const long long block = next_block.fetch_add(1);
            if (block >= end_block || block >= end_of_run.load()) return;
            auto& acc = accumulators[static_cast<size_t>(block)];
            acc.flow_sums.assign(flow_count, 0.0);
            const long long first = block * trials_per_block;
            const long long last = std::min(trials, first + trials_per_block);
            const auto in_block = static_cast<size_t>(last - first);
            for (long long trial = first; trial < last; ++trial) {
                if (stop_requested()) return;
                if (received == nullptr) {
                    simulate_trial(seeded_plan, metric_names, parties,
                                   static_cast<std::uint64_t>(trial), state);
                } else {
                    take_received(*received, trial, sampled, state);
                }
                const auto i = static_cast<size_t>(trial - first);
                if (kept) {
                    for (size_t m = 0; m < metric_count; ++m)
                        result.values[m][static_cast<size_t>(trial)] = state.metrics[m];
                } else {
                    for (size_t m = 0; m < metric_count; ++m)
                        block_values[m * in_block + i] = state.metrics[m];
                }
                if (received == nullptr)  // received blocks come with their sums
                    for (size_t f = 0; f < flow_count; ++f) acc.flow_sums[f] += state.flows[f];
                if (trial < sampled)
                    std::copy(state.flows.begin(), state.flows.end(),
                              block_flows.begin() + static_cast<std::ptrdiff_t>(i * flow_count));
            }
            if (received != nullptr) take_received_sums(*received, block, acc.flow_sums);
            if (first < sampled) {
                const auto b = static_cast<size_t>(block);
                const auto n = static_cast<size_t>(std::min(last, sampled) - first);
                for (size_t f = 0; f < flow_count; ++f) {
                    const double first_value = block_flows[f];
                    bool varies = false;
                    for (size_t t = 1; t < n && !varies; ++t)
                        varies = std::bit_cast<std::uint64_t>(block_flows[t * flow_count + f]) !=
                                 std::bit_cast<std::uint64_t>(first_value);
                    if (!varies) {
                        block_constant[b * flow_count + f] = first_value;
                        continue;
                    }
                    block_varies[b * flow_count + f] = 1;
                    double* to = flow_samples.data() + f * static_cast<size_t>(sampled) +
                                 static_cast<size_t>(first);
                    for (size_t t = 0; t < n; ++t) to[t] = block_flows[t * flow_count + f];
                }
            }
            acc.metrics.resize(metric_count);
            acc.zero_one.resize(metric_count);
            acc.threshold_counts.assign(options.thresholds.size(), 0);
            for (size_t i = 0; i < options.thresholds.size(); ++i) {
                const Threshold& t = options.thresholds[i];
                const double* v = kept ? result.values[t.metric].data() + first
                                       : block_values.data() + t.metric * in_block;
                acc.threshold_counts[i] =
                    std::count_if(v, v + in_block, [&](double x) { return t.holds(x); });
            }
            for (size_t m = 0; m < metric_count; ++m) {
                const std::span<const double> values(
                    kept ? result.values[m].data() + first : block_values.data() + m * in_block,
                    in_block);
                acc.metrics[m] = Moments::of(values);
                acc.zero_one[m] = std::all_of(values.begin(), values.end(),
                                              [](double x) { return x == 0 || x == 1; });
                if (!bracketing) continue;
                if (!tallying) {
                    std::copy(values.begin(), values.end(),
                              pilot_values.begin() +
                                  static_cast<std::ptrdiff_t>(m * static_cast<size_t>(pilot) +
                                                              static_cast<size_t>(first)));
                } else if (tally_metric[m]) {
                    tallies[thread * metric_count + m].add(brackets[m], values);
                }
            }
            if (sketching) {
                // Sorted here, in parallel; added to the sketches in block order by hand_over.
                std::vector<double> sorted(
                    block_values.begin(),
                    block_values.begin() + static_cast<std::ptrdiff_t>(metric_count * in_block));
                for (size_t m = 0; m < metric_count; ++m)
                    std::sort(sorted.begin() + static_cast<std::ptrdiff_t>(m * in_block),
                              sorted.begin() + static_cast<std::ptrdiff_t>((m + 1) * in_block));
                hand_over(block, std::move(sorted));
            }
            if (watching) watch_block(block);
            const long long done = finished.fetch_add(last - first) + (last - first);
            if (options.progress && done <= trials) options.progress(done);  // not a second look
        }
    };
    // `task(thread)` on every thread, this one as thread 0, until all return.
    auto on_threads = [&](auto task) {
        std::vector<std::jthread> pool;
        for (int i = 1; i < threads; ++i) pool.emplace_back(task, static_cast<size_t>(i));
        task(size_t{0});
    };
    // Under mpirun, blocks are simulated and merged a few at a time (blocks_per_exchange per
    // process), every process taking part in every exchange; a stop on any one stops all.
    bool stopped_together = false;
    auto run_blocks = [&](long long first_block, long long end_block) {
        if (!spreading) {
            next_block = first_block;
            on_threads([&](size_t thread) { work(thread, end_block); });
            return;
        }
        const BlockWork shared{&seeded_plan, &metric_names,   &parties,      trials,
                               sampled,      options.threads, options.cancel};
        ReceivedBlocks blocks_in;
        for (long long from = first_block; from < end_block && !stopped_together;
             from += blocks_per_exchange * procs.count) {
            const long long to = std::min(end_block, from + blocks_per_exchange * procs.count);
            if (exchange_blocks(shared, from, to, blocks_in)) {
                stopped_together = true;
                stopped = true;
            }
            if (stopped_together || !merging) continue;
            received = &blocks_in;
            next_block = from;
            on_threads([&](size_t thread) { work(thread, to); });
            received = nullptr;
        }
    };
    // Each metric's brackets from its sorted pilot values, then the pilot's values tallied
    // (into thread 0's tally), metrics spread over the threads.
    auto place_brackets = [&] {
        std::atomic<size_t> next_metric{0};
        on_threads([&](size_t) {
            std::vector<double> sorted(static_cast<size_t>(pilot));
            for (size_t m = next_metric++; m < metric_count; m = next_metric++) {
                const std::span<const double> values(pilot_values.data() + m * sorted.size(),
                                                     sorted.size());
                std::copy(values.begin(), values.end(), sorted.begin());
                std::sort(sorted.begin(), sorted.end());
                brackets[m] = RankBrackets::around(sorted, static_cast<size_t>(trials), wanted,
                                                   options.bracket_width_scale);
                // Room for each thread's share of the values, and some over.
                for (size_t t = 0; t < static_cast<size_t>(threads); ++t)
                    tallies[t * metric_count + m].reserve(brackets[m], 1.25 / threads);
                tallies[m].add(brackets[m], values);
            }
        });
        pilot_values = {};
    };
    if (bracketing) {
        run_blocks(0, pilot / trials_per_block);
        if (spreading ? !stopped_together : !stopped) {
            if (merging) place_brackets();
            tallying = true;
            run_blocks(pilot / trials_per_block, blocks);
        }
    } else {
        run_blocks(0, blocks);
    }
    // Process 0 tells the others what comes next: 0 done, 1 a second look, 2 stopped.
    if (!merging) {
        const int next = tell_from_first(0);
        if (next == 1) run_blocks(0, blocks);
        result.cancelled = stopped_together || next == 2;
        return result;
    }
    result.cancelled = stopped.load();
    if (result.cancelled) {
        if (spreading) tell_from_first(2);
        return result;
    }
    watching = false;
    if (watched > 0 &&
        (result.convergence.empty() ||
         result.convergence.back().trials != std::min(trials, merged_blocks * trials_per_block)))
        record_point();
    if (stopping && end_of_run.load() < blocks) {
        // Stopped early: everything from the blocks beyond the stop is dropped, so that what
        // follows sees exactly the trials of a run of `trials` (whole blocks).
        const long long used_blocks = end_of_run.load();
        trials = used_blocks * trials_per_block;
        result.trials = trials;
        accumulators.resize(static_cast<size_t>(used_blocks));
        for (auto& v : result.values) v.resize(static_cast<size_t>(trials));
        if (trials < sampled) {
            // Flow-major with `sampled` trials a flow, compacted to `trials` a flow, in place:
            // each flow moves towards the front.
            for (size_t f = 1; f < flow_count; ++f) {
                const double* from = flow_samples.data() + f * static_cast<size_t>(sampled);
                std::copy(from, from + trials,
                          flow_samples.data() + f * static_cast<size_t>(trials));
            }
            sampled = trials;
            sampled_blocks = static_cast<size_t>(used_blocks);
            flow_samples.resize(static_cast<size_t>(sampled) * flow_count);
        }
    }

    // Merge in block order: the same sums whatever thread ran which block.
    std::vector<Moments> metric_moments(metric_count);
    std::vector<char> zero_one(metric_count, 1);
    std::vector<double> flow_sums(flow_count, 0.0);
    result.threshold_counts.assign(options.thresholds.size(), 0);
    for (const auto& acc : accumulators) {
        for (size_t i = 0; i < options.thresholds.size(); ++i)
            result.threshold_counts[i] += acc.threshold_counts[i];
        for (size_t m = 0; m < metric_count; ++m) {
            metric_moments[m].merge(acc.metrics[m]);
            zero_one[m] = zero_one[m] && acc.zero_one[m];
        }
        for (size_t f = 0; f < flow_count; ++f) flow_sums[f] += acc.flow_sums[f];
    }
    accumulators = {};
    // Quantiles: each metric and each cash flow on its own, spread over the threads (the result
    // of each does not depend on which thread computes it).
    result.metrics.resize(metric_count);
    result.cashflows.resize(flow_count);
    std::atomic<size_t> next_series{0};
    // A metric's bracketed quantiles: its threads' tallies joined, each rank found in them;
    // false when a rank fell outside the brackets (see the second look below).
    std::vector<char> missed(metric_count, 0);
    auto select_bracketed = [&](size_t m, std::vector<double>& scratch) {
        RankTally& tally = tallies[m];
        for (size_t t = 1; t < static_cast<size_t>(threads); ++t) {
            tally.merge(tallies[t * metric_count + m]);
            tallies[t * metric_count + m] = {};
        }
        return tally.select(brackets[m], wanted, found_of(m), scratch);
    };
    auto summarise = [&] {
        std::vector<double> scratch;
        constexpr std::array<double, 2> tails = {0.05, 0.95};
        std::array<double, 2> tail_values{};
        for (size_t k = next_series++; k < metric_count + flow_count; k = next_series++) {
            if (stop_requested()) return;  // selecting among many values takes a while
            if (k < metric_count) {
                MetricSummary& summary = result.metrics[k];
                summary.name = metric_names.names[k];
                summary.moments = metric_moments[k];
                if (!options.quantiles) continue;
                if (quantiles_from_moments(summary.moments, zero_one[k], wanted, found_of(k)))
                    continue;
                if (kept) {
                    // One read pass; the values stay in trial order for trials.csv.
                    select_nearest_ranks_kept(result.values[k], wanted, found_of(k), scratch);
                } else if (bracketing) {
                    if (!select_bracketed(k, scratch)) missed[k] = 1;
                } else if (sketching) {
                    sketches[k].quantiles(wanted, found_of(k));
                }
                continue;
            }
            const size_t f = k - metric_count;
            // A flow constant in every block, at one value, needs no selection; otherwise its
            // constant blocks are filled in and p5 and p95 selected.
            const std::span<double> values(flow_samples.data() + f * static_cast<size_t>(sampled),
                                           static_cast<size_t>(sampled));
            const auto constant = [&](size_t b) { return !block_varies[b * flow_count + f]; };
            const auto value_of = [&](size_t b) { return block_constant[b * flow_count + f]; };
            bool same_everywhere = true;
            for (size_t b = 0; b < sampled_blocks && same_everywhere; ++b)
                same_everywhere = constant(b) && std::bit_cast<std::uint64_t>(value_of(b)) ==
                                                     std::bit_cast<std::uint64_t>(value_of(0));
            if (sampled_blocks == 0) {
                tail_values.fill(0.0);
            } else if (same_everywhere) {
                tail_values.fill(value_of(0));
            } else {
                for (size_t b = 0; b < sampled_blocks; ++b) {
                    if (!constant(b)) continue;
                    const size_t from = b * static_cast<size_t>(trials_per_block);
                    const size_t to =
                        std::min(values.size(), from + static_cast<size_t>(trials_per_block));
                    std::fill(values.begin() + static_cast<std::ptrdiff_t>(from),
                              values.begin() + static_cast<std::ptrdiff_t>(to), value_of(b));
                }
                select_nearest_ranks_kept(values, tails, tail_values, scratch);
            }
            const double mean = trials > 0 ? flow_sums[f] / static_cast<double>(trials) : 0.0;
            result.cashflows[f] = {mean, tail_values[0], tail_values[1]};
        }
    };
    on_threads([&](size_t) { summarise(); });
    // The second look, when the pilot placed a bracket badly (about once in ten thousand runs):
    // the trials run again, deterministically the same, tallying only the metrics that missed,
    // now keeping every region their ranks fell in, so that their selection cannot miss.
    const bool second_look = std::find(missed.begin(), missed.end(), 1) != missed.end();
    if (spreading) tell_from_first(stopped ? 2 : second_look ? 1 : 0);
    if (second_look && !stopped) {
        for (size_t m = 0; m < metric_count; ++m) {
            tally_metric[m] = missed[m];
            if (!missed[m]) continue;
            brackets[m] = tallies[m].widened(brackets[m], wanted);
            for (size_t t = 0; t < static_cast<size_t>(threads); ++t)
                tallies[t * metric_count + m] = {};
        }
        accumulators.assign(static_cast<size_t>(blocks), {});  // refilled with the same sums
        run_blocks(0, blocks);
        std::vector<double> scratch;
        for (size_t m = 0; m < metric_count && !stopped; ++m)
            if (missed[m]) {
                [[maybe_unused]] const bool found = select_bracketed(m, scratch);
                SIB_ASSERT(found);
            }
    }
    result.second_look = std::count(missed.begin(), missed.end(), 1);
    // Each metric's quantiles to the summary's five and to its percentiles.
    auto place_of = [&](double p) {
        return static_cast<size_t>(std::lower_bound(wanted.begin(), wanted.end(), p) -
                                   wanted.begin());
    };
    result.percentiles = options.percentiles;
    for (size_t m = 0; m < metric_count; ++m) {
        const std::span<const double> all = found_of(m);
        MetricSummary& summary = result.metrics[m];
        for (size_t i = 0; i < kSummaryProbabilities.size(); ++i)
            summary.quantiles[i] = all[place_of(kSummaryProbabilities[i])];
        summary.percentiles.resize(options.percentiles.size());
        for (size_t i = 0; i < options.percentiles.size(); ++i)
            summary.percentiles[i] = all[place_of(options.percentiles[i])];
    }
    if (options.keep_cashflow_sample) {
        // Every block of every flow in place: the summary filled in only the constant blocks of
        // the flows that vary, and left flows the same everywhere untouched.
        for (size_t f = 0; f < flow_count; ++f)
            for (size_t b = 0; b < sampled_blocks; ++b) {
                if (block_varies[b * flow_count + f]) continue;
                const size_t from = b * static_cast<size_t>(trials_per_block);
                const size_t to = std::min(static_cast<size_t>(sampled),
                                           from + static_cast<size_t>(trials_per_block));
                double* values = flow_samples.data() + f * static_cast<size_t>(sampled);
                std::fill(values + from, values + to, block_constant[b * flow_count + f]);
            }
        result.cashflow_sample = std::move(flow_samples);
        result.sampled_trials = sampled;
    }
    result.cancelled = stopped.load();
    return result;
}

double estimated_bytes(const Plan& plan, const RunOptions& options) {
    const double metrics = static_cast<double>(metric_layout(plan).names.size());
    const double flows = static_cast<double>(party_layout(plan).names.size()) * plan.horizon;
    const long long trial_count = std::max(0LL, options.trials);
    const double trials = static_cast<double>(trial_count);
    const double blocks = std::ceil(trials / static_cast<double>(trials_per_block));
    const double threads = std::max(1, options.threads);
    const QuantileSource source = quantile_source(options, trial_count);
    const bool bracketing = source.bracketing;
    const double kept = source.keep_all ? trials : 0.0;
    // Quantile selection per thread: about a quarter of a metric's values (the sample and the
    // brackets' values, select_nearest_ranks_kept); the values stay in trial order.
    const double copies = kept > 0 ? 0.25 * threads : 0;
    // Bracketed quantiles: the pilot's values, then per metric the tallied values near the
    // ranks, 9 bytes each (value and region): about 15% of the values at the smallest pilot,
    // shrinking as 1/sqrt(pilot), counted twice over for the room reserved and the joining.
    const double pilot = bracketing ? static_cast<double>(pilot_trials(trial_count)) : 0.0;
    const double tallied = bracketing ? 0.15 * std::sqrt(16384.0 / pilot) * trials : 0.0;
    const double sampled = std::min(trials, static_cast<double>(cashflow_sample_trials));
    // A percentile target's PercentileWindow: a copy of its metric's values.
    const auto windows = static_cast<double>(
        std::count_if(options.watch.begin(), options.watch.end(),
                      [](const PrecisionTarget& t) { return t.on_percentile(); }));
    return 8.0 * metrics * kept           // per-trial values
           + 8.0 * windows * trials       // percentile targets' order statistics
           + 8.0 * trials * copies        // bracketed values per thread for quantiles
           + 8.0 * metrics * pilot        // pilot values
           + 2 * 9.0 * metrics * tallied  // tallied values
           + 8.0 * flows * sampled        // cash-flow sample
           + (sizeof(Moments) * metrics + 8.0 * flows) * blocks  // block accumulators
           + 1e6 * threads;                                      // scratch per thread (generous)
}

bool within_exact_budget(const Plan& plan, const RunOptions& options) {
    return options.trials <= exact_quantile_trials ||
           estimated_bytes(plan, options) <= exact_quantile_bytes;
}

}  // namespace sib
