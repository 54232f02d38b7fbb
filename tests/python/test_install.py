"""`cmake --install BUILD --component python` puts the module and its stub into site-packages
under the prefix, from where a fresh interpreter imports it; the stub lists what the module has."""
import ast
import glob
import os
import subprocess
import sys
import tempfile
import unittest

import sibsim
from helpers import BUILD, path, without_preload


class Install(unittest.TestCase):
    def test_install_into_a_prefix(self):
        with tempfile.TemporaryDirectory() as prefix:
            done = subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix,
                                   "--component", "python"], capture_output=True, text=True,
                                  env=without_preload())
            self.assertEqual(done.returncode, 0, done.stderr)
            installed = sorted(os.path.relpath(p, prefix)
                               for p in glob.glob(prefix + "/**/sibsim*", recursive=True))
            version = "python%d.%d" % sys.version_info[:2]
            self.assertEqual(len(installed), 2, installed)
            self.assertEqual(installed[1], "lib/%s/dist-packages/sibsim.pyi" % version)
            self.assertRegex(installed[0],
                             r"^lib/%s/dist-packages/sibsim\.cpython-.*\.so$" % version)
            site = os.path.join(prefix, "lib", version, "dist-packages")
            # The prefix first; what else PYTHONPATH held (the sanitizer build's leak check) after.
            env = dict(os.environ,
                       PYTHONPATH=os.pathsep.join([site, os.environ.get("PYTHONPATH", "")]))
            done = subprocess.run(
                [sys.executable, "-c",
                 "import sibsim; print(sibsim.__file__); "
                 "print(sibsim.load(%r).run(trials=100).trials)" %
                 path("scenarios/augsburg.yaml")],
                capture_output=True, text=True, env=env, cwd=prefix)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(done.stdout.split("\n")[1:], ["100", ""])
            self.assertTrue(done.stdout.startswith(site + "/sibsim.cpython-"), done.stdout)


class Stub(unittest.TestCase):
    """sibsim.pyi names every public function, class, method and property, and no more."""

    def test_stub_matches_the_module(self):
        with open(path("cli/python/sibsim.pyi")) as f:
            tree = ast.parse(f.read())
        stub = {}
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                stub[node.name] = {n.name if not isinstance(n, ast.AnnAssign) else n.target.id
                                   for n in getattr(node, "body", [])
                                   if isinstance(n, (ast.FunctionDef, ast.AnnAssign))}
        module = {}
        for name in dir(sibsim):
            if name.startswith("_"):
                continue
            item = getattr(sibsim, name)
            if isinstance(item, type):
                if issubclass(item, tuple):  # Problem: a named tuple's fields
                    members = set(item._fields)
                elif issubclass(item, Exception):
                    members = {"problems"}
                else:
                    members = {m for m in vars(item) if not m.startswith("_")}
                    members |= {m for m in ("__len__",) if m in vars(item)}
                module[name] = members
            elif callable(item):
                module[name] = set()
        self.assertEqual(stub, module)

    def test_help_is_useful(self):
        doc = sibsim.Scenario.run.__doc__
        for word in ("trials", "seed", "threads", "per_trial", "quantiles", "KeyboardInterrupt"):
            self.assertIn(word, doc)
        for item in (sibsim.load, sibsim.sweep, sibsim.compare, sibsim.Scenario.settle,
                     sibsim.Result.values, sibsim.ScenarioError):
            self.assertGreater(len(item.__doc__ or ""), 80, item)


if __name__ == "__main__":
    unittest.main()
