"""dbt Cloud Administrative API v2 simulator, under `/api/v2/accounts/{account_id}/...`.

Auth: `Authorization: Token <t>` or `Bearer <t>` (default token `sim-token`). Missing → 401 "Authentication
credentials were not provided."; wrong → 401 "Invalid token." Every JSON answer is the v2 envelope
`{"status": {"code", "is_success", "user_message", "developer_message"}, "data": ...}`; errors have
`data: null`, except a 400 for a bad body, whose `data` holds the validation message (as dbt's does, e.g.
`"'cause' is a required property"`). Unknown account, job, run or artifact → 404.

Endpoint keys: `accounts/list`, `accounts/get`, `jobs/list`, `jobs/create`, `jobs/get`, `jobs/run`,
`runs/list`, `runs/get`, `runs/artifacts`, `runs/artifact`, `runs/cancel`. Trailing slashes are optional.

`POST jobs/{id}/run/` needs `cause` (a string) and accepts the documented overrides (`git_branch`,
`steps_override`, `threads_override`, ...); anything else is refused like dbt's schema check does.
Run status: 1 queued, 2 starting, 3 running, then 10 success, 20 error, 30 cancelled; `in_progress`,
`is_complete`, `is_success`, `is_error`, `is_cancelled`, `is_running` and `status_humanized` follow it.
`GET runs/{id}/artifacts/` lists `manifest.json`, `catalog.json`, `run_results.json`, ... once a run has
succeeded (`manifest.json` and `run_results.json` after an error; none before the end or when cancelled);
`GET runs/{id}/artifacts/{path}` returns the file itself, not an envelope.

Pre-seeded account 1 (project 1, environment 1), jobs: 1 `sim-daily-build` (success), 2 `sim-failing-build`
(error, status 20), 3 `sim-long-build` (600 s running: cancel it), 4 `sim-cancelled-build` (cancelled, 30),
5 `sim-random-build` (seeded random). A `[sim:error]` / `[sim:cancelled]` / `[sim:duration=30]` marker in
a job name or in the `cause` scripts a run. Timing: queued 1 s, starting 1 s, running 2 s (simulated).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from spola.sim.admin import create_route
from spola.sim.dbt_json import OVERRIDES, artifact_json, artifact_names, job_json, run_json
from spola.sim.dbt_state import STATUS_CODES, DbtSimulator
from spola.sim.errors import ApiError
from spola.sim.vendor import Vendor, bearer_credential, gateway_error

if TYPE_CHECKING:
    from starlette.datastructures import Headers
    from starlette.requests import Request

__all__ = ["DbtAPI", "DbtSimulator"]

INVALID = "The request was invalid. Please double check the provided data and try again."
_MESSAGES = {
    400: INVALID,
    401: "Invalid token.",
    403: "You do not have permission to perform this action.",
    404: "The requested resource was not found.",
    405: "Method not allowed.",
    429: "Too many requests. Please slow down.",
    500: "An unexpected error occurred. Please try again.",
    503: "dbt Cloud is temporarily unavailable. Please try again later.",
}
_TYPES: dict[str, tuple[type, str]] = {
    "threads_override": (int, "integer"),
    "timeout_seconds_override": (int, "integer"),
    "generate_docs_override": (bool, "boolean"),
    "steps_override": (list, "array"),
}
Handler = Callable[["Request"], Awaitable[Any]]


def envelope(data: Any, *, code: int = 200, message: str = "Success!", extra: Any = None) -> dict[str, Any]:
    """The v2 response envelope."""
    body: dict[str, Any] = {
        "status": {"code": code, "is_success": code < 400, "user_message": message, "developer_message": ""},
        "data": data,
    }
    if extra is not None:
        body["extra"] = extra
    return body


def _check_trigger(body: Any) -> str:
    """The validated `cause`; raises the 400 dbt gives for a body that breaks its schema."""
    if not isinstance(body, dict):
        raise ApiError(400, f"{body!r} is not of type 'object'")
    if "cause" not in body:
        raise ApiError(400, "'cause' is a required property")
    unexpected = [k for k in body if k != "cause" and k not in OVERRIDES]
    if unexpected:
        names = ", ".join(repr(k) for k in unexpected)
        verb = "was" if len(unexpected) == 1 else "were"
        raise ApiError(400, f"Additional properties are not allowed ({names} {verb} unexpected)")
    if not isinstance(body["cause"], str):
        raise ApiError(400, f"{body['cause']!r} is not of type 'string'")
    for name, (expected, label) in _TYPES.items():
        value = body.get(name)
        if value is not None and (
            not isinstance(value, expected) or (expected is int and isinstance(value, bool))
        ):
            raise ApiError(400, f"{value!r} is not of type '{label}'")
    return str(body["cause"])


class DbtAPI(Vendor):
    """The dbt Cloud v2 API over a `DbtSimulator`."""

    name: ClassVar[str] = "dbt"
    default_token: ClassVar[str] = "sim-token"  # noqa: S105 - a documented fake
    api_prefixes: ClassVar[tuple[str, ...]] = ("/api/v2",)
    simulator: DbtSimulator

    def check_auth(self, headers: Headers) -> Response | None:
        """`Token <t>` or `Bearer <t>`."""
        if not self.auth:
            return None
        credential = bearer_credential(headers, "Token", "Bearer")
        if not credential:
            return JSONResponse(
                {**envelope(None, code=401, message="Authentication credentials were not provided.")},
                status_code=401,
            )
        if credential != self.token:
            body = envelope(None, code=401, message="Invalid token.")
            body["status"]["developer_message"] = None
            return JSONResponse(body, status_code=401)
        return None

    def error(self, status: int, message: str | None = None) -> Response:
        """The envelope with `data: null` (a 400 carries its validation message in `data`)."""
        if status in (502, 504) and message is None:
            return gateway_error(status)
        if status == 400:
            body = envelope(message, code=400, message=INVALID)
            body.update(extra={}, error_code=None)
            return JSONResponse(body, status_code=400)
        return JSONResponse(envelope(None, code=status, message=_MESSAGES.get(status, message or "")), status)

    def admin_routes(self) -> list[BaseRoute]:
        """`POST /_sim/jobs` with `{"id"?, "name", "outcome"?, "duration"?, "account_id"?}`."""

        def create(body: dict[str, Any]) -> dict[str, Any]:
            duration = body.get("duration")
            job = self.simulator.add_job(
                str(body["name"]),
                job_id=int(body["id"]) if body.get("id") is not None else None,
                account_id=int(body.get("account_id", 1)),
                outcome=body.get("outcome"),
                duration=float(duration) if duration is not None else None,
            )
            return {"id": job.job_id, "account_id": job.account_id}

        return [create_route("jobs", create)]

    def routes(self) -> list[BaseRoute]:
        """Account, job and run endpoints."""
        account = "/api/v2/accounts/{account_id:int}"
        table: list[tuple[str, str, str, Handler]] = [
            ("GET", "/api/v2/accounts", "accounts/list", self.list_accounts),
            ("GET", account, "accounts/get", self.get_account),
            ("GET", f"{account}/jobs", "jobs/list", self.list_jobs),
            ("POST", f"{account}/jobs", "jobs/create", self.create_job),
            ("GET", f"{account}/jobs/{{job_id:int}}", "jobs/get", self.get_job),
            ("POST", f"{account}/jobs/{{job_id:int}}/run", "jobs/run", self.trigger),
            ("GET", f"{account}/runs", "runs/list", self.list_runs),
            ("GET", f"{account}/runs/{{run_id:int}}", "runs/get", self.get_run),
            ("GET", f"{account}/runs/{{run_id:int}}/artifacts", "runs/artifacts", self.list_artifacts),
            (
                "GET",
                f"{account}/runs/{{run_id:int}}/artifacts/{{path:path}}",
                "runs/artifact",
                self.get_artifact,
            ),
            ("POST", f"{account}/runs/{{run_id:int}}/cancel", "runs/cancel", self.cancel),
        ]
        return [Route(path, self._wrap(h), methods=[method], name=key) for method, path, key, h in table]

    def _wrap(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                result = await handler(request)
            except ApiError as exc:
                return self.error(exc.status, exc.message)
            return result if isinstance(result, Response) else JSONResponse(result)

        return endpoint

    def _base(self, request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    # -- handlers ---------------------------------------------------------------------------------------

    async def list_accounts(self, request: Request) -> Any:
        return envelope(
            [{"id": i, "name": n, "plan": "enterprise"} for i, n in self.simulator.accounts.items()]
        )

    async def get_account(self, request: Request) -> Any:
        account_id = request.path_params["account_id"]
        return envelope({"id": account_id, "name": self.simulator.account(account_id), "plan": "enterprise"})

    async def list_jobs(self, request: Request) -> Any:
        account_id = request.path_params["account_id"]
        self.simulator.account(account_id)
        jobs = [j for j in self.simulator.all_jobs() if j.account_id == account_id]
        data = [job_json(j, self.simulator.clock) for j in sorted(jobs, key=lambda j: j.job_id)]
        pagination = {"count": len(data), "total_count": len(data)}
        return envelope(data, extra={"filters": {"account_id": account_id}, "pagination": pagination})

    async def create_job(self, request: Request) -> Any:
        account_id = request.path_params["account_id"]
        self.simulator.account(account_id)
        body = await _json(request)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            raise ApiError(400, "'name' is a required property")
        steps = body.get("execute_steps")
        job = self.simulator.add_job(
            body["name"], account_id=account_id, execute_steps=steps if isinstance(steps, list) else None
        )
        return JSONResponse(envelope(job_json(job, self.simulator.clock), code=201), status_code=201)

    async def get_job(self, request: Request) -> Any:
        job = self.simulator.job(request.path_params["account_id"], request.path_params["job_id"])
        return envelope(job_json(job, self.simulator.clock))

    async def trigger(self, request: Request) -> Any:
        job = self.simulator.job(request.path_params["account_id"], request.path_params["job_id"])
        body = await _json(request)
        cause = _check_trigger(body)
        run = self.simulator.trigger(job, cause, {k: v for k, v in body.items() if k != "cause"})
        return envelope(run_json(run, self.simulator.clock.now(), self.simulator.clock, self._base(request)))

    async def list_runs(self, request: Request) -> Any:
        account_id = request.path_params["account_id"]
        self.simulator.account(account_id)
        params = request.query_params
        try:
            limit = min(max(int(params.get("limit", "100")), 1), 100)
            offset = max(int(params.get("offset", "0")), 0)
            job_filter = int(params["job_definition_id"]) if params.get("job_definition_id") else None
            status_filter = int(params["status"]) if params.get("status") else None
        except ValueError:
            raise ApiError(400, "limit, offset, job_definition_id and status must be integers") from None
        now, clock = self.simulator.clock.now(), self.simulator.clock
        runs = [
            r
            for r in self.simulator.all_runs()
            if r.job.account_id == account_id
            and (job_filter is None or r.job.job_id == job_filter)
            and (status_filter is None or STATUS_CODES[r.status(now)] == status_filter)
        ]
        order = params.get("order_by", "id")
        runs.sort(key=lambda r: r.run_id, reverse=order.startswith("-"))
        page = runs[offset : offset + limit]
        extra = {
            "filters": {"account_id": account_id, "limit": limit, "offset": offset},
            "order_by": order,
            "pagination": {"count": len(page), "total_count": len(runs)},
        }
        return envelope([run_json(r, now, clock, self._base(request)) for r in page], extra=extra)

    async def get_run(self, request: Request) -> Any:
        run = self.simulator.run(request.path_params["account_id"], request.path_params["run_id"])
        now, clock = self.simulator.clock.now(), self.simulator.clock
        body = run_json(run, now, clock, self._base(request))
        related = request.query_params.get("include_related", "")
        if "job" in related:
            body["job"] = job_json(run.job, clock)
        return envelope(body)

    async def list_artifacts(self, request: Request) -> Any:
        run = self.simulator.run(request.path_params["account_id"], request.path_params["run_id"])
        return envelope(artifact_names(run, self.simulator.clock.now()))

    async def get_artifact(self, request: Request) -> Any:
        run = self.simulator.run(request.path_params["account_id"], request.path_params["run_id"])
        now = self.simulator.clock.now()
        name = request.path_params["path"]
        if name not in artifact_names(run, now):
            raise ApiError(404, "The requested resource was not found.")
        content = artifact_json(run, name, now, self.simulator.clock)
        return PlainTextResponse(content) if isinstance(content, str) else JSONResponse(content)

    async def cancel(self, request: Request) -> Any:
        run = self.simulator.run(request.path_params["account_id"], request.path_params["run_id"])
        self.simulator.cancel(run)
        return envelope(run_json(run, self.simulator.clock.now(), self.simulator.clock, self._base(request)))


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "Invalid JSON in request body") from None
