"""Journalled runs and ``resume``: the application layer over the engine, the driver and the store."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct

from spola.core.engine import Run
from spola.drivers.aio import RunInterrupted, make_session
from spola.drivers.cancel import CancelSignal, check_cancel, drive_cancellable, watch_cancel_requests
from spola.drivers.eventlog import JournalLog
from spola.drivers.journal import failed_transport_exchange, replay, resume_event
from spola.errors import ResumeRefused, StoreError, StoreLocked, StoreWriteFailed
from spola.exchange import HttpResponse
from spola.lease import HELD, LeaseHolder
from spola.lease import acquire as acquire_lease
from spola.model import load
from spola.options import MAX_RESPONSE_BYTES, Credential, PollPolicy, RunOptions
from spola.store import Journal, RunHeader
from spola.store.records import EventRecord, check_status

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from spola.core.actions import SendRequest
    from spola.core.events import Observer
    from spola.core.report import RunResult
    from spola.drivers.journal import ReplayOutcome
    from spola.store.records import ExchangeRecord, RunRecord


def options_record(options: RunOptions) -> dict[str, Any]:
    """What a journal keeps of the options: everything but credential values."""
    poll = options.poll
    return {
        "servers": dict(options.servers),
        "serverVars": {f"{s}.{v}": value for (s, v), value in options.server_vars.items()},
        "auth": sorted(f"{c.source}.{c.scheme}" if c.scheme else c.source for c in options.credentials),
        "poll": _policy_record(poll),
        "maxSteps": options.max_steps,
        "timeout": options.timeout,
        "httpTimeout": options.http_timeout,
        "retryAttempts": options.retry_attempts,
        "retryWait": options.retry_wait,
        "retryBackoff": _policy_record(options.retry_backoff),
        "maxResponseBytes": options.max_response_bytes,
        "maxDepth": options.max_depth,
        "allowHosts": list(options.allow_hosts),
        "seed": options.seed,
        "pid": os.getpid(),
        "host": socket.gethostname(),
    }


def _policy_record(poll: PollPolicy) -> dict[str, Any]:
    return {
        "fixed": poll.fixed,
        "initial": poll.initial,
        "factor": poll.factor,
        "cap": poll.cap,
        "jitter": poll.jitter,
    }


def options_from_record(
    data: Mapping[str, Any],
    credentials: Sequence[Credential],
    servers: Mapping[str, str] | None = None,
    poll_interval: float | None = None,
) -> RunOptions:
    """Rebuild options from a journal; ``servers`` and ``poll_interval`` given again win.

    Raises:
        ResumeRefused: a credential the run used was not given again.
    """
    given = {f"{c.source}.{c.scheme}" if c.scheme else c.source for c in credentials}
    sources = {c.source for c in credentials}
    missing = [
        name for name in data.get("auth", []) if name not in given and name.split(".")[0] not in sources
    ]
    if missing:
        raise ResumeRefused(
            f"the run used credentials for {', '.join(missing)}, which are never stored",
            hint="Give them again with --auth (e.g. --auth SOURCE=env:VAR).",
        )
    poll = data.get("poll") or {}
    policy = PollPolicy(**poll) if poll else PollPolicy()
    if poll_interval is not None:
        policy = PollPolicy(fixed=poll_interval)
    svars = {}
    for key, value in (data.get("serverVars") or {}).items():
        source, _, var = key.partition(".")
        svars[(source, var)] = value
    return RunOptions(
        servers={**(data.get("servers") or {}), **(servers or {})},
        server_vars=svars,
        credentials=tuple(credentials),
        poll=policy,
        max_steps=int(data.get("maxSteps", 10_000)),
        timeout=data.get("timeout"),
        http_timeout=float(data.get("httpTimeout", 30.0)),
        retry_attempts=int(data.get("retryAttempts", 30)),
        retry_wait=float(data.get("retryWait", 300.0)),
        retry_backoff=PollPolicy(**data["retryBackoff"]) if data.get("retryBackoff") else PollPolicy(),
        max_response_bytes=int(data.get("maxResponseBytes", MAX_RESPONSE_BYTES)),
        max_depth=int(data.get("maxDepth", 32)),
        allow_hosts=tuple(data.get("allowHosts") or ()),
        seed=int(data.get("seed", 0)),
    )


def document_digest(path: str | Path) -> str:
    """SHA-256 of the document file, to notice a document changed under a run."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class DurableRun(Struct):
    """A run plus where it is journalled."""

    run: Run
    document_path: str
    store_path: str | None


