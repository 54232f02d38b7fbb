// Participant-level observed results for `settle` (one CSV row per participant): the loader's
// pinned messages, the Outcomes they build, and agreement with `run` under a per-participant cap.
#include <doctest/doctest.h>

#include "cli_helpers.hpp"
#include "helpers.hpp"
#include "sib/participants.hpp"

namespace {

using namespace sib;
using namespace sib::test;

/// Settles on participant rows (and optionally aggregate observations), as `settle` does.
Metrics settle_rows(const std::string& yaml, const std::string& csv,
                    const std::vector<Observation>& observations = {}, bool partial = false,
                    std::vector<std::string>* notes_out = nullptr) {
    const Plan plan = compile(scenario_of(yaml));
    const MetricLayout layout = metric_layout(plan);
    TrialState state(plan);
    const Participants rows = load_participants(csv, "p.csv");
    std::vector<std::string> notes;
    settle_observed(plan, Observed{observations.empty() ? "" : "o.yaml", observations},
                    SettleOptions{partial, &rows}, layout, party_layout(plan), state, notes);
    if (notes_out) *notes_out = notes;
    return metrics_of(layout, state);
}

std::string error_of(const std::string& yaml, const std::string& csv,
                     const std::vector<Observation>& observations = {}) {
    try {
        settle_rows(yaml, csv, observations);
    } catch (const InputError& e) {
        return e.what();
    }
    return "(settled without error)";
}

std::string load_error(const std::string& csv) {
    try {
        load_participants(csv, "p.csv");
    } catch (const InputError& e) {
        return e.what();
    }
    return "(loaded without error)";
}

const std::string capped = R"(sibsim: 1
name: cap
horizon: 4
cohorts:
  - {name: c1, size: 10, enrol: [0, 0]}
outcomes:
  - {name: job, kind: binary, rate: 1}
payments:
  - {name: card, basis: rate_card, outcome: job, price: 1000}
caps: {per_participant: 500}
payers:
  - {name: gov, share: 1}
)";

/// Writes `text` to `name` in `dir` and returns its path.
std::string put(const TempDir& dir, const std::string& name, const std::string& text) {
    const std::string path = dir / name;
    write_file(path, text);
    return path;
}

std::string rows_of(int n, const std::string& row) {
    std::string csv = "cohort,enrolled,job\n";
    for (int i = 0; i < n; ++i) csv += row + "\n";
    return csv;
}

// Two paid outcomes, one after the other, two enrolment periods, and a group rule.
const std::string chain = R"(sibsim: 1
name: chain
horizon: 12
cohorts:
  - {name: c1, size: 100, enrol: [0, 3]}
outcomes:
  - {name: job, kind: binary, rate: 0.5, observed_after: 2}
  - {name: sustained, kind: binary, after: job, rate: 0.5, observed_after: 4}
payments:
  - {name: entry, basis: rate_card, outcome: job, price: 600}
  - {name: kept, basis: rate_card, outcome: sustained, price: 600}
  - {name: goal, basis: target, outcome: job, at_least: 2, amount: 100}
caps: {per_participant: 1000}
payers:
  - {name: gov, share: 1}
)";

}  // namespace

TEST_CASE(
    "participants: 10 participants with probability 1, price 1000 and a cap of 500: "
    "settle pays 5,000, as run does") {
    CHECK(one_trial(capped)["payments.total"] == 5000);
    const Metrics m = settle_rows(capped, rows_of(10, "c1,0,1"));
    CHECK(m["payments.total"] == 5000);
    CHECK(m["payments.card"] == 5000);
    // The same through the command line.
    TempDir dir;
    const auto scenario = put(dir, "cap.yaml", capped);
    const auto rows = put(dir, "rows.csv", rows_of(10, "c1,0,1"));
    const Cli cli = sibsim({"settle", scenario, "--participants", rows, "--format", "csv"});
    CHECK(cli.status == 0);
    CHECK(cli.out == "rule,cohort,period,date,amount,gov\ncard,all,0,,5000,5000\n");
}

