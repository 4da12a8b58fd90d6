"""Start-up: jsonschema loads when a workflow's input schema is checked, not on ``import spola.model``."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys, tempfile, pathlib
import spola.model
print(json.dumps("jsonschema" in sys.modules))
text = (
    "arazzo: 1.0.1\\ninfo: {title: t, version: '1'}\\n"
    "sourceDescriptions: [{name: s, url: ./s.yaml, type: openapi}]\\n"
    "workflows:\\n  - workflowId: w\\n    inputs: {type: object}\\n"
    "    steps: [{stepId: a, operationPath: '{$sourceDescriptions.s.url}#/paths/~1x/get'}]\\n"
)
path = pathlib.Path(tempfile.mkdtemp()) / "flow.arazzo.yaml"
path.write_text(text)
spola.model.load(path, resolve_sources=False)
print(json.dumps("jsonschema" in sys.modules))
"""


def test_import_spola_model_defers_jsonschema_until_an_input_schema_is_checked() -> None:
    # A fresh interpreter: this test process has long since imported jsonschema.
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    on_import, after_load = (json.loads(line) for line in result.stdout.splitlines())
    assert on_import is False
    assert after_load is True
