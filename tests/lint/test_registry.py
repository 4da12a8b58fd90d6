"""The registry names each check by ``module.function``; a check's module loads when it first runs."""

from __future__ import annotations

import json
import subprocess
import sys

from spola.lint.registry import CHECKS
from spola.lint.rules import RULES


def test_every_check_names_a_function_and_known_rules() -> None:
    from importlib import import_module

    for check in CHECKS:
        module, name = check.function.rsplit(".", 1)
        assert callable(getattr(import_module(f"spola.lint.checks.{module}"), name)), check.function
        assert set(check.rules) <= set(RULES), check.function


PROBE = """
import json, sys
from spola.lint.registry import CHECKS
print(json.dumps(sorted(m for m in sys.modules if m.startswith("spola.lint.checks."))))
"""


def test_importing_the_registry_imports_no_check() -> None:
    # a fresh interpreter: `spola run` runs only the blocking checks and imports only their modules
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