TEST_CASE(
    "participants: each row's payments are capped in payment order, as a drawn "
    "participant's are") {
    // Job pays 600 at enrolment + 2, sustained 600 at + 4, cap 1000: a participant with both is
    // paid 600 then 400; one with a job only, 600.
    const std::string csv =
        "cohort,enrolled,job,sustained\n"
        "c1,0,1,1\n"
        "c1,0,1,0\n"
        "c1,3,1,1\n"
        "c1,3,0,0\n";
    std::vector<std::string> notes;
    const Metrics m = settle_rows(chain, csv, {}, false, &notes);
    CHECK(m["payments.entry"] == 1800);
    CHECK(m["payments.kept"] == 800);
    CHECK(m["payments.goal"] == 100);  // 3 jobs meet at_least 2
    CHECK(m["rule.goal.met"] == 1);
    CHECK(notes.empty());

    // Simulated trials pay by the same rule: never above 1000 per participant, and a
    // participant with both outcomes gets exactly 1000.
    const Metrics sim = one_trial(chain);
    CHECK(sim["payments.entry"] + sim["payments.kept"] <= 100 * 1000);
}

TEST_CASE(
    "participants: batch sizes and counts are the rows', and a group rule is assessed "
    "after the last enrolment period with anyone in it") {
    const std::string yaml = R"(sibsim: 1
name: batches
horizon: 12
cohorts:
  - {name: c1, size: 100, enrol: [0, 3]}
outcomes:
  - {name: job, kind: binary, rate: 0.5, observed_after: 2}
payments:
  - {name: card, basis: rate_card, outcome: job, price: 10}
  - {name: goal, basis: target, outcome: job, at_least: 2, amount: 100}
payers:
  - {name: gov, share: 1}
provider:
  costs: {per_participant: 1}
)";
    const std::string csv = "cohort,enrolled,job\nc1,0,1\nc1,0,1\nc1,0,0\nc1,1,1\n";
    const Plan plan = compile(scenario_of(yaml));
    const MetricLayout layout = metric_layout(plan);
    TrialState state(plan);
    const Participants rows = load_participants(csv, "p.csv");
    std::vector<std::string> notes;
    settle_observed(plan, Observed{}, SettleOptions{false, &rows}, layout, party_layout(plan),
                    state, notes);
    const Outcomes& out = state.outcomes;
    CHECK(out.cohort_size[0] == 4);
    CHECK(out.batch_size == std::vector<long long>{3, 1, 0, 0});
    CHECK(out.counts[static_cast<std::size_t>(plan.count_index(0, 0, 0))] == 2);
    CHECK(out.counts[static_cast<std::size_t>(plan.count_index(0, 0, 1))] == 1);
    CHECK(out.counts[static_cast<std::size_t>(plan.count_index(0, 0, 2))] == 0);
    // Rate card: 20 in period 2, 10 in period 3; the goal is known at 1 + 2 = 3.
    const auto gov = flows_of(plan, state, "gov");
    CHECK(gov[2] == -20);
    CHECK(gov[3] == -110);
    // Provider costs per participant fall in the rows' enrolment periods: 3 then 1.
    const auto provider = flows_of(plan, state, "provider");
    CHECK(provider[0] == -3);
    CHECK(provider[1] == -1);
}

TEST_CASE("participants: an achievement recorded after its outcome is known does not count") {
    const std::string yaml = R"(sibsim: 1
name: dated
horizon: 12
cohorts:
  - {name: c1, size: 3, enrol: [0, 1]}
outcomes:
  - {name: job, kind: binary, rate: 0.5, observed_after: 2}
  - {name: kept, kind: binary, after: job, rate: 0.5, observed_after: 4}
payments:
  - {name: card, basis: rate_card, outcome: job, price: 10}
  - {name: keep, basis: rate_card, outcome: kept, price: 1}
payers:
  - {name: gov, share: 1}
)";
    // Enrolled 0: job known in period 2. Achieved in 2 counts, in 3 does not (and then neither
    // does its follower). Enrolled 1: known in 3, so 3 counts.
    const std::string csv =
        "cohort,enrolled,job,job.period,kept\n"
        "c1,0,1,2,1\n"
        "c1,0,1,3,1\n"
        "c1,1,1,3,0\n";
    const Metrics m = settle_rows(yaml, csv);
    CHECK(m["payments.card"] == 20);
    CHECK(m["payments.keep"] == 1);
}

