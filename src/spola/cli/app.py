"""The ``spola`` command: Typer commands and the single error exit.

Exit statuses: 0 succeeded, 1 the workflow failed, 2 invalid document / workflow id / inputs /
arguments (nothing was sent), 130 interrupted, 70 an internal error (a bug: please report it).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import TYPE_CHECKING, Annotated

import click
import typer

from spola.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, SpolaError

if TYPE_CHECKING:
    from spola.core.engine import Run
    from spola.core.report import RunResult

app = typer.Typer(
    name="spola",
    help="Run Arazzo workflows: durable, polite to the API, many at once.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

DocArg = Annotated[str, typer.Argument(help="Arazzo document (YAML or JSON).", metavar="DOC")]
WorkflowOpt = Annotated[
    str | None, typer.Option("--workflow", "-w", help="Workflow id (optional if only one).")
]
InputOpt = Annotated[
    list[str] | None, typer.Option("--input", "-i", help="Input NAME=VALUE (typed by schema).")
]
InputsOpt = Annotated[str | None, typer.Option("--inputs", help="JSON/YAML file of inputs, or - for stdin.")]
ServerOpt = Annotated[list[str] | None, typer.Option("--server", help="Base URL for a source: NAME=URL.")]
ServerVarOpt = Annotated[
    list[str] | None, typer.Option("--server-var", help="Server variable NAME.VAR=VALUE.")
]
AuthOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--auth", help="Credential SOURCE[.SCHEME]=VALUE (or env:VAR) for the source's security scheme."
    ),
]


def _fail_paragraph(message: str) -> None:
    sys.stderr.write(message.rstrip() + "\n")


@app.command("run")
def run_command(
    doc: DocArg,
    workflow: WorkflowOpt = None,
    input_: InputOpt = None,
    inputs: InputsOpt = None,
    server: ServerOpt = None,
    server_var: ServerVarOpt = None,
    auth: AuthOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object with the result.")] = False,
    poll_interval: Annotated[
        float | None, typer.Option("--poll-interval", help="Fixed wait before a step re-runs (0 = none).")
    ] = None,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Limit on step executions.")] = 10_000,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Limit on the whole run, seconds.")
    ] = None,
    http_timeout: Annotated[
        float, typer.Option("--http-timeout", help="Per-request timeout, seconds.")
    ] = 30.0,
    insecure: Annotated[bool, typer.Option("--insecure", help="Do not verify TLS certificates.")] = False,
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="Allow http(s) source descriptions to be fetched.")
    ] = False,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed for poll jitter (reproducible runs).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show waits and criteria.")] = False,
) -> None:
    """Run a workflow of DOC against its APIs and report the outputs."""
    from spola.api import new_run_id
    from spola.cli import args as cli_args
    from spola.core.engine import Run
    from spola.core.options import PollPolicy, RunOptions
    from spola.model import load
    from spola.redact import secret_input_names

    document = load(doc, allow_remote=allow_remote)
    wf = document.workflow(workflow) if workflow else document.default_workflow()
    source_names = [s.name for s in document.source_descriptions]
    servers = cli_args.parse_servers(server or [])
    cli_args.check_sources(servers, source_names, "--server")
    svars = cli_args.parse_server_vars(server_var or [])
    cli_args.check_sources({s for s, _ in svars}, source_names, "--server-var")
    creds = cli_args.parse_credentials(auth or [])
    cli_args.check_sources({c.source for c in creds}, source_names, "--auth")
    given = cli_args.gather_inputs(input_ or [], inputs, wf.inputs)
    options = RunOptions(
        servers=servers,
        server_vars=svars,
        credentials=creds,
        poll=PollPolicy(fixed=poll_interval) if poll_interval is not None else PollPolicy(),
        max_steps=max_steps,
        timeout=timeout,
        http_timeout=http_timeout,
        seed=seed if seed is not None else int.from_bytes(os.urandom(4), "big"),
    )
    import time

    run = Run(
        document,
        wf.workflow_id,
        given,
        options=options,
        run_id=new_run_id(),
        started_at=time.time(),
        secret_inputs=frozenset(secret_input_names(wf.inputs, given)),
    )
    result = _execute(run, json_out=json_out, verbose=verbose, insecure=insecure)
    raise typer.Exit(_exit_status(result))


def _exit_status(result: RunResult) -> int:
    if result.status == "succeeded":
        return 0
    if result.status == "interrupted":
        return EXIT_INTERRUPTED
    return 1


def _execute(run: Run, *, json_out: bool, verbose: bool, insecure: bool) -> RunResult:
    from rich.console import Console

    from spola.cli.render import Progress, print_result, to_json
    from spola.drivers.aio import RunInterrupted, drive, make_session

    err = Console(stderr=True, highlight=False)
    out = Console(highlight=False)

    async def main() -> RunResult:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        assert task is not None
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            async with make_session(insecure=insecure) as session:
                if json_out and not verbose:
                    return await drive(run, session)
                with Progress(err, verbose=verbose) as progress:
                    return await drive(run, session, observer=progress)
        except RunInterrupted as stop:
            return stop.result
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    result = asyncio.run(main())
    if json_out:
        sys.stdout.write(to_json(result.to_dict()) + "\n")
    else:
        print_result(out, result)
    if result.status == "interrupted":
        err.print("interrupted.", markup=False)
    return result


@app.command("workflows")
def workflows_command(
    doc: DocArg,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the workflows of DOC with their inputs and outputs."""
    from spola.cli.listing import print_workflows

    print_workflows(doc, json_out=json_out)


@app.command("sim")
def sim_command(
    kind: Annotated[str, typer.Argument(help="databricks, dataiku, dbt or all.")],
    port: Annotated[int, typer.Option("--port", help="Port (0 = any free port).")] = 8765,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    speed: Annotated[float, typer.Option("--speed", help="Time compression (10 = ten times faster).")] = 1.0,
    faults: Annotated[
        str | None, typer.Option("--faults", help="Fault plan, e.g. 'runs/get:429@0.2'.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for deterministic behaviour.")] = None,
    token: Annotated[str | None, typer.Option("--token", help="Accepted API token.")] = None,
) -> None:
    """Serve a local simulator of a vendor API (Databricks, Dataiku, dbt Cloud)."""
    from spola.cli.simulate import serve

    serve(kind, host=host, port=port, speed=speed, faults=faults, seed=seed, token=token)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the Typer app and turn every error into one paragraph and an exit status."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    args = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--debug"]
    try:
        code = app(args=args, prog_name="spola", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _fail_paragraph("interrupted.")
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except SpolaError as exc:
        if debug:
            raise
        _fail_paragraph(f"spola: {exc}")
        sys.exit(exc.exit_status)
    except KeyboardInterrupt:
        _fail_paragraph("interrupted.")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        if debug:
            raise
        _fail_paragraph(
            f"spola: internal error ({type(exc).__name__}: {exc}). This is a bug in spola; please report it "
            "with the command you ran. Run again with --debug for the traceback."
        )
        sys.exit(EXIT_INTERNAL)
    sys.exit(code if isinstance(code, int) else 0)
