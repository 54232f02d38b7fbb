"""Errors: every problem of a file in one sibsim.ScenarioError, located as the CLI locates it,
with the CLI's text; wrong arguments raise the ordinary Python exceptions."""
import os
import unittest

import sibsim
from helpers import cli, path


class ScenarioErrors(unittest.TestCase):
    def check_same_as_cli(self, error, *cli_args):
        status, out, err = cli(*cli_args)
        self.assertEqual(status, 2)
        self.assertEqual(out, "")
        self.assertEqual(str(error) + "\n", err)

    def test_every_problem_with_its_location(self):
        file = "tests/data/invalid/observed-over-misuse.yaml"
        with self.assertRaises(sibsim.ScenarioError) as caught:
            sibsim.load(file)
        e = caught.exception
        self.assertIsInstance(e, ValueError)
        self.assertEqual(len(e.problems), 6)
        first = e.problems[0]
        self.assertEqual(first, sibsim.Problem(
            file, 14, 76, "outcomes.job.observed_over",
            "observed_over applies to count outcomes only"))
        self.assertEqual((first.file, first.line, first.column), (file, 14, 76))
        # The file's own expectations: its "# expect:" lines.
        with open(file) as f:
            expected = [line[len("# expect: "):].rstrip("\n") for line in f
                        if line.startswith("# expect: ")]
        self.assertEqual(str(e).split("\n"), expected)
        self.check_same_as_cli(e, "run", file)

    def test_set_errors_as_the_cli_reports_them(self):
        with self.assertRaises(sibsim.ScenarioError) as caught:
            sibsim.load("scenarios/peterborough.yaml",
                        set={"simulation.trials": -5, "cohorts.cohort-1.size": "many"})
        self.assertEqual(len(caught.exception.problems), 2)
        status, _, err = cli("run", "scenarios/peterborough.yaml", "--set", "simulation.trials=-5",
                             "--set", "cohorts.cohort-1.size=many")
        self.assertEqual(status, 2)
        self.assertEqual(str(caught.exception) + "\n", err)

    def test_unreadable_file(self):
        with self.assertRaises(sibsim.ScenarioError) as caught:
            sibsim.load("no-such-file.yaml")
        self.assertEqual(caught.exception.problems,
                         [sibsim.Problem("no-such-file.yaml", 1, 1, "",
                                         "cannot read file: No such file or directory")])
        self.check_same_as_cli(caught.exception, "run", "no-such-file.yaml")

    def test_observed_results_errors(self):
        sc = sibsim.load("scenarios/augsburg.yaml")
        observed = "tests/data/observed/bad-several.yaml"
        with self.assertRaises(sibsim.ScenarioError) as caught:
            sc.settle(observed=observed)
        self.assertEqual([(p.line, p.path) for p in caught.exception.problems],
                         [(4, "observed[0].cohort"), (4, "observed[0].outcome"),
                          (8, "observed[1].cohort"), (8, "observed[1].outcome")])
        self.check_same_as_cli(caught.exception, "settle", "scenarios/augsburg.yaml",
                               "--observed", observed)

    def test_vary_errors(self):
        sc = sibsim.load("scenarios/peterborough.yaml")
        with self.assertRaises(sibsim.ScenarioError) as caught:
            sibsim.sweep(sc, vary={"payments.cohort-trigger.threshold": "0.1:0.05:0.01"},
                         trials=10)
        status, _, err = cli("sweep", "scenarios/peterborough.yaml", "--vary",
                             "payments.cohort-trigger.threshold=0.1:0.05:0.01")
        self.assertEqual(status, 2)
        self.assertEqual(str(caught.exception) + "\n", err)
        with self.assertRaises(sibsim.ScenarioError) as caught:
            sibsim.sweep(sc, vary={"payments.cohort-trigger.threshold": [0.1, "x"]}, trials=10)
        self.assertIn("payments.cohort-trigger.threshold", str(caught.exception))


class ArgumentErrors(unittest.TestCase):
    def test_wrong_arguments(self):
        sc = sibsim.load(path("scenarios/augsburg.yaml"))
        r = sc.run(trials=100)
        with self.assertRaisesRegex(KeyError, "no metric 'payments.totl'; did you mean "
                                              "'payments.total'"):
            r.values("payments.totl")
        with self.assertRaisesRegex(ValueError, "^trials: must be from 1 to 1000000000, got 0$"):
            sc.run(trials=0)
        with self.assertRaisesRegex(ValueError, "trials: must be from 1 to 1000000000, got "
                                                "1000000001"):
            sc.run(trials=10**9 + 1)
        with self.assertRaisesRegex(ValueError, "^threads: must be from 0 .all cores. to 1024, "
                                                "got -1$"):
            sc.run(trials=10, threads=-1)
        with self.assertRaisesRegex(ValueError, "more than 10000000000 trials"):
            sibsim.sweep(sc, vary={"simulation.seed": "1:11:1"}, trials=10**9)
        with self.assertRaisesRegex(ValueError, "more than 100000 points"):
            sibsim.sweep(sc, vary={"simulation.seed": "1:1000:1", "simulation.trials": "1:101:1"})
        with self.assertRaisesRegex(ValueError, "two or more"):
            sibsim.compare([sc], trials=10)
        with self.assertRaisesRegex(KeyError, "no metric 'nope'"):
            sibsim.sweep(sc, vary={"simulation.seed": [1, 2]}, trials=10, metrics=["nope"])
        with self.assertRaisesRegex(KeyError, "no column 'x'"):
            r.summary_table.column("x")
        with self.assertRaisesRegex(TypeError, "keys must be str"):
            sibsim.load(path("scenarios/augsburg.yaml"), set={1: 2})

    def test_runs_that_cannot_fit_are_refused_before_they_start(self):
        sc = sibsim.load(path("scenarios/peterborough.yaml"))
        # Every value of 10^9 trials kept: hundreds of GiB.
        with self.assertRaisesRegex(MemoryError, r"^this run needs about [0-9.]+ GiB of memory "
                                                 r"but [0-9.]+ GiB is available; use fewer "
                                                 r"trials or per_trial=False$"):
            sc.run(trials=10**9)
        with self.assertRaisesRegex(ValueError, r"^quantiles='exact' would need about [0-9.]+ "
                                                r"GiB for this run, beyond the 2.0 GiB budget"):
            sc.run(trials=10**9, per_trial=False, quantiles="exact")


if __name__ == "__main__":
    os.chdir(os.environ.get("SIBSIM_SOURCE_DIR", os.getcwd()))
    unittest.main()