TEST_CASE(
    "participants: comparison means and other outcomes come from the --observed file, "
    "which must agree with the rows") {
    const std::string yaml = R"(sibsim: 1
name: both
horizon: 12
cohorts:
  - {name: c1, size: 4, enrol: [0, 0]}
outcomes:
  - {name: job, kind: binary, baseline: 0.25, observed_after: 1}
  - {name: housed, kind: binary, rate: 0.5, observed_after: 1}
comparison: {kind: historical}
payments:
  - {name: better, basis: versus_comparison, outcome: job, amount: 100}
  - {name: card, basis: rate_card, outcome: housed, price: 10}
payers:
  - {name: gov, share: 1}
)";
    const std::string csv = "cohort,enrolled,job\nc1,0,1\nc1,0,1\nc1,0,0\nc1,0,0\n";
    Observation job = observe("c1", "job", 4, 0.5, 0.25);
    Observation housed = observe("c1", "housed", 4, 0.75);
    const Metrics m = settle_rows(yaml, csv, {job, housed});
    CHECK(m["payments.better"] == 100);
    CHECK(m["payments.card"] == 30);

    CHECK(error_of(yaml, csv) ==
          "p.csv:1:17: error: job: used by a versus_comparison rule: give cohort 'c1''s "
          "comparison_mean for it in the --observed file");
    CHECK(error_of(yaml, csv, {job}) ==
          "o.yaml:1:1: error: observed: outcome 'housed' is not observed for any cohort, but "
          "payment rules "
          "use it; give it, or pass --partial to settle without it");
    Observation wrong_size = observe("c1", "housed", 5, 0.6);
    Observation wrong_total = observe("c1", "job", 4, 0.75, 0.25);
    wrong_size.loc = {3, 5};
    wrong_total.loc = {8, 5};
    CHECK(error_of(yaml, csv, {wrong_total, housed}) ==
          "o.yaml:8:5: error: observed[0]: outcome 'job' totals 3 here but 2 in p.csv");
    CHECK(error_of(yaml, csv, {job, wrong_size}) ==
          "o.yaml:3:5: error: observed[1].participants: cohort 'c1' was observed with 4 "
          "participants elsewhere\n"
          "o.yaml:3:5: error: observed[1].participants: cohort 'c1' has 4 participants in p.csv");
}

