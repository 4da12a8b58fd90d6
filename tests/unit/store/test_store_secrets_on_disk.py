"""A credential handed to spola never reaches the store's files, in any encoding."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING
from urllib.parse import quote

from spola.exchange import HttpRequest, HttpResponse
from spola.model.roles import declared_secret
from spola.redact import Redactor, secret_values
from spola.store import EventRecord, IntentRecord, Journal, ResponseRecord, RunHeader

if TYPE_CHECKING:
    from pathlib import Path

TOKEN = "dapi-8c1f0e6b2a7d4c39b5e1"
AUTH = f"svc-user:{TOKEN}"
T0 = 1_700_000_000.0


def _forms() -> list[bytes]:
    return [
        TOKEN.encode(),
        quote(TOKEN, safe="").encode(),
        base64.b64encode(AUTH.encode()),
        base64.b64encode(TOKEN.encode()),
        TOKEN.encode("utf-16-le"),
    ]


def _files(db_path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)}


async def test_a_token_in_headers_url_body_inputs_and_basic_auth_is_nowhere_on_disk(db_path: Path) -> None:
    inputs = {"jobId": 42, "pat": TOKEN, "note": f"uses {TOKEN}"}
    schema = {"properties": {"pat": {"type": "string", "format": "password"}}}
    names = {n for n, prop in schema["properties"].items() if declared_secret(prop)}
    redactor = Redactor.of([AUTH], secret_values(inputs, names))
    header = RunHeader.start(
        run_id="r1",
        workflow_id="wf",
        document="/d.yaml",
        document_sha256="0" * 64,
        inputs=inputs,
        secret_inputs=names,
        options={"auth": ["databricks"], "serverVars": {"token": TOKEN}},
        started_at=T0,
        redactor=redactor,
    )
    request = HttpRequest(
        "POST",
        f"https://dbc.example/api/2.1/jobs/run-now?token={TOKEN}&x={quote(TOKEN, safe='')}",
        headers=(
            ("Authorization", "Basic " + base64.b64encode(AUTH.encode()).decode()),
            ("X-Trace", f"caller {TOKEN}"),
            ("Cookie", f"session={TOKEN}"),
        ),
        body=json.dumps(
            {
                "job_id": 42,
                "notebook_params": {"pat": TOKEN, "b64": base64.b64encode(f"x:{TOKEN}".encode()).decode()},
            }
        ).encode(),
    )
    response = HttpResponse(
        200,
        (("Set-Cookie", f"s={TOKEN}"), ("X-Echo", TOKEN)),
        json.dumps({"echo": TOKEN}).encode(),
        f"reset while sending {TOKEN}",
        0.1,
    )
    journal = await Journal.open(db_path)
    await journal.create_run(header)
    await journal.intent(
        IntentRecord.from_request(
            run_id="r1",
            seq=1,
            step_path="wf/trigger",
            step_id="trigger",
            attempt=1,
            request=request,
            at=T0,
            redactor=redactor,
        )
    )
    journal.response(
        ResponseRecord.from_response(
            run_id="r1",
            seq=1,
            response=response,
            received_at=T0 + 1,
            redactor=redactor,
            outputs={"runToken": TOKEN, "runId": 7},
        )
    )
    journal.event(EventRecord("r1", "step", T0 + 1, redactor.redact_value({"said": TOKEN})))
    journal.finish(
        "r1",
        "failed",
        redactor.redact_value({"o": TOKEN}),
        redactor.redact_value({"message": f"bad {TOKEN}"}),
        T0 + 2,
    )
    await journal.flush()

    while_open = _files(db_path)
    assert any(name.endswith("-wal") for name in while_open)
    run = await journal.get_run("r1")
    await journal.close()
    after_close = _files(db_path)

    for files in (while_open, after_close):
        for name, data in files.items():
            for form in _forms():
                assert form not in data, (name, form)
    assert run.header.inputs["pat"] == "***" and run.header.secret_inputs == ("pat",)
    assert run.exchanges[0].response_body == b'{"echo": "***"}' and run.exchanges[0].body_redacted
    assert run.exchanges[0].outputs == {"runToken": "***", "runId": 7}
