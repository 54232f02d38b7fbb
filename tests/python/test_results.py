"""The module's numbers are the CLI's: the same seed gives the same summary, trials, cash
flows, sweep, comparison and settlement as `sibsim run/sweep/compare/settle -o DIR`."""
import math
import unittest

import numpy

import sibsim
from helpers import cli_files, path


def csv_text(x):
    """A float as the CLI's CSV prints it (csv.cpp, format_number): 10 significant digits, the
    exponent without leading zeros, 0 for zero."""
    if x == 0:
        return "0"
    text = "%.10g" % x
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = mantissa + "e" + exponent[0] + exponent[1:].lstrip("0")
    return text


def nearest_rank(sorted_values, p):
    """The engine's nearest rank: ceil(p*n), clamped to [1, n] (stats.hpp)."""
    n = len(sorted_values)
    return sorted_values[min(max(math.ceil(p * n - 1e-9), 1), n) - 1]


class RunEqualsCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scenario = sibsim.load(path("scenarios/peterborough.yaml"))
        cls.result = cls.scenario.run(trials=20000, seed=7, threads=2)
        cls.files = cli_files("run", "scenarios/peterborough.yaml", "-n", "20000", "--seed", "7",
                              "-j", "2", "--per-trial")

    def test_summary_is_summary_csv(self):
        rows = self.files["summary.csv"]
        self.assertEqual([r["metric"] for r in rows], list(self.result.summary))
        self.assertEqual(self.result.metrics, list(self.result.summary))
        for row in rows:
            stats = self.result.summary[row["metric"]]
            self.assertEqual(list(stats), list(row)[1:])
            for column, value in stats.items():
                self.assertEqual(csv_text(value), row[column], (row["metric"], column))

    def test_values_are_trials_csv_in_trial_order(self):
        rows = self.files["trials.csv"]
        self.assertEqual(len(rows), 20000)
        for metric in self.result.metrics:
            values = self.result.values(metric)
            self.assertEqual(values.shape, (20000,))
            self.assertEqual([csv_text(v) for v in values], [r[metric] for r in rows], metric)

    def test_summary_is_exact_over_the_values(self):
        # Bit for bit, not only to the CSV's digits: extremes and nearest-rank quantiles are
        # values of trials.
        for metric in self.result.metrics:
            values = numpy.sort(self.result.values(metric))
            stats = self.result.summary[metric]
            self.assertEqual(stats["min"], values[0])
            self.assertEqual(stats["max"], values[-1])
            for name, p in (("p5", .05), ("p25", .25), ("p50", .5), ("p75", .75), ("p95", .95)):
                self.assertEqual(stats[name], nearest_rank(values, p), (metric, name))
            self.assertAlmostEqual(stats["mean"], float(numpy.mean(values)),
                                   delta=1e-9 * max(1.0, abs(stats["mean"])))

    def test_cashflows_are_cashflows_csv(self):
        rows = self.files["cashflows.csv"]
        r = self.result
        self.assertEqual(r.cashflows.shape, (len(r.parties), len(rows)))
        self.assertEqual(r.dates, [row["date"] for row in rows])
        for p, party in enumerate(r.parties):
            for t, row in enumerate(rows):
                self.assertEqual(csv_text(r.cashflows[p, t]), row[party + ".mean"])
                self.assertEqual(csv_text(r.cashflows_p5[p, t]), row[party + ".p5"])
                self.assertEqual(csv_text(r.cashflows_p95[p, t]), row[party + ".p95"])

    def test_threads_do_not_change_numbers(self):
        one = self.scenario.run(trials=20000, seed=7, threads=1)
        self.assertEqual(one.summary, self.result.summary)
        self.assertTrue(numpy.array_equal(one.values("investors.irr"),
                                          self.result.values("investors.irr")))

    def test_values_are_read_only_and_outlive_nothing(self):
        values = self.scenario.run(trials=2000, seed=3).values("payments.total")
        with self.assertRaises(ValueError):
            values[0] = 1.0
        # The array keeps its result alive: still readable once the result is gone.
        self.assertEqual(values.shape, (2000,))
        self.assertTrue(numpy.isfinite(values).all())


