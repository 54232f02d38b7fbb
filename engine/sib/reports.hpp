#pragma once
// One writer per output (docs/outputs.md). Writers take std::ostream& so tests write to strings;
// files are written through write_file_atomically (csv.hpp).
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "sib/plan.hpp"
#include "sib/run.hpp"

namespace sib {

/// run.csv rows: key, value. Nothing that varies between identical runs.
using Provenance = std::vector<std::pair<std::string, std::string>>;

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
/// The summary as one JSON object keyed by metric.
void print_json(std::ostream& out, const RunResult& result);

/// payments.csv of `settle`: rule,cohort,period,date,amount, then one column per payer; one row
/// per payment made (cohort "all" for rate cards and pooled rules).
void write_payments(std::ostream& out, const Plan& plan, const TrialState& state);
/// cashflows.csv of `settle`: period,date, then one column per party.
void write_settled_cashflows(std::ostream& out, const Plan& plan, const TrialState& state);
/// The settlement for a person: each payment, then whether each group rule's condition held.
void print_settlement(std::ostream& out, const Plan& plan, const MetricLayout& metrics,
                      const TrialState& state);

/// `text` as a JSON string literal.
std::string json_string(const std::string& text);

}  // namespace sib
