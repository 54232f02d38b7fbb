"""Shared by the Python module's tests: where the source, the CLI and the build are, and the
CLI's CSV files read back as numbers."""
import csv
import os
import subprocess
import tempfile

SOURCE = os.environ.get("SIBSIM_SOURCE_DIR", os.getcwd())
BINARY = os.environ.get("SIBSIM_BINARY", os.path.join(SOURCE, "build", "sibsim"))
BUILD = os.environ.get("SIBSIM_BUILD_DIR", os.path.join(SOURCE, "build"))


# Set in the AddressSanitizer build, where every Python process of a test runs with the
# sanitizer's runtime preloaded and checks for leaks at exit (leakcheck/sitecustomize.py).
LEAK_CHECK = os.environ.get("SIBSIM_LEAK_CHECK") == "1"


def without_preload():
    """The environment for programs other than Python and sibsim (such as cmake): without the
    sanitizer's preloaded runtime, which would check them for leaks of their own."""
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}


def path(relative):
    return os.path.join(SOURCE, relative)


def cli(*args):
    """Runs the sibsim binary; returns (exit status, stdout, stderr)."""
    done = subprocess.run([BINARY, *args], capture_output=True, text=True, cwd=SOURCE)
    return done.returncode, done.stdout, done.stderr


def cli_files(*args):
    """Runs the sibsim binary with -o into a temporary folder; returns {NAME.csv: rows}, each
    rows a list of dicts column -> text."""
    with tempfile.TemporaryDirectory() as out:
        status, _, err = cli(*args, "-o", out, "--quiet")
        assert status == 0, err
        files = {}
        for name in os.listdir(out):
            if name.endswith(".csv"):
                with open(os.path.join(out, name), newline="") as f:
                    files[name] = list(csv.DictReader(f))
        return files


def number(text):
    """A CSV cell as Python keeps it: float for numbers, None for a blank."""
    return None if text == "" else float(text)
