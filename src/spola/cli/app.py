"""The ``spola`` command: Typer commands and the single error exit.

Exit statuses: 0 succeeded, 1 the workflow failed, 2 invalid document / workflow id / inputs /
arguments, a refused resume (nothing was sent), 74 the run store could not be written mid-run,
75 the run's lease was taken over, 130 interrupted, 70 an internal error (a bug: please report it).
"""

from __future__ import annotations

import copy
import os
import sys
from typing import Annotated

import typer

from spola.cli import reporting
from spola.cli import temporal as _temporal
from spola.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, SpolaError
from spola.limits import (
    DEFAULT_TIMEOUT,
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENT_DEPTH,
    MAX_DOCUMENT_NODES,
    MAX_RESPONSE_BYTES,
)

app = typer.Typer(
    name="spola",
    help="Run Arazzo workflows: durable, polite to the API, many at once.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

DocArg = Annotated[str, typer.Argument(help="Arazzo document (YAML or JSON).", metavar="DOC")]
WorkflowOpt = Annotated[
    str | None, typer.Option("--workflow", "-w", help="Workflow id (optional if only one).", metavar="ID")
]
InputOpt = Annotated[
    list[str] | None,
    typer.Option("--input", "-i", help="Input NAME=VALUE (typed by schema).", metavar="NAME=VALUE"),
]
InputsOpt = Annotated[
    str | None, typer.Option("--inputs", help="JSON/YAML file of inputs, or - for stdin.", metavar="FILE")
]
ServerOpt = Annotated[
    list[str] | None, typer.Option("--server", help="Base URL for a source: NAME=URL.", metavar="NAME=URL")
]
ServerVarOpt = Annotated[
    list[str] | None,
    typer.Option("--server-var", help="Server variable NAME.VAR=VALUE.", metavar="NAME.VAR=VALUE"),
]
AuthOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--auth",
        help="Credential SOURCE[.SCHEME]=VALUE (or env:VAR) for the source's security scheme.",
        metavar="SOURCE=VALUE",
    ),
]


def _fail_paragraph(message: str) -> None:
    sys.stderr.write(message.rstrip() + "\n")


StoreOpt = Annotated[
    str | None, typer.Option("--store", help="Run store file (default $SPOLA_STORE or XDG state dir).")
]
NoStoreOpt = Annotated[bool, typer.Option("--no-store", help="Run in memory only: no journal, no resume.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object with the result.")]
PollOpt = Annotated[
    float | None, typer.Option("--poll-interval", help="Fixed wait before a step re-runs (0 = none).")
]
InsecureOpt = Annotated[bool, typer.Option("--insecure", help="Do not verify TLS certificates.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show requests, responses, criteria and why steps go on.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No live progress on stderr.")]
OtelOpt = Annotated[bool, typer.Option("--otel", help="OpenTelemetry traces (OTEL_* variables; otel extra).")]
LogFormatOpt = Annotated[
    str, typer.Option("--log-format", help="text (the live view) or json (one object per event, stderr).")
]
LogFileOpt = Annotated[
    str | None, typer.Option("--log-file", help="Append JSON-lines logs of the run to FILE.", metavar="FILE")
]
SecretOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--secret",
        help="Treat input NAME as a secret (never shown or stored) besides those the document marks.",
        metavar="NAME",
    ),
]
AllowHostOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-host",
        help="Only send to / fetch from hosts matching PATTERN (repeatable; * wildcards, :port).",
        metavar="PATTERN",
    ),
]
MaxResponseOpt = Annotated[
    int, typer.Option("--max-response-bytes", help="A bigger response body fails its step.", min=1)
]
RetryAttemptsOpt = Annotated[
    int, typer.Option("--retry-attempts", help="Transparent re-sends per step execution (0 = none).", min=0)
]
RetryWaitOpt = Annotated[
    float, typer.Option("--retry-wait", help="Total seconds transparent retries of a step may wait.", min=0)
]
MaxDocBytesOpt = Annotated[
    int, typer.Option("--max-document-bytes", help="Largest document or source file read.", min=1)
]
MaxDocNodesOpt = Annotated[
    int, typer.Option("--max-document-nodes", help="Most nodes in a document, aliases expanded.", min=1)
]
MaxDocDepthOpt = Annotated[
    int, typer.Option("--max-document-depth", help="Deepest nesting in a document.", min=1)
]
MaxDepthOpt = Annotated[
    int, typer.Option("--max-depth", help="Limit on workflows nested in workflows.", min=1)
]


