"""The Python entry points: ``spola.run(...)`` and ``await spola.arun(...)``.

Both return the same ``RunResult`` the command line prints.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from spola.core.engine import Run
from spola.drivers.aio import Observer, drive, make_session
from spola.model import Document, load
from spola.options import DEFAULT_TIMEOUT, MAX_RESPONSE_BYTES, Credential, PollPolicy, RunOptions
from spola.redact import secret_input_names

if TYPE_CHECKING:
    from pathlib import Path

    from spola.core.report import RunResult


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
) -> Run:
    """Load the document (if a path), validate inputs and return a ready ``Run``; nothing is sent.

    Raises:
        DocumentError, WorkflowNotFound, InputError: the run cannot start.
    """
    hosts = options.allow_hosts if options is not None else ()
    doc = (
        document
        if isinstance(document, Document)
        else load(document, allow_remote=allow_remote, allow_hosts=hosts)
    )
    workflow = doc.workflow(workflow_id) if workflow_id else doc.default_workflow()
    given = dict(inputs or {})
    return Run(
        doc,
        workflow.workflow_id,
        given,
        options=options or make_options(),
        run_id=run_id or new_run_id(),
        started_at=time.time(),
        secret_inputs=frozenset(secret_input_names(workflow.inputs, given)),
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
    **option_args: Any,
) -> RunResult:
    """Run a workflow to the end on the running event loop and return its result.

    Extra keyword arguments (``servers``, ``auth``, ``poll_interval``, ``timeout``, …) build the
    options when ``options`` is not given.
    """
    run = prepare(
        document,
        workflow_id,
        inputs,
        options=options or make_options(**option_args),
        allow_remote=allow_remote,
    )
    async with make_session(insecure=insecure) as session:
        return await drive(run, session, observer=observer)


def run(
    document: str | Path | Document,
    workflow_id: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> RunResult:
    """Run a workflow to the end (blocking) and return its result; see ``arun``."""
    return asyncio.run(arun(document, workflow_id, inputs, **kwargs))