class QuantileChoices(unittest.TestCase):
    def test_without_per_trial_as_the_cli_without_it(self):
        # 70,000 trials: beyond 65,536 the CLI finds exact quantiles from a pilot's brackets.
        sc = sibsim.load(path("scenarios/peterborough.yaml"))
        r = sc.run(trials=70000, seed=2, threads=2, per_trial=False)
        self.assertEqual(r.quantiles, "exact")
        files = cli_files("run", "scenarios/peterborough.yaml", "-n", "70000", "--seed", "2")
        for row in files["summary.csv"]:
            for column, value in r.summary[row["metric"]].items():
                self.assertEqual(csv_text(value), row[column], (row["metric"], column))
        with self.assertRaises(ValueError):
            r.values("payments.total")

    def test_sketch(self):
        sc = sibsim.load(path("scenarios/augsburg.yaml"))
        r = sc.run(trials=5000, seed=1, per_trial=False, quantiles="sketch")
        self.assertEqual(r.quantiles, "sketch")
        files = cli_files("run", "scenarios/augsburg.yaml", "-n", "5000", "--seed", "1",
                          "--quantiles", "sketch")
        for row in files["summary.csv"]:
            for column, value in r.summary[row["metric"]].items():
                self.assertEqual(csv_text(value), row[column], (row["metric"], column))
        with self.assertRaisesRegex(ValueError, "per_trial=False"):
            sc.run(trials=100, quantiles="sketch")
        with self.assertRaisesRegex(ValueError, "'auto', 'exact' or 'sketch'"):
            sc.run(trials=100, quantiles="fast")


class OverridesEqualCli(unittest.TestCase):
    def test_set_is_the_cli_set(self):
        sc = sibsim.load(path("scenarios/peterborough.yaml"),
                         set={"payments.cohort-trigger.threshold": 0.12, "simulation.seed": 5})
        r = sc.run(trials=3000)
        self.assertEqual(r.seed, 5)
        files = cli_files("run", "scenarios/peterborough.yaml", "-n", "3000", "--set",
                          "payments.cohort-trigger.threshold=0.12", "--set", "simulation.seed=5")
        for row in files["summary.csv"]:
            self.assertEqual(csv_text(r.summary[row["metric"]]["mean"]), row["mean"])
        # numpy numbers and lists are written as YAML too.
        other = sibsim.load(path("scenarios/peterborough.yaml"),
                            set={"simulation.trials": numpy.int64(500),
                                 "cohorts.cohort-1.enrol": [0, 5],
                                 "payments.cohort-trigger.threshold": numpy.float64(0.12)})
        self.assertEqual(other.trials, 500)
        files = cli_files("run", "scenarios/peterborough.yaml", "--set", "simulation.trials=500",
                          "--set", "cohorts.cohort-1.enrol=[0, 5]", "--set",
                          "payments.cohort-trigger.threshold=0.12")
        r500 = other.run()
        self.assertEqual(r500.trials, 500)
        for row in files["summary.csv"]:
            self.assertEqual(csv_text(r500.summary[row["metric"]]["p50"]), row["p50"])
        plain = sibsim.load(path("scenarios/peterborough.yaml")).run(trials=3000, seed=5)
        self.assertNotEqual(plain.summary["payments.total"], r.summary["payments.total"])