async def execute(
    durable: DurableRun,
    *,
    observer: Observer | None = None,
    insecure: bool = False,
    journal: Journal | None = None,
    initial: Sequence[SendRequest] = (),
    new: bool = True,
    inputs: Mapping[str, Any] | None = None,
    secret_inputs: frozenset[str] = frozenset(),
    cancel: CancelSignal | None = None,
    lease: LeaseHolder | None = None,
) -> RunResult:
    """Drive a run with every exchange journalled; ``cancel``, Ctrl-C / SIGTERM, ``--timeout`` or a
    ``spola cancel`` from another process stop it and run its ``x-spola-cancel`` workflow.

    A new run takes its lease once created; a resumed one brings the ``lease`` it took. The lease is
    renewed while the run is driven and released at the end.

    Raises ``RunInterrupted`` (carrying the result) when the task was cancelled, ``LeaseLost`` when
    another process took the run over (nothing more was sent).
    """

    run = durable.run
    check_cancel(run)
    signal = cancel or CancelSignal()
    own = journal is None
    if journal is None:
        journal = await Journal.open(durable.store_path)
    watcher: asyncio.Task[None] | None = None
    holder = lease
    try:
        if new:
            document = str(Path(durable.document_path).resolve())
            header = run_header(run, document, document_digest(document), secret_inputs, inputs)
            await journal.create_run(header)
            holder, _ = await acquire_lease(journal, run.run_id)
        if holder is not None:
            HELD[run.run_id] = holder
            holder.start()
        watcher = asyncio.ensure_future(watch_cancel_requests(journal, run.run_id, signal))
        observer = JournalLog(journal, run.run_id, observer)  # step outcomes, for reports from the store
        try:
            async with make_session(insecure=insecure) as session:
                result = await drive_cancellable(
                    run, session, observer=observer, store=journal, cancel=signal, initial=initial
                )
        except RunInterrupted as stop:
            record_end(journal, stop.result)
            raise
        record_end(journal, result)
        return result
    except StoreError as exc:
        raise store_failed(journal, run.run_id, holder, exc) from exc
    finally:
        if watcher is not None:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        if holder is not None:
            HELD.pop(run.run_id, None)
            await holder.release()
        try:
            if own:
                await journal.close()
            else:
                await journal.flush()
        except StoreError as exc:
            raise store_failed(journal, run.run_id, holder, exc) from exc


def store_failed(
    journal: Journal, run_id: str, holder: LeaseHolder | None, exc: StoreError
) -> StoreWriteFailed:
    """The error for a store that could not be written mid-run, saying how many requests went out."""
    sent = 0 if holder is None else holder.sent
    if sent:
        what = (
            f"{sent} request{'s' if sent != 1 else ''} had been sent by this process before that, "
            "and the last one's response may not be journalled"
        )
    else:
        what = "no request had been sent by this process"
    fix = (
        "Continue or end the process that holds it"
        if isinstance(exc, StoreLocked)
        else "Free space or fix the store"
    )
    return StoreWriteFailed(
        f"the run store {journal.path} could not be written ({exc.message}), so run {run_id} stopped; {what}",
        hint=f"{fix}, then spola resume {run_id}: the journal keeps what it recorded.",
    )


def run_header(
    run: Run,
    document: str,
    digest: str,
    secret_inputs: frozenset[str],
    inputs: Mapping[str, Any] | None = None,
) -> RunHeader:
    """What a journal records when a run starts (inputs and options redacted by the header)."""
    return RunHeader.start(
        run_id=run.run_id,
        workflow_id=run.root.workflow.workflow_id,
        document=document,
        document_sha256=digest,
        inputs=dict(inputs if inputs is not None else run.root.inputs),
        secret_inputs=secret_inputs,
        options=options_record(run.options),
        started_at=run.started_at,
        redactor=run.redactor,
    )


