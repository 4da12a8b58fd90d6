"""``spola run`` and ``spola resume``: build the run, drive it (journalled unless ``--no-store``), report."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from spola.cli import args as cli_args
from spola.errors import EXIT_INTERRUPTED
from spola.limits import (
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENT_DEPTH,
    MAX_DOCUMENT_NODES,
    MAX_RESPONSE_BYTES,
    LoadLimits,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from spola.cli.reporting import Outcome
    from spola.core.events import Observer
    from spola.core.report import RunResult
    from spola.drivers.cancel import CancelSignal
    from spola.observe.logs import JsonLog
    from spola.options import RunOptions


class RunFlags(Struct, frozen=True):
    """The flags ``run``, ``resume`` and ``demo`` share (each command passes the ones it has)."""

    inputs: list[str] = field(default_factory=list)
    inputs_file: str | None = None
    servers: list[str] = field(default_factory=list)
    server_vars: list[str] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    json_out: bool = False
    poll_interval: float | None = None
    verbose: bool = False
    quiet: bool = False
    otel: bool = False
    log_format: str = "text"
    log_file: str | None = None
    insecure: bool = False
    store: str | None = None
    no_store: bool = False
    outcome: Outcome | None = None
    dry_run: bool = False
    allow_hosts: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    max_response_bytes: int = MAX_RESPONSE_BYTES
    retry_attempts: int = 30
    retry_wait: float = 300.0
    max_depth: int = 32
    max_document_bytes: int = MAX_DOCUMENT_BYTES
    max_document_nodes: int = MAX_DOCUMENT_NODES
    max_document_depth: int = MAX_DOCUMENT_DEPTH

    def load_limits(self) -> LoadLimits:
        """The loader's limits from the flags."""
        return LoadLimits(self.max_document_bytes, self.max_document_nodes, self.max_document_depth)


def exit_status(result: RunResult) -> int:
    """0 succeeded, 130 interrupted, 1 otherwise."""
    if result.status == "succeeded":
        return 0
    if result.status in ("interrupted", "cancelled"):
        return EXIT_INTERRUPTED
    return 1


def store_path(flags: RunFlags) -> str | None:
    """The store file to journal into, or None with ``--no-store``."""
    if flags.no_store:
        return None
    from spola.store import default_store_path

    return flags.store or str(default_store_path())


def drive_with_signals(
    work: Callable[[Observer | None, CancelSignal], Awaitable[RunResult]],
    flags: RunFlags,
    *,
    cancellable: bool = True,
    run_id: str | None = None,
) -> RunResult:
    """Run ``work`` on a fresh loop. The first SIGINT / SIGTERM sets the signal ``work`` gets, which
    stops the run (and runs its ``x-spola-cancel`` workflow); a second one cancels the task, abandoning
    that too (``cancellable=False``: the first one does). Yields the stopped run's result."""
    import asyncio  # here: `spola run --dry-run` never needs a loop (start-up)

    from spola.drivers.aio import RunInterrupted
    from spola.drivers.cancel import CancelSignal

    async def main() -> RunResult:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        assert task is not None
        cancel_signal = CancelSignal()

        def on_signal(name: str) -> None:
            if cancel_signal.is_set() or not cancellable:
                task.cancel()
            else:
                cancel_signal.set(f"{name} received", explicit=False)

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal, sig.name)
        logs = _logs(flags, run_id)
        try:
            result = await _watched(work, flags, cancel_signal, logs)
        except RunInterrupted as stop:
            result = stop.result
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        for log in logs:
            log.result(result)
            if log.stream is not sys.stderr:
                log.stream.close()
        return result

    if flags.otel:
        try:
            from spola.observe.otel import enable, shutdown
        except ImportError as exc:
            from spola.errors import UsageError

            raise UsageError(
                f"--otel needs OpenTelemetry ({exc.name} is not installed)",
                hint="Install spola with the otel extra: pip install 'spola[otel]'.",
            ) from exc

        enable()
        try:
            return asyncio.run(main())
        finally:
            shutdown()
    return asyncio.run(main())


