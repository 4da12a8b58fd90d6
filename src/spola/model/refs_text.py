"""The reference forms Arazzo writes as text: operationId, operationPath, workflowId, dependsOn, components.

Real documents write ``$sourceDescriptions.x.y`` with or without surrounding braces; both are accepted.
"""

from __future__ import annotations

import re

from msgspec import Struct

SOURCE_NAME = r"[A-Za-z0-9_\-]+"
ID_PATTERN = re.compile(r"^[A-Za-z0-9_\-]+$")
KEY_PATTERN = re.compile(r"^[a-zA-Z0-9.\-_]+$")
_QUALIFIED = re.compile(rf"^\$sourceDescriptions\.({SOURCE_NAME})\.(.+)$", re.DOTALL)
_OPERATION_PATH = re.compile(rf"^\$sourceDescriptions\.({SOURCE_NAME})(?:\.url)?(\}}?)#(.*)$", re.DOTALL)
_COMPONENT = re.compile(r"^\$components\.(parameters|successActions|failureActions)\.([a-zA-Z0-9.\-_]+)$")
_DEP_WORKFLOWS = re.compile(r"^\$workflows\.([^.]+)\.steps\.([^.]+)$")
_DEP_SOURCES = re.compile(rf"^\$sourceDescriptions\.({SOURCE_NAME})\.([^.]+)\.steps\.([^.]+)$")


def id_advice(field: str, value: str, version: tuple[int, int]) -> str:
    """The warning for a stepId or workflowId outside ``[A-Za-z0-9_-]+`` (a SHOULD in every version).

    Arazzo 1.0.x's expression grammar takes any character in a name, so its expressions can still
    refer to the id; 1.1's (``identifier-strict``) cannot.
    """
    if version >= (1, 1):
        return (
            f"{field} '{value}' should match [A-Za-z0-9_-]+: Arazzo {version[0]}.{version[1]}'s runtime "
            "expressions cannot refer to it"
        )
    root = "$steps" if field == "stepId" else "$workflows"
    return (
        f"{field} '{value}' should match [A-Za-z0-9_-]+; Arazzo 1.0 expressions may still refer to it "
        f"(`{root}.{value}.outputs.…`), but other tools and Arazzo 1.1 may not"
    )


def _unbrace(text: str) -> str:
    text = text.strip()
    if text.startswith("{$") and text.endswith("}") and text.count("{") == 1 and text.count("}") == 1:
        return text[1:-1]
    return text


def parse_qualified(text: str) -> tuple[str | None, str] | None:
    """``$sourceDescriptions.<name>.<id>`` → (name, id); a plain id → (None, id); else None."""
    inner = _unbrace(text)
    match = _QUALIFIED.match(inner)
    if match:
        return match.group(1), match.group(2)
    if inner.startswith("$") or not inner:
        return None
    return None, inner


def parse_workflow_ref(text: str) -> tuple[str | None, str] | None:
    """A ``workflowId`` reference → (source name or None for local, workflow id), or None if malformed."""
    return parse_qualified(text)


class OperationPathRef(Struct, frozen=True):
    """A parsed ``operationPath``: a source (by name, or by URL) and a JSON Pointer fragment."""

    source: str | None
    url: str | None
    fragment: str


def parse_operation_path(text: str) -> OperationPathRef | None:
    """``{$sourceDescriptions.<name>.url}#/paths/...`` (braces and ``.url`` optional), or ``<url>#/...``."""
    stripped = text.strip()
    opened = stripped.startswith("{")
    body = stripped[1:] if opened else stripped
    match = _OPERATION_PATH.match(body)
    if match:
        closed = bool(match.group(2))
        if opened != closed:
            return None
        return OperationPathRef(match.group(1), None, match.group(3))
    if "#" in stripped and not stripped.startswith(("$", "{")):
        url, _, fragment = stripped.partition("#")
        return OperationPathRef(None, url, fragment)
    return None


def parse_component_ref(text: str) -> tuple[str, str] | None:
    """``$components.<kind>.<name>`` → (kind, name), or None."""
    match = _COMPONENT.match(text.strip())
    return (match.group(1), match.group(2)) if match else None


class StepDependency(Struct, frozen=True):
    """A step-level ``dependsOn`` entry: a step here, in another workflow, or in another document."""

    step_id: str
    workflow_id: str | None = None
    source: str | None = None


def parse_step_dependency(text: str) -> StepDependency | None:
    """``stepId`` | ``$workflows.<wf>.steps.<step>`` | ``$sourceDescriptions.<name>.<wf>.steps.<step>``."""
    if not text.startswith("$"):
        return StepDependency(text) if text else None
    match = _DEP_WORKFLOWS.match(text)
    if match:
        return StepDependency(match.group(2), match.group(1))
    match = _DEP_SOURCES.match(text)
    if match:
        return StepDependency(match.group(3), match.group(2), match.group(1))
    return None
