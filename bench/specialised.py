"""What code generated per step could at best be: the bench workflow's three steps written out by hand.

The same document as `spola.arazzo.yaml` (trigger, poll until TERMINATED, fetch the output), with
every rule it declares applied as straight-line Python and nothing interpreted: the request built
from the step's parameter (query encoded), the body of the trigger encoded from the inputs, the
response read through spola's own `send` (the same transport, size limit and error handling as
spola), the body parsed with spola's JSON codec when it says it is JSON, each success criterion,
each output (``None`` when absent) and each goto criterion evaluated, per-step execution counts
kept. No scope, no verdicts, no events, no journal, no generality: a floor for any engine in
Python over aiohttp, between the raw loop (which does less: one dict look-up per poll) and spola.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from raw_client import GET, OUTPUT, RUN_NOW

if TYPE_CHECKING:
    import aiohttp


def _pointer(body: Any, *keys: str) -> Any:
    """``$response.body#/a/b`` as an output: the value, or None when any step is absent."""
    for key in keys:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


async def specialised_workflows(api: str, workflows: int, polls: int, session: aiohttp.ClientSession) -> int:
    """Run ``workflows`` runs of the bench document, hand-specialised; returns requests sent."""
    from spola.core.actions import SendRequest
    from spola.drivers.aio import send
    from spola.exchange import HttpRequest, HttpResponse
    from spola.jsoncodec import dumps_bytes, loads

    def parsed(response: HttpResponse) -> Any:
        return loads(response.body) if response.body and response.content_type.endswith("json") else None

    json_header = (("Content-Type", "application/json"),)
    sent = call = 0
    for _ in range(workflows):
        inputs = {"job_id": polls}
        runs: dict[str, int] = {}
        outputs: dict[str, dict[str, Any]] = {}
        # runJobNow: POST with the inputs given (absent ones left out), 200 wanted, two outputs
        payload = {"job_id": inputs["job_id"]}
        request = HttpRequest("POST", api + RUN_NOW, json_header, dumps_bytes(payload), body_value=payload)
        call += 1
        response = await send(session, SendRequest(call, request, "w/runJobNow", "runJobNow", 1, False, 30.0))
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
            response = await send(
                session, SendRequest(call, request, "w/pollRun", "pollRun", attempt, True, 30.0)
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
        response = await send(
            session, SendRequest(call, request, "w/getRunOutput", "getRunOutput", 1, True, 30.0)
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
    return sent