@app.command("run")
def run_command(
    doc: DocArg,
    workflow: WorkflowOpt = None,
    input_: InputOpt = None,
    inputs: InputsOpt = None,
    server: ServerOpt = None,
    server_var: ServerVarOpt = None,
    auth: AuthOpt = None,
    json_out: JsonOpt = False,
    poll_interval: PollOpt = None,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Limit on step executions.")] = 10_000,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Limit on the whole run, seconds (default a day).")
    ] = DEFAULT_TIMEOUT,
    http_timeout: Annotated[
        float, typer.Option("--http-timeout", help="Per-request timeout, seconds.")
    ] = 30.0,
    insecure: InsecureOpt = False,
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="Allow http(s) source descriptions to be fetched.")
    ] = False,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed for poll jitter (reproducible runs).")
    ] = None,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    batch: Annotated[
        str | None, typer.Option("--batch", help="JSON-lines file: one workflow's inputs per line.")
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Runs at once with --batch.")] = 10,
    verbose: VerboseOpt = False,
    secret: SecretOpt = None,
    allow_host: AllowHostOpt = None,
    max_response_bytes: MaxResponseOpt = MAX_RESPONSE_BYTES,
    retry_attempts: RetryAttemptsOpt = 30,
    retry_wait: RetryWaitOpt = 300.0,
    max_depth: MaxDepthOpt = 32,
    max_document_bytes: MaxDocBytesOpt = MAX_DOCUMENT_BYTES,
    max_document_nodes: MaxDocNodesOpt = MAX_DOCUMENT_NODES,
    max_document_depth: MaxDocDepthOpt = MAX_DOCUMENT_DEPTH,
    quiet: QuietOpt = False,
    otel: OtelOpt = False,
    log_format: LogFormatOpt = "text",
    log_file: LogFileOpt = None,
    temporal: _temporal.TemporalOpt = None,
    namespace: _temporal.NamespaceOpt = "default",
    task_queue: _temporal.TaskQueueOpt = "spola",
    detach: _temporal.DetachOpt = False,
    report: reporting.ReportOpt = None,
    junit: reporting.JunitOpt = None,
    har: reporting.HarOpt = None,
    html: reporting.HtmlOpt = None,
    summary: reporting.SummaryOpt = None,
    expect: reporting.ExpectOpt = None,
    dry_run: reporting.DryRunOpt = False,
) -> None:
    """Run a workflow of DOC against its APIs and report the outputs."""
    from spola.cli import execute

    flags = execute.RunFlags(
        secrets=tuple(secret or ()),
        allow_hosts=tuple(allow_host or ()),
        max_response_bytes=max_response_bytes,
        retry_attempts=retry_attempts,
        retry_wait=retry_wait,
        max_depth=max_depth,
        max_document_bytes=max_document_bytes,
        max_document_nodes=max_document_nodes,
        max_document_depth=max_document_depth,
        inputs=input_ or [],
        inputs_file=inputs,
        servers=server or [],
        server_vars=server_var or [],
        auth=auth or [],
        json_out=json_out,
        poll_interval=poll_interval,
        verbose=verbose,
        quiet=quiet,
        otel=otel,
        log_format=log_format,
        log_file=log_file,
        insecure=insecure,
        store=store,
        no_store=no_store,
        outcome=reporting.outcome(report, junit, har, html, summary, expect),
        dry_run=dry_run,
    )
    limits = {"max_steps": max_steps, "timeout": timeout, "http_timeout": http_timeout, "seed": seed}
    if temporal is not None:
        if batch is not None:
            from spola.errors import UsageError

            raise UsageError("--batch does not combine with --temporal; submit each run (or use spola.api)")
        where = _temporal.target(temporal, namespace, task_queue)
        _temporal.run(doc, workflow, flags, where, detach=detach, allow_remote=allow_remote, **limits)
    if batch is not None:
        from spola.cli.batch import run_batch

        raise typer.Exit(
            run_batch(
                doc,
                workflow,
                batch,
                concurrency,
                flags,
                max_steps=max_steps,
                timeout=timeout,
                http_timeout=http_timeout,
                seed=seed,
                allow_remote=allow_remote,
            )
        )
    raise typer.Exit(
        execute.run(
            doc,
            workflow,
            flags,
            max_steps=max_steps,
            timeout=timeout,
            http_timeout=http_timeout,
            seed=seed,
            allow_remote=allow_remote,
        )
    )


