"""The Arazzo specification's own pet-coupons example, run as written against a local server.

``buy-available-pet`` and ``place-order`` run; ``apply-coupon`` (which gives no value for ``petId``)
is broken, and that must not stop the other two. The steps that run ``place-order`` check
``$statusCode == 200``: on a step that runs a workflow that is the child's last exchange.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import spola
from tests.conftest import shared_or_skip
from tests.integration.documents import write
from tests.stub_server import Reply, StubServer


def _doc() -> str:
    return str(shared_or_skip() / "spec" / "examples" / "1.0.0" / "pet-coupons.arazzo.yaml")


def _petstore(stub: StubServer, *, order_status: int = 200) -> None:
    stub.add("GET", "/pet/findByStatus", Reply(body=[{"id": 42, "name": "Rex"}, {"id": 7, "name": "Tom"}]))
    stub.add("POST", "/store/order", Reply(status=order_status, body={"id": 9001, "petId": 42}))


def test_buy_available_pet_orders_the_first_pet(stub: StubServer) -> None:
    _petstore(stub)
    result = spola.run(_doc(), "buy-available-pet", servers={"pet-coupons": stub.base_url})
    assert result.status == "succeeded", result.error
    assert result.outputs == {"buy_pet_order_id": 9001}
    (search,) = stub.received("GET", "/pet/findByStatus")
    # the step's own value, and the component parameters with the values the step gives them
    assert search.query == {"status": ["available"], "page": ["1"], "pageSize": ["10"]}
    (order,) = stub.received("POST", "/store/order")
    # optional inputs the caller did not give (quantity, coupon_code) are left out, never null
    assert order.json == {"petId": 42, "status": "placed", "complete": False}
    assert order.headers["content-type"].startswith("application/json")


def test_place_order_runs_although_apply_coupon_is_broken(stub: StubServer) -> None:
    _petstore(stub)
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "spola",
            "run",
            _doc(),
            "-w",
            "place-order",
            "--no-store",
            "--json",
            "--server",
            f"pet-coupons={stub.base_url}",
            "-i",
            "pet_id=42",
            "-i",
            "quantity=2",
            "-i",
            "coupon_code=SPRING",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "succeeded"
    assert result["outputs"] == {"workflow_order_id": 9001}
    (order,) = stub.received("POST", "/store/order")
    assert order.json == {
        "petId": 42,
        "quantity": 2,
        "couponCode": "SPRING",
        "status": "placed",
        "complete": False,
    }
    # the broken workflow elsewhere is one warning with file:line, naming what the run does not reach
    warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, proc.stderr
    assert "pet-coupons.arazzo.yaml:36:9" in warnings[0] and "petId" in warnings[0]
    assert "not reached by workflow 'place-order'" in warnings[0]


def test_apply_coupon_itself_is_still_refused(stub: StubServer) -> None:
    _petstore(stub)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "spola",
            "run",
            _doc(),
            "-w",
            "apply-coupon",
            "--no-store",
            "--server",
            f"pet-coupons={stub.base_url}",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "petId" in proc.stderr and "nothing was sent" in proc.stderr
    assert stub.requests == []


PARENT_CHILD = """
workflows:
  - workflowId: parent
    steps:
      - stepId: start
        workflowId: child
        successCriteria:
          - condition: $statusCode == 201
          - condition: $response.header.X-Run == 'r-7'
        outputs:
          id: $response.body#/run_id
          sent: $request.body#/job
          url: $url
          method: $method
          child_out: $outputs.last
    outputs:
      id: $steps.start.outputs.id
      sent: $steps.start.outputs.sent
      url: $steps.start.outputs.url
      method: $steps.start.outputs.method
      child_out: $steps.start.outputs.child_out
  - workflowId: child
    steps:
      - stepId: look
        operationId: getRun
        parameters: [{name: run_id, in: query, value: 1}]
      - stepId: run
        operationId: runJob
        requestBody: {payload: {job: 5}}
        outputs: {last: $response.body#/run_id}
    outputs:
      last: $steps.run.outputs.last
"""


def test_status_code_on_a_workflow_step_is_the_child_last_exchange(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={"state": "x"}))
    stub.add("POST", "/api/jobs/run", Reply(status=201, body={"run_id": 77}, headers={"X-Run": "r-7"}))
    result = spola.run(write(tmp_path, PARENT_CHILD), "parent", servers={"jobs": stub.base_url + "/api"})
    assert result.status == "succeeded", result.error
    assert result.outputs == {
        "id": 77,
        "sent": 5,
        "url": stub.base_url + "/api/jobs/run",
        "method": "POST",
        "child_out": 77,
    }
    assert [r.path for r in stub.requests] == ["/api/jobs/runs/get", "/api/jobs/run"]


def test_a_failed_child_fails_the_step_whatever_its_criteria(stub: StubServer, tmp_path: Path) -> None:
    # the child's last exchange was a 201 (so the parent's criteria would hold), but the child failed
    stub.add("GET", "/api/jobs/runs/get", Reply(status=201, body={"run_id": 77}, headers={"X-Run": "r-7"}))
    doc = write(
        tmp_path,
        PARENT_CHILD.replace(
            "outputs: {last: $response.body#/run_id}", "successCriteria: [{condition: $statusCode == 200}]"
        ),
    )
    stub.add("POST", "/api/jobs/run", Reply(status=500, body={"error": "boom"}))
    result = spola.run(doc, "parent", servers={"jobs": stub.base_url + "/api"})
    assert result.status == "failed"
    parent_step = next(s for s in result.steps if s.workflow_id == "parent")
    assert parent_step.status == "failed"


BROKEN_ELSEWHERE = """
workflows:
  - workflowId: good
    steps:
      - stepId: get
        operationId: getRun
        parameters: [{name: run_id, in: query, value: $inputs.id}]
    outputs: {state: $response.body#/state}
  - workflowId: broken
    steps:
      - stepId: nope
        operationId: noSuchOperation
      - stepId: bad-expr
        operationId: getRun
        parameters: [{name: run_id, in: query, value: $response.bogus}]
  - workflowId: uses-broken
    steps:
      - stepId: call
        workflowId: broken
"""


def test_a_broken_workflow_elsewhere_does_not_stop_the_one_asked(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={"state": "DONE"}))
    doc = write(tmp_path, BROKEN_ELSEWHERE)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "spola",
            "run",
            str(doc),
            "-w",
            "good",
            "--no-store",
            "--json",
            "--server",
            f"jobs={stub.base_url}/api",
            "-i",
            "id=3",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "succeeded"
    assert [r.query for r in stub.requests] == [{"run_id": ["3"]}]
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("spola: warning")]
    assert len(warnings) == 2, proc.stderr  # the unknown operation and the expression, once each
    assert any("noSuchOperation" in w for w in warnings)
    assert all("flow.arazzo.yaml:" in w for w in warnings)
    # what reaches the broken workflow (directly or through a step) is refused; validate reports all
    for target in ("broken", "uses-broken"):
        refused = subprocess.run(
            [
                sys.executable,
                "-m",
                "spola",
                "run",
                str(doc),
                "-w",
                target,
                "--no-store",
                "--server",
                f"jobs={stub.base_url}/api",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
            timeout=60,
        )
        assert refused.returncode == 2, refused.stderr
        assert "noSuchOperation" in refused.stderr and "Traceback" not in refused.stderr
    checked = subprocess.run(
        [sys.executable, "-m", "spola", "validate", str(doc), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 1
    assert "noSuchOperation" in checked.stdout
    assert len(stub.requests) == 1
