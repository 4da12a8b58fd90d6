"""Databricks Jobs API simulator, served under `/api/2.0`, `/api/2.1` and `/api/2.2` (`/jobs/...`).

Auth: `Authorization: Bearer <token>` (default token `dapi-sim-token`; Basic `token:<token>` works too).
No or an unsupported credential → 401 `{"error_code": 401, "message": "Credential was not sent or was of an
unsupported type for this API. [ReqId: …]"}`; a wrong token → 403 `{"error_code": 403, "message": "Invalid
access token."}` (both as observed from the real service). Other errors: 400 `{"error_code":
"INVALID_PARAMETER_VALUE", "message": …}`, e.g. `Job 5 does not exist.`, `Run 5 does not exist.`.

Endpoint keys (for faults and request counters): `jobs/create`, `jobs/get`, `jobs/list`, `jobs/delete`,
`run-now`, `runs/submit`, `runs/get`, `runs/get-output`, `runs/list`, `runs/cancel`.

Pre-seeded jobs (API 2.1 jobs are MULTI_TASK format: their outputs live on the task runs):

- 123 `sim-etl-pipeline`: tasks `ingest` → `transform` (notebooks), succeeds;
- 124 `sim-one-task-job`: one task `main`; `get-output` on the parent run id still fails (multi-task format);
- 42 `sim-legacy-notebook`: SINGLE_TASK (API 2.0 style); its run's task run id is the run id, so
  `get-output` works on the parent run id; 43 `sim-legacy-failing` is the same, failing;
- 555 `sim-queued-when-busy` (max 1 concurrent run, queue on: a second run is QUEUED);
  556 `sim-skipped-when-busy` (max 1, queue off: a second run is SKIPPED);
- 666 FAILED, 667 TIMEDOUT, 668 INTERNAL_ERROR, 669 RETRY (WAITING_FOR_RETRY, then SUCCESS),
  670 CANCELED, 671 SKIPPED, 777 long-running (600 s busy: cancel it), 888 RANDOM (seeded) — all
  `ingest` → `transform` pipelines whose `transform` task carries the outcome.

Any run can be scripted: a notebook/job parameter `sim_outcome` (SUCCESS, FAILED, TIMEDOUT, CANCELED,
INTERNAL_ERROR, SKIPPED, RETRY, RANDOM), `sim_duration` (seconds per task), `sim_result` (the notebook exit
value; by default the JSON of the task's effective parameters), or a `[sim:FAILED]` marker in a job or run
name, or a job tag `sim_outcome`. `timeout_seconds` on a job or submitted run ends it TIMEDOUT.
Default timing (simulated seconds): PENDING 1, each task RUNNING 1.5, TERMINATING 0.5, cancel 0.5.

`runs/get-output` before the run ends returns only `metadata`. On a MULTI_TASK parent run id it answers 400
"Retrieving the output of runs with multiple tasks is not supported. …" — except under `/api/2.0` for a run
with exactly one task, which answers with that task's output (the 2.0 endpoint is reported to accept it).
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from spola.sim.admin import create_route
from spola.sim.databricks_json import job_json, output_json, run_json
from spola.sim.databricks_model import invalid
from spola.sim.databricks_state import DatabricksSimulator
from spola.sim.errors import ApiError
from spola.sim.vendor import Vendor, bearer_credential, gateway_error

if TYPE_CHECKING:
    from starlette.datastructures import Headers

__all__ = ["DatabricksAPI", "DatabricksSimulator"]

VERSIONS = ("2.0", "2.1", "2.2")
MULTI_TASK_OUTPUT = (
    "Retrieving the output of runs with multiple tasks is not supported. "
    "Please retrieve the output of each individual task run instead."
)
_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    405: "BAD_REQUEST",
    409: "RESOURCE_CONFLICT",
    429: "REQUEST_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    503: "TEMPORARILY_UNAVAILABLE",
}
_MESSAGES = {
    429: "Too many requests. Please wait a moment and try again.",
    500: "Internal error. Please try again later.",
    503: "The service is temporarily unavailable. Please try again later.",
}
Handler = Callable[[Request, str], Awaitable[Any]]


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (empty body → `{}`), or Databricks' MALFORMED_REQUEST."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(
            400, "Invalid JSON given in the body of the request - expected a map", "MALFORMED_REQUEST"
        )
    return body


def int_field(value: object, name: str) -> int:
    """An int64 field, which Databricks accepts as a number or a numeric string."""
    if value is None or value == "":
        raise invalid(f"Missing required field: {name}")
    if isinstance(value, bool):
        raise invalid(f"Invalid value for {name}: expected an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise invalid(f"Invalid value for {name}: expected an integer, got {value!r}")


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() == "true"


def _base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


class DatabricksAPI(Vendor):
    """The Databricks Jobs API over a `DatabricksSimulator`."""

    name: ClassVar[str] = "databricks"
    default_token: ClassVar[str] = "dapi-sim-token"  # noqa: S105 - a documented fake
    api_prefixes: ClassVar[tuple[str, ...]] = ("/api",)
    simulator: DatabricksSimulator

    def __init__(
        self, simulator: DatabricksSimulator, *, token: str | None = None, auth: bool = True
    ) -> None:
        super().__init__(simulator, token=token, auth=auth)
        self._req_ids = itertools.count(1)

    def check_auth(self, headers: Headers) -> Response | None:
        """Bearer (or Basic `token:<pat>`) credentials, refused the way Databricks refuses them."""
        if not self.auth:
            return None
        credential = bearer_credential(headers, "Bearer")
        if credential is None:
            basic = bearer_credential(headers, "Basic")
            if basic is not None:
                try:
                    _user, _, credential = base64.b64decode(basic).decode("utf-8").partition(":")
                except ValueError:
                    credential = None
        if not credential:
            req_id = f"00000000-0000-4000-8000-{next(self._req_ids):012d}"
            message = f"Credential was not sent or was of an unsupported type for this API. [ReqId: {req_id}]"
            return JSONResponse({"error_code": 401, "message": message}, status_code=401)
        if credential != self.token:
            return JSONResponse(
                {"error_code": 403, "message": "Invalid access token."},
                status_code=403,
                headers={"X-Databricks-Reason-Phrase": "Invalid access token."},
            )
        return None

    def error(self, status: int, message: str | None = None, code: str | None = None) -> Response:
        """`{"error_code": …, "message": …}`; 502 and 504 come as a gateway's HTML page."""
        if status in (502, 504) and message is None:
            return gateway_error(status)
        text = message or _MESSAGES.get(status, f"Request failed with status {status}.")
        return JSONResponse(
            {"error_code": code or _CODES.get(status, "UNKNOWN"), "message": text}, status_code=status
        )

    def not_found(self, method: str, path: str) -> Response:
        """Databricks' answer for an unknown endpoint."""
        api_path = path.removeprefix("/api")
        return self.error(404, f"No API found for '{method} {api_path}'", "ENDPOINT_NOT_FOUND")

    def admin_routes(self) -> list[BaseRoute]:
        """`POST /_sim/jobs` with `{"job_id"?: n, "settings": {...}}` creates a job (any id you like)."""

        def create(body: dict[str, Any]) -> dict[str, Any]:
            settings = body.get("settings", body)
            job_id = body.get("job_id")
            return {"job_id": self.simulator.create_job(settings, job_id=int(job_id) if job_id else None)}

        return [create_route("jobs", create)]

    def method_not_allowed(self, method: str, path: str) -> Response:
        """Databricks answers a known path with the wrong method as an unknown endpoint."""
        return self.not_found(method, path)

    def routes(self) -> list[BaseRoute]:
        """Every endpoint under each supported API version."""
        table: list[tuple[str, str, str, Handler]] = [
            ("POST", "jobs/create", "jobs/create", self.create_job),
            ("GET", "jobs/get", "jobs/get", self.get_job),
            ("GET", "jobs/list", "jobs/list", self.list_jobs),
            ("POST", "jobs/delete", "jobs/delete", self.delete_job),
            ("POST", "jobs/run-now", "run-now", self.run_now),
            ("POST", "jobs/runs/submit", "runs/submit", self.submit),
            ("GET", "jobs/runs/get", "runs/get", self.get_run),
            ("GET", "jobs/runs/get-output", "runs/get-output", self.get_output),
            ("GET", "jobs/runs/list", "runs/list", self.list_runs),
            ("POST", "jobs/runs/cancel", "runs/cancel", self.cancel_run),
        ]
        return [
            Route(
                f"/api/{version}/{path}",
                partial(self._endpoint, handler, version),
                methods=[method],
                name=key,
            )
            for version in VERSIONS
            for method, path, key, handler in table
        ]

    async def _endpoint(self, handler: Handler, version: str, request: Request) -> Response:
        try:
            return JSONResponse(await handler(request, version))
        except ApiError as exc:
            return self.error(exc.status, exc.message, exc.code)

    # -- handlers ---------------------------------------------------------------------------------------

    async def create_job(self, request: Request, version: str) -> Any:
        body = await json_body(request)
        return {"job_id": self.simulator.create_job(body)}

    async def get_job(self, request: Request, version: str) -> Any:
        job = self.simulator.job(int_field(request.query_params.get("job_id"), "job_id"))
        return job_json(job)

    async def list_jobs(self, request: Request, version: str) -> Any:
        limit = min(max(int_field(request.query_params.get("limit", "20"), "limit"), 1), 100)
        offset = max(int_field(request.query_params.get("offset", "0"), "offset"), 0)
        name = request.query_params.get("name")
        jobs = self.simulator.all_jobs()
        if name:
            jobs = [j for j in jobs if str(j.settings.get("name", "")).lower() == name.lower()]
        page = jobs[offset : offset + limit]
        body: dict[str, Any] = {"has_more": offset + limit < len(jobs)}
        if page:  # like the real API, an empty list is left out
            body["jobs"] = [job_json(j, expand_tasks=_flag(request, "expand_tasks")) for j in page]
        return body

    async def delete_job(self, request: Request, version: str) -> Any:
        body = await json_body(request)
        self.simulator.delete_job(int_field(body.get("job_id"), "job_id"))
        return {}

    async def run_now(self, request: Request, version: str) -> Any:
        body = await json_body(request)
        run = self.simulator.run_now(int_field(body.get("job_id"), "job_id"), body)
        return {"run_id": run.run_id, "number_in_job": run.number_in_job}

    async def submit(self, request: Request, version: str) -> Any:
        run = self.simulator.submit(await json_body(request))
        return {"run_id": run.run_id}

    async def get_run(self, request: Request, version: str) -> Any:
        run_id = int_field(request.query_params.get("run_id"), "run_id")
        now = self.simulator.clock.now()
        found = self.simulator.task_run(run_id)
        if found is not None and found[0].run_id != run_id:
            run, task = found
            return output_json(
                run, task, now, self.simulator.clock, version=version, base_url=_base_url(request)
            )["metadata"]
        run = self.simulator.run(run_id)
        return run_json(run, now, self.simulator.clock, version=version, base_url=_base_url(request))

    async def get_output(self, request: Request, version: str) -> Any:
        run_id = int_field(request.query_params.get("run_id"), "run_id")
        now, clock, base = self.simulator.clock.now(), self.simulator.clock, _base_url(request)
        found = self.simulator.task_run(run_id)
        if found is None:
            run = self.simulator.run(run_id)  # raises "Run N does not exist."
            if len(run.tasks) != 1 or version != "2.0":
                raise invalid(MULTI_TASK_OUTPUT)
            found = run, run.tasks[0]
        run, task = found
        return output_json(run, task, now, clock, version=version, base_url=base)

    async def list_runs(self, request: Request, version: str) -> Any:
        params = request.query_params
        active, completed = _flag(request, "active_only"), _flag(request, "completed_only")
        if active and completed:
            raise invalid("active_only and completed_only cannot both be true.")
        limit = min(max(int_field(params.get("limit", "25"), "limit"), 1), 25)
        offset = max(int_field(params.get("offset", "0"), "offset"), 0)
        job_id = int_field(params["job_id"], "job_id") if params.get("job_id") else None
        run_type = params.get("run_type")
        now = self.simulator.clock.now()
        runs = self.simulator.all_runs()
        runs = [
            r
            for r in runs
            if (job_id is None or r.job_id == job_id)
            and (run_type is None or r.run_type == run_type)
            and (not active or self.simulator.is_active(r, now))
            and (not completed or not self.simulator.is_active(r, now))
        ]
        page = runs[offset : offset + limit]
        body: dict[str, Any] = {"has_more": offset + limit < len(runs)}
        expand = _flag(request, "expand_tasks")
        if page:
            body["runs"] = [
                run_json(
                    r,
                    now,
                    self.simulator.clock,
                    version=version,
                    base_url=_base_url(request),
                    expand_tasks=expand,
                )
                for r in page
            ]
        return body

    async def cancel_run(self, request: Request, version: str) -> Any:
        body = await json_body(request)
        self.simulator.cancel(int_field(body.get("run_id"), "run_id"))
        return {}
