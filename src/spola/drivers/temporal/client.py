"""Talking to Temporal: connect, submit a run, follow it with progress, read its state; serve a worker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, TLSConfig
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from spola.drivers.snapshot import event_from_dict, options_to_dict, result_from_dict
from spola.drivers.temporal import activities
from spola.drivers.temporal.burst import poll_burst
from spola.drivers.temporal.codec import data_converter
from spola.drivers.temporal.names import (
    CONTINUE_AFTER_EVENTS,
    DEFAULT_NAMESPACE,
    DEFAULT_TASK_QUEUE,
    LOCAL_BELOW_SECONDS,
    PROGRESS_QUERY,
    STATE_QUERY,
    WORKFLOW,
)
from spola.drivers.temporal.workflow import ArazzoRun
from spola.errors import EXIT_FAILED, SpolaError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from spola.core.engine import Run
    from spola.core.events import Event
    from spola.core.report import RunResult
    from spola.model.bundle import Bundle
    from spola.options import RunOptions

EXIT_UNAVAILABLE = 69

# Third-party modules spola's engine uses, passed through the sandbox as spola itself is: they are
# deterministic, and re-importing them for every workflow run would make each run start slowly.
PASSTHROUGH = (
    "spola",
    "yaml",
    "jsonschema",
    "jsonschema_specifications",
    "referencing",
    "rpds",
    "re2",
    "elementpath",
    "lxml",
    "jsonpath",
    "jsonpointer",
    "iregexp_check",
    "regex",
    "attrs",
    "attr",
)


class TemporalUnavailable(SpolaError):
    """The Temporal server cannot be reached (or refused the request)."""

    exit_status = EXIT_UNAVAILABLE


class TemporalRunError(SpolaError):
    """Temporal says the run ended without a result (terminated, cancelled, timed out, or failed)."""

    exit_status = EXIT_FAILED


@dataclass(frozen=True, slots=True)
class Target:
    """Where runs go: the server address, namespace and task queue."""

    address: str
    namespace: str = DEFAULT_NAMESPACE
    task_queue: str = DEFAULT_TASK_QUEUE


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the {what} {path}: {exc.strerror or exc}") from exc


def tls_from_env() -> TLSConfig | bool:
    """TLS for a real cluster, from the environment (the same for ``spola worker`` and ``spola run``).

    ``SPOLA_TEMPORAL_TLS=1`` turns TLS on with the system's roots; ``SPOLA_TEMPORAL_TLS_CA`` names a CA
    bundle; ``SPOLA_TEMPORAL_TLS_CERT`` and ``SPOLA_TEMPORAL_TLS_KEY`` a client certificate (mTLS);
    ``SPOLA_TEMPORAL_API_KEY`` (Temporal Cloud API keys) implies TLS.
    """
    env = os.environ
    ca, cert, key = (
        env.get("SPOLA_TEMPORAL_TLS_CA"),
        env.get("SPOLA_TEMPORAL_TLS_CERT"),
        env.get("SPOLA_TEMPORAL_TLS_KEY"),
    )
    if bool(cert) != bool(key):
        raise UsageError(
            "SPOLA_TEMPORAL_TLS_CERT and SPOLA_TEMPORAL_TLS_KEY go together (a client certificate)"
        )
    if ca or cert:
        return TLSConfig(
            server_root_ca_cert=_read(ca, "CA bundle") if ca else None,
            client_cert=_read(cert, "client certificate") if cert else None,
            client_private_key=_read(key, "client key") if key else None,
        )
    return env.get("SPOLA_TEMPORAL_TLS", "").lower() in ("1", "true", "yes") or bool(
        env.get("SPOLA_TEMPORAL_API_KEY")
    )


STARTING_SERVER_WAIT = 20.0
"""Seconds `connect` waits for a Temporal server that answers but is still starting."""


async def connect(target: Target, *, key: bytes | None = None) -> Client:
    """A client with spola's encrypting data converter (TLS and API key from the environment).

    Raises:
        TemporalUnavailable: the server does not answer.
    """
    deadline = time.monotonic() + STARTING_SERVER_WAIT
    while True:
        try:
            return await Client.connect(
                target.address,
                namespace=target.namespace,
                data_converter=data_converter(key),
                tls=tls_from_env(),
                api_key=os.environ.get("SPOLA_TEMPORAL_API_KEY") or None,
            )
        except (RuntimeError, RPCError, OSError) as exc:
            # a server that is still starting answers "not healthy yet": wait for it a little
            if "not healthy yet" in str(exc) and time.monotonic() < deadline:
                await asyncio.sleep(0.25)
                continue
            raise TemporalUnavailable(
                f"cannot reach the Temporal server at {target.address} (namespace {target.namespace}): {exc}",
                hint="Start one with `temporal server start-dev` or check --temporal HOST:PORT.",
            ) from exc


def start_argument(
    run: Run,
    bundle: Bundle,
    *,
    secret_inputs: frozenset[str],
    inputs: Mapping[str, Any],
    continue_after: int = CONTINUE_AFTER_EVENTS,
    local_below: float = LOCAL_BELOW_SECONDS,
) -> dict[str, Any]:
    """The workflow argument for a run the caller has already built (and so validated) locally."""
    return {
        "bundle": bundle.to_dict(),
        "workflowId": run.root.workflow.workflow_id,
        "inputs": dict(inputs),
        "options": options_to_dict(run.options),
        "secretInputs": sorted(secret_inputs),
        "runId": run.run_id,
        "snapshot": None,
        "continueAfter": continue_after,
        "localBelow": local_below,
    }


async def submit(client: Client, argument: dict[str, Any], task_queue: str) -> WorkflowHandle[Any, Any]:
    """Start the workflow (its id is the spola run id).

    Raises:
        TemporalUnavailable: the server refused.
    """
    try:
        return await client.start_workflow(
            WORKFLOW,
            argument,
            id=argument["runId"],
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError as exc:
        raise TemporalRunError(f"a run with id {argument['runId']} already exists on Temporal") from exc
    except RPCError as exc:
        raise TemporalUnavailable(f"Temporal refused to start the run: {exc.message}") from exc


async def follow(
    handle: WorkflowHandle[Any, Any],
    *,
    observer: Callable[[Event], None] | None = None,
    every: float = 0.25,
) -> RunResult:
    """Wait for the run's result, feeding its progress events to ``observer`` meanwhile.

    Raises:
        TemporalRunError: the workflow ended without a spola result.
    """
    outcome = asyncio.ensure_future(handle.result())
    seen = 0
    try:
        while True:
            done, _ = await asyncio.wait({outcome}, timeout=every)
            if observer is not None:
                seen = await _feed(handle, observer, seen, final=bool(done))
            if done:
                break
        data = outcome.result()
    except WorkflowFailureError as exc:
        raise TemporalRunError(
            f"the run {handle.id} ended on Temporal without a result: {exc.cause or exc}"
        ) from exc
    finally:
        if not outcome.done():
            outcome.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await outcome
    return result_from_dict(data)


async def _feed(
    handle: WorkflowHandle[Any, Any], observer: Callable[[Event], None], seen: int, *, final: bool
) -> int:
    try:
        page = await asyncio.wait_for(handle.query(PROGRESS_QUERY, seen, result_type=dict), 5 if final else 2)
    except (RPCError, TimeoutError, Exception):  # no worker yet, or the run just moved on: try again
        return seen
    for item in page.get("events", ()):
        observer(event_from_dict(item))
    return int(page.get("next", seen))


async def describe(client: Client, run_id: str) -> dict[str, Any]:
    """The run's state: the result when it ended, else its step reports so far.

    Raises:
        TemporalRunError: no such run.
    """
    handle = client.get_workflow_handle(run_id)
    try:
        info = await handle.describe()
    except RPCError as exc:
        raise TemporalRunError(f"no run {run_id} on Temporal ({exc.message})", hint=None) from exc
    status = info.status
    base: dict[str, Any] = {"runId": run_id, "temporalStatus": status.name if status else None}
    if status == WorkflowExecutionStatus.COMPLETED:
        return {**await handle.result(), **base}
    if status in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.CONTINUED_AS_NEW):
        try:
            state = await asyncio.wait_for(handle.query(STATE_QUERY, result_type=dict), 10)
        except (RPCError, TimeoutError) as exc:
            return {**base, "status": "running", "note": f"no worker answered ({exc})"}
        return {**state, **base}
    return {**base, "status": (status.name.lower() if status else "unknown")}


def sandbox_runner() -> SandboxedWorkflowRunner:
    """Temporal's sandbox, with spola and its pure dependencies passed through."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )


async def serve(
    target: Target,
    *,
    concurrency: int = 100,
    insecure: bool = False,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[], None] | None = None,
    key: bytes | None = None,
    identity: str | None = None,
    sandboxed: bool = True,
) -> None:
    """Run a worker until ``stop`` is set (or the task is cancelled): Arazzo runs and their HTTP activities.

    ``concurrency`` bounds the HTTP requests in flight (activities and local activities each) and
    the workflow tasks processed at once. ``sandboxed=False`` runs workflow code outside Temporal's
    sandbox (the benchmark compares both; the sandbox is what guards determinism, keep it on).

    Raises:
        TemporalUnavailable: the server does not answer.
    """
    client = await connect(target, key=key)
    activities.configure(insecure=insecure)
    worker = Worker(
        client,
        task_queue=target.task_queue,
        workflows=[ArazzoRun],
        activities=[activities.http_exchange, poll_burst],
        workflow_runner=sandbox_runner() if sandboxed else UnsandboxedWorkflowRunner(),
        max_concurrent_activities=concurrency,
        max_concurrent_local_activities=concurrency,
        max_concurrent_workflow_tasks=max(2, min(concurrency, 100)),
        graceful_shutdown_timeout=timedelta(seconds=5),
        # a run whose worker vanished moves to another worker after this long (Temporal's default: 10 s)
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=3),
        identity=identity,
    )
    try:
        async with worker:
            if on_ready is not None:
                on_ready()
            await (stop or asyncio.Event()).wait()
    finally:
        await activities.close_sessions()


def prepare_argument(
    document: str | Path,
    workflow_id: str | None,
    inputs: Mapping[str, Any] | None,
    *,
    options: RunOptions,
    allow_remote: bool,
    run_id: str,
    continue_after: int = CONTINUE_AFTER_EVENTS,
    local_below: float = LOCAL_BELOW_SECONDS,
) -> dict[str, Any]:
    """Load and check the document here, validate the inputs, and build the workflow argument.

    Raises:
        DocumentError, WorkflowNotFound, InputError: the run cannot start.
    """
    from spola.core.engine import Run
    from spola.model import load_for_run
    from spola.model.bundle import read_bundle
    from spola.model.roles import secret_input_names

    _, wf, _elsewhere = load_for_run(document, workflow_id, allow_remote=allow_remote)
    doc, bundle = read_bundle(document, wf.workflow_id, allow_remote=allow_remote)
    given = dict(inputs or {})
    secrets = secret_input_names(doc, wf)
    run = Run(doc, wf.workflow_id, given, options=options, run_id=run_id, secret_inputs=secrets)
    return start_argument(
        run,
        bundle,
        secret_inputs=secrets,
        inputs=given,
        continue_after=continue_after,
        local_below=local_below,
    )
