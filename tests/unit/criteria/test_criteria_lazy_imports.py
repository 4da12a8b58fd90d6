"""Start-up: the XPath and JSONPath libraries load when a criterion needs them, not on import."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
import spola.criteria
heavy = ("elementpath", "lxml", "jsonpath")
print(json.dumps({name: name in sys.modules for name in heavy}))
from spola.criteria import compile_criterion, compile_selector
compile_criterion("count(/a) > 0", type="xpath", context="$response.body")
compile_selector("$.a", "jsonpath")
print(json.dumps({name: name in sys.modules for name in heavy}))
"""


def test_import_spola_criteria_defers_elementpath_lxml_and_jsonpath() -> None:
    # A fresh interpreter: this test process has long since imported them all.
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    on_import, after_compile = (json.loads(line) for line in result.stdout.splitlines())
    assert on_import == {"elementpath": False, "lxml": False, "jsonpath": False}
    assert after_compile == {"elementpath": True, "lxml": True, "jsonpath": True}