def record_end(journal: Journal, result: RunResult) -> None:
    """Queue a run's end: its status, outputs and error (already redacted by the engine)."""
    kept = ("succeeded", "interrupted", "cancelled")
    status = check_status(result.status if result.status in kept else "failed")
    journal.finish(
        result.run_id, status, result.outputs, result.error.to_dict() if result.error else None, time.time()
    )


def _alive_spola(pid: int) -> bool:
    """Whether ``pid`` is a live spola process on this machine (another run still driving this one)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError, OSError):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return b"spola" in cmdline


def rebuild(
    record: RunRecord,
    *,
    inputs: Mapping[str, Any] | None = None,
    credentials: Sequence[Credential] = (),
    servers: Mapping[str, str] | None = None,
    poll_interval: float | None = None,
    env: Mapping[str, str] = os.environ,
    force: bool = False,
    retry: int | None = None,
) -> tuple[Run, ReplayOutcome]:
    """A fresh engine for a journalled run, its journal replayed into it (nothing is sent).

    Raises:
        ResumeRefused: the document is gone or changed, a secret input or credential is not given
            again, or (unless ``force``) a non-idempotent request is in doubt.
    """
    run = fresh_engine(
        record, inputs=inputs, credentials=credentials, servers=servers, poll_interval=poll_interval, env=env
    )
    return run, replay(run, record.exchanges, force=force, retry=retry)


def fresh_engine(
    record: RunRecord,
    *,
    inputs: Mapping[str, Any] | None = None,
    credentials: Sequence[Credential] = (),
    servers: Mapping[str, str] | None = None,
    poll_interval: float | None = None,
    env: Mapping[str, str] = os.environ,
) -> Run:
    """A fresh engine for a journalled run, nothing replayed yet (see `rebuild`).

    Raises:
        ResumeRefused: the document is gone or changed, or a secret input or credential is not
            given again.
    """
    header = record.header
    if not Path(header.document).is_file():
        raise ResumeRefused(f"the run's document {header.document} is gone")
    if document_digest(header.document) != header.document_sha256:
        raise ResumeRefused(
            f"the document {header.document} changed since run {header.run_id} started",
            hint="Resuming would replay the journal into a different workflow; start a new run.",
        )
    given = dict(inputs or {})
    restored = dict(header.inputs)
    for name in header.secret_inputs:
        if name not in header.inputs and name not in given:
            continue  # a secret-looking input the run was never given (nothing to give again)
        if name in given:
            restored[name] = given[name]
        elif f"SPOLA_INPUT_{name.upper()}" in env:
            restored[name] = env[f"SPOLA_INPUT_{name.upper()}"]
        else:
            raise ResumeRefused(
                f"input '{name}' is a secret and was not stored with run {header.run_id}",
                hint=f"Give it again with --input {name}=VALUE or SPOLA_INPUT_{name.upper()}.",
            )
    for name, value in given.items():
        if name not in header.secret_inputs:
            restored[name] = value
    options = options_from_record(header.options, credentials, servers, poll_interval)
    document = load(header.document)
    return Run(
        document,
        header.workflow_id,
        restored,
        options=options,
        run_id=header.run_id,
        started_at=header.started_at,
        secret_inputs=frozenset(header.secret_inputs),
    )


def logins_withheld(run: Run, record: RunRecord) -> bool:
    """Whether a step that obtains a credential (its outputs are sent as one) has a stored, redacted
    response: then resume repeats it (`replay_reliving`) instead of replaying ``***``."""
    from spola.redact import REDACTED

    steps = {step for step, _ in run.secret_outputs}
    return any(
        e.step_id in steps
        and e.received_at is not None
        and (e.body_redacted or any(REDACTED in value for _, value in e.response_headers or ()))
        for e in record.exchanges
    )


async def replay_reliving(
    run: Run,
    record: RunRecord,
    journal: Journal,
    holder: LeaseHolder | None,
    *,
    force: bool = False,
    retry: int | None = None,
    insecure: bool = False,
) -> ReplayOutcome:
    """Replay the journal into ``run``; a step whose stored response withholds a credential it obtained
    (a login's token, never stored in clear) is sent again live — a re-login — and its new response
    fed to the run in place of the stored one; the rest of the journal replays as recorded.

    Raises:
        ResumeRefused: as `replay`; or a repeated login did not give the credential again (nothing
            else was sent).
    """
    from spola.drivers.aio import HOSTS, send
    from spola.drivers.journal import replay_steps
    from spola.hosts import HostPolicy
    from spola.store.records import ResponseRecord

    steps = replay_steps(run, record.exchanges, force=force, retry=retry, relive=True)
    try:
        action = next(steps)
    except StopIteration as stop:
        done: ReplayOutcome = stop.value
        return done
    by_seq = {e.seq: e for e in record.exchanges}
    hosts = HOSTS.set(HostPolicy(run.options.allow_hosts))
    try:
        async with make_session(insecure=insecure) as session:
            while True:
                stored = by_seq[action.call_id]
                assert stored.received_at is not None
                if holder is not None:
                    await holder.check()
                response = await send(session, action)
                if holder is not None:
                    holder.sent += 1
                if response.secrets:
                    run.learn_secrets(response.secrets)
                values = run.secret_output_values(action.call_id, response) or []
                run.learn_secrets(v for v in values if v)
                await journal.relived_response(
                    ResponseRecord.from_response(
                        run_id=run.run_id, seq=action.call_id, response=response,
                        received_at=stored.received_at, redactor=run.redactor,
                    )
                )  # fmt: skip
                got = "no response" if response.status is None else f"HTTP {response.status}"
                journal.event(
                    EventRecord(
                        run_id=run.run_id, kind="relived", at=time.time(), seq=action.call_id,
                        data={"stepId": action.step_id, "status": response.status},
                    )
                )  # fmt: skip
                if not values or not all(values):
                    why = run.redactor.redact_text(response.error or got)
                    raise ResumeRefused(
                        f"step {action.step_id} obtains a credential, which the journal never keeps, so it "
                        f"was sent again to continue the run (a fresh login: {action.request.method} "
                        f"{run.redactor.redact_url(action.request.url)}); it answered {why} without one, "
                        "and nothing else was sent",
                        hint="Check the credentials it uses (give secret inputs again with -i), then resume.",
                    )
                try:
                    action = steps.send((response, stored.received_at))
                except StopIteration as stop:
                    outcome: ReplayOutcome = stop.value
                    return outcome
    finally:
        HOSTS.reset(hosts)


async def aresume(
    run_id: str,
    *,
    store_path: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    credentials: Sequence[Credential] = (),
    servers: Mapping[str, str] | None = None,
    poll_interval: float | None = None,
    force_resend: bool = False,
    observer: Observer | None = None,
    insecure: bool = False,
    env: Mapping[str, str] = os.environ,
    cancel: CancelSignal | None = None,
    adopt_copy: bool = False,
    notice: Callable[[str], object] | None = None,
) -> RunResult:
    """Continue an interrupted or crashed run from its journal.

    Completed steps are not repeated: their responses are replayed into a fresh engine. Secrets
    (withheld inputs, credentials) must be given again: ``inputs`` or ``SPOLA_INPUT_<NAME>``.
    The run's lease is taken first: a run another live process drives is refused, one whose owner
    is gone is taken over (``notice`` hears of it). A run read from a copy of the store it was
    created in is refused unless ``adopt_copy``.

    Raises:
        StoreError: no such run. ResumeRefused: finished run, changed document, missing secrets,
            or a non-idempotent request in doubt without ``force_resend``.
    """
    journal = await Journal.open(store_path)
    holder: LeaseHolder | None = None
    try:
        first = await journal.get_run(run_id)
        full = first.header.run_id
        owner = first.header.options.get("pid")
        if (
            first.status == "running"
            and await journal.get_lease(full) is None
            and isinstance(owner, int)
            and _alive_spola(owner)
        ):  # a run journalled before leases existed, by a process still alive
            raise ResumeRefused(
                f"run {full} is still running in process {owner}",
                hint=f"Stop it first (kill -INT {owner}), or wait for it to finish.",
            )
        holder, took_over = await acquire_lease(journal, full)
        record = await journal.get_run(full)  # as it is now that nobody else can write it
        header = record.header
        retry = failed_transport_exchange(record.exchanges) if record.status == "failed" else None
        if record.status in ("succeeded", "failed", "cancelled") and retry is None:
            raise ResumeRefused(
                f"run {header.run_id} already {record.status}; there is nothing to resume",
                hint="Start a new run with spola run.",
            )
        await _check_same_store(journal, header.run_id, adopt_copy)
        if retry is not None:
            _check_retry_safe(header.run_id, retry, force_resend)
        # first without sending anything: a resume that is refused (in doubt, diverged) sends nothing
        run, outcome = rebuild(
            record, inputs=inputs, credentials=credentials, servers=servers, poll_interval=poll_interval,
            env=env, force=force_resend, retry=retry.seq if retry else None,
        )  # fmt: skip
        if logins_withheld(run, record):
            run = fresh_engine(
                record, inputs=inputs, credentials=credentials, servers=servers, poll_interval=poll_interval,
                env=env,
            )  # fmt: skip
            outcome = await replay_reliving(
                run,
                record,
                journal,
                holder,
                force=force_resend,
                retry=retry.seq if retry else None,
                insecure=insecure,
            )
        if took_over is not None:
            if notice is not None:
                notice(took_over)
            journal.event(
                EventRecord(
                    run_id=header.run_id, kind="took-over", at=time.time(), data={"notice": took_over}
                )
            )
        if retry is not None:
            journal.reopen(header.run_id, retry.seq)
            journal.event(
                EventRecord(
                    run_id=header.run_id,
                    kind="retry-failed",
                    at=time.time(),
                    data={"seq": retry.seq, "stepId": retry.step_id, "error": retry.error},
                )
            )
        journal.set_status(header.run_id, "running", time.time())
        journal.event(resume_event(header.run_id, time.time(), outcome))
        durable = DurableRun(run, header.document, store_path)
        driving, holder = holder, None  # execute releases it from here on
        return await execute(
            durable,
            observer=observer,
            insecure=insecure,
            journal=journal,
            initial=outcome.pending,
            new=False,
            cancel=cancel,
            lease=driving,
        )
    finally:
        if holder is not None:
            await holder.release()
        await journal.close()


async def _check_same_store(journal: Journal, run_id: str, adopt_copy: bool) -> None:
    """Refuse a run read from a copy of the store it was created in, unless adopting the copy."""
    run_store_id, run_path, store_id, here = await journal.run_origin(run_id)
    if run_path is None or run_path == here:
        if run_path is None:  # journalled before stores had ids: bind it to this file now
            await journal.rebind_run(run_id)
        return
    if adopt_copy:
        await journal.rebind_run(run_id)
        return
    same = "a copy of" if run_store_id == store_id else "not"
    raise ResumeRefused(
        f"run {run_id} was created in the run store {run_path}, and {here} is {same} that store: "
        "the original may still be resumed (or be running) from there, and resuming here too would "
        "trigger its remote work a second time, as leases in one file cannot see the other",
        hint=f"Resume it from {run_path}; or, if that file is gone for good, resume with --adopt-copy "
        "to make this copy the run's store.",
    )


def _check_retry_safe(run_id: str, exchange: ExchangeRecord, force: bool) -> None:
    """A failed run's last exchange is sent again on resume only if that cannot trigger a job twice."""
    error = exchange.error or ""
    if exchange.idempotent or HttpResponse(status=None, error=error).unsent or force:
        return
    raise ResumeRefused(
        f"run {run_id} failed on step {exchange.step_id} ({exchange.method} {exchange.url}: {error}); "
        "the request may have reached the server and sending it again is not known to be safe",
        hint="Check the remote system; resume with --force-resend to send it again anyway.",
    )


def resume(run_id: str, **kwargs: Any) -> RunResult:
    """Continue an interrupted or crashed run (blocking); see ``aresume`` for the arguments."""
    return asyncio.run(aresume(run_id, **kwargs))
