"""Builders shared by the store tests: a redactor, headers, intents and responses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from spola.exchange import HttpRequest, HttpResponse
from spola.redact import Redactor
from spola.store import IntentRecord, ResponseRecord, RunHeader, RunStore

if TYPE_CHECKING:
    from pathlib import Path

TOKEN = "tok-3f9a1c77e5b24d0d9c1e"
T0 = 1_700_000_000.0


@pytest.fixture
def redactor() -> Redactor:
    return Redactor.of([TOKEN])


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "spola" / "runs.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[RunStore]:
    with RunStore.open(db_path) as opened:
        yield opened


def make_header(
    run_id: str = "run-1", started_at: float = T0, redactor: Redactor | None = None, **inputs: Any
) -> RunHeader:
    return RunHeader.start(
        run_id=run_id,
        workflow_id="run-job-and-wait",
        document="/docs/databricks.arazzo.yaml",
        document_sha256="ab" * 32,
        inputs=inputs or {"jobId": 42},
        secret_inputs=set(),
        options={"pollInterval": 5, "seed": 7, "auth": ["databricks"]},
        started_at=started_at,
        redactor=redactor or Redactor(),
    )


def make_intent(
    run_id: str = "run-1",
    seq: int = 1,
    method: str = "GET",
    at: float = T0,
    redactor: Redactor | None = None,
    request: HttpRequest | None = None,
    step: str = "pollRun",
    attempt: int = 1,
) -> IntentRecord:
    return IntentRecord.from_request(
        run_id=run_id,
        seq=seq,
        step_path=f"run-job-and-wait/{step}",
        step_id=step,
        attempt=attempt,
        request=request or HttpRequest(method, f"https://dbc.example/api/2.1/jobs/runs/get?run_id={seq}"),
        at=at,
        redactor=redactor or Redactor(),
    )


def make_response(
    run_id: str = "run-1",
    seq: int = 1,
    status: int | None = 200,
    at: float = T0 + 1,
    body: bytes = b'{"state":"RUNNING"}',
    redactor: Redactor | None = None,
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),),
    error: str | None = None,
) -> ResponseRecord:
    return ResponseRecord.from_response(
        run_id=run_id,
        seq=seq,
        response=HttpResponse(status, headers, body, error, 0.25),
        received_at=at,
        redactor=redactor or Redactor(),
    )


Builder = Callable[..., Any]


@pytest.fixture
def header() -> Builder:
    return make_header


@pytest.fixture
def intent() -> Builder:
    return make_intent


@pytest.fixture
def response() -> Builder:
    return make_response
