"""The Python entry points: ``spola.run(...)`` and ``await spola.arun(...)``.

Both return the same ``RunResult`` the command line prints.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from spola.core.engine import Run
from spola.model import Document, load_for_run
from spola.model.roles import secret_input_names
from spola.options import DEFAULT_TIMEOUT, MAX_RESPONSE_BYTES, Credential, PollPolicy, RunOptions

if TYPE_CHECKING:
    import asyncio
    from pathlib import Path

    from spola.core.events import Observer
    from spola.core.report import RunResult
    from spola.drivers.cancel import CancelSignal


def new_run_id() -> str:
    """A fresh, sortable-enough run id."""
    return time.strftime("%Y%m%d-%H%M%S-", time.gmtime()) + uuid.uuid4().hex[:8]


def make_options(
    *,
    servers: Mapping[str, str] | None = None,
    server_vars: Mapping[str, str] | Mapping[tuple[str, str], str] | None = None,
    auth: Mapping[str, str] | Sequence[Credential] | None = None,
    poll_interval: float | None = None,
    max_steps: int = 10_000,
    timeout: float | None = DEFAULT_TIMEOUT,
    http_timeout: float = 30.0,
    seed: int | None = None,
    retry_attempts: int = 30,
    retry_wait: float = 300.0,
    retry_backoff: PollPolicy | None = None,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
    max_depth: int = 32,
    allow_hosts: Sequence[str] = (),
) -> RunOptions:
    """Build ``RunOptions`` from friendly arguments.

    ``server_vars`` keys are ``"source.var"`` strings or (source, var) tuples; ``auth`` keys are
    ``"source"`` or ``"source.scheme"``.
    """
    svars: dict[tuple[str, str], str] = {}
    for key, value in (server_vars or {}).items():
        if isinstance(key, tuple):
            svars[key] = value
        else:
            source, _, var = key.partition(".")
            svars[(source, var)] = value
    creds: list[Credential] = []
    if isinstance(auth, Mapping):
        for key, value in auth.items():
            source, _, scheme = key.partition(".")
            creds.append(Credential(source, scheme or None, value))
    elif auth:
        creds.extend(auth)
    poll = PollPolicy(fixed=poll_interval) if poll_interval is not None else PollPolicy()
    return RunOptions(
        servers=dict(servers or {}),
        server_vars=svars,
        credentials=tuple(creds),
        poll=poll,
        max_steps=max_steps,
        timeout=timeout,
        http_timeout=http_timeout,
        seed=seed if seed is not None else uuid.uuid4().int & 0xFFFFFFFF,
        retry_attempts=retry_attempts,
        retry_wait=retry_wait,
        retry_backoff=retry_backoff or PollPolicy(),
        max_response_bytes=max_response_bytes,
        max_depth=max_depth,
        allow_hosts=tuple(allow_hosts),
    )


def prepare(
    document: str | Path | Document,
    workflow_id: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    *,
    options: RunOptions | None = None,
    run_id: str | None = None,
    allow_remote: bool = False,
    secrets: Iterable[str] = (),
) -> Run:
    """Load the document (if a path), validate inputs and return a ready ``Run``; nothing is sent.

    ``secrets`` names inputs to treat as secret besides those the document declares or uses as
    credentials (``--secret NAME``).

    Raises:
        DocumentError, WorkflowNotFound, InputError: the run cannot start.
    """
    if isinstance(document, Document):
        doc = document
        workflow = doc.workflow(workflow_id) if workflow_id else doc.default_workflow()
    else:  # a problem elsewhere in the document does not stop this workflow
        hosts = options.allow_hosts if options is not None else ()
        doc, workflow, _elsewhere = load_for_run(
            document, workflow_id, allow_remote=allow_remote, allow_hosts=hosts
        )
    given = dict(inputs or {})
    return Run(
        doc,
        workflow.workflow_id,
        given,
        options=options or make_options(),
        run_id=run_id or new_run_id(),
        started_at=time.time(),
        secret_inputs=secret_input_names(doc, workflow, secrets),
    )


async def arun(
    document: str | Path | Document,
    workflow_id: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    *,
    options: RunOptions | None = None,
    observer: Observer | None = None,
    insecure: bool = False,
    allow_remote: bool = False,
    cancel: CancelSignal | None = None,
    secrets: Iterable[str] = (),
    **option_args: Any,
) -> RunResult:
    """Run a workflow to the end on the running event loop and return its result.

    Extra keyword arguments (``servers``, ``auth``, ``poll_interval``, ``timeout``, …) build the
    options when ``options`` is not given. ``cancel.set(reason)`` stops the run and runs the workflow's
    ``x-spola-cancel`` (the result is ``cancelled``, ``result.cancel`` says how the cancel went).
    """
    run = prepare(
        document,
        workflow_id,
        inputs,
        options=options or make_options(**option_args),
        allow_remote=allow_remote,
        secrets=secrets,
    )
    from spola.drivers.aio import make_session  # aiohttp: not for `spola run --dry-run` (start-up)
    from spola.drivers.cancel import drive_cancellable

    async with make_session(insecure=insecure) as session:
        return await drive_cancellable(run, session, observer=observer, cancel=cancel)


def run(
    document: str | Path | Document,
    workflow_id: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> RunResult:
    """Run a workflow to the end (blocking) and return its result; see ``arun``."""
    import asyncio

    return asyncio.run(arun(document, workflow_id, inputs, **kwargs))


# ----------------------------------------------------------------------------------- Temporal
# The same runs on a Temporal cluster (the optional ``temporal`` extra, imported only when called).


async def asubmit_temporal(
    document: str | Path,
    workflow_id: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    *,
    temporal: str,
    namespace: str = "default",
    task_queue: str = "spola",
    options: RunOptions | None = None,
    allow_remote: bool = False,
    run_id: str | None = None,
    **option_args: Any,
) -> str:
    """Validate the run here, start it on Temporal (``temporal`` is ``HOST:PORT``) and return its run id.

    Raises:
        DocumentError, WorkflowNotFound, InputError: the run cannot start (nothing was submitted).
        TemporalUnavailable: the server does not answer.
    """
    from spola.drivers.temporal import client as tc

    target = tc.Target(temporal, namespace, task_queue)
    argument = tc.prepare_argument(
        document,
        workflow_id,
        inputs,
        options=options or make_options(**option_args),
        allow_remote=allow_remote,
        run_id=run_id or new_run_id(),
    )
    await tc.submit(await tc.connect(target), argument, task_queue)
    return str(argument["runId"])


async def arun_temporal(
    document: str | Path,
    workflow_id: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    *,
    temporal: str,
    namespace: str = "default",
    task_queue: str = "spola",
    observer: Observer | None = None,
    **kwargs: Any,
) -> RunResult:
    """Run a workflow on Temporal and wait for its result (the same ``RunResult`` as ``arun``)."""
    from spola.drivers.temporal import client as tc

    run_id = await asubmit_temporal(
        document, workflow_id, inputs, temporal=temporal, namespace=namespace, task_queue=task_queue, **kwargs
    )
    client = await tc.connect(tc.Target(temporal, namespace, task_queue))
    return await tc.follow(client.get_workflow_handle(run_id), observer=observer)


def run_temporal(
    document: str | Path,
    workflow_id: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> RunResult:
    """Blocking ``arun_temporal``."""
    import asyncio

    return asyncio.run(arun_temporal(document, workflow_id, inputs, **kwargs))


async def aresult_temporal(run_id: str, *, temporal: str, namespace: str = "default") -> RunResult:
    """Wait for the result of a run submitted earlier (``asubmit_temporal``, ``spola run --detach``)."""
    from spola.drivers.temporal import client as tc

    client = await tc.connect(tc.Target(temporal, namespace))
    return await tc.follow(client.get_workflow_handle(run_id))


async def astate_temporal(run_id: str, *, temporal: str, namespace: str = "default") -> dict[str, Any]:
    """A run's state on Temporal: its result once it ended, else its step reports so far."""
    from spola.drivers.temporal import client as tc

    return await tc.describe(await tc.connect(tc.Target(temporal, namespace)), run_id)


async def aserve_worker(
    temporal: str,
    *,
    namespace: str = "default",
    task_queue: str = "spola",
    concurrency: int = 100,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve Arazzo runs from a Temporal task queue until ``stop`` is set (``spola worker``)."""
    from spola.drivers.temporal import client as tc

    await tc.serve(tc.Target(temporal, namespace, task_queue), concurrency=concurrency, stop=stop)