TEST_CASE("participants: the CSV's form, with every problem located at once") {
    CHECK(load_error("") ==
          "p.csv:1:1: error: empty file; expected the header 'cohort,enrolled,OUTCOME,...'");
    CHECK(load_error("cohort,job,job,extra.period\nc1,1,1,\n") ==
          "p.csv:1:12: error: column 'job' given twice\n"
          "p.csv:1:1: error: missing column 'enrolled'");
    CHECK(load_error("cohort,enrolled\nc1,0\n") ==
          "p.csv:1:1: error: no outcome columns; give one column per outcome observed");
    CHECK(load_error("cohort,enrolled,job\n") ==
          "p.csv:1:1: error: no participants; give one row per participant");
    CHECK(load_error("cohort,enrolled,job\nc1,0,1\n\"c1,0,1\n") ==
          "p.csv:3:1: error: a quoted field is not closed");
    CHECK(load_error("cohort,enrolled,job\nc1,0,1\nc1,0,\"1\"x\n") ==
          "p.csv:3:9: error: text after a closing quote; a field is quoted whole");
    CHECK(load_error("cohort,enrolled,job\nc\"1,0,1\n") ==
          "p.csv:2:2: error: a double quote inside an unquoted field; quote the field and double "
          "the quote");
    CHECK(load_error("cohort,enrolled,job\nc1,0,1\r2\n") ==
          "p.csv:2:7: error: a carriage return that does not end a line");
    CHECK(load_error(std::string("cohort,enrolled,job\nc1,0,\0\n", 27)) ==
          "p.csv:2:6: error: not a text file: a NUL byte or invalid UTF-8");
    CHECK(load_error("cohort,enrolled,job,job.period,id\r\n"
                     "c1,0,1,2,a\r\n"
                     "c1,x,1,1,a\r\n"
                     "c1,0,0,3,b\r\n"
                     "c1,0,1\r\n"
                     ",1,,,c\r\n"
                     "c1,0,1.0,,d\r\n"
                     "c1,0,1,,e\r\n") ==
          "p.csv:3:4: error: enrolled: expected the enrolment period, a whole number of periods, "
          "got 'x'\n"
          "p.csv:3:10: error: id: participant 'a' given twice\n"
          "p.csv:4:8: error: job.period: a period achieved, but the outcome's count is 0; leave "
          "it empty\n"
          "p.csv:5:1: error: has 3 fields; the header has 5\n"
          "p.csv:6:1: error: cohort: empty; give the participant's cohort\n"
          "p.csv:6:4: error: job: empty; give 0 when not achieved\n"
          "p.csv:7:6: error: job: expected a whole number of achievements or events from 0 to "
          "1000000000, got '1.0'\n"
          "p.csv:8:8: error: job.period: empty, but the outcome was achieved; give the period "
          "achieved");
    // Quoted fields may hold commas, quotes and line breaks; a byte order mark is skipped.
    const Participants p = load_participants(
        "\xEF\xBB\xBF\"cohort\",enrolled,\"a,b\"\r\n\"c\"\"1\",0,1\n\"x\ny\",2,0", "p.csv");
    REQUIRE(p.rows.size() == 2);
    CHECK(p.columns[0].outcome == "a,b");
    CHECK(p.rows[0].cohort == "c\"1");
    CHECK(p.rows[1].cohort == "x\ny");
    CHECK(p.rows[1].enrolled == 2);
    CHECK(p.rows[1].enrolled_loc.line == 4);
}

TEST_CASE("participants: rows checked against the scenario, every problem at once") {
    CHECK(error_of(chain,
                   "cohort,enrolled,job,job.period,sustained,jobs\n"
                   "c9,0,1,0,0,0\n"
                   "c1,5,1,5,0,0\n"
                   "c1,0,2,0,0,0\n"
                   "c1,1,1,0,0,0\n"
                   "c1,1,0,,1,0\n") ==
          "p.csv:1:42: error: jobs: outcome 'jobs' is not in the scenario; did you mean 'job'?\n"
          "p.csv:2:1: error: cohort: cohort 'c9' is not in the scenario; did you mean 'c1'?\n"
          "p.csv:3:4: error: enrolled: period 5 is outside cohort 'c1''s enrolment [0, 3]\n"
          "p.csv:4:6: error: job: a binary outcome is 0 or 1, got 2\n"
          "p.csv:5:8: error: job.period: achieved in period 0, before enrolment (period 1)\n"
          "p.csv:6:9: error: sustained: achieved without 'job', which it comes after");
    CHECK(error_of(chain, "cohort,enrolled,job\nc1,0,1\n") ==
          "p.csv:1:1: error: no column 'sustained': rule 'kept' is paid under "
          "caps.per_participant, which needs each participant's result");
}

