"""Usage errors are usage errors: every option-parsing failure of every command exits 2 with the
command's usage line and an ``Error:`` line, never a traceback or "internal error"; ``--version``,
shell completion, undeclared inputs, ``SPOLA_INPUT_<NAME>``, the ``--json`` refusal object, busy
ports, bad fault plans and ``NO_COLOR``."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import typer

from spola.cli.app import app, main
from tests.conftest import spola_cli
from tests.integration.documents import write
from tests.stub_server import Reply, StubServer


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    out, err = capsys.readouterr()
    code = stopped.value.code
    return (code if isinstance(code, int) else 1), out, err


def _assert_usage_error(code: int, out: str, err: str, path: tuple[str, ...], needle: str) -> None:
    assert code == 2, (path, err)
    assert err.startswith("Usage: spola"), (path, err)
    assert f"Try 'spola{''.join(' ' + p for p in path)} -h' for help." in err, (path, err)
    assert needle in err, (path, needle, err)
    assert "Traceback" not in out + err
    assert "internal" not in (out + err).lower()


def _positional(command: Any) -> list[str]:
    values: list[str] = []
    for param in command.params:
        if param.param_type_name == "argument":
            values += ["x"] * (param.nargs if param.nargs > 0 else 1)
    return values


def _value_options(command: Any) -> list[Any]:
    return [
        p
        for p in command.params
        if p.param_type_name == "option" and not p.is_flag and not p.count and p.nargs == 1 and p.expose_value
    ]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "spola" for p, _ in COMMANDS])
def test_every_command_refuses_an_unknown_option(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...], command: Any
) -> None:
    code, out, err = _cli(capsys, *path, "--no-such-option-here")
    _assert_usage_error(code, out, err, path, "No such option: --no-such-option-here")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "spola" for p, _ in COMMANDS])
def test_every_option_refuses_a_missing_value(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...], command: Any
) -> None:
    options = _value_options(command)
    for option in options:
        name = max(option.opts, key=len)
        code, out, err = _cli(capsys, *path, *_positional(command), name)
        _assert_usage_error(code, out, err, path, f"Option '{name}' requires an argument")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "spola" for p, _ in COMMANDS])
def test_every_numeric_or_choice_option_refuses_a_bad_value(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...], command: Any
) -> None:
    for option in _value_options(command):
        kind = type(option.type).__name__
        if not any(word in kind for word in ("Int", "Float", "Choice")):
            continue
        name = max(option.opts, key=len)
        code, out, err = _cli(capsys, *path, *_positional(command), name, "not-a-value")
        _assert_usage_error(code, out, err, path, f"Invalid value for '{name}'")


@pytest.mark.parametrize(
    "path", [p for p, c in COMMANDS if getattr(c, "commands", None)], ids=lambda p: " ".join(p) or "spola"
)
def test_every_group_refuses_an_unknown_command(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...]
) -> None:
    code, out, err = _cli(capsys, *path, "no-such-command")
    _assert_usage_error(code, out, err, path, "No such command 'no-such-command'")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "spola" for p, _ in COMMANDS])
def test_every_command_has_help(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...], command: Any
) -> None:
    code, out, _ = _cli(capsys, *path, "-h")
    assert code == 0
    assert "Usage:" in out


def test_the_walk_covers_the_commands_users_type() -> None:
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {
        "run",
        "resume",
        "cancel",
        "runs",
        "runs show",
        "validate",
        "mcp",
        "sim",
        "demo",
        "worker",
    } <= names
    run = dict(COMMANDS)[("run",)]
    assert len(_value_options(run)) >= 15


def test_a_misspelt_option_gets_a_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(capsys, "run", "doc.yaml", "--timeuot", "3")
    _assert_usage_error(code, out, err, ("run",), "--timeout")
    code, out, err = _cli(capsys, "run", "doc.yaml", "--max-respons-bytes", "3")
    _assert_usage_error(code, out, err, ("run",), "--max-response-bytes")


def test_a_missing_value_names_the_command_it_belongs_to(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(capsys, "runs", "show", "abc", "--store")
    _assert_usage_error(code, out, err, ("runs", "show"), "Option '--store' requires an argument")


def test_version() -> None:
    for flag in ("--version", "-V"):
        done = spola_cli(flag)
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"spola {version('spola')}\n"


def test_shell_completion_script() -> None:
    done = spola_cli("--show-completion", "bash")
    assert done.returncode == 0, done.stderr
    assert "complete" in done.stdout
    assert "spola" in done.stdout


DECLARED = """
workflows:
  - workflowId: start
    inputs:
      type: object
      properties:
        idempotency_token: {type: string}
        job: {type: integer}
    steps:
      - stepId: run
        operationId: runJob
        requestBody: {payload: {job: $inputs.job, idempotency_token: $inputs.idempotency_token}}
        successCriteria: [{condition: $statusCode == 200}]
        outputs: {runId: $response.body#/run_id}
    outputs: {runId: $steps.run.outputs.runId}
"""


def test_an_undeclared_input_is_refused_with_a_did_you_mean(stub: StubServer, tmp_path: Path) -> None:
    stub.add("POST", "/api/jobs/run", Reply(body={"run_id": 7}))
    doc = write(tmp_path, DECLARED)
    server = f"jobs={stub.base_url}/api"
    done = spola_cli(
        "run", str(doc), "--no-store", "--server", server, "-i", "job=1", "-i", "idempotencyToken=abc"
    )
    assert done.returncode == 2, done.stderr
    assert "no input named 'idempotencyToken' (did you mean 'idempotency_token'?)" in done.stderr
    assert "it declares: idempotency_token, job" in done.stderr
    assert "Traceback" not in done.stderr
    assert stub.received() == []


def test_an_undeclared_input_refusal_is_one_json_object_with_json(stub: StubServer, tmp_path: Path) -> None:
    doc = write(tmp_path, DECLARED)
    done = spola_cli(
        "run", str(doc), "--no-store", "--json", "--server", f"jobs={stub.base_url}/api", "-i", "jbo=1"
    )
    assert done.returncode == 2
    result = json.loads(done.stdout)
    assert result["status"] == "refused"
    assert result["error"]["kind"] == "InputError"
    assert "did you mean 'job'?" in result["error"]["message"]
    assert stub.received() == []


def test_a_document_refusal_with_json_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.arazzo.yaml"
    bad.write_text("arazzo: 1.0.1\ninfo: [\n")
    done = spola_cli("run", str(bad), "--json", "--no-store")
    assert done.returncode == 2
    result = json.loads(done.stdout)
    assert result["status"] == "refused"
    assert result["error"]["file"] == str(bad)
    assert result["error"]["findings"]


def test_a_usage_error_with_json_is_one_json_object() -> None:
    done = spola_cli("run", "x.yaml", "--json", "--timeout", "soon")
    assert done.returncode == 2
    result = json.loads(done.stdout)
    assert result == {
        "status": "refused",
        "error": {"kind": "usage", "message": result["error"]["message"], "exit_status": 2},
    }
    assert "--timeout" in result["error"]["message"]


def test_spola_input_variables_feed_run_below_the_flags(stub: StubServer, tmp_path: Path) -> None:
    stub.add("POST", "/api/jobs/run", Reply(body={"run_id": 7}), Reply(body={"run_id": 8}))
    doc = write(tmp_path, DECLARED)
    env = {"SPOLA_INPUT_JOB": "41", "SPOLA_INPUT_IDEMPOTENCY_TOKEN": "from-env"}
    server = f"jobs={stub.base_url}/api"
    done = spola_cli("run", str(doc), "--no-store", "--server", server, env=env)
    assert done.returncode == 0, done.stderr
    done = spola_cli("run", str(doc), "--no-store", "--server", server, "-i", "job=42", env=env)
    assert done.returncode == 0, done.stderr
    first, second = stub.received("POST", "/api/jobs/run")
    assert first.json == {"job": 41, "idempotency_token": "from-env"}
    assert second.json == {"job": 42, "idempotency_token": "from-env"}


def test_sim_on_a_busy_port_is_a_usage_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = spola_cli("sim", "databricks", "--port", str(port), timeout=30)
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "internal" not in done.stderr


@pytest.mark.parametrize("command", [["sim", "databricks", "--port", "0"], ["demo"]])
def test_a_bad_fault_plan_is_a_usage_error(command: list[str]) -> None:
    done = spola_cli(*command, "--faults", "bogus!!", timeout=30)
    assert done.returncode == 2, done.stderr
    assert "--faults: bad fault rule 'bogus!!'" in done.stderr
    assert "internal" not in done.stderr


def test_no_color_is_respected() -> None:
    coloured = spola_cli("run", "-h", env={"FORCE_COLOR": "1", "TERM": "xterm-256color", "NO_COLOR": ""})
    assert "\x1b[3" in coloured.stdout  # the control: forced colour shows colour codes
    plain = spola_cli("run", "-h", env={"FORCE_COLOR": "1", "TERM": "xterm-256color", "NO_COLOR": "1"})
    assert plain.returncode == 0
    assert "\x1b[3" not in plain.stdout
