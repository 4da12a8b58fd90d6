"""`spola <command>` builds only that command's parameters, and says exactly what the whole app says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from spola.cli import app as app_module

BENCH_DOC = Path(__file__).resolve().parents[2] / "bench" / "workflows" / "spola.arazzo.yaml"

CASES = [
    ["run", "--help"],
    ["run"],
    ["run", str(BENCH_DOC), "--bogus"],
    ["run", str(BENCH_DOC), "--max-steps", "many"],
    ["run", str(BENCH_DOC), "-i", "job_id=1", "--dry-run", "--no-store"],
    ["run", str(BENCH_DOC), "-i", "nope=1", "--dry-run", "--json"],
    ["validate", "--help"],
    ["workflows", str(BENCH_DOC)],
    ["sim", "--help"],
]


def _outcome(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[object, str, str]:
    with pytest.raises(SystemExit) as stop:
        app_module.main(args)
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return stop.value.code, out, err


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a[:1] + a[2:]))
def test_the_command_alone_answers_as_the_whole_app(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    alone = _outcome(args, capsys)
    monkeypatch.setattr(app_module, "_app_for", lambda _args: app_module.app)
    whole = _outcome(args, capsys)
    assert alone == whole


def test_only_a_known_command_gets_an_app_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.endswith("_COMPLETE"):
            monkeypatch.delenv(name)
    alone = app_module._app_for(["run", "DOC"])
    assert alone is not app_module.app
    assert [c.name for c in alone.registered_commands] == ["run"]
    assert alone.registered_groups == []
    assert alone.registered_callback is app_module.app.registered_callback  # --version still there
    assert len(app_module.app.registered_commands) > 1  # the whole app is untouched
    for args in ([], ["--help"], ["runs", "show"], ["rn", "DOC"], ["--version"]):
        assert app_module._app_for(args) is app_module.app
    monkeypatch.setenv("_SPOLA_COMPLETE", "bash_complete")
    assert app_module._app_for(["run", "DOC"]) is app_module.app
