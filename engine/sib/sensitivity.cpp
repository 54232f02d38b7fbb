#include "sib/sensitivity.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

#include <boost/random/sobol.hpp>

#include "sib/diagnostics.hpp"
#include "sib/distributed.hpp"
#include "sib/distributions.hpp"
#include "sib/metrics.hpp"
#include "sib/reports.hpp"
#include "sib/rng.hpp"
#include "sib/run.hpp"
#include "sib/settlement.hpp"

namespace sib {

namespace {

using std::size_t;

constexpr size_t at(long long i) {
    return static_cast<size_t>(i);
}

/// A uniform kept inside (0, 1), as the copula keeps its own: every quantile is then finite.
double inside(double u) {
    return std::clamp(u, 0x1.0p-53, 1 - 0x1.0p-53);
}

/// One evaluation: trial `trial` with `fixed` held; the chosen metrics into `out`.
void evaluate(const Plan& plan, const MetricLayout& layout, const PartyLayout& parties,
              std::uint64_t trial, std::span<const FixedUniform> fixed,
              const std::vector<int>& metrics, TrialState& state, double* out) {
    draw_fixing(plan, trial, fixed, state.draws, state.outcomes);
    settle(plan, state.outcomes, state.settlement);
    fill_metrics(plan, layout, parties, state.outcomes, state.settlement, NotAssessed::zero,
                 state.metrics, state.flows);
    for (size_t m = 0; m < metrics.size(); ++m) out[m] = state.metrics[at(metrics[m])];
}

/// Runs `work(job, state)` for jobs 0..jobs-1 on `threads` threads, each with its own TrialState;
/// false when cancelled. Each job writes only its own slots, so the thread count changes nothing.
/// Under mpirun a process runs only the jobs it owns (owns_row); gather_chunks brings them to
/// process 0 (docs/distributed.md).
template <class Work>
bool run_jobs(const Plan& plan, long long jobs, const SensitivityOptions& options, Work work) {
    std::atomic<long long> next{0};
    std::atomic<bool> stopped{false};
    auto worker = [&] {
        TrialState state(plan);
        for (long long job = next++; job < jobs; job = next++) {
            if (options.cancel != nullptr && options.cancel->load()) {
                stopped = true;
                return;
            }
            if (owns_row(at(job))) work(job, state);
        }
    };
    {
        std::vector<std::jthread> pool;
        for (int t = 1; t < options.threads; ++t) pool.emplace_back(worker);
        worker();
    }
    return !stopped.load();
}

}  // namespace

std::vector<int> uncertain_parameters(const Plan& plan) {
    std::vector<int> inputs;
    for (size_t i = 0; i < plan.parameters.size(); ++i)
        if (!std::holds_alternative<Fixed>(plan.parameters[i].dist))
            inputs.push_back(static_cast<int>(i));
    return inputs;
}

std::vector<int> choose_inputs(const Plan& plan, const std::vector<std::string>& names) {
    const std::vector<int> uncertain = uncertain_parameters(plan);
    std::vector<std::string> known;
    for (int p : uncertain) known.push_back(plan.parameters[at(p)].path);
    std::vector<int> chosen;
    std::vector<Diagnostic> problems;
    for (const auto& name : names) {
        const auto it = std::find(known.begin(), known.end(), name);
        if (it == known.end()) {
            problems.push_back({"--inputs",
                                {},
                                "",
                                "no uncertain input '" + name + "'" + did_you_mean(name, known)});
            continue;
        }
        const int p = uncertain[at(it - known.begin())];
        if (std::find(chosen.begin(), chosen.end(), p) != chosen.end()) {
            problems.push_back({"--inputs", {}, "", "'" + name + "' is given twice"});
            continue;
        }
        chosen.push_back(p);
    }
    if (!problems.empty()) throw InputError(problems);
    return chosen;
}

SpiderResult spider(const Plan& plan, const std::vector<int>& inputs,
                    const std::vector<int>& metrics, const SensitivityOptions& options) {
    Plan seeded = plan;
    seeded.seed = options.seed;
    const MetricLayout layout = metric_layout(seeded);
    const PartyLayout parties = party_layout(seeded);
    const size_t levels = spider_levels.size();
    const size_t nm = metrics.size();
    SpiderResult result;
    result.inputs = inputs;
    result.metrics = metrics;
    for (int p : inputs)
        for (double level : spider_levels)
            result.value.push_back(quantile(seeded.parameters[at(p)].dist, level));
    const long long blocks = (options.trials + evaluations_per_chunk - 1) / evaluations_per_chunk;
    const long long runs = static_cast<long long>(inputs.size() * levels);
    // [(run * blocks + block) * metrics + metric]: one block's moments, merged in block order.
    std::vector<Moments> block_moments(at(runs * blocks) * nm);
    std::atomic<long long> done{0};
    const bool finished =
        run_jobs(seeded, runs * blocks, options, [&](long long job, TrialState& state) {
            const long long run = job / blocks, block = job % blocks;
            const FixedUniform fixed{inputs[at(run) / levels], spider_levels[at(run) % levels]};
            const long long first = block * evaluations_per_chunk;
            const long long last = std::min(options.trials, first + evaluations_per_chunk);
            std::vector<double> values(nm);  // once per chunk, not per trial
            Moments* slot = &block_moments[at(job) * nm];
            for (long long t = first; t < last; ++t) {
                evaluate(seeded, layout, parties, static_cast<std::uint64_t>(t), {&fixed, 1},
                         metrics, state, values.data());
                for (size_t m = 0; m < nm; ++m) slot[m].add(values[m]);
            }
            if (options.progress) options.progress(done += last - first);
        });
    result.cancelled = gather_chunks(block_moments, nm, !finished);
    result.moments.resize(at(runs) * nm);
    for (long long run = 0; run < runs; ++run)
        for (long long block = 0; block < blocks; ++block)
            for (size_t m = 0; m < nm; ++m)
                result.moments[at(run) * nm + m].merge(
                    block_moments[at(run * blocks + block) * nm + m]);
    return result;
}

std::vector<TornadoRow> tornado_rows(const SpiderResult& spider) {
    const size_t levels = spider_levels.size();
    const size_t nm = spider.metrics.size();
    std::vector<TornadoRow> rows;
    for (size_t m = 0; m < nm; ++m) {
        const size_t start = rows.size();
        for (size_t i = 0; i < spider.inputs.size(); ++i) {
            TornadoRow row;
            row.metric = static_cast<int>(m);
            row.input = static_cast<int>(i);
            row.low_value = spider.value[i * levels];
            row.high_value = spider.value[i * levels + levels - 1];
            row.low = spider.moments[(i * levels) * nm + m].mean;
            row.high = spider.moments[(i * levels + levels - 1) * nm + m].mean;
            row.swing = std::abs(row.high - row.low);
            rows.push_back(row);
        }
        std::stable_sort(
            rows.begin() + static_cast<std::ptrdiff_t>(start), rows.end(),
            [](const TornadoRow& a, const TornadoRow& b) { return a.swing > b.swing; });
    }
    return rows;
}

SobolDesign sobol_design(long long base, int inputs) {
    SobolDesign design;
    design.base = base;
    design.inputs = inputs;
    const size_t d = at(inputs);
    design.uniforms.resize(at(design.rows()) * d);
    boost::random::sobol sequence(2 * d);
    // Boost's sequence leaves out the all-zero point (no quantile is finite there): its first
    // point is (0.5, ..., 0.5).
    std::vector<double> point(2 * d);
    for (long long j = 0; j < base; ++j) {
        for (auto& x : point) x = inside(static_cast<double>(sequence()) * 0x1.0p-64);
        double* row = &design.uniforms[at(j) * (d + 2) * d];
        for (size_t r = 0; r < d + 2; ++r)
            for (size_t i = 0; i < d; ++i) {
                // Row 0 is A, rows 1..D are AB_i (B's column i), row D + 1 is B.
                const bool from_b = r == d + 1 || r == i + 1;
                row[r * d + i] = point[from_b ? d + i : i];
            }
    }
    return design;
}

void evaluate_rows(const Plan& plan, const MetricLayout& layout, const PartyLayout& parties,
                   const std::vector<int>& inputs, const std::vector<int>& metrics,
                   const SobolDesign& design, long long first, long long last, TrialState& state,
                   std::vector<FixedUniform>& fixed, std::span<double> out) {
    const size_t d = inputs.size();
    fixed.resize(d);  // sized by the caller once: no allocation here
    for (long long r = first; r < last; ++r) {
        for (size_t i = 0; i < d; ++i) fixed[i] = {inputs[i], design.uniforms[at(r) * d + i]};
        evaluate(plan, layout, parties, static_cast<std::uint64_t>(r / (design.inputs + 2)), fixed,
                 metrics, state, &out[at(r - first) * metrics.size()]);
    }
}

std::vector<double> evaluate_design(const Plan& plan, const std::vector<int>& inputs,
                                    const std::vector<int>& metrics, const SobolDesign& design,
                                    const SensitivityOptions& options) {
    Plan seeded = plan;
    seeded.seed = options.seed;
    const MetricLayout layout = metric_layout(seeded);
    const PartyLayout parties = party_layout(seeded);
    const long long rows = design.rows();
    std::vector<double> outputs(at(rows) * metrics.size());
    const long long chunks = (rows + evaluations_per_chunk - 1) / evaluations_per_chunk;
    std::atomic<long long> done{0};
    const bool finished =
        run_jobs(seeded, chunks, options, [&](long long chunk, TrialState& state) {
            std::vector<FixedUniform> fixed(inputs.size());  // once per chunk, not per row
            const long long first = chunk * evaluations_per_chunk;
            const long long last = std::min(rows, first + evaluations_per_chunk);
            evaluate_rows(seeded, layout, parties, inputs, metrics, design, first, last, state,
                          fixed,
                          std::span<double>(outputs).subspan(at(first) * metrics.size(),
                                                             at(last - first) * metrics.size()));
            if (options.progress) options.progress(done += last - first);
        });
    if (gather_chunks(outputs, at(evaluations_per_chunk) * metrics.size(), !finished)) return {};
    return outputs;
}

namespace {

/// S1 and ST of input i from normalised outputs y ([row * stride], D + 2 rows per base row) over
/// the base rows `rows` (a bootstrap resample, or every row).
void indices_of(std::span<const double> y, size_t stride, size_t d, size_t i,
                std::span<const long long> rows, double& s1, double& st) {
    const size_t step = d + 2;
    const double n = static_cast<double>(rows.size());
    // Variance over the stacked A and B outputs, divisor 2n (numpy's var).
    double mean = 0;
    for (long long j : rows) mean += y[at(j) * step * stride] + y[(at(j) * step + d + 1) * stride];
    mean /= 2 * n;
    double var = 0, first = 0, total = 0;
    for (long long j : rows) {
        const double a = y[at(j) * step * stride];
        const double ab = y[(at(j) * step + i + 1) * stride];
        const double b = y[(at(j) * step + d + 1) * stride];
        var += (a - mean) * (a - mean) + (b - mean) * (b - mean);
        first += b * (ab - a);
        total += (a - ab) * (a - ab);
    }
    var /= 2 * n;
    s1 = var > 0 ? first / n / var : 0;
    st = var > 0 ? 0.5 * total / n / var : 0;
}

double sample_sd(const std::vector<double>& x) {
    Moments m;
    for (double v : x) m.add(v);
    return m.sd();
}

}  // namespace

std::vector<SobolIndex> sobol_indices(const SobolDesign& design, std::span<const double> outputs,
                                      int metrics, int resamples) {
    const size_t d = at(design.inputs);
    const size_t nm = at(metrics);
    const size_t rows = at(design.rows());
    const long long n = design.base;
    // The bootstrap's base rows: one fixed-seed stream, the same for every metric and input (as
    // SALib draws one index matrix r for all).
    std::vector<long long> resampled(at(resamples) * at(n));
    Stream stream(bootstrap_seed, 0, 0);
    for (auto& j : resampled)
        j = static_cast<long long>(std::floor(stream.uniform() * static_cast<double>(n)));
    std::vector<long long> every(at(n));
    for (long long j = 0; j < n; ++j) every[at(j)] = j;
    std::vector<SobolIndex> result;
    std::vector<double> y(rows), s1s(at(resamples)), sts(at(resamples));
    for (size_t m = 0; m < nm; ++m) {
        // Normalised as SALib does: (Y − mean) / sd over every row, population sd.
        Moments all;
        for (size_t r = 0; r < rows; ++r) all.add(outputs[r * nm + m]);
        const double sd = std::sqrt(all.m2 / static_cast<double>(rows));
        for (size_t r = 0; r < rows; ++r) y[r] = sd > 0 ? (outputs[r * nm + m] - all.mean) / sd : 0;
        for (size_t i = 0; i < d; ++i) {
            SobolIndex index;
            index.metric = static_cast<int>(m);
            index.input = static_cast<int>(i);
            indices_of(y, 1, d, i, every, index.s1, index.st);
            for (size_t k = 0; k < at(resamples); ++k)
                indices_of(y, 1, d, i,
                           std::span<const long long>(resampled).subspan(k * at(n), at(n)), s1s[k],
                           sts[k]);
            index.s1_conf = z95 * sample_sd(s1s);
            index.st_conf = z95 * sample_sd(sts);
            result.push_back(index);
        }
    }
    return result;
}

namespace {

Unit unit_of(const MetricLayout& layout, const Plan& plan, int metric) {
    return MetricUnits(plan).of(layout.names[at(metric)]);
}

std::string percent_label(double level) {
    std::string label = std::to_string(std::lround(level * 100));
    label.insert(0, 1, 'p');
    return label;
}

}  // namespace

void tornado_table(TableSink& table, const SpiderResult& spider,
                   const std::vector<TornadoRow>& rows, const MetricLayout& layout,
                   const Plan& plan) {
    table.header({"metric", "input", "low_value", "high_value", "low", "high", "swing"});
    for (const auto& row : rows) {
        const int metric = spider.metrics[at(row.metric)];
        const Unit unit = unit_of(layout, plan, metric);
        table.text(layout.names[at(metric)]);
        table.text(plan.parameters[at(spider.inputs[at(row.input)])].path);
        table.number(row.low_value, Unit::number);
        table.number(row.high_value, Unit::number);
        table.number(row.low, unit);
        table.number(row.high, unit);
        table.number(row.swing, unit);
        table.end_row();
    }
}

void spider_table(TableSink& table, const SpiderResult& spider, const MetricLayout& layout,
                  const Plan& plan) {
    std::vector<std::string> header = {"metric", "input"};
    for (double level : spider_levels) header.push_back("value_" + percent_label(level));
    for (double level : spider_levels) header.push_back("mean_" + percent_label(level));
    table.header(header);
    const size_t levels = spider_levels.size();
    const size_t nm = spider.metrics.size();
    for (size_t m = 0; m < nm; ++m) {
        const Unit unit = unit_of(layout, plan, spider.metrics[m]);
        for (size_t i = 0; i < spider.inputs.size(); ++i) {
            table.text(layout.names[at(spider.metrics[m])]);
            table.text(plan.parameters[at(spider.inputs[i])].path);
            for (size_t l = 0; l < levels; ++l)
                table.number(spider.value[i * levels + l], Unit::number);
            for (size_t l = 0; l < levels; ++l)
                table.number(spider.moments[(i * levels + l) * nm + m].mean, unit);
            table.end_row();
        }
    }
}

void sobol_table(TableSink& table, const std::vector<SobolIndex>& indices,
                 const std::vector<int>& inputs, const std::vector<int>& metrics,
                 const MetricLayout& layout, const Plan& plan) {
    table.header({"metric", "input", "S1", "S1_conf", "ST", "ST_conf"});
    for (const auto& index : indices) {
        table.text(layout.names[at(metrics[at(index.metric)])]);
        table.text(plan.parameters[at(inputs[at(index.input)])].path);
        table.number(index.s1, Unit::number);
        table.number(index.s1_conf, Unit::number);
        table.number(index.st, Unit::number);
        table.number(index.st_conf, Unit::number);
        table.end_row();
    }
}

void design_table(TableSink& table, const SobolDesign& design, std::span<const double> outputs,
                  const std::vector<int>& inputs, const std::vector<int>& metrics,
                  const MetricLayout& layout, const Plan& plan) {
    std::vector<std::string> header = {"row", "trial"};
    for (int p : inputs) header.push_back(plan.parameters[at(p)].path);
    for (int m : metrics) header.push_back(layout.names[at(m)]);
    table.header(header);
    const size_t d = inputs.size();
    const size_t nm = metrics.size();
    std::vector<Unit> units;
    for (int m : metrics) units.push_back(unit_of(layout, plan, m));
    for (long long r = 0; r < design.rows(); ++r) {
        table.integer(r);
        table.integer(r / (design.inputs + 2));
        for (size_t i = 0; i < d; ++i)
            table.number(
                quantile(plan.parameters[at(inputs[i])].dist, design.uniforms[at(r) * d + i]),
                Unit::number);
        for (size_t m = 0; m < nm; ++m) table.number(outputs[at(r) * nm + m], units[m]);
        table.end_row();
    }
}

}  // namespace sib
