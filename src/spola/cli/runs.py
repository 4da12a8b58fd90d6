"""``spola runs``: list, show and prune journalled runs."""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from spola.errors import UsageError
from spola.store import RunStore, default_store_path

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _open(store: str | None) -> RunStore:
    return RunStore.open(store or default_store_path())


def parse_age(text: str) -> float:
    """``30d`` / ``12h`` / ``90m`` / ``45s`` / ``2w`` into seconds.

    Raises:
        UsageError: not an age.
    """
    match = _AGE.match(text)
    if not match:
        raise UsageError(f"--older-than expects an age like 30d, 12h or 90m, got {text!r}")
    return float(match.group(1)) * _UNIT[match.group(2)]


def _duration(ms: int | None) -> str:
    if ms is None:
        return "-"
    seconds = ms / 1000
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


LIST_STATUSES = ("running", "stale", "succeeded", "failed", "interrupted", "cancelled")
"""What ``spola runs --status`` selects: the stored statuses, and ``stale`` (running, owner gone)."""

_PAGE = 200


def _shown_status(db: RunStore, row: dict[str, Any]) -> str:
    """A listed run's status as shown: a ``running`` run whose owner is gone is ``stale``."""
    from spola.lease import run_state

    if row["status"] != "running":
        return str(row["status"])
    lease = db.get_lease(row["runId"])
    options = db.run_options(row["runId"]) if lease is None else {}
    return run_state("running", lease, options)


def select_runs(db: RunStore, *, limit: int, status: str | None) -> list[dict[str, Any]]:
    """Runs newest first as ``--json`` lists them, ``status`` as shown (``running`` or ``stale``).

    Raises:
        UsageError: an unknown ``status``.
    """
    from spola.store.records import check_status

    if status is not None and status not in LIST_STATUSES:
        raise UsageError(f"--status must be one of {', '.join(LIST_STATUSES)}, got {status!r}")
    if status not in ("running", "stale"):
        rows = [
            r.to_dict() for r in db.list_runs(limit=limit, status=check_status(status) if status else None)
        ]
        for row in rows:
            row["status"] = _shown_status(db, row)
        return rows
    # The store only knows 'running': page through those, keeping the ones whose owner is (or is not) alive.
    picked: list[dict[str, Any]] = []
    offset = 0
    while len(picked) < limit:
        page = db.list_runs(limit=_PAGE, status="running", offset=offset)
        if not page:
            break
        offset += len(page)
        for summary in page:
            row = summary.to_dict()
            row["status"] = _shown_status(db, row)
            if row["status"] == status:
                picked.append(row)
    return picked[:limit]


def list_runs(*, store: str | None, json_out: bool, limit: int, status: str | None) -> None:
    """Print runs newest first (a JSON array with ``--json``); ``status`` may be ``stale``."""
    with _open(store) as db:
        rows = select_runs(db, limit=limit, status=status)
    if json_out:
        sys.stdout.write(json.dumps(rows) + "\n")
        return
    console = Console(highlight=False)
    if not rows:
        console.print("no runs yet.")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("run", "workflow", "status", "started", "duration", "document"):
        table.add_column(
            col,
            overflow="fold" if col == "document" else "ellipsis",
            no_wrap=col == "run",
            min_width=max((len(r["runId"]) for r in rows), default=8) if col == "run" else None,
        )
    for row in rows:
        table.add_row(
            row["runId"],
            row["workflowId"],
            row["status"],
            row["startedAt"] or "",
            _duration(row["durationMs"]),
            row["document"],
        )
    console.print(table)


def show_run(
    run_id: str, *, store: str | None, json_out: bool, html: str | None = None, exchanges: bool = False
) -> None:
    """Print one run with its exchanges (``exchanges``: with their bodies; ``html``: write the timeline)."""
    from spola.lease import run_state

    with _open(store) as db:
        record = db.get_run(run_id)
        lease = db.get_lease(record.header.run_id)
    if html is not None:
        from spola.cli.exchanges import write_html

        write_html(record, html)
        return
    data = record.to_dict()
    data["status"] = run_state(record.status, lease, record.header.options)
    data["lease"] = None if lease is None else lease.to_dict()
    if json_out:
        sys.stdout.write(json.dumps(data, default=str) + "\n")
        return
    console = Console(highlight=False)
    console.print(f"[bold]{data['runId']}[/bold]  {data['workflowId']}  {data['status']}")
    console.print(f"document: {data['document']}", markup=False)
    console.print(f"started:  {data['startedAt']}   finished: {data['finishedAt'] or '-'}", markup=False)
    console.print(f"inputs:   {json.dumps(data['inputs'])}", markup=False)
    if data["outputs"] is not None:
        console.print(f"outputs:  {json.dumps(data['outputs'])}", markup=False)
    if data["error"]:
        console.print(f"error:    {data['error'].get('message')}", markup=False)
    if lease is not None:
        held = "held" if data["status"] == "running" else "stale"
        console.print(
            f"lease:    {held}, pid {lease.pid} on host {lease.host}, expires {data['lease']['expiresAt']}",
            markup=False,
        )
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("#", "step", "attempt", "request", "status", "elapsed"):
        table.add_column(col, overflow="fold" if col == "request" else "ellipsis")
    for ex in data["exchanges"]:
        status = (
            "in doubt" if ex["inDoubt"] else str(ex["status"] if ex["status"] is not None else ex["error"])
        )
        elapsed = f"{ex['elapsedMs']} ms" if ex["elapsedMs"] is not None else "-"
        table.add_row(
            str(ex["seq"]), ex["stepId"], str(ex["attempt"]), f"{ex['method']} {ex['url']}", status, elapsed
        )
    console.print(table)
    if exchanges:
        from spola.cli.exchanges import print_exchanges

        print_exchanges(record)


def prune_runs(older_than: str, *, store: str | None) -> None:
    """Delete finished runs older than an age and say how many."""
    seconds = parse_age(older_than)
    with _open(store) as db:
        removed = db.prune(seconds, time.time())
    Console(highlight=False).print(f"pruned {removed} run(s) older than {older_than}.")
