"""The sans-I/O engine on scripted responses: exact actions out, no sockets, no sleeping."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from spola.core.actions import Finish, SendRequest, Wait
from spola.core.engine import Run
from spola.errors import EngineMisuse, InputError
from spola.exchange import HttpResponse
from spola.model import load
from spola.options import PollPolicy, RunOptions
from tests.integration.documents import write
from tests.unit.core.responses import ok

FLOW = """
workflows:
  - workflowId: w
    inputs:
      type: object
      required: [job]
      properties:
        job: {type: integer}
        note: {type: string}
    steps:
      - stepId: go
        operationId: runJob
        requestBody: {payload: {job_id: $inputs.job, note: $inputs.note}}
        successCriteria: [{condition: $statusCode == 200}]
        outputs: {id: $response.body#/run_id}
      - stepId: poll
        operationId: getRun
        parameters: [{name: run_id, in: query, value: $steps.go.outputs.id}]
        successCriteria: [{condition: $statusCode == 200}]
        outputs: {state: $response.body#/state}
        onSuccess:
          - name: again
            type: goto
            stepId: poll
            criteria: [{context: $response.body, condition: $.state == "RUNNING", type: jsonpath}]
    outputs: {state: $steps.poll.outputs.state}
"""


@pytest.fixture
def document(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load(write(tmp_path, FLOW))


def make(document, **options) -> Run:  # type: ignore[no-untyped-def]
    opts = RunOptions(servers={"jobs": "http://api.test"}, seed=7, **options)
    return Run(document, "w", {"job": 5}, options=opts, run_id="r1", started_at=1000.0)


def test_the_first_action_is_the_trigger_request(document) -> None:  # type: ignore[no-untyped-def]
    run = make(document)
    (action,) = run.next_actions(1000.0)
    assert isinstance(action, SendRequest)
    assert action.call_id == 1
    assert action.request.method == "POST"
    assert action.request.url == "http://api.test/jobs/run"
    assert json.loads(action.request.body or b"") == {"job_id": 5}
    assert action.step_path == "w/go"
    assert action.idempotent is False
    assert run.next_actions(1000.0) == []


def test_a_poll_loop_asks_to_wait_with_seeded_back_off(document) -> None:  # type: ignore[no-untyped-def]
    run = make(document, poll=PollPolicy(initial=2.0, factor=2.0, cap=10.0, jitter=0.0))
    run.next_actions(1000.0)
    run.receive(1, ok({"run_id": 9}), 1000.5)
    (poll,) = run.next_actions(1000.5)
    assert isinstance(poll, SendRequest) and poll.request.url.endswith("/jobs/runs/get?run_id=9")
    run.receive(poll.call_id, ok({"state": "RUNNING"}), 1001.0)
    assert run.next_actions(1001.0) == [Wait(until=1003.0, reason="poll")]
    assert run.next_actions(1002.9) == [Wait(until=1003.0, reason="poll")]
    (again,) = run.next_actions(1003.0)
    assert isinstance(again, SendRequest) and again.attempt == 2
    run.receive(again.call_id, ok({"state": "RUNNING"}), 1003.1)
    assert run.next_actions(1003.1) == [Wait(until=1007.1, reason="poll")]


def test_the_same_responses_give_the_same_run(document) -> None:  # type: ignore[no-untyped-def]
    def play() -> list[object]:
        run = make(document)
        seen: list[object] = []
        now = 1000.0
        script = iter(
            [ok({"run_id": 1}), ok({"state": "RUNNING"}), ok({"state": "RUNNING"}), ok({"state": "DONE"})]
        )
        while True:
            actions = run.next_actions(now)
            seen.extend(actions)
            if isinstance(actions[0], Finish):
                return seen
            if isinstance(actions[0], Wait):
                now = actions[0].until
                continue
            now += 0.25
            run.receive(actions[0].call_id, next(script), now)

    first, second = play(), play()
    assert first == second
    final = first[-1]
    assert isinstance(final, Finish) and final.result.outputs == {"state": "DONE"}


def test_a_response_nobody_asked_for_is_engine_misuse(document) -> None:  # type: ignore[no-untyped-def]
    run = make(document)
    with pytest.raises(EngineMisuse):
        run.receive(42, ok({}), 1000.0)


def test_inputs_are_checked_when_the_run_is_made(document) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="job"):
        Run(document, "w", {"job": "x"}, options=RunOptions(), started_at=0.0)


def test_a_transport_failure_is_a_step_failure_not_an_exception(document) -> None:  # type: ignore[no-untyped-def]
    run = make(document, retry_attempts=0)
    run.next_actions(1000.0)
    run.receive(1, HttpResponse(status=None, error="cannot connect"), 1000.1)
    (finish,) = run.next_actions(1000.1)
    assert isinstance(finish, Finish)
    assert finish.result.status == "failed"
    assert finish.result.error is not None and "cannot connect" in finish.result.error.message


def test_interrupt_reports_an_interrupted_run(document) -> None:  # type: ignore[no-untyped-def]
    run = make(document)
    run.next_actions(1000.0)
    result = run.interrupt()
    assert result.status == "interrupted"
    run.receive(1, ok({"run_id": 1}), 1000.2)  # a late response is ignored, not a crash


CORE = Path(__file__).resolve().parents[3] / "src" / "spola" / "core"
FORBIDDEN = {
    "aiohttp",
    "asyncio",
    "sqlite3",
    "typer",
    "rich",
    "time",
    "os",
    "socket",
    "threading",
    "spola.cli",
    "spola.drivers",
    "spola.store",
    "datetime",
}


@pytest.mark.parametrize("module", sorted(p.name for p in CORE.glob("*.py")))
def test_the_core_never_imports_io_clocks_or_drivers(module: str) -> None:
    tree = ast.parse((CORE / module).read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    bad = {
        n
        for n in names
        if n in FORBIDDEN or n.split(".")[0] in FORBIDDEN or any(n.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not bad, f"{module} imports {bad}"


def _spola_imports(path: Path) -> set[str]:
    """Every ``spola.*`` module a file imports, type-only imports included (a circle is a circle)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("spola"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("spola"):
            found.add(node.module)
            # ``from spola.core import flow`` imports the module spola.core.flow
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _core_graph() -> dict[str, set[str]]:
    modules = {f"spola.core.{p.stem}" for p in CORE.glob("*.py") if p.stem != "__init__"}
    return {
        f"spola.core.{p.stem}": _spola_imports(p) & modules for p in CORE.glob("*.py") if p.stem != "__init__"
    }


def test_the_core_imports_one_way_with_no_circles() -> None:
    graph = _core_graph()
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> None:
        if module in path:
            circle = [*path[path.index(module) :], module]
            raise AssertionError("core modules import each other in a circle: " + " -> ".join(circle))
        if module in done:
            return
        path.append(module)
        for target in sorted(graph[module]):
            visit(target)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_nothing_below_the_state_machine_imports_run() -> None:
    importers = sorted(m for m, targets in _core_graph().items() if "spola.core.engine" in targets)
    assert importers == []


def test_the_layers_below_the_core_never_import_it() -> None:
    src = CORE.parent
    below = [src / "request_builder.py", src / "options.py", src / "exchange.py", src / "errors.py"]
    below += [*(src / "expr").glob("*.py"), *(src / "criteria").glob("*.py"), *(src / "model").glob("*.py")]
    bad = {
        str(p.relative_to(src)): sorted(m for m in _spola_imports(p) if m.startswith("spola.core"))
        for p in below
    }
    assert {k: v for k, v in bad.items() if v} == {}