TEST_CASE(
    "participants: aggregate results still refuse a per-participant cap, pointing to the "
    "participant file; the command line needs one of the two files") {
    TempDir dir;
    const auto scenario = put(dir, "cap.yaml", capped);
    const auto totals = put(dir, "o.yaml",
                            "observed:\n  - {cohort: c1, outcome: job, participants: 10, "
                            "successes: 10}\n");
    Cli cli = sibsim({"settle", scenario, "--observed", totals});
    CHECK(cli.status == 2);
    CHECK(cli.err == totals +
                         ":1:1: error: observed: the scenario's caps.per_participant needs each "
                         "participant's results, which cohort totals do not give; give them with "
                         "--participants FILE.csv (one row per participant)\n");
    cli = sibsim({"settle", scenario});
    CHECK(cli.status == 2);
    CHECK(cli.err ==
          "sibsim: error: settle needs observed results: --observed FILE.yaml, "
          "--participants FILE.csv, or both\n");
    // Both files: the rows settle the cap, the totals agree with them.
    const auto rows = put(dir, "rows.csv", rows_of(10, "c1,0,1"));
    cli = sibsim({"settle", scenario, "--observed", totals, "--participants", rows, "-o",
                  (dir.path() / "out").string(), "--quiet"});
    CHECK(cli.status == 0);
    const std::string provenance = read_file(dir.path() / "out" / "run.csv");
    CHECK(provenance.find("participants," + rows + "\n") != std::string::npos);
    CHECK(provenance.find("participants_sha256,") != std::string::npos);
    // Form errors of both files are reported together.
    const auto bad_rows = put(dir, "bad.csv", "cohort,enrolled\n");
    const auto bad_totals = put(dir, "bad.yaml", "observed: []\n");
    cli = sibsim({"settle", scenario, "--observed", bad_totals, "--participants", bad_rows});
    CHECK(cli.status == 2);
    CHECK(cli.err == bad_totals + ":1:11: error: observed: must have at least one entry\n" +
                         bad_rows +
                         ":1:1: error: no outcome columns; give one column per outcome "
                         "observed\n");
}

namespace {

const std::string by_date = R"(sibsim: 1
name: by a date
horizon: 12
cohorts:
  - {name: c1, size: 40, enrol: [0, 3]}
outcomes:
  - {name: job, kind: binary, rate: 1, observed_by: 6}
payments:
  - {name: card, basis: rate_card, outcome: job, price: 10, payment_lag: 1}
  - {name: goal, basis: target, outcome: job, at_least: 40, amount: 100, payment_lag: 2}
payers:
  - {name: gov, share: 1}
)";

std::string scenario_error(const std::string& yaml) {
    try {
        scenario_of(yaml);
    } catch (const InputError& e) {
        return e.what();
    }
    return "(loaded without error)";
}

}  // namespace

TEST_CASE(
    "observed_by: every participant's outcome is known in that period, whenever they "
    "enrolled") {
    const Plan plan = compile(scenario_of(by_date));
    const MetricLayout layout = metric_layout(plan);
    TrialState state(plan);
    simulate_trial(plan, layout, party_layout(plan), 0, state);
    const auto gov = flows_of(plan, state, "gov");
    // Rate card: all 40 achievements due in period 6 + 1; the goal assessed at 6, paid at 8.
    CHECK(gov == std::vector<double>{0, 0, 0, 0, 0, 0, 0, -400, -100, 0, 0, 0});

    // Participant rows: an achievement dated after period 6 does not count, whenever enrolled.
    const std::string csv =
        "cohort,enrolled,job,job.period\n"
        "c1,0,1,6\n"
        "c1,3,1,6\n"
        "c1,0,1,7\n";
    const Metrics m = settle_rows(by_date, csv);
    CHECK(m["payments.card"] == 20);
    CHECK(m["rule.goal.met"] == 0);
}

TEST_CASE("observed_by: Augsburg counts placements achieved by the end of the term") {
    const std::string augsburg_yaml = read_file(scenario_path("augsburg.yaml"));
    const std::string rows = read_file(observed_path("augsburg-participants.csv"));
    // 22 placements, 2 of them dated after period 9: exactly 20 count, and the target is met.
    Metrics m = settle_rows(augsburg_yaml, rows);
    CHECK(m["rule.placements.met"] == 1);
    CHECK(m["payments.total"] == 250000);
    // One more placed too late: 19 count, nothing is paid.
    std::string late = rows;
    const std::string first = "young-people,0,JuMP-001,1,4\n";
    REQUIRE(late.find(first) != std::string::npos);
    late.replace(late.find(first), first.size(), "young-people,0,JuMP-001,1,10\n");
    m = settle_rows(augsburg_yaml, late);
    CHECK(m["rule.placements.met"] == 0);
    CHECK(m["payments.total"] == 0);
}

