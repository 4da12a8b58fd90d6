"""Simulators on real ports (127.0.0.1, port 0), one server per vendor for the session.

Each app runs on a `ManualClock`, so time only moves when a test says so (`sim.advance(seconds)`); before
every test the app is reset (pre-seeded state, empty log, no faults). `api` clients talk to them with aiohttp.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from multidict import CIMultiDict

from spola.sim import FaultPlan, ManualClock, SimApp, create_app, serve_in_thread
from spola.sim.server import ServerHandle

TOKENS = {"databricks": "dapi-sim-token", "dataiku": "sim-token", "dbt": "sim-token"}
SCHEMES = {"databricks": "Bearer", "dataiku": "Bearer", "dbt": "Token"}


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class Sim:
    """A running simulator: its app (state, log, faults, clock), URL and fake clock."""

    kind: str
    app: SimApp
    server: ServerHandle
    clock: ManualClock

    @property
    def url(self) -> str:
        return self.server.base_url

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def faults(self, spec: str) -> None:
        self.app.faults.replace(FaultPlan.parse(spec))


class Api:
    """A tiny aiohttp client that sends the right credentials unless told otherwise."""

    def __init__(self, sim: Sim, session: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.session = session
        self.auth = {"Authorization": f"{SCHEMES[sim.kind]} {TOKENS[sim.kind]}"}

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> Reply:
        sent = {**(self.auth if auth else {}), **(headers or {})}
        async with self.session.request(method, self.sim.url + path, json=body, headers=sent) as response:
            return Reply(response.status, CIMultiDict(response.headers), await response.text())

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return await self.call("POST", path, body, **kwargs)


def _start(kind: str, **options: Any) -> Sim:
    clock = ManualClock()
    app = create_app(kind, clock=clock, seed=7, epoch_ms=1_700_000_000_000, **options)
    return Sim(kind, app, serve_in_thread(app), clock)


@pytest.fixture(scope="session")
def _servers() -> Iterator[dict[str, Sim]]:
    sims = {kind: _start(kind) for kind in ("databricks", "dataiku", "dbt")}
    yield sims
    for sim in sims.values():
        sim.server.stop()


def _fresh(sim: Sim) -> Sim:
    sim.app.faults.replace(FaultPlan())
    sim.app.reset()
    return sim


@pytest.fixture
def databricks(_servers: dict[str, Sim]) -> Sim:
    return _fresh(_servers["databricks"])


@pytest.fixture
def dataiku(_servers: dict[str, Sim]) -> Sim:
    return _fresh(_servers["dataiku"])


@pytest.fixture
def dbt(_servers: dict[str, Sim]) -> Sim:
    return _fresh(_servers["dbt"])


@pytest_asyncio.fixture(loop_scope="function")
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def dbx(databricks: Sim, session: aiohttp.ClientSession) -> Api:
    return Api(databricks, session)


@pytest.fixture
def dku(dataiku: Sim, session: aiohttp.ClientSession) -> Api:
    return Api(dataiku, session)


@pytest.fixture
def cloud(dbt: Sim, session: aiohttp.ClientSession) -> Api:
    return Api(dbt, session)


@pytest.fixture
def start_sim() -> Iterator[Any]:
    """Start extra simulators with custom options; stopped after the test."""
    started: list[Sim] = []

    def start(kind: str, **options: Any) -> Sim:
        sim = _start(kind, **options)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.server.stop()
