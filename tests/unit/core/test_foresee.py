"""A login step's credential outputs, foreseen before the journal records its response, are
evaluated once: `receive` of that response reuses them and its parsed body."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spola.core import engine
from spola.core.actions import SendRequest
from spola.core.engine import Run
from spola.exchange import HttpResponse
from spola.model import load
from spola.options import RunOptions
from tests.integration.documents import write
from tests.unit.core.responses import ok

FLOW = """
workflows:
  - workflowId: w
    steps:
      - stepId: login
        operationId: runJob
        successCriteria: [{condition: $statusCode == 200}]
        outputs: {token: $response.body#/token, user: $response.body#/user}
      - stepId: look
        operationId: getItem
        parameters:
          - {name: itemId, in: path, value: one}
          - {name: Authorization, in: header, value: "Bearer {$steps.login.outputs.token}"}
    outputs: {user: $steps.login.outputs.user}
"""


def counting(monkeypatch: pytest.MonkeyPatch, run: Run) -> tuple[list[str], list[int]]:
    """Record each evaluation of the login's token output, and each parse of a response body."""
    token = run.document.workflow("w").steps[0].outputs["token"]
    evaluations: list[str] = []
    real_evaluate = type(token).evaluate

    def evaluate(self: Any, scope: Any) -> Any:
        if self is token:
            evaluations.append("token")
        return real_evaluate(self, scope)

    monkeypatch.setattr(type(token), "evaluate", evaluate)
    parses: list[int] = []
    real_read = engine.read_body

    def read_body(response: HttpResponse) -> Any:
        parses.append(1)
        return real_read(response)

    monkeypatch.setattr(engine, "read_body", read_body)
    return evaluations, parses


def make(tmp_path: Path) -> Run:
    options = RunOptions(servers={"jobs": "http://api.test"}, seed=7)
    run = Run(load(write(tmp_path, FLOW)), "w", {}, options=options, run_id="r1", started_at=1000.0)
    assert run.secret_outputs == {("login", "token")}  # sent on as a credential: a secret by its role
    return run


def test_a_foreseen_token_is_evaluated_once_and_receive_reuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make(tmp_path)
    evaluations, parses = counting(monkeypatch, run)
    (login,) = run.next_actions(1000.0)
    assert isinstance(login, SendRequest)
    response = ok({"token": "tok-3141", "user": "ada"})
    assert run.foresee_secrets(login.call_id, response) is None
    assert "tok-3141" in run.secret_values  # known before the journal records the response
    run.receive(login.call_id, response, 1000.1)
    assert evaluations == ["token"] and len(parses) == 1
    (look,) = run.next_actions(1000.1)
    assert isinstance(look, SendRequest)
    assert dict(look.request.headers)["Authorization"] == "Bearer tok-3141"
    run.receive(look.call_id, ok({}), 1000.2)
    assert run.result is not None and run.result.outputs == {"user": "ada"}


def test_another_response_than_the_foreseen_one_is_evaluated_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make(tmp_path)
    evaluations, _ = counting(monkeypatch, run)
    (login,) = run.next_actions(1000.0)
    run.foresee_secrets(login.call_id, ok({"token": "tok-old", "user": "ada"}))
    run.receive(login.call_id, ok({"token": "tok-new", "user": "ada"}), 1000.1)
    assert evaluations == ["token", "token"]
    (look,) = run.next_actions(1000.1)
    assert isinstance(look, SendRequest) and dict(look.request.headers)["Authorization"] == "Bearer tok-new"
