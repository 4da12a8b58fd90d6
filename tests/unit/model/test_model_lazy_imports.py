"""Start-up: jsonschema loads when a workflow's input schema needs it, not on ``import spola.model``.

A plain schema (typed properties, ``required``: `spola.model.plain_schema`) never needs it; one with a
keyword outside that subset (here ``pattern``) loads it when the document is checked.
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys, tempfile, pathlib
import spola.model
print(json.dumps("jsonschema" in sys.modules))
def doc(inputs):
    return (
        "arazzo: 1.0.1\\ninfo: {title: t, version: '1'}\\n"
        "sourceDescriptions: [{name: s, url: ./s.yaml, type: openapi}]\\n"
        "workflows:\\n  - workflowId: w\\n    inputs: " + inputs + "\\n"
        "    steps: [{stepId: a, operationPath: '{$sourceDescriptions.s.url}#/paths/~1x/get'}]\\n"
    )
folder = pathlib.Path(tempfile.mkdtemp())
for name, inputs in (
    ("plain", "{type: object, required: [a], properties: {a: {type: integer}}}"),
    ("pattern", "{type: object, properties: {a: {type: string, pattern: '^x'}}}"),
):
    path = folder / (name + ".arazzo.yaml")
    path.write_text(doc(inputs))
    spola.model.load(path, resolve_sources=False)
    print(json.dumps("jsonschema" in sys.modules))
"""


def test_import_spola_model_defers_jsonschema_until_an_input_schema_needs_it() -> None:
    # A fresh interpreter: this test process has long since imported jsonschema.
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    on_import, after_plain, after_pattern = (json.loads(line) for line in result.stdout.splitlines())
    assert on_import is False
    assert after_plain is False
    assert after_pattern is True
