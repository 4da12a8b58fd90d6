"""Dataiku DSS public API simulator (scenarios), under `/public/api` and `/dip/publicapi`.

Auth: the API key as HTTP Basic user name with an empty password, or `Authorization: Bearer <key>`
(default key `sim-token`). Missing or wrong → 401 `{"errorType":
"com.dataiku.dip.exceptions.UnauthorizedException", "message", "detailedMessage"}` (status and wording are our
best guess; DSS documents neither). Unknown project or scenario → 404 with errorType
`com.dataiku.dip.server.controllers.NotFoundException`. Every answer carries `DSS-API-Version: 1` and
`DSS-Version`.

Endpoint keys: `projects/list`, `scenarios/list`, `scenarios/create`, `scenario/get`, `scenario/run`,
`scenario/light`, `scenario/get-run-for-trigger`, `scenario/get-last-runs`, `scenario/run-details`,
`scenario/abort`, `scenario/trigger-fire`. Paths (a trailing slash is optional):
`projects/{pk}/scenarios/{id}` (definition), `.../{id}/run` (POST: a trigger fire `{"trigger": {"id":
"manual", ...}, "runId": <trigger run id>, "cancelled": false, ...}`, not a run), `.../{id}/light`,
`.../{id}/get-run-for-trigger?triggerId=&triggerRunId=` (`{}` until the run exists, then `{"scenarioRun":
{"runId", "start", "end", "result": {"outcome", "type"}, ...}}`), `.../{id}/get-last-runs?limit=`,
`.../{id}/{scenarioRunId}` (`{"scenarioRun", "stepRuns"}`), `.../{id}/abort` (POST),
`projects/{pk}/scenarios/trigger/{id}/{triggerId}?triggerRunId=` (the trigger fire).

`light` has no `lastRun` (the documented API has none) unless the app is built with `light_last_run=True`;
then `lastRun` is the most recently started run. Right after a trigger, before the delayed start (1 s by
default), `light` says `running: false`, as DSS does.

Pre-seeded project `DKU_TUTORIAL`: `BUILD_ALL` (SUCCESS), `BUILD_WITH_WARNINGS` (WARNING), `BUILD_FAILING`
(FAILED), `BUILD_ABORTED` (ABORTED), `LONG_BUILD` (600 s, for abort), `RANDOM_BUILD` (seeded random);
runs take 3 simulated seconds. Trigger parameters `{"sim_outcome": "FAILED", "sim_duration": 10}` script a
single run; a `[sim:WARNING]` marker in a scenario name scripts all of its runs.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from spola.sim.admin import create_route
from spola.sim.dataiku_json import (
    fire_json,
    light_json,
    run_details_json,
    run_json,
    scenario_json,
    summary_json,
)
from spola.sim.dataiku_state import NOT_FOUND, DataikuSimulator
from spola.sim.errors import ApiError
from spola.sim.vendor import Vendor, bearer_credential, gateway_error

if TYPE_CHECKING:
    from starlette.datastructures import Headers
    from starlette.requests import Request

__all__ = ["DataikuAPI", "DataikuSimulator"]

PREFIXES = ("/public/api", "/dip/publicapi")
UNAUTHORIZED = "com.dataiku.dip.exceptions.UnauthorizedException"
_ERROR_TYPES = {
    400: "java.lang.IllegalArgumentException",
    401: UNAUTHORIZED,
    403: UNAUTHORIZED,
    404: NOT_FOUND,
    405: "org.springframework.web.HttpRequestMethodNotSupportedException",
    429: "com.dataiku.dip.exceptions.TooManyRequestsException",
    500: "java.lang.IllegalStateException",
    503: "com.dataiku.dip.exceptions.ServiceUnavailableException",
}
Handler = Callable[["Request"], Awaitable[Any]]


class DataikuAPI(Vendor):
    """The DSS scenario API over a `DataikuSimulator`."""

    name: ClassVar[str] = "dataiku"
    default_token: ClassVar[str] = "sim-token"  # noqa: S105 - a documented fake
    api_prefixes: ClassVar[tuple[str, ...]] = PREFIXES
    simulator: DataikuSimulator

    def check_auth(self, headers: Headers) -> Response | None:
        """API key as Basic user (empty password) or Bearer token."""
        if not self.auth:
            return None
        key = bearer_credential(headers, "Bearer")
        basic = bearer_credential(headers, "Basic")
        if key is None and basic is not None:
            try:
                key = base64.b64decode(basic, validate=True).decode("utf-8").partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                key = None
        if not key:
            return self.error(401, "You must be authenticated: no API key was provided")
        if key != self.token:
            return self.error(401, "Invalid API key")
        return None

    def error(self, status: int, message: str | None = None, error_type: str | None = None) -> Response:
        """DSS's `{"errorType", "message", "detailedMessage"}`; 502/504 as a gateway page."""
        if status in (502, 504) and message is None:
            return gateway_error(status)
        text = message or f"Request failed with status {status}"
        kind = error_type or _ERROR_TYPES.get(status, "java.lang.RuntimeException")
        body = {"errorType": kind, "message": text, "detailedMessage": f"{kind.rsplit('.', 1)[-1]}: {text}"}
        return JSONResponse(body, status_code=status)

    def extra_headers(self) -> dict[str, str]:
        """DSS marks every answer with its version and API version."""
        return {"DSS-API-Version": "1", "DSS-Version": "13.2.0"}

    def admin_routes(self) -> list[BaseRoute]:
        """`POST /_sim/scenarios` with `{"projectKey", "id", "name"?, "outcome"?, "duration"?}`."""

        def create(body: dict[str, Any]) -> dict[str, Any]:
            duration = body.get("duration")
            scenario = self.simulator.add_scenario(
                str(body["projectKey"]),
                str(body["id"]),
                body.get("name"),
                outcome=body.get("outcome"),
                duration=float(duration) if duration is not None else None,
            )
            return {"projectKey": scenario.project_key, "id": scenario.scenario_id}

        return [create_route("scenarios", create)]

    def routes(self) -> list[BaseRoute]:
        """Scenario endpoints under both public API prefixes."""
        scenario = "/projects/{pk}/scenarios/{sid}"
        table: list[tuple[str, str, str, Handler]] = [
            ("GET", "/projects", "projects/list", self.list_projects),
            ("GET", "/projects/{pk}/scenarios", "scenarios/list", self.list_scenarios),
            ("POST", "/projects/{pk}/scenarios", "scenarios/create", self.create_scenario),
            (
                "GET",
                "/projects/{pk}/scenarios/trigger/{sid}/{tid}",
                "scenario/trigger-fire",
                self.trigger_fire,
            ),
            ("GET", scenario, "scenario/get", self.get_scenario),
            ("POST", f"{scenario}/run", "scenario/run", self.run),
            ("GET", f"{scenario}/light", "scenario/light", self.light),
            ("GET", f"{scenario}/get-run-for-trigger", "scenario/get-run-for-trigger", self.run_for_trigger),
            ("GET", f"{scenario}/get-last-runs", "scenario/get-last-runs", self.last_runs),
            ("POST", f"{scenario}/abort", "scenario/abort", self.abort),
            ("GET", f"{scenario}/{{rid}}", "scenario/run-details", self.run_details),
        ]
        return [
            Route(f"{prefix}{path}", self._wrap(handler), methods=[method], name=key)
            for prefix in PREFIXES
            for method, path, key, handler in table
        ]

    def _wrap(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return JSONResponse(await handler(request))
            except ApiError as exc:
                return self.error(exc.status, exc.message, exc.code)

        return endpoint

    def _scenario(self, request: Request) -> Any:
        return self.simulator.scenario(request.path_params["pk"], request.path_params["sid"])

    # -- handlers ---------------------------------------------------------------------------------------

    async def list_projects(self, request: Request) -> Any:
        return [{"projectKey": key, "name": key} for key in self.simulator.project_keys()]

    async def list_scenarios(self, request: Request) -> Any:
        scenarios = self.simulator.project(request.path_params["pk"])
        now = self.simulator.clock.now()
        return [summary_json(s, now) for s in scenarios]

    async def create_scenario(self, request: Request) -> Any:
        body = await _json_object(request)
        name = str(body.get("name") or body.get("id") or "").strip()
        if not name:
            raise ApiError(400, "Scenario name is required")
        scenario_id = str(body.get("id") or name.upper().replace(" ", "_"))
        created = self.simulator.add_scenario(
            request.path_params["pk"],
            scenario_id,
            name,
            scenario_type=str(body.get("type") or "step_based"),
        )
        return scenario_json(created)

    async def get_scenario(self, request: Request) -> Any:
        return scenario_json(self._scenario(request))

    async def run(self, request: Request) -> Any:
        scenario = self._scenario(request)
        fire = self.simulator.fire(scenario, await _json_object(request))
        return fire_json(scenario, fire, self.simulator.clock)

    async def light(self, request: Request) -> Any:
        scenario = self._scenario(request)
        clock = self.simulator.clock
        return light_json(scenario, clock.now(), clock, last_run=self.simulator.light_last_run)

    async def run_for_trigger(self, request: Request) -> Any:
        scenario = self._scenario(request)
        for name in ("triggerId", "triggerRunId"):
            if not request.query_params.get(name):
                raise ApiError(
                    400,
                    f"Required String parameter '{name}' is not present",
                    "org.springframework.web.bind.MissingServletRequestParameterException",
                )
        fire = self.simulator.find_fire(scenario, request.query_params["triggerRunId"])
        now = self.simulator.clock.now()
        if fire is None or not fire.started(now):
            return {}
        return {"scenarioRun": run_json(scenario, fire, now, self.simulator.clock)}

    async def last_runs(self, request: Request) -> Any:
        scenario = self._scenario(request)
        try:
            limit = int(request.query_params.get("limit", "10"))
        except ValueError:
            raise ApiError(400, "limit must be a number") from None
        finished_only = request.query_params.get("onlyFinishedRuns", "false").lower() == "true"
        now = self.simulator.clock.now()
        runs = [f for f in self.simulator.started_runs(scenario) if not finished_only or now >= f.end]
        return [run_json(scenario, f, now, self.simulator.clock) for f in runs[: max(limit, 0)]]

    async def run_details(self, request: Request) -> Any:
        scenario = self._scenario(request)
        fire = self.simulator.find_run(scenario, request.path_params["rid"])
        if fire is None:
            raise ApiError(404, f"Scenario run {request.path_params['rid']} not found", NOT_FOUND)
        clock = self.simulator.clock
        return run_details_json(scenario, fire, clock.now(), clock)

    async def abort(self, request: Request) -> Any:
        self.simulator.abort(self._scenario(request))
        return {}

    async def trigger_fire(self, request: Request) -> Any:
        scenario = self._scenario(request)
        fire = self.simulator.find_fire(scenario, request.query_params.get("triggerRunId", ""))
        if fire is None:
            raise ApiError(404, "Trigger fire not found", NOT_FOUND)
        return fire_json(scenario, fire, self.simulator.clock)


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, "Invalid JSON body", "com.fasterxml.jackson.core.JsonParseException") from None
    if not isinstance(body, dict):
        raise ApiError(
            400, "Expected a JSON object", "com.fasterxml.jackson.databind.exc.MismatchedInputException"
        )
    return body