def _logs(flags: RunFlags, run_id: str | None) -> list[JsonLog]:
    """The JSON-lines logs the flags ask for (``--log-format json`` on stderr, ``--log-file``)."""
    from spola.errors import UsageError

    if flags.log_format not in ("text", "json"):
        raise UsageError(f"--log-format {flags.log_format}: use text or json")
    logs: list[JsonLog] = []
    if flags.log_format != "json" and not flags.log_file:
        return logs
    from spola.observe.logs import JsonLog  # only when a log is asked for (start-up)

    if flags.log_format == "json":
        logs.append(JsonLog(sys.stderr, run_id))
    if flags.log_file:
        try:
            stream = open(flags.log_file, "a", encoding="utf-8")  # noqa: SIM115 - closed after the run
        except OSError as exc:
            raise UsageError(f"--log-file {flags.log_file}: {exc.strerror or exc}") from exc
        logs.append(JsonLog(stream, run_id))
    return logs


async def _watched(
    work: Callable[[Observer | None, CancelSignal], Awaitable[RunResult]],
    flags: RunFlags,
    cancel_signal: CancelSignal,
    logs: list[JsonLog],
) -> RunResult:
    """Run ``work`` with the live view (unless -q, --json alone or --log-format json) and the logs."""
    from spola.observe import combine

    if flags.quiet or flags.log_format == "json" or (flags.json_out and not flags.verbose):
        return await work(combine(*logs), cancel_signal)
    # Rich only for a human: ``--json`` alone never imports it (start-up)
    from rich.console import Console

    from spola.cli.live import LiveView

    with LiveView(Console(stderr=True, highlight=False), verbose=flags.verbose) as view:
        return await work(combine(view, *logs), cancel_signal)


def report(result: RunResult, flags: RunFlags, *, journalled: bool) -> int:
    """Print the result (table or one JSON object) and return the exit status."""
    if flags.json_out:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, default=str) + "\n")
    else:
        from rich.console import Console

        from spola.cli.render import print_result

        print_result(Console(highlight=False), result)
    if result.status == "interrupted":
        hint = f" Resume it with: spola resume {result.run_id}" if journalled else ""
        sys.stderr.write(f"interrupted.{hint}\n")
    elif result.status == "cancelled":
        sys.stderr.write(f"cancelled (run {result.run_id}).\n")
    return exit_status(result)


def build_options(document: Any, flags: RunFlags, limits: dict[str, Any]) -> RunOptions:
    """``RunOptions`` from the flags (``spola run``, ``--batch``); every source a flag names must exist."""
    from spola.api import make_options
    from spola.hosts import parse_patterns

    options = make_options(
        servers=cli_args.parse_servers(flags.servers),
        server_vars=cli_args.parse_server_vars(flags.server_vars),
        auth=cli_args.parse_credentials(flags.auth),
        poll_interval=flags.poll_interval,
        max_steps=limits["max_steps"],
        timeout=limits["timeout"],
        http_timeout=limits["http_timeout"],
        seed=limits["seed"],
        retry_attempts=flags.retry_attempts,
        retry_wait=flags.retry_wait,
        max_response_bytes=flags.max_response_bytes,
        max_depth=flags.max_depth,
        allow_hosts=parse_patterns(flags.allow_hosts),
    )
    names = [s.name for s in document.source_descriptions]
    cli_args.check_sources(options.servers, names, "--server")
    cli_args.check_sources({s for s, _ in options.server_vars}, names, "--server-var")
    cli_args.check_sources({c.source for c in options.credentials}, names, "--auth")
    return options


def refuse_broken(document: Any, doc: str, workflow: str | None = None) -> None:
    """Raise DocumentError when the linter finds problems certain to break the run (nothing is sent).

    With ``workflow``, only problems that run can reach count (the rest are printed as warnings).
    """
    from spola.errors import DocumentError, Location
    from spola.lint import blocking_findings
    from spola.lint.preflight import describe_elsewhere
    from spola.model.reach import in_reach, reach

    findings = blocking_findings(document)
    if workflow is not None:
        where = reach(document, workflow)
        for finding in [f for f in findings if not in_reach(f, where)]:
            sys.stderr.write(f"spola: {describe_elsewhere(finding, workflow)}\n")
        findings = [f for f in findings if in_reach(f, where)]
    if findings:
        raise DocumentError(
            f"{doc} would fail before its first request; nothing was sent",
            findings=findings,
            location=Location(doc),
            hint="spola validate lists every finding.",
        )


