"""Small Arazzo documents and OpenAPI descriptions for the lint tests, written into a temporary folder."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from spola.errors import Finding
from spola.lint import LintReport, lint

RUN_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "state": {
            "type": "object",
            "properties": {"status": {"type": "string", "enum": ["QUEUED", "RUNNING", "DONE", "FAILED"]}},
        },
    },
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Runs", "version": "1"},
    "servers": [{"url": "https://api.example.com/v1"}],
    "components": {
        "schemas": {"Run": RUN_SCHEMA},
        "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
    },
    "security": [{"key": []}],
    "paths": {
        "/runs": {
            "get": {"operationId": "listRuns", "responses": {"200": {"description": "ok"}}},
            "post": {
                "operationId": "createRun",
                "parameters": [
                    {"name": "mode", "in": "query", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {"200": {"description": "ok"}},
            },
        },
        "/runs/{runId}": {
            "get": {
                "operationId": "getRun",
                "parameters": [
                    {"name": "runId", "in": "path", "required": True, "schema": {"type": "integer"}},
                    {"name": "verbose", "in": "query", "schema": {"type": "boolean"}},
                ],
                "responses": {
                    "200": {
                        "description": "a run",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Run"}}},
                    }
                },
            }
        },
    },
}

RUN_ID = {"name": "runId", "in": "path", "value": "$inputs.runId"}


def step(step_id: str, operation: str = "getRun", **fields: Any) -> dict[str, Any]:
    """A step calling ``operation``; getRun steps get their path parameter unless ``parameters`` is given."""
    data: dict[str, Any] = {"stepId": step_id, "operationId": operation}
    if operation == "getRun" and "parameters" not in fields:
        data["parameters"] = [dict(RUN_ID)]
    if operation == "createRun" and "parameters" not in fields:
        data["parameters"] = [{"name": "mode", "in": "query", "value": "fast"}]
    if operation == "createRun" and "requestBody" not in fields:
        data["requestBody"] = {"contentType": "application/json", "payload": {"a": 1}}
    data.update(fields)
    return data


def criterion(condition: str, *, jsonpath: bool = False) -> dict[str, Any]:
    """A simple criterion, or a jsonpath one on the response body."""
    if jsonpath:
        return {"context": "$response.body", "condition": condition, "type": "jsonpath"}
    return {"condition": condition}


def goto(name: str, target: str, *conditions: str, jsonpath: bool = False) -> dict[str, Any]:
    """A goto success action, guarded by the conditions given."""
    action: dict[str, Any] = {"name": name, "type": "goto", "stepId": target}
    if conditions:
        action["criteria"] = [criterion(c, jsonpath=jsonpath) for c in conditions]
    return action


def end(name: str, *conditions: str, jsonpath: bool = False) -> dict[str, Any]:
    """An end success action, guarded by the conditions given."""
    action: dict[str, Any] = {"name": name, "type": "end"}
    if conditions:
        action["criteria"] = [criterion(c, jsonpath=jsonpath) for c in conditions]
    return action


def workflow(steps: list[dict[str, Any]], workflow_id: str = "main", **fields: Any) -> dict[str, Any]:
    """A workflow with a runId input."""
    data: dict[str, Any] = {
        "workflowId": workflow_id,
        "inputs": {"type": "object", "properties": {"runId": {"type": "integer"}}},
        "steps": steps,
    }
    data.update(fields)
    return data


def write_doc(
    folder: Path,
    workflows: list[dict[str, Any]],
    *,
    openapi: dict[str, Any] | None = None,
    name: str = "doc.arazzo.yaml",
    **root: Any,
) -> Path:
    """Write the OpenAPI description and an Arazzo document naming it; returns the document's path."""
    (folder / "api.yaml").write_text(yaml.safe_dump(copy.deepcopy(openapi or OPENAPI), sort_keys=False))
    document: dict[str, Any] = {
        "arazzo": "1.0.1",
        "info": {"title": "test", "version": "1"},
        "sourceDescriptions": [{"name": "api", "url": "api.yaml", "type": "openapi"}],
        "workflows": workflows,
    }
    document.update(root)
    path = folder / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def findings(report: LintReport, rule: str) -> list[Finding]:
    """The findings of one rule."""
    return [f for f in report.findings if f.rule == rule]


def rules(path: Path) -> set[str]:
    """The rule ids of every finding for a document."""
    return {f.rule for f in lint(path).findings}
