"""Admin endpoints under `/_sim` (not vendor API; never logged, faulted or authenticated).

- `GET  /_sim/requests[?key=runs/get&method=GET]` →
  `{"total", "counts": {key: {method: n}}, "requests": [...]}`; each request has `seq, at, vendor, key,
  method, path, query, headers (Authorization redacted), body, status, fault`.
- `POST /_sim/reset[?scope=log]` → clears the log and fault counters and re-seeds the simulator
  (`scope=log`: only the log and fault counters).
- `POST /_sim/advance?seconds=N` → moves simulated time forward; answers `{"now": seconds}`.
- `GET  /_sim/clock` → `{"now", "speed", "epoch_ms"}`.
- `GET  /_sim/faults` → `{"spec": canonical spec}`; `PUT /_sim/faults` with `{"spec": "..."}` (or the spec
  as plain text) replaces the plan; a bad spec answers 400 with the parse error.
- `GET  /_sim/state` → the simulator's state as JSON.
- vendor extras, each answering 201 with the created object's ids (400 when refused):
  `POST /_sim/jobs` (Databricks) `{"job_id"?: 9, "settings": {...jobs/create body...}}`;
  `POST /_sim/scenarios` (Dataiku) `{"projectKey", "id", "name"?, "outcome"?, "duration"?}`;
  `POST /_sim/jobs` (dbt) `{"id"?, "name", "outcome"?, "duration"?}`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from spola.sim.errors import ApiError
from spola.sim.faults import FaultPlan, FaultSpecError

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.requests import Request

    from spola.sim.clock import SimClock
    from spola.sim.faults import FaultInjector
    from spola.sim.recorder import RequestLog
    from spola.sim.vendor import Simulator

__all__ = ["AdminTarget", "admin_routes", "create_route", "query_float", "spec_from_body"]


class AdminTarget(Protocol):
    """What the `/_sim` routes need of a simulator app (`spola.sim.base.SimApp` is one)."""

    @property
    def simulator(self) -> Simulator: ...

    @property
    def log(self) -> RequestLog: ...

    @property
    def clock(self) -> SimClock: ...

    @property
    def faults(self) -> FaultInjector: ...

    def reset(self, *, state: bool = True) -> None: ...


def query_float(request: Request, name: str) -> float | None:
    """A query parameter as a float, or `None` when absent or not a number."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


async def spec_from_body(request: Request) -> str:
    """A fault spec sent as `{"spec": "..."}` or as plain text."""
    raw = (await request.body()).decode("utf-8")
    try:
        parsed = json.loads(raw) if raw.strip().startswith("{") else None
    except ValueError:
        parsed = None
    return str(parsed.get("spec") or "") if isinstance(parsed, dict) else raw


def create_route(path: str, create: Callable[[dict[str, Any]], dict[str, Any]]) -> Route:
    """`POST /_sim/<path>`: create an object from a JSON body; 201 with what `create` returns, else 400."""

    async def endpoint(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
            if not isinstance(body, dict):
                raise TypeError("expected a JSON object")
            return JSONResponse(create(body), status_code=201)
        except ApiError as exc:
            return JSONResponse({"error": exc.message}, status_code=400)
        except (ValueError, TypeError, KeyError) as exc:
            return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=400)

    return Route(f"/_sim/{path}", endpoint, methods=["POST"])


def admin_routes(app: AdminTarget) -> list[BaseRoute]:
    """The `/_sim` routes bound to one simulator app."""

    async def requests(request: Request) -> Response:
        key = request.query_params.get("key")
        method = request.query_params.get("method")
        return JSONResponse(app.log.to_json(key, method))

    async def reset(request: Request) -> Response:
        app.reset(state=request.query_params.get("scope", "all") != "log")
        return JSONResponse({"reset": True, "now": app.clock.now()})

    async def advance(request: Request) -> Response:
        seconds = query_float(request, "seconds")
        if seconds is None or seconds < 0:
            return JSONResponse({"error": "advance needs ?seconds=N with N >= 0"}, status_code=400)
        return JSONResponse({"now": app.clock.advance(seconds)})

    async def clock(request: Request) -> Response:
        return JSONResponse(
            {"now": app.clock.now(), "speed": app.clock.speed, "epoch_ms": app.clock.epoch_ms}
        )

    async def get_faults(request: Request) -> Response:
        return JSONResponse({"spec": str(app.faults.plan)})

    async def put_faults(request: Request) -> Response:
        try:
            plan = FaultPlan.parse(await spec_from_body(request))
        except FaultSpecError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        app.faults.replace(plan)
        return JSONResponse({"spec": str(app.faults.plan)})

    async def state(request: Request) -> Response:
        return JSONResponse(app.simulator.snapshot())

    return [
        Route("/_sim/requests", requests, methods=["GET"]),
        Route("/_sim/reset", reset, methods=["POST"]),
        Route("/_sim/advance", advance, methods=["POST"]),
        Route("/_sim/clock", clock, methods=["GET"]),
        Route("/_sim/faults", get_faults, methods=["GET"]),
        Route("/_sim/faults", put_faults, methods=["PUT", "POST"]),
        Route("/_sim/state", state, methods=["GET"]),
    ]