TEST_CASE("observed_by: the loader's checks") {
    auto with = [](const std::string& from, const std::string& to) {
        std::string yaml = by_date;
        REQUIRE(yaml.find(from) != std::string::npos);
        yaml.replace(yaml.find(from), from.size(), to);
        return yaml;
    };
    CHECK(scenario_error(with("observed_by: 6}", "observed_by: 6, observed_after: 1}")) ==
          "test.yaml:7:53: error: outcomes.job.observed_by: give observed_after or observed_by, "
          "not both");
    CHECK(scenario_error(with("observed_by: 6}", "observed_by: 2}")) ==
          "test.yaml:7:53: error: outcomes.job.observed_by: period 2 is before the last "
          "enrolment period of cohort 'c1' (3)");
    CHECK(scenario_error(with("observed_by: 6}",
                              "observed_by: 6}\n  - {name: kept, kind: binary, after: job, "
                              "rate: 1, observed_after: 4}")) ==
          "test.yaml:8:69: error: outcomes.kept.observed_after: is known before 'job', the "
          "outcome it follows, for participants of cohort 'c1'");
    CHECK(scenario_error(with("payers:", "caps: {per_participant: 5}\npayers:")) ==
          "test.yaml:9:5: error: payments.card: a rate card on an outcome with observed_by "
          "cannot be combined with caps.per_participant");
    CHECK(scenario_error(with("payment_lag: 2}", "payment_lag: 6}")) ==
          "test.yaml:10:5: error: payments.goal: pays in period 12 for all cohorts, at or after "
          "the horizon (12)");
}

namespace {

// Everyone with a job has exactly one of part-time and full-time (probability 1 given
// eligibility), never both; `extra` adds a cap or a count outcome to switch the draw mode.
std::string either_or(const std::string& extra) {
    return R"(sibsim: 1
name: either or
horizon: 12
cohorts:
  - {name: c1, size: 1000, enrol: [0, 3]}
outcomes:
  - {name: job, kind: binary, rate: 0.6, observed_after: 1}
  - {name: part-time, kind: binary, after: job, rate: 0.5, observed_after: 2}
  - {name: full-time, kind: binary, after: job, instead_of: part-time, rate: 1, observed_after: 2}
  - {name: sessions, kind: count, rate: 2, observed_after: 1}
payments:
  - {name: part, basis: rate_card, outcome: part-time, price: 100}
  - {name: full, basis: rate_card, outcome: full-time, price: 200}
)" + extra +
           R"(
payers:
  - {name: gov, share: 1}
)";
}

}  // namespace

TEST_CASE("instead_of: either/or outcomes are never both achieved, in every draw mode") {
    const std::vector<std::pair<std::string, std::string>> modes = {
        {"aggregate", ""},
        {"patterns", "caps: {per_participant: 1000}"},
        {"bit-sliced", "caps: {per_participant: 1000}"},  // batches of 15: below 8 per pattern
        {"individuals",
         "  - {name: per-session, basis: rate_card, outcome: sessions, price: 1}\n"
         "caps: {per_participant: 1000}"}};
    for (const auto& mode_case : modes) {
        // Named copies, not structured bindings: clang 14 cannot capture a binding in the lambda
        // CAPTURE expands to.
        const auto& mode = mode_case.first;
        const auto& extra = mode_case.second;
        CAPTURE(mode);
        std::string yaml = either_or(extra);
        if (mode == "bit-sliced") yaml.replace(yaml.find("size: 1000"), 10, "size: 60");
        const Plan plan = compile(scenario_of(yaml));
        const MetricLayout layout = metric_layout(plan);
        TrialState state(plan);
        for (std::uint64_t trial = 0; trial < 20; ++trial) {
            simulate_trial(plan, layout, party_layout(plan), trial, state);
            const Metrics m = metrics_of(layout, state);
            // Each job holder is paid once: 100 for part-time, else 200 for full-time.
            const double jobs = state.outcomes.total[0];
            const double part = m["payments.part"] / 100, full = m["payments.full"] / 200;
            CHECK(part + full == jobs);
            CHECK(part > 0);
            CHECK(full > 0);
        }
    }
}

