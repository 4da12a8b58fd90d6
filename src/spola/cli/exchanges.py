"""``spola runs show ID --exchanges`` and ``--html FILE``: what the journal kept, redacted."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spola.store.records import ExchangeRecord, RunRecord

BODY_CHARS = 4096


def _body(text: str | None, prefix: str) -> str:
    if not text:
        return ""
    with contextlib.suppress(ValueError):
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    if len(text) > BODY_CHARS:
        text = text[:BODY_CHARS] + f"… ({len(text) - BODY_CHARS} more characters)"
    return "".join(f"{prefix}{line}\n" for line in text.splitlines()) or f"{prefix}\n"


def exchange_text(exchange: ExchangeRecord) -> str:
    """One exchange as text: ``>`` request lines, ``<`` response lines (bodies redacted when journalled)."""
    head = f"#{exchange.seq} {exchange.step_path} (execution {exchange.attempt})"
    lines = [f"{head}\n", f"> {exchange.method} {exchange.url}\n"]
    request = exchange.request or {}
    for name, value in request.get("headers") or ():
        lines.append(f"> {name}: {value}\n")
    if request.get("bodyBinary"):
        lines.append(f"> ({request.get('bodyBytes')} bytes, binary)\n")
    else:
        lines.append(_body(request.get("body"), "> "))
    if exchange.in_doubt:
        lines.append("< (no response recorded: the request is in doubt)\n")
        return "".join(lines)
    took = f" ({exchange.elapsed * 1000:.0f} ms)" if exchange.elapsed is not None else ""
    if exchange.status is None:
        lines.append(f"< no response: {exchange.error}{took}\n")
    else:
        lines.append(f"< {exchange.status}{took}\n")
    for name, value in exchange.response_headers or ():
        lines.append(f"< {name}: {value}\n")
    body = exchange.response_body or b""
    try:
        lines.append(_body(body.decode(), "< "))
    except UnicodeDecodeError:
        lines.append(f"< ({len(body)} bytes, binary)\n")
    return "".join(lines)


def print_exchanges(record: RunRecord) -> None:
    """Every exchange of a run with its request and response bodies."""
    for exchange in record.exchanges:
        sys.stdout.write("\n" + exchange_text(exchange))


def write_html(record: RunRecord, path: str) -> None:
    """The HTML timeline of a journalled run."""
    from spola.reports import ReportPaths, from_store, write_reports

    write_reports(from_store(record), ReportPaths(html=path), env={})
    sys.stderr.write(f"wrote {path}\n")
