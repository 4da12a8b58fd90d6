"""Where spola's time goes per run and per poll, to steer engine work (the numbers behind bench/README.md).

- Run construction, and the part of it spent validating the inputs schema itself.
- The engine alone (no I/O): ``next_actions`` + ``receive`` per exchange with canned responses, and
  the share of it each part takes (from a profile, scaled to the unprofiled time).
- The asyncio driver: ``drive()`` against a loop that awaits the one request directly.
- The journal: building the records, and awaiting the intent's commit for safe (idempotent) requests.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import pstats
import tempfile
import time
import timeit
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common import WORKFLOWS, median

if TYPE_CHECKING:
    from common import Server

RUNNING = json.dumps(
    {"run_id": 1, "state": {"life_cycle_state": "RUNNING", "state_message": "In run"}}
).encode()
DONE = json.dumps(
    {"run_id": 1, "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"}}
).encode()
HEADERS = (("Content-Type", "application/json"),)
PARTS = {
    "criteria: JSONPath dialect ($.a.b == X)": "criteria/dialect.py",
    "criteria: simple ($statusCode == 200)": "criteria/simple.py",
    "step outputs ($response.body#/…)": "criteria/values.py",
    "request building": "request_builder.py",
    "URL redaction for the StepStarted event": "redact.py:redact_url",
    "scope building (once per poll; twice when a request is built)": "core/scope.py:build_scope",
    "response body parsing": "core/scope.py:parse_body",
}


@dataclass(frozen=True, slots=True)
class HotRow:
    """One measured cost."""

    what: str
    micros: float
    per: str
    note: str = ""


def _best(function: Any, number: int) -> float:
    """Microseconds per call: the best of five timings (the least disturbed by other load)."""
    return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e6


def _options(api: str) -> Any:
    import spola

    return spola.make_options(servers={"databricksApi": api}, poll_interval=0, seed=1)


def _engine_loop(run: Any, polls: int) -> int:
    from spola.core.actions import Finish, SendRequest
    from spola.exchange import HttpResponse

    seen = sent = 0
    while True:
        for action in run.next_actions(1.0):
            if isinstance(action, Finish):
                return sent
            if isinstance(action, SendRequest):
                sent += 1
                url = action.request.url
                if "run-now" in url:
                    body = b'{"run_id": 1, "number_in_job": 1}'
                elif "get-output" in url:
                    body = b'{"notebook_output": {"result": "ok"}}'
                else:
                    seen += 1
                    body = DONE if seen >= polls else RUNNING
                run.receive(action.call_id, HttpResponse(200, HEADERS, body, elapsed=0.0), 1.0)
        run.drain_events()


def engine_rows(polls: int, runs: int) -> list[HotRow]:
    """Run construction and the engine alone, per form of the workflow, with a profile breakdown."""
    import jsonschema

    from spola.core.engine import Run
    from spola.model import load

    rows: list[HotRow] = []
    options = _options("http://127.0.0.1:9/api")
    document = load(WORKFLOWS / "spola.arazzo.yaml")
    schema = document.default_workflow().inputs

    def make() -> Any:
        return Run(document, None, {"job_id": polls}, options=options, run_id="r", started_at=0.0)

    count = max(runs // 4, 5)
    rows.append(HotRow("Run(...) construction", _best(make, count), "run"))
    checker = jsonschema.validators.validator_for(schema)
    check = _best(lambda: checker.check_schema(schema), count)
    built = rows[-1].micros
    advice = (
        "validators are cached per schema: not paid per run any more"
        if check > built
        else "the same schema every run: check it once per workflow (at load), cache the validator"
    )
    rows.append(HotRow("check_schema of the inputs schema (once per schema)", check, "schema", advice))
    for form in ("spola.arazzo.yaml", "peers.arazzo.yaml"):
        doc = load(WORKFLOWS / form)
        for observed in (True, False):
            batch = [
                Run(doc, None, {"job_id": polls}, options=options, run_id="r", started_at=0.0)
                for _ in range(runs)
            ]
            for run in batch:
                run.observed = observed
            started = time.perf_counter()
            sent = sum(_engine_loop(run, polls) for run in batch)
            per = (time.perf_counter() - started) / sent * 1e6
            how = (
                "observed: every event built (a live display, --log-format)"
                if observed
                else ("unobserved: no events (a batch, --json, the overhead table)")
            )
            note = f"next_actions + receive, no I/O; {how}"
            rows.append(HotRow(f"engine alone, {form}", per, "exchange", note))
            if form == "spola.arazzo.yaml" and observed:
                rows.extend(_breakdown(doc, options, polls, runs, per))
    return rows


def _breakdown(document: Any, options: Any, polls: int, runs: int, per: float) -> list[HotRow]:
    from spola.core.engine import Run

    batch = [
        Run(document, None, {"job_id": polls}, options=options, run_id="r", started_at=0.0)
        for _ in range(runs)
    ]
    profile = cProfile.Profile()
    profile.enable()
    for run in batch:
        _engine_loop(run, polls)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(tt for (_cc, _nc, tt, _ct, _callers) in stats.values())
    rows = []
    for label, needle in PARTS.items():
        file_part, _, func = needle.partition(":")
        cumulative = 0.0
        for (filename, _line, name), (_cc, _nc, _tt, ct, callers) in stats.items():
            outermost = not any(c[0].endswith(file_part) for c in callers)
            if filename.endswith(file_part) and (not func or name == func) and outermost:
                cumulative += ct
        if cumulative:
            rows.append(HotRow(f"  {label}", per * cumulative / total, "exchange", "share of a profile"))
    return rows


async def _drive_rows(server: Server, polls: int, rounds: int) -> list[HotRow]:
    from spola.core.actions import Finish, SendRequest
    from spola.core.engine import Run
    from spola.drivers.aio import drive, make_session, send
    from spola.drivers.journal import JournalHooks
    from spola.model import load
    from spola.store import Journal, RunHeader

    document = load(WORKFLOWS / "spola.arazzo.yaml")
    options = _options(server.api)

    async def direct(run: Run, session: Any) -> None:
        while True:
            actions = run.next_actions(time.time())
            run.drain_events()
            action = actions[0]
            if isinstance(action, Finish):
                return
            assert len(actions) == 1 and isinstance(action, SendRequest)
            run.receive(action.call_id, await send(session, action), time.time())

    samples: dict[str, list[float]] = {"drive": [], "direct": [], "journal": []}
    with tempfile.TemporaryDirectory(prefix="spola-hot-") as tmp:
        journal = await Journal.open(Path(tmp) / "runs.db")
        async with make_session() as session:
            for index in range(rounds + 1):
                for kind, values in samples.items():
                    run = Run(document, None, {"job_id": polls}, options=options, run_id=f"{kind}{index}",
                              started_at=time.time())  # fmt: skip
                    if kind == "journal":
                        await journal.create_run(RunHeader.start(
                            run_id=run.run_id, workflow_id="w", document="d", document_sha256="0", inputs={},
                            secret_inputs=(), options={}, started_at=0.0, redactor=run.redactor))  # fmt: skip
                    started = time.perf_counter()
                    if kind == "direct":
                        await direct(run, session)
                    elif kind == "drive":
                        await drive(run, session)
                    else:
                        await drive(run, session, journal=JournalHooks(journal, run))
                    if index:  # the first round warms up
                        values.append((time.perf_counter() - started) / (polls + 2) * 1e6)
        await journal.close()
    drive_us, direct_us = median(samples["drive"]), median(samples["direct"])
    journal_us = median(samples["journal"])
    return [
        HotRow("driver: drive() per request (live server)", drive_us, "request"),
        HotRow("driver: awaiting the one request directly", direct_us, "request",
               f"{direct_us - drive_us:+.0f} us vs drive(), which has this fast path itself"),
        HotRow("journal: drive() with JournalHooks", journal_us, "request",
               f"{journal_us - drive_us:+.0f} us vs drive() alone (one run at a time; small: noise)"),
    ]  # fmt: skip


def record_rows() -> list[HotRow]:
    """Building a journal's intent and response records."""
    from spola.exchange import HttpRequest, HttpResponse
    from spola.redact import Redactor
    from spola.store import IntentRecord, ResponseRecord

    redactor = Redactor.of([])
    request = HttpRequest("GET", "http://127.0.0.1:8765/api/2.1/jobs/runs/get?run_id=7",
                          headers=(("Accept", "application/json"),))  # fmt: skip
    response = HttpResponse(200, HEADERS, RUNNING, elapsed=0.001)

    def intent() -> Any:
        return IntentRecord.from_request(
            run_id="r", seq=1, step_path="p", step_id="s", attempt=1, request=request, at=0.0,
            redactor=redactor, idempotent=True,
        )  # fmt: skip

    def answer() -> Any:
        return ResponseRecord.from_response(
            run_id="r", seq=1, response=response, received_at=0.0, redactor=redactor
        )

    return [
        HotRow("journal: IntentRecord.from_request", _best(intent, 1000), "request"),
        HotRow("journal: ResponseRecord.from_response", _best(answer, 1000), "request"),
    ]


def measure_hotspots(server: Server, *, polls: int, runs: int, rounds: int) -> list[HotRow]:
    """All the rows, engine first."""
    rows = engine_rows(polls, runs)
    rows.extend(asyncio.run(_drive_rows(server, polls, rounds)))
    rows.extend(record_rows())
    return rows
