"""The real-world corpus and the seeds load, and every step of theirs resolves to an operation."""

from __future__ import annotations

from pathlib import Path

import pytest

from spola.model import Operation, load
from tests.unit.model.conftest import SHARED


def _documents() -> list[Path]:
    files = sorted((SHARED / "corpus" / "arazzo").glob("*.yml")) + sorted(
        (SHARED / "seeds" / "arazzo").glob("*.yml")
    )
    return files or [Path("missing-shared-tree")]


@pytest.mark.parametrize("path", _documents(), ids=lambda p: p.name)
def test_every_corpus_document_loads_and_resolves_all_its_operations(path: Path) -> None:
    if not path.exists():
        pytest.skip("../shared is not beside the repository")
    document = load(path)
    assert document.workflows
    for workflow in document.workflows:
        for step in workflow.steps:
            operation = document.operation_for(step)
            if step.workflow_id is not None:
                assert operation is None
                continue
            assert isinstance(operation, Operation), step.step_id
            assert operation.method in {"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"}
            assert operation.path.startswith("/")
            if step.operation_id is not None and not step.operation_id.startswith("$"):
                assert operation.operation_id == step.operation_id


def test_the_corpus_has_the_expected_size() -> None:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the repository")
    assert len(list((SHARED / "corpus" / "arazzo").glob("*.yml"))) == 98
    assert len(list((SHARED / "seeds" / "arazzo").glob("*.yml"))) == 5