def open_for_run(
    doc: str,
    workflow: str | None,
    *,
    allow_remote: bool,
    limits: LoadLimits | None = None,
    allow_hosts: tuple[str, ...] = (),
) -> tuple[Any, Any]:
    """Load DOC for a run of one workflow; problems it cannot reach are one warning each on stderr.

    Raises:
        DocumentError: a problem in what the run reaches.
        WorkflowNotFound: no such workflow.
    """
    from spola.lint.preflight import describe_elsewhere, preflight

    ready = preflight(doc, workflow, allow_remote=allow_remote, limits=limits, allow_hosts=allow_hosts)
    for finding in ready.elsewhere:
        sys.stderr.write(f"spola: {describe_elsewhere(finding, ready.workflow.workflow_id)}\n")
    for notice in ready.habits:
        sys.stderr.write(f"spola: warning: {notice}\n")
    return ready.document, ready.workflow


def run(doc: str, workflow: str | None, flags: RunFlags, **limits: Any) -> int:
    """Everything ``spola run`` does; returns the exit status."""
    if not flags.dry_run:  # a dry run sends nothing: it never imports aiohttp (~0.1 s)
        from spola.drivers.tls import import_aiohttp

        import_aiohttp()  # first: the CA bundle is read at the first TLS handshake, not at start-up
    from spola.api import new_run_id
    from spola.core.engine import Run
    from spola.hosts import parse_patterns
    from spola.model.cancel import cancel_spec
    from spola.model.roles import secret_input_names

    document, wf = open_for_run(
        doc,
        workflow,
        allow_remote=bool(limits.pop("allow_remote", False)),
        limits=flags.load_limits(),
        allow_hosts=parse_patterns(flags.allow_hosts),
    )
    cancel_spec(document, wf)
    options = build_options(document, flags, limits)
    given = cli_args.gather_inputs(flags.inputs, flags.inputs_file, wf.inputs, os.environ)
    secrets = secret_input_names(document, wf, flags.secrets)
    engine = Run(
        document,
        wf.workflow_id,
        given,
        options=options,
        run_id=new_run_id(),
        started_at=time.time(),
        secret_inputs=secrets,
    )
    if flags.dry_run:
        from spola.cli.reporting import dry_run

        return dry_run(engine, flags.json_out)
    from spola.drivers.aio import make_session
    from spola.drivers.cancel import drive_cancellable

    record = None
    if flags.outcome is not None and flags.outcome.wanted:
        from spola.cli.reporting import recorder

        record = recorder(engine, doc, given, secrets, None)
    path = store_path(flags)

    async def work(observer: Observer | None, stop: CancelSignal) -> RunResult:
        if record is not None:
            record.forward, observer = observer, record
        if path is None:
            async with make_session(insecure=flags.insecure) as session:
                return await drive_cancellable(engine, session, observer=observer, cancel=stop)
        from spola.durable import DurableRun, execute  # the journal: not for --no-store (start-up)

        durable = DurableRun(engine, doc, path)
        return await execute(
            durable,
            observer=observer,
            insecure=flags.insecure,
            inputs=given,
            secret_inputs=secrets,
            cancel=stop,
        )

    result = drive_with_signals(work, flags, run_id=engine.run_id)
    code = report(result, flags, journalled=path is not None)
    if record is not None and flags.outcome is not None:
        from spola.cli.reporting import finish

        if finish(record.report, result, flags.outcome) and code == 0:
            code = 1
    return code


def resume(run_id: str, flags: RunFlags, *, force_resend: bool, adopt_copy: bool = False) -> int:
    """Everything ``spola resume`` does; returns the exit status."""
    from spola.drivers.tls import import_aiohttp

    import_aiohttp()  # first: the CA bundle is read at the first TLS handshake, not at start-up
    from spola.durable import aresume
    from spola.errors import UsageError

    path = store_path(flags)
    if path is None:
        raise UsageError("resume reads the run store; --no-store makes no sense here")
    given = cli_args.gather_inputs(flags.inputs, flags.inputs_file, None)
    creds = cli_args.parse_credentials(flags.auth)
    servers = cli_args.parse_servers(flags.servers)

    async def work(observer: Observer | None, stop: CancelSignal) -> RunResult:
        return await aresume(
            run_id,
            store_path=path,
            inputs=given,
            credentials=creds,
            servers=servers,
            poll_interval=flags.poll_interval,
            force_resend=force_resend,
            observer=observer,
            insecure=flags.insecure,
            cancel=stop,
            adopt_copy=adopt_copy,
            notice=lambda text: sys.stderr.write(f"spola: {text}\n"),
        )

    result = drive_with_signals(work, flags, run_id=run_id)
    return report(result, flags, journalled=True)
