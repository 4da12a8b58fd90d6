"""Secrets by role, never by name: a value is secret because of where the document uses it (a
credential header, a security scheme's parameter, a child workflow's secret input), because its
schema says so (``format: password``, ``writeOnly``, ``x-spola-secret``) or because the user says so
(``--secret NAME``); tokens spola fetches itself are secret too. Each case runs the CLI against a
local server and then searches every output: stdout, stderr with ``-v``, ``--json``, every report
file, the log file, ``runs show`` and the store's database and WAL files as bytes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

from spola.model import load
from spola.model.roles import secret_roles
from tests.conftest import spola_cli
from tests.integration.documents import write
from tests.stub_server import Recorded, Reply, StubServer

PAT = "pat-5c0ffee-7e1d-4b2a-9f3e"
CLIENT_SECRET = "cs-3b9d2e71-c0a8-4e55"
ACCESS = "at-91f0c2d4-5e6a-47b8-b1c9"


def _everything(tmp_path: Path, store: Path, *outputs: subprocess.CompletedProcess[str]) -> str:
    """Every byte spola wrote anywhere, as text (binary files decoded leniently)."""
    texts = [o.stdout + o.stderr for o in outputs]
    listing = json.loads(spola_cli("runs", "--json", "--store", str(store)).stdout)
    for row in listing:
        shown = spola_cli("runs", "show", row["runId"], "--json", "--exchanges", "--store", str(store))
        texts.append(shown.stdout + shown.stderr)
        page = tmp_path / f"{row['runId']}.html"
        spola_cli("runs", "show", row["runId"], "--html", str(page), "--store", str(store))
        texts.append(page.read_text() if page.exists() else "")
    sqlite3.connect(store).execute("PRAGMA wal_checkpoint(PASSIVE)").close()
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix not in (".yaml",):
            texts.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(texts)


def _reports(tmp_path: Path) -> list[str]:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return [
        "--report",
        str(out / "r.json"),
        "--junit",
        str(out / "r.xml"),
        "--har",
        str(out / "r.har"),
        "--html",
        str(out / "r.html"),
        "--summary",
        str(out / "r.md"),
        "--log-file",
        str(out / "log.jsonl"),
    ]


BEARER_INPUT = """
workflows:
  - workflowId: w
    inputs:
      type: object
      properties:
        pat: {type: string}
        idempotency_token: {type: string}
        note: {type: string}
    steps:
      - stepId: start
        operationId: runJob
        parameters:
          - {name: Authorization, in: header, value: "Bearer {$inputs.pat}"}
        requestBody:
          payload: {idempotency_token: $inputs.idempotency_token, note: $inputs.note}
        outputs: {echo: $response.body#/echo, runId: $response.body#/run_id}
    outputs: {echo: $steps.start.outputs.echo, runId: $steps.start.outputs.runId}
"""


def _echo(request: Recorded, _n: int) -> Reply:
    # a server that echoes what it got: the credential comes back in the body and a header
    return Reply(
        body={"echo": request.headers.get("authorization"), "run_id": 5, "body": request.json},
        headers={"X-Echo": request.headers.get("authorization", "")},
    )


def test_an_input_used_as_a_bearer_token_is_nowhere_whatever_it_is_called(
    stub: StubServer, tmp_path: Path
) -> None:
    stub.add("POST", "/api/jobs/run", _echo)
    doc = write(tmp_path, BEARER_INPUT)
    store = tmp_path / "runs.db"
    args = ["run", str(doc), "--server", f"jobs={stub.base_url}/api", "--store", str(store)]
    inputs = ["-i", f"pat={PAT}", "-i", "idempotency_token=run-2026-12-03-a", "-i", "note=hello"]
    plain = spola_cli(*args, *inputs, "-v", *_reports(tmp_path))
    as_json = spola_cli(*args, *inputs, "--json")
    assert plain.returncode == 0, plain.stderr
    assert as_json.returncode == 0, as_json.stderr
    (first, _second) = stub.received("POST", "/api/jobs/run")
    assert first.headers["authorization"] == f"Bearer {PAT}"  # it was sent, so the test can fail
    everything = _everything(tmp_path, store, plain, as_json)
    assert PAT not in everything
    # an idempotency token is not a credential: it stays readable in the store and the result
    assert json.loads(as_json.stdout)["outputs"]["runId"] == 5
    assert "run-2026-12-03-a" in everything


def test_the_roles_found_statically() -> None:
    here = Path(__file__).parent
    del here
    # covered through the seeds: the Databricks run-now seed's idempotency_token is not a secret,
    # the Azure seeds' token input is (it is sent as a Bearer credential)
    from tests.conftest import SEEDS, shared_or_skip

    shared_or_skip()
    dbx = load(SEEDS / "databricks-run-job-and-wait-workflow.yml")
    assert "idempotency_token" not in secret_roles(dbx, dbx.default_workflow()).inputs
    azure = load(SEEDS / "azure-databricks-cancel-active-run-workflow.yml")
    assert secret_roles(azure, azure.default_workflow()).inputs == {"token"}


DECLARED = """
workflows:
  - workflowId: w
    inputs:
      type: object
      properties:
        a: {type: string, format: password}
        b: {type: string, writeOnly: true}
        c: {type: string, x-spola-secret: true}
        d: {type: string}
        k: {type: string}
        child_key: {type: string}
    steps:
      - stepId: start
        operationId: runJob
        requestBody: {payload: {a: $inputs.a, b: $inputs.b, c: $inputs.c, d: $inputs.d}}
      - stepId: keyed
        operationId: keyOp
        parameters: [{name: X-Api-Key, in: header, value: $inputs.k}]
      - stepId: nested
        workflowId: child
        parameters: [{name: key, value: $inputs.child_key}]
  - workflowId: child
    inputs: {type: object, properties: {key: {type: string}}}
    steps:
      - stepId: q
        operationId: qkeyOp
        parameters: [{name: api_key, in: query, value: $inputs.key}]
"""


def test_declared_flagged_scheme_and_child_secrets_are_nowhere(stub: StubServer, tmp_path: Path) -> None:
    stub.add("POST", "/api/jobs/run", lambda r, n: Reply(body={"got": r.json}))
    stub.add("GET", "/api/secure/key", lambda r, n: Reply(body={"got": r.headers.get("x-api-key")}))
    stub.add("GET", "/api/secure/qkey", lambda r, n: Reply(body={"got": r.query}))
    doc = write(tmp_path, DECLARED)
    values = {name: f"secret-{name}-0f3a9c7e" for name in ("a", "b", "c", "d", "k", "child_key")}
    store = tmp_path / "runs.db"
    done = spola_cli(
        "run",
        str(doc),
        "-w",
        "w",
        "--server",
        f"jobs={stub.base_url}/api",
        "--store",
        str(store),
        "--secret",
        "d",
        "-v",
        "--json",
        *[x for name, value in values.items() for x in ("-i", f"{name}={value}")],
        *_reports(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    run, keyed, query = stub.received()
    assert run.json == {n: values[n] for n in "abcd"}
    assert keyed.headers["x-api-key"] == values["k"]
    assert query.query["api_key"] == [values["child_key"]]
    everything = _everything(tmp_path, store, done)
    for name, value in values.items():
        assert value not in everything, name


OAUTH = """
workflows:
  - workflowId: w
    steps:
      - stepId: s
        operationId: oauthOp
        outputs: {echo: $response.body#/echo}
    outputs: {echo: $steps.s.outputs.echo}
"""


def test_a_fetched_oauth_token_echoed_by_the_server_is_nowhere(stub: StubServer, tmp_path: Path) -> None:
    stub.add(
        "POST",
        "/oauth/token",
        Reply(body={"access_token": ACCESS, "token_type": "Bearer", "expires_in": 600}),
    )
    stub.add("GET", "/api/secure/oauth", lambda r, n: Reply(body={"echo": r.headers.get("authorization")}))
    doc = write(tmp_path, OAUTH)
    store = tmp_path / "runs.db"
    done = spola_cli(
        "run",
        str(doc),
        "--server",
        f"jobs={stub.base_url}/api",
        "--auth",
        f"jobs.oauth=client-1:{CLIENT_SECRET}",
        "--store",
        str(store),
        "-v",
        "--json",
        *_reports(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    (call,) = stub.received("GET", "/api/secure/oauth")
    assert call.headers["authorization"] == f"Bearer {ACCESS}"
    everything = _everything(tmp_path, store, done)
    assert ACCESS not in everything
    assert CLIENT_SECRET not in everything


def test_a_password_in_a_server_url_is_not_stored(stub: StubServer, tmp_path: Path) -> None:
    stub.add("POST", "/api/jobs/run", Reply(body={"run_id": 1}))
    doc = write(tmp_path, BEARER_INPUT)
    store = tmp_path / "runs.db"
    password = "url-pass-6d2b8f10"
    server = stub.base_url.replace("http://", f"http://svc:{password}@") + "/api"
    done = spola_cli(
        "run", str(doc), "--server", f"jobs={server}", "--store", str(store), "-v", "-i", "pat=x" * 1
    )
    assert done.returncode == 0, done.stderr
    assert password not in _everything(tmp_path, store, done)


def test_a_cross_origin_redirect_leaves_every_credential_behind(stub: StubServer, tmp_path: Path) -> None:
    other = StubServer().start()
    try:
        other.add("GET", "/landing", Reply(body={"ok": True}))
        target = f"{other.base_url}/landing"
        stub.add("GET", "/api/secure/key", Reply(status=302, headers={"Location": target}))
        stub.add("GET", "/api/secure/basic", Reply(status=307, headers={"Location": target}))
        doc = write(
            tmp_path,
            """
            workflows:
              - workflowId: w
                inputs: {type: object, properties: {sess: {type: string}}}
                steps:
                  - stepId: k
                    operationId: keyOp
                    parameters:
                      - {name: Cookie, in: header, value: "session={$inputs.sess}"}
                  - stepId: b
                    operationId: basicOp
            """,
        )
        done = spola_cli(
            "run",
            str(doc),
            "--no-store",
            "--server",
            f"jobs={stub.base_url}/api",
            "--auth",
            "jobs.key=key-7f3e2a",
            "--auth",
            "jobs.basic=u:pw-1b2c3d",
            "-i",
            "sess=sess-4e5f6a7b",
        )
        assert done.returncode == 0, done.stderr
        first, second = stub.received()
        assert first.headers["x-api-key"] == "key-7f3e2a"  # the origin got them
        assert first.headers["cookie"] == "session=sess-4e5f6a7b"
        assert second.headers["authorization"].startswith("Basic ")
        assert len(other.received()) == 2
        for hop in other.received():
            sent = {k.lower() for k in hop.headers}
            assert not sent & {"x-api-key", "cookie", "authorization"}, hop.headers
    finally:
        other.stop()
