"""The document's retry policy is the law; transparent retries only where it says nothing (issues 10, 15)."""

from __future__ import annotations

from pathlib import Path

import spola
from spola.options import PollPolicy
from tests.integration.documents import write
from tests.stub_server import Reply, StubServer

FAST = {"retry_backoff": PollPolicy(fixed=0.0)}


def _doc(tmp_path: Path, step: str) -> Path:
    return write(tmp_path, "workflows:\n  - workflowId: w\n    steps:\n" + step)


GET_WITH_RETRY = """
      - stepId: get
        operationId: getRun
        parameters: [{name: run_id, in: query, value: 1}]
        successCriteria: [{condition: $statusCode == 200}]
        onFailure:
          - {name: again, type: retry, retryAfter: 0, retryLimit: 2}
"""

GET_PLAIN = """
      - stepId: get
        operationId: getRun
        parameters: [{name: run_id, in: query, value: 1}]
        successCriteria: [{condition: $statusCode == 200}]
"""

POST_PLAIN = """
      - stepId: go
        operationId: runJob
        requestBody: {payload: {job_id: 1}}
        successCriteria: [{condition: $statusCode == 200}]
"""


async def test_retry_limit_2_against_nine_503s_makes_exactly_three_attempts(
    stub: StubServer, tmp_path: Path
) -> None:
    unavailable = Reply(status=503, headers={"Retry-After": "0"})
    stub.add("GET", "/api/jobs/runs/get", *([unavailable] * 9), Reply(body={"ok": 1}))
    result = await spola.arun(
        _doc(tmp_path, GET_WITH_RETRY), servers={"jobs": stub.base_url + "/api"}, **FAST
    )
    assert result.status == "failed"
    assert len(stub.requests) == 3
    assert result.steps[0].executions == 3


async def test_a_step_that_says_nothing_about_failure_rides_out_503s(
    stub: StubServer, tmp_path: Path
) -> None:
    unavailable = Reply(status=503)
    stub.add("GET", "/api/jobs/runs/get", unavailable, unavailable, Reply(status=502), Reply(body={"ok": 1}))
    result = await spola.arun(_doc(tmp_path, GET_PLAIN), servers={"jobs": stub.base_url + "/api"}, **FAST)
    assert result.succeeded, result.error
    assert len(stub.requests) == 4
    assert result.steps[0].executions == 4  # transparent re-sends count as executions


async def test_transparent_retries_stop_at_their_attempt_budget(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(status=503))
    result = await spola.arun(
        _doc(tmp_path, GET_PLAIN), servers={"jobs": stub.base_url + "/api"}, retry_attempts=2, **FAST
    )
    assert result.status == "failed"
    assert len(stub.requests) == 3
    assert "503" in result.error.message


async def test_transparent_retries_never_wait_past_their_wait_budget(
    stub: StubServer, tmp_path: Path
) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(status=429, headers={"Retry-After": "30"}), Reply(body={}))
    result = await spola.arun(
        _doc(tmp_path, GET_PLAIN), servers={"jobs": stub.base_url + "/api"}, retry_wait=1.0
    )
    assert result.status == "failed"
    assert len(stub.requests) == 1


async def test_transparent_retries_never_wait_past_the_run_timeout(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(status=503, headers={"Retry-After": "20"}), Reply(body={}))
    result = await spola.arun(_doc(tmp_path, GET_PLAIN), servers={"jobs": stub.base_url + "/api"}, timeout=5)
    assert result.status == "failed"
    assert len(stub.requests) == 1


async def test_a_failure_action_that_applies_turns_transparent_retries_off(
    stub: StubServer, tmp_path: Path
) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(status=503), Reply(body={"ok": 1}))
    step = (
        GET_PLAIN
        + """        onFailure:
          - {name: stop, type: end, criteria: [{condition: $statusCode == 503}]}
"""
    )
    result = await spola.arun(_doc(tmp_path, step), servers={"jobs": stub.base_url + "/api"}, **FAST)
    assert result.status == "failed"
    assert len(stub.requests) == 1
    assert "stop" in result.error.message


async def test_a_failure_action_that_does_not_apply_leaves_them_on(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(status=503), Reply(body={"ok": 1}))
    step = (
        GET_PLAIN
        + """        onFailure:
          - {name: gone, type: end, criteria: [{condition: $statusCode == 404}]}
"""
    )
    result = await spola.arun(_doc(tmp_path, step), servers={"jobs": stub.base_url + "/api"}, **FAST)
    assert result.succeeded, result.error
    assert len(stub.requests) == 2


async def test_an_unsafe_request_is_not_re_sent_on_a_5xx(stub: StubServer, tmp_path: Path) -> None:
    stub.add("POST", "/api/jobs/run", Reply(status=503), Reply(body={"run_id": 1}))
    result = await spola.arun(_doc(tmp_path, POST_PLAIN), servers={"jobs": stub.base_url + "/api"}, **FAST)
    assert result.status == "failed"
    assert len(stub.received("POST")) == 1


async def test_an_unsafe_request_whose_connection_dropped_is_never_retried_even_by_the_document(
    stub: StubServer, tmp_path: Path
) -> None:
    stub.add("POST", "/api/jobs/run", Reply(drop=True), Reply(body={"run_id": 1}))
    step = (
        POST_PLAIN
        + """        onFailure:
          - {name: again, type: retry, retryAfter: 0, retryLimit: 3}
"""
    )
    result = await spola.arun(_doc(tmp_path, step), servers={"jobs": stub.base_url + "/api"}, **FAST)
    assert result.status == "failed"
    assert len(stub.received("POST")) == 1
    assert "may have reached the server" in result.error.message


async def test_a_safe_request_whose_connection_dropped_is_re_sent(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(drop=True), Reply(body={"ok": 1}))
    result = await spola.arun(_doc(tmp_path, GET_PLAIN), servers={"jobs": stub.base_url + "/api"}, **FAST)
    assert result.succeeded, result.error
    assert len(stub.requests) == 2


async def test_a_post_with_an_idempotency_key_counts_as_safe(stub: StubServer, tmp_path: Path) -> None:
    stub.add("POST", "/api/jobs/run", Reply(status=503), Reply(body={"run_id": 1}))
    step = """
      - stepId: go
        operationId: runJob
        requestBody: {payload: {job_id: 1, idempotency_token: abc}}
        successCriteria: [{condition: $statusCode == 200}]
"""
    result = await spola.arun(_doc(tmp_path, step), servers={"jobs": stub.base_url + "/api"}, **FAST)
    assert result.succeeded, result.error
    assert len(stub.received("POST")) == 2