@app.command("resume")
def resume_command(
    run_id: Annotated[str, typer.Argument(help="The run to continue (a unique prefix is enough).")],
    input_: InputOpt = None,
    inputs: InputsOpt = None,
    server: ServerOpt = None,
    auth: AuthOpt = None,
    json_out: JsonOpt = False,
    poll_interval: PollOpt = None,
    insecure: InsecureOpt = False,
    store: StoreOpt = None,
    force_resend: Annotated[
        bool, typer.Option("--force-resend", help="Re-send a non-idempotent request whose response was lost.")
    ] = False,
    adopt_copy: Annotated[
        bool,
        typer.Option(
            "--adopt-copy",
            help="Resume a run from a copy of the store it was created in, making the copy its store.",
        ),
    ] = False,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    otel: OtelOpt = False,
    log_format: LogFormatOpt = "text",
    log_file: LogFileOpt = None,
) -> None:
    """Continue an interrupted or crashed run from its journal; completed steps are not repeated."""
    from spola.cli import execute

    flags = execute.RunFlags(
        inputs=input_ or [],
        inputs_file=inputs,
        servers=server or [],
        auth=auth or [],
        json_out=json_out,
        poll_interval=poll_interval,
        verbose=verbose,
        quiet=quiet,
        otel=otel,
        log_format=log_format,
        log_file=log_file,
        insecure=insecure,
        store=store,
    )
    raise typer.Exit(execute.resume(run_id, flags, force_resend=force_resend, adopt_copy=adopt_copy))


@app.command("cancel")
def cancel_command(
    run_id: Annotated[str, typer.Argument(help="The run to cancel (a unique prefix is enough).")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept in the journal).")] = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for the run to stop.")] = 120.0,
    json_out: JsonOpt = False,
    store: StoreOpt = None,
    input_: InputOpt = None,
    server: ServerOpt = None,
    auth: AuthOpt = None,
    insecure: InsecureOpt = False,
) -> None:
    """Stop a run another spola process drives (its cancel workflow runs), or cancel a dead one here
    (give its secrets again with -i / --auth so its cancel workflow can run)."""
    from spola.cli.cancel import cancel_run

    code = cancel_run(
        run_id, store=store, reason=reason, wait=wait, json_out=json_out,
        inputs=input_, auth=auth, servers=server, insecure=insecure,
    )  # fmt: skip
    raise typer.Exit(code)


runs_app = typer.Typer(help="List, inspect and prune journalled runs.", no_args_is_help=False)
app.add_typer(runs_app, name="runs")


@runs_app.callback(invoke_without_command=True)
def runs_list(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="How many runs, newest first.")] = 50,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only runs with this status: running, stale (running, but its owner is gone), "
            "succeeded, failed, interrupted or cancelled.",
        ),
    ] = None,
    store: StoreOpt = None,
) -> None:
    """List runs, newest first (id, workflow, document, status, started, duration)."""
    if ctx.invoked_subcommand is not None:
        return
    from spola.cli.runs import list_runs

    list_runs(store=store, json_out=json_out, limit=limit, status=status)


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="Run id or a unique prefix.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    store: StoreOpt = None,
    temporal: _temporal.TemporalOpt = None,
    namespace: _temporal.NamespaceOpt = "default",
    html: Annotated[
        str | None, typer.Option("--html", help="Write the run's HTML timeline.", metavar="FILE")
    ] = None,
    exchanges: Annotated[
        bool, typer.Option("--exchanges", help="Show request and response bodies (redacted).")
    ] = False,
) -> None:
    """Show one run: inputs, outputs and every exchange."""
    if temporal is not None:
        _temporal.show(run_id, _temporal.target(temporal, namespace, ""), json_out=json_out)
    from spola.cli.runs import show_run

    show_run(run_id, store=store, json_out=json_out, html=html, exchanges=exchanges)


