"""Records built from requests and responses: summaries, idempotency, redaction flags, JSON forms."""

from __future__ import annotations

import pytest

from spola.errors import StoreError
from spola.exchange import HttpRequest, HttpResponse
from spola.redact import REDACTED, Redactor
from spola.store import IntentRecord, ResponseRecord, iso_utc
from spola.store.records import BODY_SUMMARY_CHARS, check_status

SECRET = "s3cret-value-1234"


def _intent(request: HttpRequest, redactor: Redactor | None = None, **kw: object) -> IntentRecord:
    return IntentRecord.from_request(
        run_id="r", seq=1, step_path="wf/s", step_id="s", attempt=1, request=request, at=0.0,
        redactor=redactor or Redactor(), **kw,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.mark.parametrize(("method", "idempotent"), [("get", True), ("PUT", True), ("DELETE", True),
                                                    ("POST", False), ("PATCH", False)])  # fmt: skip
def test_idempotency_defaults_to_the_method_and_can_be_overridden(method: str, idempotent: bool) -> None:
    assert _intent(HttpRequest(method, "https://h/x")).idempotent is idempotent
    assert _intent(HttpRequest(method, "https://h/x"), idempotent=True).idempotent is True


def test_the_request_summary_keeps_redacted_headers_and_a_truncated_body() -> None:
    body = ("x" * BODY_SUMMARY_CHARS + SECRET).encode()
    record = _intent(
        HttpRequest("POST", f"https://h/x?q={SECRET}", (("Authorization", "Bearer t"), ("A", SECRET)), body,
                    secrets=frozenset({SECRET})),
    )  # fmt: skip
    assert record.method == "POST" and record.url == f"https://h/x?q={REDACTED}"
    assert record.request["headers"] == [["Authorization", REDACTED], ["A", REDACTED]]
    assert record.request["bodyBytes"] == len(body) and record.request["bodyTruncated"] is True
    assert SECRET not in record.request["body"]


def test_a_binary_request_body_is_summarised_by_size_only() -> None:
    record = _intent(HttpRequest("PUT", "https://h/blob", body=b"\xff\xfe\x00"))
    assert record.request == {"headers": [], "bodyBytes": 3, "body": None, "bodyBinary": True}


def test_a_response_body_is_kept_as_received_unless_it_echoes_a_secret() -> None:
    redactor = Redactor.of([SECRET])
    plain = ResponseRecord.from_response(
        run_id="r", seq=1, response=HttpResponse(200, (), b"\x00\x01ok"), received_at=5.0, redactor=redactor
    )
    assert (plain.body, plain.body_redacted) == (b"\x00\x01ok", False)
    echoed = ResponseRecord.from_response(
        run_id="r", seq=1, response=HttpResponse(200, (), f"[{SECRET}]".encode()), received_at=5.0,
        redactor=redactor,
    )  # fmt: skip
    assert (echoed.body, echoed.body_redacted) == (f"[{REDACTED}]".encode(), True)


def test_times_are_shown_as_utc_iso_8601_with_milliseconds() -> None:
    assert iso_utc(0.0) == "1970-01-01T00:00:00.000Z"
    assert iso_utc(1.2345) == "1970-01-01T00:00:01.234Z"
    assert iso_utc(None) is None


def test_only_known_statuses_are_accepted() -> None:
    assert check_status("interrupted") == "interrupted"
    with pytest.raises(StoreError, match="one of running, succeeded, failed, interrupted"):
        check_status("done")
