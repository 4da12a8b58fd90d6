"""The scopes the expression tests evaluate against, and the paths they plant values at."""

from __future__ import annotations

from typing import Any

from spola.expr import Expression, Headers, RequestView, ResponseView, Scope
from spola.expr.nodes import segment_keys as _segment_keys


def segment_keys(expression: Expression) -> list[str]:
    """The keys below the expression's base value (pointer tokens, keys, indexes as keys)."""
    return _segment_keys(expression.segments)


def nest(keys: list[str], leaf: Any) -> Any:
    """``leaf`` at the end of ``keys``, in nested objects."""
    for key in reversed(keys):
        leaf = {key: leaf}
    return leaf


def full_scope() -> Scope:
    """A scope where every kind of runtime expression has something to read."""
    return Scope(
        inputs={
            "token": "t0k",
            "job_id": 42,
            "cfg": {"host": "h.example", "port": 8080},
            "a.b": "dotted",
            "items": [{"id": 1}, {"id": 2}],
            "flag": True,
            "none": None,
            "x-api-key": "k",
        },
        outputs={"result": {"ok": True}},
        steps={
            "create": {"id": 7, "payload": {"pets": [{"id": 1, "name": "rex"}]}, "x.y": 1},
            "poll-run": {"status": "RUNNING"},
        },
        workflows={
            "child": {
                "inputs": {"name": "n"},
                "outputs": {"mapped": {"name": "m"}},
                "steps": {"wait": {"userId": "u-9", "event": {"ids": [3, 4]}}},
            },
            "older": {"inputs": {}, "outputs": {"done": True}},  # as kept without its steps
        },
        source_descriptions={
            "petstore": {
                "name": "petstore",
                "url": "https://api.example/petstore.yaml",
                "type": "openapi",
                "getPetById": {"operationId": "getPetById"},
            }
        },
        components={
            "parameters": {"page": {"name": "page", "in": "query", "value": 1}},
            "successActions": {"done": {"name": "done", "type": "end"}},
            "failureActions": {"retry": {"name": "retry", "type": "retry"}},
        },
        self_uri="https://example.com/flows.arazzo.yaml",
        url="https://api.example/pets/7?page=2",
        method="GET",
        status_code=200,
        request=RequestView(
            headers={"Accept": "application/json", "X-Trace": "abc"},
            query={"page": "2", "a b": "sp"},
            path={"id": "7"},
            body={"user": {"uuid": "u-1"}},
        ),
        response=ResponseView(
            headers=Headers(
                [
                    ("Content-Type", "application/json"),
                    ("Server", "nginx"),
                    ("Server", "second"),
                    ("Location", "/plans/1"),
                ]
            ),
            body={
                "status": "RUNNING",
                "data": {"id": 9, "status": 20, "is_complete": False},
                "items": [{"id": 1}, {"id": 2}],
                "a/b": 1,
                "m~n": 2,
                "": 3,
                "ok": True,
                "empty": [],
            },
        ),
    )
