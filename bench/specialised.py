"""What code generated per step could at best be: the bench workflow's three steps written out by hand.

The same document as `spola.arazzo.yaml` (trigger, poll until TERMINATED, fetch the output), with
every rule it declares applied as straight-line Python and nothing interpreted: the request built
from the step's parameter (query encoded), the body of the trigger encoded from the inputs, the
response read through spola's own `send` (the same transport, size limit and error handling as
spola), the body parsed with spola's JSON codec when it says it is JSON, each success criterion,
each output (``None`` when absent) and each goto criterion evaluated, per-step execution counts
kept. No scope, no verdicts, no events, no generality: a floor for any engine in Python over
aiohttp, between the raw loop (which does less: one dict look-up per poll) and spola.

Given a `Journal`, it also keeps spola's journal as spola does, with the same records and the same
guarantees: the run's header and lease first, the trigger's intent committed before it is sent and
its response before the run goes on, each poll's exchange as one row for the next group commit, the
run's end, the lease given up. That is the floor of a journalled engine over this store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from raw_client import GET, OUTPUT, RUN_NOW

if TYPE_CHECKING:
    import aiohttp

    from spola.store import Journal


def _pointer(body: Any, *keys: str) -> Any:
    """``$response.body#/a/b`` as an output: the value, or None when any step is absent."""
    for key in keys:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


async def specialised_workflows(
    api: str, workflows: int, polls: int, session: aiohttp.ClientSession, journal: Journal | None = None
) -> int:
    """Run ``workflows`` runs of the bench document, hand-specialised (journalled into ``journal``
    when given); returns requests sent."""
    import time
    import uuid

    from spola.core.actions import SendRequest
    from spola.drivers.aio import send
    from spola.exchange import HttpRequest, HttpResponse
    from spola.jsoncodec import dumps_bytes, loads
    from spola.lease import LeaseHolder, acquire
    from spola.redact import Redactor
    from spola.store.records import IntentRecord, ResponseRecord, RunHeader, exchange_row

    redactor = Redactor()
    journal_run = ""  # the journal's id of the run (run_id below is the job run's)
    holder: LeaseHolder | None = None

    async def exchange(action: SendRequest) -> HttpResponse:
        """``send``, and with a journal what spola's journal hooks record around it."""
        if journal is None:
            return await send(session, action)
        journal.check()
        assert holder is not None
        if holder.due():
            await holder.check()
        sent_at = time.time()
        if not action.idempotent:
            await journal.intent(
                IntentRecord.from_request(
                    run_id=journal_run, seq=action.call_id, step_path=action.step_path,
                    step_id=action.step_id, attempt=action.attempt, request=action.request, at=sent_at,
                    redactor=redactor, idempotent=False,
                )
            )  # fmt: skip
        holder.sent += 1
        response = await send(session, action)
        received_at = time.time()
        if action.idempotent:
            journal.exchange(
                exchange_row(
                    run_id=journal_run, seq=action.call_id, step_path=action.step_path,
                    step_id=action.step_id, attempt=action.attempt, request=action.request, idempotent=True,
                    intent_at=sent_at, response=response, received_at=received_at, redactor=redactor,
                )
            )  # fmt: skip
        else:
            await journal.durable_response(
                ResponseRecord.from_response(
                    run_id=journal_run, seq=action.call_id, response=response, received_at=received_at,
                    redactor=redactor,
                )
            )
        return response

    def parsed(response: HttpResponse) -> Any:
        return loads(response.body) if response.body and response.content_type.endswith("json") else None

    json_header = (("Content-Type", "application/json"),)
    sent = 0
    for _ in range(workflows):
        inputs = {"job_id": polls}
        call = 0
        if journal is not None:
            journal_run = uuid.uuid4().hex
            await journal.create_run(
                RunHeader.start(
                    run_id=journal_run, workflow_id="run-job-and-wait", document="spola.arazzo.yaml",
                    document_sha256="", inputs=inputs, secret_inputs=(), options={},
                    started_at=time.time(), redactor=redactor,
                )
            )  # fmt: skip
            holder, _ = await acquire(journal, journal_run)
            holder.start()
        runs: dict[str, int] = {}
        outputs: dict[str, dict[str, Any]] = {}
        # runJobNow: POST with the inputs given (absent ones left out), 200 wanted, two outputs
        payload = {"job_id": inputs["job_id"]}
        request = HttpRequest("POST", api + RUN_NOW, json_header, dumps_bytes(payload), body_value=payload)
        call += 1
        response = await exchange(SendRequest(call, request, "w/runJobNow", "runJobNow", 1, False, 30.0))
        sent += 1
        runs["runJobNow"] = 1
        body = parsed(response)
        if response.status != 200:
            raise RuntimeError("runJobNow failed")
        outputs["runJobNow"] = {
            "runId": _pointer(body, "run_id"),
            "numberInJob": _pointer(body, "number_in_job"),
        }
        step = "pollRun"
        while step == "pollRun":
            run_id = outputs["runJobNow"]["runId"]
            url = f"{api}{GET}?run_id={quote(str(run_id), safe='')}"
            runs["pollRun"] = attempt = runs.get("pollRun", 0) + 1
            request = HttpRequest("GET", url, query_params={"run_id": run_id})
            call += 1
            response = await exchange(
                SendRequest(call, request, "w/pollRun", "pollRun", attempt, True, 30.0)
            )
            sent += 1
            body = parsed(response)
            if response.status != 200:
                raise RuntimeError("pollRun failed")
            outputs["pollRun"] = {
                "lifeCycleState": _pointer(body, "state", "life_cycle_state"),
                "resultState": _pointer(body, "state", "result_state"),
                "runPageUrl": _pointer(body, "run_page_url"),
            }
            state = _pointer(body, "state", "life_cycle_state")
            step = "pollRun" if state in ("RUNNING", "PENDING") else "getRunOutput"
        run_id = outputs["runJobNow"]["runId"]
        url = f"{api}{OUTPUT}?run_id={quote(str(run_id), safe='')}"
        request = HttpRequest("GET", url, query_params={"run_id": run_id})
        call += 1
        response = await exchange(
            SendRequest(call, request, "w/getRunOutput", "getRunOutput", 1, True, 30.0)
        )
        sent += 1
        runs["getRunOutput"] = 1
        body = parsed(response)
        if response.status != 200:
            raise RuntimeError("getRunOutput failed")
        outputs["getRunOutput"] = {
            "notebookResult": _pointer(body, "notebook_output", "result"),
            "error": _pointer(body, "error"),
        }
        result = {
            "runId": outputs["runJobNow"]["runId"],
            "resultState": outputs["pollRun"]["resultState"],
            "notebookResult": outputs["getRunOutput"]["notebookResult"],
        }
        if result["resultState"] is None:
            raise RuntimeError("the run did not terminate")
        if journal is not None and holder is not None:
            journal.finish(journal_run, "succeeded", result, None, time.time())
            await holder.release()
    return sent