TEST_CASE("instead_of: the loader's checks, and participant rows with both") {
    auto with = [](const std::string& from, const std::string& to) {
        std::string yaml = either_or("");
        REQUIRE(yaml.find(from) != std::string::npos);
        yaml.replace(yaml.find(from), from.size(), to);
        return yaml;
    };
    CHECK(scenario_error(with("instead_of: part-time", "instead_of: job")) ==
          "test.yaml:9:61: error: outcomes.full-time.instead_of: must name an outcome with the "
          "same 'after' as this one ('job'); 'job' has none");
    CHECK(scenario_error(with("instead_of: part-time", "instead_of: full-time")) ==
          "test.yaml:9:61: error: outcomes.full-time.instead_of: must name an outcome listed "
          "before this one; 'full-time' is this outcome");
    CHECK(scenario_error(with("rate: 2,", "instead_of: job, rate: 2,")) ==
          "test.yaml:10:47: error: outcomes.sessions.instead_of: instead_of applies to binary "
          "outcomes only");
    CHECK(error_of(either_or(""),
                   "cohort,enrolled,job,part-time,full-time,sessions\n"
                   "c1,0,1,1,1,0\n"
                   "c1,0,1,0,1,0\n") ==
          "p.csv:2:10: error: full-time: achieved together with 'part-time', which it is "
          "instead of");
    const Metrics m = settle_rows(either_or(""),
                                  "cohort,enrolled,job,part-time,full-time,sessions\n"
                                  "c1,0,1,1,0,0\n"
                                  "c1,0,1,0,1,0\n"
                                  "c1,0,0,0,0,3\n");
    CHECK(m["payments.part"] == 100);
    CHECK(m["payments.full"] == 200);
}

TEST_CASE(
    "fair-chance-fund: with too many patterns to list, every batch is drawn bit-sliced "
    "(it once drew nothing and paid 0)") {
    const std::string yaml = read_file(scenario_path("fair-chance-fund.yaml"));
    const Plan plan = compile(scenario_of(yaml));
    REQUIRE(plan.participant_mode == ParticipantMode::patterns);
    CHECK(plan.patterns.empty());
    const Metrics m = one_trial(yaml);
    CHECK(m["payments.total"] > 2000000);
    CHECK(m["payments.total"] <= 2944525);
    CHECK(m["payments.part-time-13w"] > 0);
    CHECK(m["payments.full-time-13w"] > 0);
}

TEST_CASE("participants: a count observed over several periods counts what is dated by its last") {
    // days is known over periods 1-4 after enrolment in period 0 (observed_after 1,
    // observed_over 4): a row dated 4 counts, one dated 5 does not. Counted: 3 days against a
    // comparison of 2 × 3 = 6, 3 avoided at 10 = 30 (with only observed_after's period 1 as the
    // cut-off, nothing would count and 60 would be paid).
    const std::string yaml = R"(sibsim: 1
name: spread
horizon: 8
cohorts: [{name: c, size: 2, enrol: [0, 0]}]
outcomes:
  - {name: days, kind: count, better: lower, baseline: 3, observed_after: 1, observed_over: 4}
comparison: {kind: matched, ratio: 1}
payments:
  - {name: v, basis: versus_comparison, outcome: days, price: 10}
payers: [{name: gov, share: 1}]
)";
    const std::string csv = "cohort,enrolled,days,days.period\nc,0,3,4\nc,0,5,5\n";
    const Metrics m = settle_rows(yaml, csv, {observe("c", "days", 2, 1.5, 3)});
    CHECK(m["payments.v"] == 30);
}
