"""``spola worker``, ``spola run --temporal`` and ``spola runs show --temporal``: runs on a Temporal cluster.

``temporalio`` is imported only when one of these runs (it is the optional ``temporal`` extra).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from spola.errors import EXIT_INTERRUPTED, SpolaError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    from spola.cli.execute import RunFlags
    from spola.core.events import Observer
    from spola.core.report import RunResult
    from spola.drivers.temporal.client import Target

TemporalOpt = Annotated[
    str | None,
    typer.Option("--temporal", help="Run on Temporal: the server's HOST:PORT.", metavar="HOST:PORT"),
]
NamespaceOpt = Annotated[str, typer.Option("--namespace", help="Temporal namespace.", metavar="NS")]
TaskQueueOpt = Annotated[str, typer.Option("--task-queue", help="Temporal task queue.", metavar="QUEUE")]
DetachOpt = Annotated[bool, typer.Option("--detach", help="With --temporal: print the run id and return.")]


def _require_extra() -> None:
    try:
        import temporalio  # noqa: F401
    except ImportError:
        raise UsageError(
            "--temporal needs the Temporal SDK, which is not installed",
            hint="Install it with: pip install 'spola[temporal]'",
        ) from None


def _exit_at_once(work: Callable[[], int]) -> NoReturn:
    """Run ``work`` and leave the process without interpreter teardown.

    The Temporal SDK's Rust threads can abort a process that finalizes while they wind down
    (temporalio/sdk-python#300: "PyGILState_Release: thread state ... must be current"), turning a
    finished command into a SIGABRT. Output is flushed first; the exit status is the command's.
    """
    try:
        code = work()
    except SpolaError as exc:
        sys.stderr.write(f"spola: {exc}".rstrip() + "\n")
        code = exc.exit_status
    except KeyboardInterrupt:
        sys.stderr.write("interrupted.\n")
        code = EXIT_INTERRUPTED
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def target(address: str, namespace: str, task_queue: str) -> Target:
    """The ``Target`` for the flags (``HOST:PORT`` checked)."""
    _require_extra()
    from spola.drivers.temporal.client import Target

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--temporal expects HOST:PORT (like 127.0.0.1:7233), got {address!r}")
    return Target(address, namespace, task_queue)


def register(app: typer.Typer) -> None:
    """Add ``spola worker`` to the app."""

    @app.command("worker")
    def worker_command(
        temporal: Annotated[
            str, typer.Option("--temporal", help="The Temporal server's HOST:PORT.", metavar="HOST:PORT")
        ],
        namespace: NamespaceOpt = "default",
        task_queue: TaskQueueOpt = "spola",
        concurrency: Annotated[
            int, typer.Option("--concurrency", help="HTTP requests (activities) in flight at once.", min=1)
        ] = 100,
        insecure: Annotated[bool, typer.Option("--insecure", help="Do not verify TLS certificates.")] = False,
    ) -> None:
        """Serve Arazzo runs from a Temporal task queue until SIGINT / SIGTERM."""
        raise typer.Exit(
            serve_worker(target(temporal, namespace, task_queue), concurrency, insecure=insecure)
        )


def serve_worker(where: Target, concurrency: int, *, insecure: bool) -> int:
    """Run a worker in the foreground; returns the exit status."""
    import asyncio  # here, not at the top: `spola --help` imports this module for its options

    from spola.drivers.temporal.client import serve

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)

        def ready() -> None:
            sys.stderr.write(
                f"spola worker ready: {where.address} namespace {where.namespace} "
                f"task queue {where.task_queue} (concurrency {concurrency})\n"
            )
            sys.stderr.flush()

        await serve(where, concurrency=concurrency, insecure=insecure, stop=stop, on_ready=ready)

    asyncio.run(main())
    sys.stderr.write("spola worker stopped.\n")
    return 0


def run(
    doc: str,
    workflow: str | None,
    flags: RunFlags,
    where: Target,
    *,
    detach: bool,
    **limits: Any,
) -> NoReturn:
    """``spola run DOC --temporal``: validate locally, submit, then follow (or print the id with --detach)."""
    _exit_at_once(lambda: _run(doc, workflow, flags, where, detach=detach, **limits))


def _run(
    doc: str, workflow: str | None, flags: RunFlags, where: Target, *, detach: bool, **limits: Any
) -> int:
    import asyncio  # here, not at the top: `spola --help` imports this module for its options

    from spola.api import new_run_id
    from spola.cli import args as cli_args
    from spola.cli.execute import build_options, drive_with_signals, open_for_run, report
    from spola.core.engine import Run
    from spola.drivers.temporal import client as tc
    from spola.model.bundle import read_bundle
    from spola.model.roles import secret_input_names

    allow_remote = bool(limits.pop("allow_remote", False))
    _, wf = open_for_run(doc, workflow, allow_remote=allow_remote)
    document, bundle = read_bundle(doc, wf.workflow_id, allow_remote=allow_remote)
    options = build_options(document, flags, limits)
    given = cli_args.gather_inputs(flags.inputs, flags.inputs_file, wf.inputs, os.environ)
    secrets = secret_input_names(document, wf, flags.secrets)
    engine = Run(document, wf.workflow_id, given, options=options, run_id=new_run_id(), secret_inputs=secrets)
    if flags.dry_run:
        from spola.cli.reporting import dry_run

        return dry_run(engine, flags.json_out)
    asked = flags.outcome
    if asked is not None and (asked.files_wanted or asked.expect):  # not GITHUB_STEP_SUMMARY alone
        raise UsageError(
            "--report, --junit, --har, --html, --summary and --expect do not combine with --temporal yet",
            hint="Take the --json result, or run without --temporal.",
        )
    argument = tc.start_argument(engine, bundle, secret_inputs=secrets, inputs=given)

    async def start() -> Any:
        client = await tc.connect(where)
        return await tc.submit(client, argument, where.task_queue)

    if detach:
        asyncio.run(start())
        sys.stdout.write(engine.run_id + "\n")
        return 0

    async def work(observer: Observer | None, _stop: object) -> RunResult:
        from spola.core.report import RunError, RunResult
        from spola.drivers.aio import RunInterrupted

        try:
            handle = await start()
            return await tc.follow(handle, observer=observer)
        except asyncio.CancelledError:
            stopped = RunError(None, "stopped following the run; it goes on on Temporal")
            raise RunInterrupted(
                RunResult(engine.run_id, wf.workflow_id, "interrupted", {}, (), stopped)
            ) from None

    result = drive_with_signals(work, flags, cancellable=False)
    if result.status == "interrupted":
        sys.stderr.write(
            f"stopped following; the run goes on on Temporal. See it with: spola runs show {engine.run_id} "
            f"--temporal {where.address}\n"
        )
    return report(result, flags, journalled=False)


def show(run_id: str, where: Target, *, json_out: bool) -> NoReturn:
    """``spola runs show ID --temporal``: the run's state as Temporal and its worker know it."""
    _exit_at_once(lambda: _show(run_id, where, json_out=json_out))


def _show(run_id: str, where: Target, *, json_out: bool) -> int:
    import asyncio  # here, not at the top: `spola --help` imports this module for its options
    import json

    from spola.drivers.temporal import client as tc

    async def main() -> dict[str, Any]:
        client = await tc.connect(where)
        return await tc.describe(client, run_id)

    state = asyncio.run(main())
    if json_out:
        sys.stdout.write(json.dumps(state, default=str) + "\n")
        return 0
    from rich.console import Console

    console = Console(highlight=False)
    console.print(f"run {run_id}: {state.get('status')} (Temporal: {state.get('temporalStatus')})")
    if state.get("currentStep"):
        console.print(f"  at step {state['currentStep']} after {state.get('executions', 0)} step executions")
    for step in state.get("steps", ()):
        code = step.get("lastStatusCode")
        console.print(
            f"  {step['stepId']:<24} {step['status']:<10} x{step['executions']}  "
            f"{'' if code is None else f'HTTP {code}'}"
        )
    if state.get("outputs"):
        console.print("  outputs: " + json.dumps(state["outputs"], default=str))
    if state.get("error"):
        console.print(f"  error: {state['error'].get('message')}")
    return 0