class SweepCompareSettle(unittest.TestCase):
    def test_sweep_is_sweep_csv(self):
        sc = sibsim.load(path("scenarios/peterborough.yaml"))
        table = sibsim.sweep(sc, vary={"payments.cohort-trigger.threshold": [0.08, 0.10, 0.12],
                                       "simulation.seed": "1,2"}, trials=3000, threads=2)
        rows = cli_files("sweep", "scenarios/peterborough.yaml", "-n", "3000", "-j", "2",
                         "--vary", "payments.cohort-trigger.threshold=0.08,0.10,0.12",
                         "--vary", "simulation.seed=1,2")["sweep.csv"]
        self.assertEqual(table.name, "sweep")
        self.assertEqual(table.columns, list(rows[0]))
        self.assertEqual(len(table), 6)
        for got, want in zip(table.rows, rows):
            for column, value in zip(table.columns, got):
                if column.endswith((".mean", ".se")):
                    self.assertEqual(csv_text(value), want[column], column)
                else:  # a varied value: as written (0.10 here, 0.1 from Python's list)
                    self.assertEqual(value, float(want[column]), column)
        self.assertEqual(table.column("simulation.seed"), [1, 2, 1, 2, 1, 2])
        chosen = sibsim.sweep(sc, vary={"payments.cohort-trigger.threshold": "0.08:0.12:0.02"},
                              trials=3000, metrics=["investors.irr"])
        self.assertEqual(chosen.columns, ["payments.cohort-trigger.threshold",
                                          "investors.irr.mean", "investors.irr.se"])
        self.assertEqual(chosen.column("investors.irr.mean"),
                         table.column("investors.irr.mean")[::2])

    def test_compare_is_compare_csv(self):
        a = sibsim.load(path("scenarios/peterborough.yaml"))
        b = sibsim.load(path("scenarios/peterborough.yaml"),
                        set={"payments.cohort-trigger.threshold": 0.12})
        table = sibsim.compare([a, b], trials=4000, seed=3)
        self.assertEqual(table.columns, ["metric", "peterborough", "peterborough-2",
                                         "diff.peterborough-2", "diff_se.peterborough-2"])
        # The CLI compares files: the second one is the same file with the override.
        rows = cli_files("compare", "scenarios/peterborough.yaml", "scenarios/peterborough.yaml",
                         "-n", "4000", "--seed", "3")["compare.csv"]
        c = cli_files("run", "scenarios/peterborough.yaml", "-n", "4000", "--seed", "3", "--set",
                      "payments.cohort-trigger.threshold=0.12")["summary.csv"]
        means_b = {r["metric"]: r["mean"] for r in c}
        self.assertEqual(len(table), len(rows))
        for got, want in zip(table.rows, rows):
            self.assertEqual(got[0], want["metric"])
            self.assertEqual(csv_text(got[1]), want["peterborough"])
            self.assertEqual(csv_text(got[2]), means_b[got[0]])
            self.assertAlmostEqual(got[3], got[2] - got[1], delta=1e-9 * max(1, abs(got[1])))

    def test_settle_is_settle_csv(self):
        sc = sibsim.load(path("scenarios/augsburg.yaml"))
        s = sc.settle(observed=path("tests/data/observed/augsburg-20.yaml"))
        files = cli_files("settle", "scenarios/augsburg.yaml", "--observed",
                          "tests/data/observed/augsburg-20.yaml")
        payments = files["payments.csv"]
        self.assertEqual(s.payments.columns, list(payments[0]))
        self.assertEqual(len(s.payments), len(payments))
        for got, want in zip(s.payments.rows, payments):
            for column, value in zip(s.payments.columns, got):
                self.assertEqual(value if isinstance(value, str) else csv_text(value),
                                 want[column], column)
        flows = files["cashflows.csv"]
        self.assertEqual(s.dates, [r["date"] for r in flows])
        for p, party in enumerate(s.parties):
            self.assertEqual([csv_text(x) for x in s.cashflows[p]], [r[party] for r in flows])
        self.assertEqual(s.metrics["payments.total"], sum(r["amount"] and float(r["amount"])
                                                          for r in payments))
        with self.assertRaisesRegex(ValueError, "settle needs observed results"):
            sc.settle()


class Pandas(unittest.TestCase):
    def test_frames(self):
        try:
            import pandas  # noqa: F401  (python3-pandas, installed by scripts/setup.sh)
        except ImportError:
            self.skipTest("pandas is not installed")
        r = sibsim.load(path("scenarios/augsburg.yaml")).run(trials=1000, seed=1)
        frames = r.to_pandas()
        self.assertEqual(sorted(frames), ["cashflows", "summary", "trials"])
        self.assertEqual(frames["summary"].loc["payments.total", "p50"],
                         r.summary["payments.total"]["p50"])
        self.assertEqual(list(frames["trials"]["payments.total"]), list(r.values("payments.total")))
        self.assertEqual(list(frames["cashflows"].columns)[:2], ["period", "date"])


if __name__ == "__main__":
    unittest.main()
