"""Start-up: the XPath, JSONPath and RE2 libraries load when a criterion needs them, not on import.

``.name``-only queries and the everyday comparison dialect (``$.state == "RUNNING"``) never need
python-jsonpath; a query beyond them (``$.a[0]``) loads it.
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
import spola.criteria
heavy = ("elementpath", "lxml", "jsonpath", "re2")
def loaded():
    print(json.dumps({name: name in sys.modules for name in heavy}))
loaded()
from spola.criteria import compile_criterion, compile_selector
compile_criterion("count(/a) > 0", type="xpath", context="$response.body")
compile_selector("$.a", "jsonpath")
compile_criterion('$.state.life_cycle_state == "RUNNING" || $.b < 3', type="jsonpath", context="$response.body")
compile_criterion("$.state.life_cycle_state", type="jsonpath", context="$response.body")
loaded()
compile_selector("$.a[0]", "jsonpath")
compile_criterion("^a+$", type="regex", context="$response.body")
loaded()
"""


def test_import_spola_criteria_defers_elementpath_lxml_jsonpath_and_re2() -> None:
    # A fresh interpreter: this test process has long since imported them all.
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    on_import, after_names, after_more = (json.loads(line) for line in result.stdout.splitlines())
    assert on_import == {"elementpath": False, "lxml": False, "jsonpath": False, "re2": False}
    assert after_names == {"elementpath": True, "lxml": True, "jsonpath": False, "re2": False}
    assert after_more == {"elementpath": True, "lxml": True, "jsonpath": True, "re2": True}
