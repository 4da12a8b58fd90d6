"""A workflow's inputs schema is prepared once (component references inlined, its plainness known)
and shared by every run that validates against it: what each run gets is still its own."""

from __future__ import annotations

from typing import Any

import pytest

from spola.core import inputs as module
from spola.core.inputs import validate_inputs
from spola.errors import InputError

COMPONENTS = {"job": {"type": "integer", "minimum": 1}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["job_id"],
    "properties": {
        "job_id": {"$ref": "#/components/inputs/job"},
        "tags": {"type": "array", "default": ["nightly"]},
        "params": {"type": "object", "default": {"env": "prod"}},
    },
}


def test_each_run_gets_its_own_defaults_from_the_shared_schema() -> None:
    first = validate_inputs(SCHEMA, {"job_id": 3}, workflow_id="w", component_inputs=COMPONENTS)
    first["tags"].append("changed by a run")
    first["params"]["env"] = "changed"
    second = validate_inputs(SCHEMA, {"job_id": 4}, workflow_id="w", component_inputs=COMPONENTS)
    assert second == {"job_id": 4, "tags": ["nightly"], "params": {"env": "prod"}}
    assert SCHEMA["properties"]["tags"]["default"] == ["nightly"]


def test_the_schema_is_prepared_once_and_still_checked_for_each_run(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = {**SCHEMA}  # an object of its own: nothing cached for it yet
    calls: list[object] = []
    real = module.resolve_schema

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "resolve_schema", counted)
    for job in (1, 2, 3):
        validate_inputs(schema, {"job_id": job}, workflow_id="w", component_inputs=COMPONENTS)
    assert calls.count(schema) == 1
    with pytest.raises(InputError, match="job_id"):  # the inlined component still applies
        validate_inputs(schema, {"job_id": 0}, workflow_id="w", component_inputs=COMPONENTS)
    with pytest.raises(InputError, match="no input named 'jobid'"):
        validate_inputs(
            schema, {"jobid": 1}, workflow_id="w", component_inputs=COMPONENTS, refuse_undeclared=True
        )
