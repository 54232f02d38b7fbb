"""No leaks: repeating every kind of call does not grow the process's resident memory. Each
round's result holds about 8 MB of per-trial values, so a leak of results would add hundreds of
MB over the rounds.

In the AddressSanitizer build the resident memory says nothing (the sanitizer holds freed memory
back in quarantine), so there the rounds run and LeakSanitizer checks, when the process exits,
that nothing they allocated is left unreachable (leakcheck/sitecustomize.py); the other tests
are checked the same way."""
import gc
import unittest

import sibsim
from helpers import LEAK_CHECK, path


def resident_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def one_round():
    sc = sibsim.load(path("scenarios/peterborough.yaml"),
                     set={"payments.cohort-trigger.threshold": 0.11})
    r = sc.run(trials=20000, seed=1, threads=2)
    values = r.values("investors.irr")
    assert values.shape == (20000,)
    assert r.summary["payments.total"]["mean"] > 0
    assert r.cashflows.shape[0] == len(r.parties)
    sibsim.sweep(sc, vary={"simulation.seed": [1, 2]}, trials=2000)
    sibsim.compare([sc, sc], trials=2000)
    sibsim.load(path("scenarios/augsburg.yaml")).settle(
        observed=path("tests/data/observed/augsburg-20.yaml"))
    try:
        sibsim.load(path("tests/data/invalid/observed-over-misuse.yaml"))
    except sibsim.ScenarioError as e:
        assert len(e.problems) == 6


class Leaks(unittest.TestCase):
    def test_repeated_calls_do_not_grow_memory(self):
        for _ in range(5):  # the allocator's and the interpreter's caches fill first
            one_round()
        gc.collect()
        before = resident_mb()
        for _ in range(40):
            one_round()
        gc.collect()
        if LEAK_CHECK:
            return  # LeakSanitizer checks at exit
        grown = resident_mb() - before
        self.assertLess(grown, 40, "resident memory grew by %.0f MB over 40 rounds" % grown)


if __name__ == "__main__":
    unittest.main()
