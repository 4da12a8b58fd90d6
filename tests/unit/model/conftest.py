"""Fixtures for the model tests: a writer for small document trees in a temporary directory."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3].parent / "shared"

Write = Callable[[str, str], Path]


def shared(*parts: str) -> Path:
    """A path under ../shared, or skip the test when the tree is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write a dedented file under a temporary directory and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


PETSTORE = """
openapi: 3.0.3
info: {title: Pets, version: "1"}
servers:
  - url: https://{env}.pets.example/v1
    variables:
      env: {default: api, enum: [api, sandbox]}
security:
  - apiKey: []
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - $ref: '#/components/parameters/limit'
      responses: {"200": {description: ok}}
    post:
      operationId: createPet
      security: []
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Pet'}
      responses: {"201": {description: created}}
  /pets/{petId}:
    parameters:
      - {name: petId, in: path, required: true, schema: {type: string}}
      - {name: X-Trace, in: header, schema: {type: string}}
    servers:
      - url: https://pets-by-id.example
    get:
      operationId: getPet
      parameters:
        - {name: X-Trace, in: header, required: true, schema: {type: integer}}
      responses: {"200": {description: ok}}
components:
  parameters:
    limit: {name: limit, in: query, schema: {type: integer, maximum: 100}}
  schemas:
    Pet:
      type: object
      properties:
        name: {type: string}
        children: {type: array, items: {$ref: '#/components/schemas/Pet'}}
  securitySchemes:
    apiKey: {type: apiKey, in: header, name: X-Api-Key}
"""


def arazzo(steps: str, *, sources: str | None = None, version: str = "1.0.1", extra: str = "") -> str:
    """A small Arazzo document with one workflow whose steps are given as YAML text."""
    sources = sources or "  - name: pets\n    url: ./pets.yaml\n    type: openapi\n"
    body = textwrap.indent(textwrap.dedent(steps).strip("\n"), "      ")
    return (
        f"arazzo: {version}\ninfo:\n  title: Test\n  version: '1'\nsourceDescriptions:\n{sources}"
        f"workflows:\n  - workflowId: main\n    steps:\n{body}\n{extra}"
    )
