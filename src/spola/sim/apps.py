"""Building simulator apps: one vendor (`create_app`) or all three on one port (`create_combined_app`).

The combined app serves every API at its usual path, since they do not collide: Databricks under `/api/2.x`,
dbt under `/api/v2`, Dataiku under `/public/api` and `/dip/publicapi`; the same base URLs as the single
apps, so an OpenAPI `servers` URL only needs its host changed. Each vendor is also mounted under its own
prefix (`/databricks/api/2.1/...`, `/dataiku/public/api/...`, `/dbt/api/v2/...`), with its own `/_sim`
admin there. The root `/_sim/...` admin covers all three: requests are merged (each entry names its
`vendor`; filter with `?vendor=`), reset and advance act on all (the three share one clock), and
`PUT /_sim/faults` gives every vendor the same plan (rules qualified with a vendor apply only to it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from spola.sim.admin import query_float, spec_from_body
from spola.sim.base import CLOSER_KEY, SimApp, closer_from_send
from spola.sim.clock import SimClock
from spola.sim.databricks import DatabricksAPI, DatabricksSimulator
from spola.sim.dataiku import DataikuAPI, DataikuSimulator
from spola.sim.dbt import DbtAPI, DbtSimulator
from spola.sim.faults import FaultPlan, FaultSpecError

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import Receive, Scope, Send

    from spola.sim.vendor import Vendor

__all__ = ["KINDS", "CombinedApp", "api_base_urls", "build_app", "create_app", "create_combined_app"]

KINDS = ("databricks", "dataiku", "dbt")
ClockArg = Callable[[], float] | SimClock | None
_PREFIXES = {
    "databricks": ("/api/2.",),
    "dbt": ("/api/v2/", "/api/v3/"),
    "dataiku": ("/public/api/", "/dip/publicapi/"),
}
_BASES = {"databricks": "/api", "dataiku": "/public/api", "dbt": "/api/v2"}


def _clock(clock: ClockArg, speed: float, epoch_ms: int | None) -> SimClock:
    if isinstance(clock, SimClock):
        return clock
    return SimClock(clock, speed=speed, epoch_ms=epoch_ms)


def _plan(faults: str | FaultPlan | None) -> FaultPlan:
    return faults if isinstance(faults, FaultPlan) else FaultPlan.parse(faults)


def _vendor(
    kind: str, clock: SimClock, *, seed: int | None, token: str | None, auth: bool, light: bool
) -> Vendor:
    if kind == "databricks":
        return DatabricksAPI(DatabricksSimulator(clock, seed=seed), token=token, auth=auth)
    if kind == "dataiku":
        return DataikuAPI(DataikuSimulator(clock, seed=seed, light_last_run=light), token=token, auth=auth)
    if kind == "dbt":
        return DbtAPI(DbtSimulator(clock, seed=seed), token=token, auth=auth)
    raise ValueError(f"unknown simulator {kind!r}; choose one of: {', '.join(KINDS)}, all")


def create_app(
    kind: str,
    *,
    speed: float = 1.0,
    faults: str | FaultPlan | None = None,
    seed: int | None = None,
    token: str | None = None,
    clock: ClockArg = None,
    auth: bool = True,
    light_last_run: bool = False,
    epoch_ms: int | None = None,
) -> SimApp:
    """A Starlette app simulating one vendor API: `databricks`, `dataiku` or `dbt`.

    Args:
        kind: which vendor.
        speed: simulated seconds per real second (10 → runs finish ten times sooner).
        faults: a fault spec (see `spola.sim.faults`) or a parsed `FaultPlan`.
        seed: seeds every random choice (fault probabilities, RANDOM outcomes).
        token: the accepted credential (defaults: `dapi-sim-token`, Dataiku and dbt `sim-token`).
        clock: a time source (`time.monotonic` by default; `ManualClock()` for tests) or a shared `SimClock`.
        auth: `False` accepts requests without credentials.
        light_last_run: Dataiku only; add a `lastRun` object to `GET .../scenarios/{id}/light`.
        epoch_ms: wall-clock epoch milliseconds of simulated time 0 (default: now).

    Raises:
        ValueError: an unknown kind; `FaultSpecError` (a `ValueError`) for a bad fault spec.
    """
    plan = _plan(faults)
    sim_clock = _clock(clock, speed, epoch_ms)
    vendor = _vendor(kind, sim_clock, seed=seed, token=token, auth=auth, light=light_last_run)
    return SimApp(vendor, clock=sim_clock, faults=plan, seed=seed)


class CombinedApp(Starlette):
    """All three simulators behind one port; `apps` maps vendor name to its `SimApp`."""

    def __init__(self, apps: dict[str, SimApp], clock: SimClock) -> None:
        self.apps = apps
        self.clock = clock
        routes: list[Any] = [
            Route("/_sim/requests", self._requests, methods=["GET"]),
            Route("/_sim/reset", self._reset, methods=["POST"]),
            Route("/_sim/advance", self._advance, methods=["POST"]),
            Route("/_sim/clock", self._clock, methods=["GET"]),
            Route("/_sim/state", self._state, methods=["GET"]),
            Route("/_sim/faults", self._get_faults, methods=["GET"]),
            Route("/_sim/faults", self._put_faults, methods=["PUT", "POST"]),
            *(Mount(f"/{name}", app=app) for name, app in apps.items()),
        ]
        super().__init__(routes=routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault(CLOSER_KEY, closer_from_send(send))
            path: str = scope["path"]
            for name, prefixes in _PREFIXES.items():
                if name in self.apps and path.startswith(prefixes):
                    await self.apps[name](scope, receive, send)
                    return
        await super().__call__(scope, receive, send)

    async def _requests(self, request: Request) -> Response:
        vendor, key, method = (request.query_params.get(n) for n in ("vendor", "key", "method"))
        entries = [
            e
            for name, app in self.apps.items()
            if vendor in (None, name)
            for e in app.log.requests(key, method)
        ]
        entries.sort(key=lambda e: (e.at, e.vendor, e.seq))
        counts = {name: app.log.counts() for name, app in self.apps.items() if vendor in (None, name)}
        return JSONResponse(
            {"total": len(entries), "counts": counts, "requests": [e.to_json() for e in entries]}
        )

    async def _reset(self, request: Request) -> Response:
        for app in self.apps.values():
            app.reset(state=request.query_params.get("scope", "all") != "log")
        return JSONResponse({"reset": True, "now": self.clock.now()})

    async def _advance(self, request: Request) -> Response:
        seconds = query_float(request, "seconds")
        if seconds is None or seconds < 0:
            return JSONResponse({"error": "advance needs ?seconds=N with N >= 0"}, status_code=400)
        return JSONResponse({"now": self.clock.advance(seconds)})

    async def _clock(self, request: Request) -> Response:
        return JSONResponse(
            {"now": self.clock.now(), "speed": self.clock.speed, "epoch_ms": self.clock.epoch_ms}
        )

    async def _get_faults(self, request: Request) -> Response:
        return JSONResponse({name: str(app.faults.plan) for name, app in self.apps.items()})

    async def _put_faults(self, request: Request) -> Response:
        try:
            plan = FaultPlan.parse(await spec_from_body(request))
        except FaultSpecError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        for app in self.apps.values():
            app.faults.replace(plan)
        return JSONResponse({name: str(app.faults.plan) for name, app in self.apps.items()})

    async def _state(self, request: Request) -> Response:
        return JSONResponse({name: app.simulator.snapshot() for name, app in self.apps.items()})


def create_combined_app(
    *,
    speed: float = 1.0,
    faults: str | FaultPlan | None = None,
    seed: int | None = None,
    token: str | None = None,
    clock: ClockArg = None,
    auth: bool = True,
    light_last_run: bool = False,
    epoch_ms: int | None = None,
    kinds: Sequence[str] = KINDS,
) -> CombinedApp:
    """Several simulators (all three by default) on one app and one clock; see the module docstring."""
    plan = _plan(faults)
    sim_clock = _clock(clock, speed, epoch_ms)
    apps = {
        kind: create_app(
            kind,
            faults=plan,
            seed=seed,
            token=token,
            clock=sim_clock,
            auth=auth,
            light_last_run=light_last_run,
        )
        for kind in kinds
    }
    return CombinedApp(apps, sim_clock)


def build_app(
    kinds: str | Sequence[str],
    *,
    speed: float = 1.0,
    faults: str | FaultPlan | None = None,
    seed: int | None = None,
    token: str | None = None,
) -> tuple[SimApp | CombinedApp, list[str]]:
    """The app the CLI serves for `kinds` (`"all"`, one kind, or several) and the vendor names in it."""
    names = list(KINDS) if kinds == "all" else [kinds] if isinstance(kinds, str) else list(kinds)
    if "all" in names:
        names = list(KINDS)
    for name in names:
        if name not in KINDS:
            raise ValueError(f"unknown simulator {name!r}; choose one of: {', '.join(KINDS)}, all")
    if len(names) == 1:
        return create_app(names[0], speed=speed, faults=faults, seed=seed, token=token), names
    return create_combined_app(speed=speed, faults=faults, seed=seed, token=token, kinds=names), names


def api_base_urls(names: Sequence[str], root: str, token: str | None = None) -> dict[str, tuple[str, str]]:
    """`{vendor: (API base URL, accepted token)}` for a server at `root`."""
    defaults = {"databricks": DatabricksAPI.default_token, "dataiku": DataikuAPI.default_token}
    defaults["dbt"] = DbtAPI.default_token
    return {name: (f"{root}{_BASES[name]}", token or defaults[name]) for name in names}
