"""Shared fixtures: the scripted stub server and paths to ../shared."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stub_server import StubServer

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds" / "arazzo"


def shared_or_skip() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the repository")
    return SHARED


@pytest.fixture(scope="session")
def _server() -> Iterator[StubServer]:
    server = StubServer().start()
    yield server
    server.stop()


@pytest.fixture
def stub(_server: StubServer) -> Iterator[StubServer]:
    """A running stub server, emptied for each test."""
    _server.reset()
    yield _server
    _server.reset()
