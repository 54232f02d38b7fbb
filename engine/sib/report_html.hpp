#pragma once
// The HTML report (`--report FILE.html`, docs/outputs.md, "report"): one self-contained page per
// command, XHTML (well-formed XML), inline CSS and SVG charts (svg.hpp), no script and nothing
// fetched, readable offline and printable. Numbers are shown for people (currency, percentages);
// every figure taken from summary.csv also carries its CSV text in a data-value attribute, so
// that scripts and tests can check the page against the files.
#include <ostream>
#include <string>
#include <vector>

#include "sib/plan.hpp"
#include "sib/reports.hpp"
#include "sib/run.hpp"
#include "sib/sensitivity.hpp"
#include "sib/solve.hpp"
#include "sib/sweep.hpp"
#include "sib/trial.hpp"

namespace sib {

/// `run`: the distribution of total payments, each payer's net cost, the investors' multiple and
/// IRR with the loss shaded, a fan chart of cumulative cash flows (needs the run's cash-flow
/// sample: RunOptions::keep_cashflow_sample), the trigger probability of each group rule, the key
/// terms and the provenance. Histograms need every trial's values (RunResult::values); without
/// them (the quantile sketch) each distribution is drawn from its quantiles.
void write_run_report(std::ostream& out, const Plan& plan, const RunResult& result,
                      const Provenance& provenance);

/// `compare`: overlaid distributions of total payments (and of the investors' IRR when every
/// scenario has investors), and each later scenario's paired differences with 95% intervals.
/// Results must keep every trial's values (compare does).
void write_compare_report(std::ostream& out, const std::vector<Plan>& plans,
                          const std::vector<std::string>& names,
                          const std::vector<RunResult>& results,
                          const std::vector<ComparisonRow>& rows, const Provenance& provenance);

/// `sweep`: each chosen metric (all when `metrics` is empty) against the first varied value,
/// mean with a ±1.96 se band, one line per level of the other axes.
void write_sweep_report(std::ostream& out, const Plan& plan, const std::vector<VaryAxis>& axes,
                        const std::vector<std::vector<std::string>>& points,
                        const std::vector<RunResult>& results,
                        const std::vector<std::string>& metrics, const Provenance& provenance);

/// `settle`: the bill by period and payer, the investors' flows by period and cumulated, the
/// payments and the conditions.
void write_settle_report(std::ostream& out, const Plan& plan, const MetricLayout& metrics,
                         const TrialState& state, const Provenance& provenance);

/// `sensitivity --method tornado`: per metric, the tornado (each input's bars from its base, the
/// metric's mean with the input at its median, to the means at its 10th and 90th percentiles,
/// largest swing at the top) and the spider (the mean against the input's percentile, one line
/// per input), with the figures of tornado.csv and spider.csv tagged; key terms, provenance.
/// `rows` as tornado_rows(spider) gives them; `trials` per run.
void write_tornado_report(std::ostream& out, const Plan& plan, const MetricLayout& layout,
                          const SpiderResult& spider, const std::vector<TornadoRow>& rows,
                          long long trials, std::uint64_t seed, const Provenance& provenance);

/// `sensitivity --method sobol`: per metric, S1 and ST of each input as paired bars with their
/// 95% half-widths as whiskers, the figures of sobol.csv tagged; key terms, provenance.
void write_sobol_report(std::ostream& out, const Plan& plan, const MetricLayout& layout,
                        const std::vector<int>& inputs, const std::vector<int>& metrics,
                        const std::vector<SobolIndex>& indices, long long base, std::uint64_t seed,
                        const Provenance& provenance);

/// `solve`: every evaluation (the metric's mean against the input, ±1.96 se), the target across
/// and the solution with its 95% interval; the figures of solve.csv and evaluations.csv tagged;
/// the key terms of `plan` (the scenario at the solution), provenance. `kind`: the metric's.
void write_solve_report(std::ostream& out, const Plan& plan, const SolveInterval& interval,
                        const SolveTarget& target, const SolveResult& result, MetricKind kind,
                        long long trials, std::uint64_t seed, const Provenance& provenance);

/// Money for people: "£4.80m", "−£8.71m", "£11,700", "$7.20m", "CHF 1.25bn" (a symbol for GBP,
/// USD, EUR, AUD, CAD and NZD, else the code and a space).
std::string format_money(double amount, const std::string& currency);

/// A share for people: 0.3737 → "37.4%", −0.2293 → "−22.9%".
std::string format_percent(double share);

}  // namespace sib
