#pragma once
// One writer per output (docs/outputs.md). Writers take std::ostream& so tests write to strings;
// files are written through write_file_atomically (csv.hpp).
#include <ostream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sib/metrics.hpp"
#include "sib/plan.hpp"
#include "sib/run.hpp"
#include "sib/table.hpp"

namespace sib {

/// run.csv rows: key, value. Nothing that varies between identical runs.
using Provenance = std::vector<std::pair<std::string, std::string>>;

/// How a table shows a metric of this kind: probabilities, rates and relative improvements as
/// percentages.
Unit unit_of(MetricKind kind);

/// The unit of each metric, by name, from the metric layouts of the plans behind a result (a
/// compare has several; metric_layout decides them). With no plan added, every metric is a plain
/// number: enough for CSV, which carries no units.
class MetricUnits {
  public:
    MetricUnits() = default;
    explicit MetricUnits(const Plan& plan) { add(plan); }
    void add(const Plan& plan);
    /// The metric's unit; a name no added plan has is a programmer error (asserted).
    Unit of(const std::string& metric) const;

  private:
    std::unordered_map<std::string, Unit> units_;
};

// Each output is a table function (table.hpp), rendered as CSV by the write_* functions below and
// as a workbook sheet by write_workbook (xlsx.hpp).

/// summary: metric,mean,sd,se,p5,p25,p50,p75,p95,min,max; each row in its metric's unit.
void summary_table(TableSink& table, const RunResult& result, const MetricUnits& units);
/// cashflows: period,date, then PARTY.mean,PARTY.p5,PARTY.p95 per party (money)
void cashflows_table(TableSink& table, const Plan& plan, const RunResult& result);
/// trials: trial, then one column per metric
void trials_table(TableSink& table, const RunResult& result, const MetricUnits& units);
/// run: key,value (text)
void provenance_table(TableSink& table, const Provenance& provenance);
/// payments of `settle`: see write_payments.
void payments_table(TableSink& table, const Plan& plan, const TrialState& state);
/// cashflows of `settle`: see write_settled_cashflows.
void settled_cashflows_table(TableSink& table, const Plan& plan, const TrialState& state);

/// summary.csv: metric,mean,sd,se,p5,p25,p50,p75,p95,min,max
void write_summary(std::ostream& out, const RunResult& result);
/// cashflows.csv: period,date, then PARTY.mean,PARTY.p5,PARTY.p95 per party
void write_cashflows(std::ostream& out, const Plan& plan, const RunResult& result);
/// trials.csv: trial, then one column per metric
void write_trials(std::ostream& out, const RunResult& result);
/// run.csv: key,value
void write_provenance(std::ostream& out, const Provenance& provenance);

/// The summary for a person on stdout: a heading and aligned columns, each number readable by
/// its metric's kind (readable.hpp).
void print_table(std::ostream& out, const Plan& plan, const RunResult& result);
/// The summary as one JSON object keyed by metric, then each `extra` member: a key and its JSON
/// value, written as is (run --precision's "stop").
void print_json(std::ostream& out, const RunResult& result, const Provenance& extra = {});

/// payments.csv of `settle`: rule,cohort,period,date,amount, then one column per payer; one row
/// per payment made (cohort "all" for rate cards and pooled rules).
void write_payments(std::ostream& out, const Plan& plan, const TrialState& state);
/// cashflows.csv of `settle`: period,date, then one column per party.
void write_settled_cashflows(std::ostream& out, const Plan& plan, const TrialState& state);
/// Whether one group rule's condition held in a settlement (one per cohort for `per: cohort`).
struct SettledCondition {
    std::size_t metric = 0;  ///< its `rule.*.met` metric
    bool assessed = false;   ///< false: a cohort in scope was not observed, or has no participants
    bool met = false;
};
/// Every group rule's condition in a settlement, in metric order: the settle text and its report
/// list the same.
std::vector<SettledCondition> settled_conditions(const Plan& plan, const MetricLayout& metrics,
                                                 const TrialState& state);

/// The settlement for a person: each payment, then whether each group rule's condition held.
void print_settlement(std::ostream& out, const Plan& plan, const MetricLayout& metrics,
                      const TrialState& state);

/// `text` as a JSON string literal.
std::string json_string(const std::string& text);

}  // namespace sib