@runs_app.command("prune")
def runs_prune(
    older_than: Annotated[str, typer.Option("--older-than", help="Age like 30d, 12h, 90m.")] = "30d",
    store: StoreOpt = None,
) -> None:
    """Delete finished runs older than the given age (running ones are kept)."""
    from spola.cli.runs import prune_runs

    prune_runs(older_than, store=store)


@app.command("validate")
def validate_command(
    docs: Annotated[list[str], typer.Argument(help="Arazzo documents.", metavar="DOC...")],
    fmt: Annotated[str, typer.Option("--format", help="text, json or sarif.")] = "text",
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
) -> None:
    """Check documents for structural errors and the bugs real workflows have."""
    from spola.cli.validate import validate_documents

    raise typer.Exit(validate_documents(docs, fmt=fmt, strict=strict))


@app.command("graph")
def graph_command(
    doc: DocArg,
    workflow: WorkflowOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="mermaid or dot.")] = "mermaid",
) -> None:
    """Print a workflow as a graph of steps and transitions (criteria on the edges)."""
    from spola.cli.graph import print_graph

    print_graph(doc, workflow, fmt=fmt)


@app.command("demo")
def demo_command(
    doc: Annotated[
        str | None, typer.Argument(help="Workflow to run (default: the bundled Databricks example).")
    ] = None,
    workflow: WorkflowOpt = None,
    input_: InputOpt = None,
    inputs: InputsOpt = None,
    json_out: JsonOpt = False,
    poll_interval: PollOpt = None,
    speed: Annotated[float, typer.Option("--speed", help="Simulator time compression.")] = 1.0,
    faults: Annotated[str | None, typer.Option("--faults", help="Simulator fault plan.")] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed for the simulators and poll jitter.")
    ] = None,
    no_store: NoStoreOpt = False,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Start the bundled API simulators and run a workflow against them, with live progress."""
    from spola.cli import execute
    from spola.cli.demo import demo

    flags = execute.RunFlags(
        inputs=input_ or [],
        inputs_file=inputs,
        json_out=json_out,
        poll_interval=poll_interval,
        verbose=verbose,
        quiet=quiet,
        no_store=no_store,
    )
    raise typer.Exit(demo(doc, workflow, flags, speed=speed, faults=faults, seed=seed))


@app.command("mcp")
def mcp_command(
    docs: Annotated[list[str], typer.Argument(help="Arazzo documents to serve.", metavar="DOC...")],
    input_: Annotated[
        list[str] | None,
        typer.Option(
            "--input", "-i", help="Input the server sets: NAME=VALUE or NAME=env:VAR.", metavar="NAME=VALUE"
        ),
    ] = None,
    server: ServerOpt = None,
    server_var: ServerVarOpt = None,
    auth: AuthOpt = None,
    allow_workflow: Annotated[
        list[str] | None, typer.Option("--allow-workflow", help="Serve only this workflow.", metavar="ID")
    ] = None,
    transport: Annotated[str, typer.Option("--transport", help="stdio or http.")] = "stdio",
    port: Annotated[int, typer.Option("--port", help="HTTP port on 127.0.0.1 (0 = any free port).")] = 0,
    poll_interval: PollOpt = None,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Limit on step executions per run.")] = 10_000,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Limit on each run, seconds.")] = None,
    http_timeout: Annotated[
        float, typer.Option("--http-timeout", help="Per-request timeout, seconds.")
    ] = 30.0,
    insecure: InsecureOpt = False,
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="Allow http(s) source descriptions to be fetched.")
    ] = False,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    allow_host: AllowHostOpt = None,
    max_response_bytes: MaxResponseOpt = MAX_RESPONSE_BYTES,
    retry_attempts: RetryAttemptsOpt = 30,
    retry_wait: RetryWaitOpt = 300.0,
    max_depth: MaxDepthOpt = 32,
) -> None:
    """Serve the workflows of DOC... as MCP tools for agents (needs the mcp extra)."""
    from spola.cli.mcp import McpFlags, serve

    flags = McpFlags(
        docs=docs,
        inputs=input_ or [],
        servers=server or [],
        server_vars=server_var or [],
        auth=auth or [],
        allow_workflows=allow_workflow or [],
        transport=transport,
        port=port,
        poll_interval=poll_interval,
        max_steps=max_steps,
        timeout=timeout,
        http_timeout=http_timeout,
        insecure=insecure,
        allow_remote=allow_remote,
        allow_hosts=tuple(allow_host or ()),
        max_response_bytes=max_response_bytes,
        retry_attempts=retry_attempts,
        retry_wait=retry_wait,
        max_depth=max_depth,
        store=store,
        no_store=no_store,
    )
    raise typer.Exit(serve(flags))


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


_temporal.register(app)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        sys.stdout.write(f"spola {version('spola')}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", help="Print spola's version and exit.", is_eager=True, callback=_version
        ),
    ] = False,
) -> None:
    """Run Arazzo workflows: durable, polite to the API, many at once."""


def _refusal_json(kind: str, message: str, status: int, exc: SpolaError | None = None) -> None:
    """With ``--json``, a run that never started still prints one JSON object on stdout."""
    import json

    error: dict[str, object] = {"kind": kind, "message": message, "exit_status": status}
    if exc is not None:
        where = exc.location
        for key in ("file", "line", "column"):
            if getattr(where, key) is not None:
                error[key] = getattr(where, key)
        if str(where):
            error["where"] = str(where)
        findings = getattr(exc, "findings", None)
        if findings:
            error["findings"] = [
                {"message": f.message, "where": str(f.location), "rule": f.rule, "severity": f.severity}
                for f in findings
            ]
        if exc.hint:
            error["hint"] = exc.hint
    state = "refused" if status == 2 else "error"
    sys.stdout.write(json.dumps({"status": state, "error": error}, ensure_ascii=False) + "\n")


def _app_for(args: list[str]) -> typer.Typer:
    """The app `main` calls: for ``spola <command> ...`` the same app with that command alone.

    Each call of a Typer app turns every command's annotations into Click parameters (~40 ms for
    spola's commands, most of it evaluating the annotations); only the command being run needs
    them. Anything else (no command, an option first, a group such as ``runs``, an unknown name,
    shell completion) gets the whole app, and so do usage errors (`main` shows them against it).
    """
    if not args or any(name.endswith("_COMPLETE") for name in os.environ):
        return app
    chosen = [info for info in app.registered_commands if info.name == args[0]]
    if len(chosen) != 1:
        return app
    alone = copy.copy(app)
    alone.registered_commands = chosen
    alone.registered_groups = []
    return alone


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the Typer app and turn every error into one paragraph and an exit status."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    args = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--debug"]
    try:
        code = _app_for(args)(args=args, prog_name="spola", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        _fail_paragraph("interrupted.")
        sys.exit(EXIT_INTERRUPTED)
    except typer.TyperException as exc:
        # a usage error (unknown option, a value of the wrong type, a missing argument)
        from spola.cli import usage

        status = usage.show(exc, typer.main.get_command(app), args)
        if "--json" in args:
            message = getattr(exc, "format_message", None)
            _refusal_json("usage", message() if callable(message) else str(exc), status)
        sys.exit(status)
    except SpolaError as exc:
        if debug:
            raise
        _fail_paragraph(f"spola: {exc}")
        if "--json" in args:
            _refusal_json(type(exc).__name__, exc.message, exc.exit_status, exc)
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
