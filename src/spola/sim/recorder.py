"""The request log: what each simulator received, in arrival order, with counters per endpoint key.

Tests use it to assert "run-now was called exactly once" or "runs/get was called N times"; the
`GET /_sim/requests` admin endpoint serves the same data as JSON. Credentials never enter the log:
`Authorization` keeps only its scheme (`Bearer <redacted>`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["RecordedRequest", "RequestLog", "redact_headers"]

_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased headers with credentials replaced by `<redacted>` (an auth scheme word is kept)."""
    clean: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in _SECRET_HEADERS:
            scheme, _, rest = value.partition(" ")
            clean[lowered] = f"{scheme} <redacted>" if rest else "<redacted>"
        else:
            clean[lowered] = value
    return clean


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as received, plus how it was answered."""

    seq: int
    at: float
    vendor: str
    key: str
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: Any
    status: int | None
    fault: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "seq": self.seq,
            "at": round(self.at, 6),
            "vendor": self.vendor,
            "key": self.key,
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "headers": dict(self.headers),
            "body": self.body,
            "status": self.status,
            "fault": self.fault,
        }


class RequestLog:
    """Thread-safe, append-only (until `clear`) log of recorded requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[RecordedRequest] = []
        self._next_seq = 1

    def next_seq(self) -> int:
        """Reserve the arrival number of a request that has just come in."""
        with self._lock:
            seq = self._next_seq
            self._next_seq += 1
            return seq

    def add(self, entry: RecordedRequest) -> None:
        """Store a finished request."""
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        """Forget everything recorded so far (arrival numbers keep increasing)."""
        with self._lock:
            self._entries.clear()

    def requests(self, key: str | None = None, method: str | None = None) -> list[RecordedRequest]:
        """Recorded requests in arrival order, optionally only those of one endpoint key and/or method."""
        with self._lock:
            entries = sorted(self._entries, key=lambda e: e.seq)
        return [
            e
            for e in entries
            if (key is None or e.key == key) and (method is None or e.method == method.upper())
        ]

    def count(self, key: str, method: str | None = None) -> int:
        """How many requests for endpoint `key` (and `method`, if given) arrived, faulted ones included."""
        return len(self.requests(key, method))

    def counts(self) -> dict[str, dict[str, int]]:
        """`{endpoint key: {method: number of requests}}`."""
        table: dict[str, dict[str, int]] = {}
        for entry in self.requests():
            per_method = table.setdefault(entry.key, {})
            per_method[entry.method] = per_method.get(entry.method, 0) + 1
        return table

    def to_json(self, key: str | None = None, method: str | None = None) -> dict[str, Any]:
        """The `GET /_sim/requests` document."""
        entries = self.requests(key, method)
        return {
            "total": len(entries),
            "counts": self.counts(),
            "requests": [e.to_json() for e in entries],
        }
