"""``spola run DOC --batch FILE.jsonl --concurrency N``: one run per line, results as JSON lines.

stdout carries only JSON lines, one per run in completion order, each the ``--json`` object plus
``"line"`` (the 1-based line of the batch file it came from). stderr shows an aggregate live
progress bar on a terminal and one summary line at the end. Exit status: 0 when every run
succeeded, 1 when any failed (a bad row fails alone; the others go on), 130 when interrupted,
2 when nothing could start (document, workflow, arguments, unreadable batch file).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from spola.cli import args as cli_args
from spola.cli.execute import build_options, open_for_run, store_path
from spola.cli.render import to_json
from spola.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, InputError, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import RenderableType

    from spola.batch import Batch, BatchCounts, Row
    from spola.cli.execute import RunFlags
    from spola.core.report import RunResult


@dataclass(frozen=True, slots=True)
class BatchFile:
    """The non-blank lines of a batch file, parsed one by one as the runs start."""

    origin: str
    lines: list[tuple[int, str]] = field(default_factory=list)

    @classmethod
    def read(cls, path: str) -> BatchFile:
        """Read ``path`` (``-``: stdin).

        Raises:
            InputError: the file cannot be read.
        """
        if path == "-":
            text, origin = sys.stdin.read(), "<stdin>"
        else:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise InputError(f"cannot read the batch file {path}: {exc.strerror or exc}") from exc
            except UnicodeDecodeError as exc:
                raise InputError(f"the batch file {path} is not UTF-8 text: {exc.reason}") from exc
            origin = path
        lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
        return cls(origin, lines)

    def rows(self) -> Iterator[Row]:
        """Each line as inputs, or a `BadRow` saying why it is not an object of inputs."""
        from spola.batch import BadRow

        for number, line in self.lines:
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield BadRow(f"{self.origin}:{number}: not JSON: {exc.msg} at column {exc.colno}")
                continue
            if isinstance(value, dict):
                yield value
            else:
                kind = type(value).__name__ if value is not None else "null"
                yield BadRow(f"{self.origin}:{number}: a line must be a JSON object of inputs, got {kind}")


class BatchProgress:
    """The aggregate progress line: bar, done / total, running, failed, runs per second, elapsed."""

    def __init__(self, counts: BatchCounts) -> None:
        self.counts = counts

    def __rich__(self) -> RenderableType:
        """Rendered afresh at each refresh from the live counts (no work per event)."""
        counts = self.counts
        now = time.monotonic()
        total = counts.total or 0
        line = Text()
        line.append(f"{counts.done}/{total} done", style="bold")
        line.append(f"  {counts.running} running", style="yellow")
        line.append(f"  {counts.failed} failed", style="red" if counts.failed else "dim")
        if counts.interrupted:
            line.append(f"  {counts.interrupted} interrupted", style="red")
        line.append(f"  {counts.rate(now):.1f} runs/s  {now - counts.started_at:.1f} s", style="dim")
        grid = Table.grid(padding=(0, 1))
        grid.add_row(ProgressBar(total=max(total, 1), completed=counts.done, width=30), line)
        return grid


def summary(counts: BatchCounts, elapsed: float) -> str:
    """One line for stderr at the end."""
    rate = counts.done / elapsed if elapsed > 0 else 0.0
    text = (
        f"batch: {counts.done} runs, {counts.succeeded} succeeded, {counts.failed} failed"
        f" in {elapsed:.1f} s ({rate:.1f} runs/s)"
    )
    if counts.interrupted:
        text += f", {counts.interrupted} interrupted"
    not_started = (counts.total or 0) - counts.done
    if not_started > 0:
        text += f", {not_started} not started"
    return text


def batch_status(counts: BatchCounts, stopped: bool) -> int:
    """0 when every row succeeded, 130 when interrupted, 1 otherwise."""
    if stopped or counts.interrupted:
        return EXIT_INTERRUPTED
    if counts.failed or counts.done < (counts.total or 0):
        return EXIT_FAILED
    return EXIT_OK


def run_batch(
    doc: str,
    workflow: str | None,
    batch_file: str,
    concurrency: int,
    flags: RunFlags,
    *,
    max_steps: int,
    timeout: float | None,
    http_timeout: float,
    seed: int | None,
    allow_remote: bool,
) -> int:
    """Everything ``spola run --batch`` does; returns the exit status."""
    from spola.drivers.tls import import_aiohttp

    import_aiohttp()  # first: the CA bundle is read at the first TLS handshake, not at start-up
    from spola.batch import Batch
    from spola.hosts import parse_patterns

    if concurrency < 1:
        raise UsageError(f"--concurrency must be at least 1, got {concurrency}")
    if batch_file == "-" and flags.inputs_file == "-":
        raise UsageError("--batch - and --inputs - both want stdin; give one of them a file")
    source = BatchFile.read(batch_file)
    document, wf = open_for_run(
        doc,
        workflow,
        allow_remote=allow_remote,
        limits=flags.load_limits(),
        allow_hosts=parse_patterns(flags.allow_hosts),
    )
    limits = {"max_steps": max_steps, "timeout": timeout, "http_timeout": http_timeout, "seed": seed}
    options = build_options(document, flags, limits)
    base = cli_args.gather_inputs(flags.inputs, flags.inputs_file, wf.inputs, os.environ)
    out = _Output([number for number, _ in source.lines])
    batch = Batch(
        document,
        wf,
        options=options,
        concurrency=concurrency,
        store_path=store_path(flags),
        insecure=flags.insecure,
        base_inputs=base,
        secrets=flags.secrets,
        on_result=out,
    )
    out.batch = batch
    started = time.monotonic()
    _drive(batch, source)
    sys.stderr.write(summary(batch.counts, time.monotonic() - started) + "\n")
    if batch.stopping and batch.store_path is not None and batch.counts.interrupted:
        sys.stderr.write("interrupted runs can be resumed one by one: spola resume RUN_ID\n")
    return batch_status(batch.counts, batch.stopping)


class _Output:
    """Writes each result as one JSON line with its batch-file line number, as it arrives.

    When the reader goes away (``spola run --batch … | head``), the batch is stopped.
    """

    def __init__(self, line_numbers: list[int]) -> None:
        self.line_numbers = line_numbers
        self.batch: Batch | None = None
        self.closed = False

    def __call__(self, index: int, result: RunResult) -> None:
        if self.closed:
            return
        data = {"line": self.line_numbers[index], **result.to_dict()}
        stream = sys.stdout  # looked up each time: a live display may have redirected it
        try:
            stream.write(to_json(data) + "\n")
            stream.flush()
        except BrokenPipeError:
            self.closed = True
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # nothing more to say, and no error at exit
            os.close(devnull)
            if self.batch is not None:
                self.batch.stop()


def _drive(batch: Batch, source: BatchFile) -> None:
    err = Console(stderr=True, highlight=False)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, batch.stop)
        try:
            work = batch.run(source.rows(), total=len(source.lines))
            if not err.is_terminal:
                await work
                return
            live = Live(
                BatchProgress(batch.counts),
                console=err,
                refresh_per_second=4,
                transient=False,
                redirect_stdout=sys.stdout.isatty(),
                redirect_stderr=False,
            )
            with live:
                await work
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    asyncio.run(main())
