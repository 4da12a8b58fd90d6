"""What the run store keeps: frozen, JSON-friendly records, redacted when built.

Records never hold a secret: the ``from_…`` constructors take a `Redactor` and apply it, so a
driver builds a record straight from an `HttpRequest` / `HttpResponse`. The one raw field is
`ResponseRecord.body`, kept as received because resuming replays it into the engine; even there
known secret values are replaced (and ``body_redacted`` says so), trading exact replay of a
response that echoes a credential for never writing a credential to disk.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, get_args

from msgspec import Struct, field

from spola.errors import StoreError
from spola.exchange import HttpResponse
from spola.redact import REDACTED, is_credential_header

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from spola.exchange import HttpRequest
    from spola.redact import Redactor

__all__ = [
    "IDEMPOTENT_METHODS",
    "RUN_STATUSES",
    "EventRecord",
    "ExchangeRecord",
    "IntentRecord",
    "LeaseRecord",
    "ResponseRecord",
    "RunHeader",
    "RunRecord",
    "RunStatus",
    "RunSummary",
    "ExchangeRow",
    "check_status",
    "exchange_row",
    "iso_utc",
    "request_summary",
]

RunStatus = Literal["running", "succeeded", "failed", "interrupted", "cancelled"]
RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
"""Methods RFC 9110 calls idempotent: a request with one of them may be sent again after a crash."""

BODY_SUMMARY_CHARS = 8192
"""How much of a request body (redacted) the journal keeps for `spola runs show`."""


def iso_utc(timestamp: float | None) -> str | None:
    """Seconds since the epoch as ISO 8601 UTC with milliseconds (``2024-05-01T12:00:00.000Z``)."""
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _millis(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def check_status(status: str) -> RunStatus:
    """``status`` as a `RunStatus`, or StoreError naming the allowed ones."""
    for known in RUN_STATUSES:
        if status == known:
            return known
    raise StoreError(f"unknown run status {status!r} (one of {', '.join(RUN_STATUSES)})")


class RunHeader(Struct, frozen=True):
    """A run as started: everything (but secrets) needed to rebuild its engine on resume.

    ``inputs`` are redacted; ``secret_inputs`` names the inputs withheld, which a resume must be
    given again. ``options`` holds servers, server variables, poll interval, limits, seed and the
    *names* of auth sources, never their values.
    """

    run_id: str
    workflow_id: str
    document: str
    document_sha256: str
    inputs: Mapping[str, Any]
    secret_inputs: tuple[str, ...]
    options: Mapping[str, Any]
    started_at: float

    def __post_init__(self) -> None:
        if not self.run_id:
            raise StoreError("a run needs a non-empty run id")

    @classmethod
    def start(
        cls,
        *,
        run_id: str,
        workflow_id: str,
        document: str,
        document_sha256: str,
        inputs: Mapping[str, Any],
        secret_inputs: Iterable[str],
        options: Mapping[str, Any],
        started_at: float,
        redactor: Redactor,
    ) -> RunHeader:
        """A header with inputs and options passed through ``redactor`` (secret inputs withheld).

        Options are redacted by value and by key, so keep auth source names in a list
        (``{"authSources": ["databricks"]}``): a credential-like key with a string value is withheld.
        """
        secret_inputs = set(secret_inputs)
        return cls(
            run_id=run_id,
            workflow_id=workflow_id,
            document=document,
            document_sha256=document_sha256,
            inputs=redactor.redact_inputs(inputs, secret_inputs),
            secret_inputs=tuple(sorted(secret_inputs)),
            options=redactor.redact_value(dict(options)),
            started_at=started_at,
        )


class IntentRecord(Struct, frozen=True):
    """A request about to be sent, written (and committed) before it goes out.

    ``seq`` is the engine's call id; ``step_path`` locates the step, nested workflows joined by
    ``>`` (``"outer/step>inner/step"``); ``idempotent`` says whether sending it again is safe.
    ``request`` is a redacted summary: headers, body text (truncated) and sizes.
    """

    run_id: str
    seq: int
    step_path: str
    step_id: str
    attempt: int
    method: str
    url: str
    request: Mapping[str, Any]
    idempotent: bool
    at: float

    @classmethod
    def from_request(
        cls,
        *,
        run_id: str,
        seq: int,
        step_path: str,
        step_id: str,
        attempt: int,
        request: HttpRequest,
        at: float,
        redactor: Redactor,
        idempotent: bool | None = None,
    ) -> IntentRecord:
        """An intent for ``request``; ``idempotent`` defaults to whether its method is idempotent."""
        redact = redactor.with_secrets(request.secrets)
        method = request.method.upper()
        return cls(
            run_id=run_id,
            seq=seq,
            step_path=step_path,
            step_id=step_id,
            attempt=attempt,
            method=method,
            url=redact.redact_url(request.url),
            request=_request_summary(request, redact),
            idempotent=method in IDEMPOTENT_METHODS if idempotent is None else idempotent,
            at=at,
        )


def _request_summary(request: HttpRequest, redactor: Redactor) -> dict[str, Any]:
    body = None if request.body is None else redactor.redact_bytes(request.body)
    size = None if request.body is None else len(request.body)
    return request_summary(redactor.redact_headers(request.headers), body, size)


def request_summary(
    headers: Iterable[tuple[str, str]], body: bytes | None, size: int | None
) -> dict[str, Any]:
    """The stored summary of a request from its *already redacted* headers and body."""
    summary: dict[str, Any] = {"headers": [list(pair) for pair in headers]}
    if body is not None:
        summary["bodyBytes"] = size
        try:
            text = body.decode()
        except UnicodeDecodeError:
            summary["body"] = None
            summary["bodyBinary"] = True
        else:
            summary["body"] = text[:BODY_SUMMARY_CHARS]
            summary["bodyTruncated"] = len(text) > BODY_SUMMARY_CHARS
    return summary


ExchangeRow = tuple[Any, ...]
"""A whole answered exchange (intent and response) as one compact row, redacted; see `exchange_row`."""


def exchange_row(
    *,
    run_id: str,
    seq: int,
    step_path: str,
    step_id: str,
    attempt: int,
    request: HttpRequest,
    idempotent: bool,
    intent_at: float,
    response: HttpResponse,
    received_at: float,
    redactor: Redactor,
) -> ExchangeRow:
    """An answered exchange as the row `RunStore.record_exchanges` writes: redacted here, on the
    loop's side, and JSON-encoded by the writer. Only the stored bytes are redacted: headers,
    URL, bodies and the error text; nothing else is built per exchange."""
    if not request.secrets and not redactor.secrets:
        # No secret anywhere (the common case): what the redactor would give, without it. Only
        # credential headers and a URL's userinfo password are withheld; nothing else can change.
        url = request.url
        return (
            run_id, seq, step_path, step_id, attempt, request.method.upper(),
            redactor.redact_url(url) if "@" in url else url, _plain_headers(request.headers),
            request.body, None if request.body is None else len(request.body), idempotent, intent_at,
            response.status, _plain_headers(response.headers), response.body, False,
            response.error, response.elapsed, received_at,
        )  # fmt: skip
    redact = redactor.with_secrets(request.secrets) if request.secrets else redactor
    request_body = None if request.body is None else redact.redact_bytes(request.body)
    body = redactor.redact_bytes(response.body)
    return (
        run_id, seq, step_path, step_id, attempt, request.method.upper(), redact.redact_url(request.url),
        redact.redact_headers(request.headers), request_body,
        None if request.body is None else len(request.body), idempotent, intent_at,
        response.status, redactor.redact_headers(response.headers), body, body is not response.body
        and body != response.body, None if response.error is None else redactor.redact_text(response.error),
        response.elapsed, received_at,
    )  # fmt: skip


_CLEAN_HEADERS_KEPT = 256
"""How many distinct header lists without a credential header `_plain_headers` remembers (a poll
sends the same request and gets the same headers each time); then it starts over."""

_clean_headers: set[tuple[tuple[str, str], ...]] = set()
"""Header lists known to hold no credential header: nothing to withhold. One with a credential is
never kept (the raw value stays out of this module)."""


def _plain_headers(pairs: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """`Redactor.redact_headers` of a redactor with no secrets: credential headers withheld, the
    other values as they are."""
    if pairs in _clean_headers:
        return list(pairs)
    plain = [(name, REDACTED) if is_credential_header(name) else (name, value) for name, value in pairs]
    if plain == list(pairs):
        if len(_clean_headers) >= _CLEAN_HEADERS_KEPT:
            _clean_headers.clear()
        _clean_headers.add(pairs)
    return plain


class ResponseRecord(Struct, frozen=True, gc=False):
    """What came back for intent ``seq`` and the ``received_at`` (the engine's ``now``) it came at.

    ``status`` is None and ``error`` set when the transport failed. ``outputs`` optionally keeps
    the step's outputs (redacted) for display.
    """

    run_id: str
    seq: int
    status: int | None
    headers: tuple[tuple[str, str], ...]
    body: bytes
    error: str | None
    elapsed: float
    received_at: float
    body_redacted: bool = False
    outputs: Mapping[str, Any] | None = None

    @classmethod
    def from_response(
        cls,
        *,
        run_id: str,
        seq: int,
        response: HttpResponse,
        received_at: float,
        redactor: Redactor,
        outputs: Mapping[str, Any] | None = None,
    ) -> ResponseRecord:
        """A response record with headers, error and outputs redacted and secrets cut from the body."""
        body = redactor.redact_bytes(response.body)
        return cls(
            run_id=run_id,
            seq=seq,
            status=response.status,
            headers=tuple(redactor.redact_headers(response.headers)),
            body=body,
            error=None if response.error is None else redactor.redact_text(response.error),
            elapsed=response.elapsed,
            received_at=received_at,
            body_redacted=body != response.body,
            outputs=None if outputs is None else redactor.redact_value(dict(outputs)),
        )


class EventRecord(Struct, frozen=True):
    """Something worth showing that is not an exchange: a wait, a step outcome, a resume.

    ``data`` must already be redacted (`Redactor.redact_value`); ``seq`` links it to an exchange.
    """

    run_id: str
    kind: str
    at: float
    data: Mapping[str, Any] = field(default_factory=dict)
    seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form for ``spola runs show --json``."""
        return {"kind": self.kind, "at": iso_utc(self.at), "seq": self.seq, "data": dict(self.data)}


class ExchangeRecord(Struct, frozen=True):
    """One journalled exchange: its intent and, unless it is in doubt, its response."""

    seq: int
    step_path: str
    step_id: str
    attempt: int
    method: str
    url: str
    request: Mapping[str, Any]
    idempotent: bool
    sends: int
    intent_at: float
    status: int | None
    response_headers: tuple[tuple[str, str], ...] | None
    response_body: bytes | None
    body_redacted: bool
    error: str | None
    elapsed: float | None
    received_at: float | None
    outputs: Mapping[str, Any] | None

    @property
    def in_doubt(self) -> bool:
        """The request may have gone out but no response was recorded."""
        return self.received_at is None

    def to_response(self) -> HttpResponse | None:
        """The response to replay into the engine (at ``received_at``), or None when in doubt."""
        if self.received_at is None:
            return None
        return HttpResponse(
            status=self.status,
            headers=self.response_headers or (),
            body=self.response_body or b"",
            error=self.error,
            elapsed=self.elapsed or 0.0,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form for ``spola runs show --json`` (no bodies)."""
        return {
            "seq": self.seq,
            "stepPath": self.step_path,
            "stepId": self.step_id,
            "attempt": self.attempt,
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "elapsedMs": _millis(self.elapsed),
            "error": self.error,
            "idempotent": self.idempotent,
            "sends": self.sends,
            "intentAt": iso_utc(self.intent_at),
            "receivedAt": iso_utc(self.received_at),
            "inDoubt": self.in_doubt,
        }


def _duration_ms(started_at: float, finished_at: float | None) -> int | None:
    if finished_at is None or not math.isfinite(finished_at):
        return None
    return _millis(finished_at - started_at)


class RunSummary(Struct, frozen=True):
    """One line of ``spola runs``."""

    run_id: str
    workflow_id: str
    document: str
    status: RunStatus
    started_at: float
    finished_at: float | None
    updated_at: float

    def to_dict(self) -> dict[str, Any]:
        """JSON form for ``spola runs --json``."""
        return {
            "runId": self.run_id,
            "workflowId": self.workflow_id,
            "document": self.document,
            "status": self.status,
            "startedAt": iso_utc(self.started_at),
            "finishedAt": iso_utc(self.finished_at),
            "durationMs": _duration_ms(self.started_at, self.finished_at),
        }


class RunRecord(Struct, frozen=True):
    """A run in full: header, state, exchanges ordered by seq and events in order."""

    header: RunHeader
    status: RunStatus
    outputs: Mapping[str, Any] | None
    error: Mapping[str, Any] | None
    finished_at: float | None
    updated_at: float
    exchanges: tuple[ExchangeRecord, ...] = ()
    events: tuple[EventRecord, ...] = ()

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.header.run_id

    @property
    def in_doubt(self) -> tuple[ExchangeRecord, ...]:
        """Exchanges whose request may have gone out without a recorded response."""
        return tuple(exchange for exchange in self.exchanges if exchange.in_doubt)

    def summary(self) -> RunSummary:
        """This run as a `RunSummary`."""
        head = self.header
        return RunSummary(
            head.run_id, head.workflow_id, head.document, self.status, head.started_at,
            self.finished_at, self.updated_at,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """JSON form for ``spola runs show --json``."""
        head = self.header
        return {
            **self.summary().to_dict(),
            "documentSha256": head.document_sha256,
            "inputs": dict(head.inputs),
            "secretInputs": list(head.secret_inputs),
            "options": dict(head.options),
            "outputs": None if self.outputs is None else dict(self.outputs),
            "error": None if self.error is None else dict(self.error),
            "updatedAt": iso_utc(self.updated_at),
            "exchanges": [exchange.to_dict() for exchange in self.exchanges],
            "events": [event.to_dict() for event in self.events],
        }


class LeaseRecord(Struct, frozen=True):
    """Who drives a run: an owner (one uuid per driving process) on a host, until ``expires_at``."""

    run_id: str
    owner: str
    host: str
    pid: int
    acquired_at: float
    expires_at: float

    def to_dict(self) -> dict[str, Any]:
        """JSON form for ``spola runs show --json``."""
        return {
            "owner": self.owner,
            "host": self.host,
            "pid": self.pid,
            "acquiredAt": iso_utc(self.acquired_at),
            "expiresAt": iso_utc(self.expires_at),
        }
