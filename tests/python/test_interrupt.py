"""Ctrl-C and the GIL: a run, a sweep and a comparison stop on SIGINT with KeyboardInterrupt,
and the module still works after; other Python threads run while trials run."""
import os
import signal
import subprocess
import sys
import threading
import unittest

import sibsim
from helpers import path

# The child: starts a run that would take hours, says so, and reports what stopped it.
CHILD = r"""
import sys, time
import sibsim
sc = sibsim.load(sys.argv[2])
print("running", flush=True)
started = time.monotonic()
try:
    if sys.argv[1] == "run":
        sc.run(trials=10**9, per_trial=False, quantiles="sketch", threads=2)
    elif sys.argv[1] == "sweep":
        sibsim.sweep(sc, vary={"simulation.seed": [1, 2, 3]}, trials=10**9, threads=2)
    else:
        sibsim.compare([sc, sc], trials=5 * 10**6, threads=2)
    print("finished")
except KeyboardInterrupt:
    print("KeyboardInterrupt after %.1f s" % (time.monotonic() - started), flush=True)
    # Still usable: the same small run as ever.
    r = sc.run(trials=2000, seed=4)
    print("after", r.summary["payments.total"]["mean"] == sibsim.load(sys.argv[2]).run(
        trials=2000, seed=4).summary["payments.total"]["mean"])
"""


class Interrupt(unittest.TestCase):
    def interrupt(self, mode):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, mode, path("scenarios/peterborough.yaml")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertEqual(child.stdout.readline(), "running\n")
            try:  # a second into the run
                child.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=10)  # a generous bound, not a timing check
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        self.assertEqual(child.returncode, 0, err)
        self.assertRegex(out, r"^KeyboardInterrupt after [0-9.]+ s\nafter True\n$")

    def test_run(self):
        self.interrupt("run")

    def test_sweep(self):
        self.interrupt("sweep")

    def test_compare(self):
        self.interrupt("compare")


class GilReleased(unittest.TestCase):
    def test_other_threads_run_meanwhile(self):
        sc = sibsim.load(path("scenarios/peterborough.yaml"))
        done = []
        worker = threading.Thread(
            target=lambda: done.append(sc.run(trials=400000, per_trial=False, threads=1)))
        # Holding the GIL, the run would keep this thread from counting until it ended.
        counted = 0
        worker.start()
        while worker.is_alive():
            counted += 1
        worker.join()
        self.assertEqual(len(done), 1)
        self.assertGreater(counted, 10000)


if __name__ == "__main__":
    unittest.main()
