"""The Python examples of docs/python.md and README.md run: each page's ```python blocks, in
order, in one namespace, from the source directory (the docs test runs only `$ ` commands)."""
import os
import re
import unittest

from helpers import SOURCE


def python_blocks(page):
    with open(os.path.join(SOURCE, page)) as f:
        return re.findall(r"^```python\n(.*?)^```$", f.read(), re.S | re.M)


class Examples(unittest.TestCase):
    def run_page(self, page, expected_blocks):
        blocks = python_blocks(page)
        self.assertEqual(len(blocks), expected_blocks, page)  # a block that stops parsing fails
        namespace = {}
        cwd = os.getcwd()
        os.chdir(SOURCE)
        try:
            for block in blocks:
                exec(compile(block, page, "exec"), namespace)
        finally:
            os.chdir(cwd)
        return namespace

    def test_python_page(self):
        ns = self.run_page("docs/python.md", 3)
        self.assertEqual(ns["r"].trials, 100000)
        self.assertEqual(ns["grid"].columns[:3], ["payments.cohort-trigger.threshold",
                                                  "payments.total.mean", "payments.total.se"])
        self.assertEqual(ns["table"].columns[1:3], ["peterborough", "peterborough-pooled-only"])
        self.assertEqual(ns["s"].metrics["payments.total"],
                         sum(row[4] for row in ns["s"].payments.rows))

    def test_readme(self):
        ns = self.run_page("README.md", 1)
        self.assertIn("r", ns)


if __name__ == "__main__":
    unittest.main()
