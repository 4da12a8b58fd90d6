"""The journal's fast paths for answered safe exchanges give what the general paths give.

- `exchange_row` with no secret anywhere skips the redactor: the row must equal the one the redactor
  builds (credential headers and URL passwords are still withheld).
- `exchange_row` remembers header lists without a credential header (nothing to withhold): never one
  with a credential, within a bound, and each row gets a list of its own.
- `RunStore.record_exchanges` keeps encoded request summaries and header lists, binds bodies as
  bytearrays and writes a literal NULL error when no row has one: every exchange must read back as
  the same exchange written through `record_intent` + `record_response` (the general path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import given, settings
from hypothesis import strategies as st

from spola.exchange import HttpRequest, HttpResponse
from spola.redact import REDACTED, Redactor
from spola.store import IntentRecord, ResponseRecord, RunStore, exchange_row
from spola.store import records as store_records
from spola.store import sqlite as store_sqlite

from .conftest import T0, make_header

if TYPE_CHECKING:
    from pathlib import Path


def _general_row(request: HttpRequest, response: HttpResponse, redactor: Redactor) -> tuple[Any, ...]:
    """The row as the redactor builds it: what `exchange_row` gave before its fast path."""
    redact = redactor.with_secrets(request.secrets) if request.secrets else redactor
    request_body = None if request.body is None else redact.redact_bytes(request.body)
    body = redactor.redact_bytes(response.body)
    return (
        "run-1", 3, "w/poll", "poll", 1, request.method.upper(), redact.redact_url(request.url),
        redact.redact_headers(request.headers), request_body,
        None if request.body is None else len(request.body), True, T0,
        response.status, redactor.redact_headers(response.headers), body, body is not response.body
        and body != response.body, None if response.error is None else redactor.redact_text(response.error),
        response.elapsed, T0 + 1,
    )  # fmt: skip


def _row(request: HttpRequest, response: HttpResponse, redactor: Redactor) -> tuple[Any, ...]:
    return exchange_row(
        run_id="run-1", seq=3, step_path="w/poll", step_id="poll", attempt=1, request=request,
        idempotent=True, intent_at=T0, response=response, received_at=T0 + 1, redactor=redactor,
    )  # fmt: skip


_URLS = [
    "http://api.test/runs?run_id=1",
    "https://user:pa55word@api.test/runs/get?run_id=1#frag",
    "https://user@api.test/a%20b/c?x=%41&y&z=1+2",
    "http://api.test/",
]
_HEADERS = [
    (),
    (("Authorization", "Bearer abc123"), ("Accept", "application/json")),
    (("X-API-Key", "k3y"), ("Cookie", "a=b"), ("X-Trace", "1")),
]


def test_a_row_without_secrets_equals_the_redacted_row_and_withholds_credentials() -> None:
    redactor = Redactor.of()
    for url in _URLS:
        for headers in _HEADERS:
            for body in (None, b"", b'{"job_id": 1}', b"\xff\xfe"):
                request = HttpRequest("get", url, headers=headers, body=body)
                for response in (
                    HttpResponse(200, (("Set-Cookie", "s=1"), ("Content-Length", "2")), b"{}", elapsed=0.5),
                    HttpResponse(None, error="connection refused", elapsed=0.1),
                ):
                    row = _row(request, response, redactor)
                    assert row == _general_row(request, response, redactor)
                    assert "pa55word" not in row[6]
                    assert all(
                        value == REDACTED for name, value in row[7] if name not in ("Accept", "X-Trace")
                    )
                    assert all(value != REDACTED for name, value in row[7] if name in ("Accept", "X-Trace"))
                    assert response.status is None or row[13][0] == ("Set-Cookie", REDACTED)


@settings(max_examples=300, deadline=None)
@given(
    url=st.text(st.sampled_from("htps:/@a.b?&=#%+-_~0123456789AF "), max_size=40),
    headers=st.lists(
        st.tuples(
            st.sampled_from(["Authorization", "Accept", "X-Auth-Token", "Api-Key", "X"]), st.text(max_size=8)
        ),
        max_size=3,
    ),
    body=st.none() | st.binary(max_size=20),
    error=st.none() | st.text(max_size=10),
)
def test_the_fast_row_equals_the_redacted_row_for_any_url_and_headers(
    url: str, headers: list[tuple[str, str]], body: bytes | None, error: str | None
) -> None:
    redactor = Redactor.of()
    request = HttpRequest("POST", url, headers=tuple(headers), body=body)
    response = HttpResponse(None if error else 200, tuple(headers), body or b"", error=error)
    assert _row(request, response, redactor) == _general_row(request, response, redactor)


def test_a_run_with_secrets_still_redacts_them_from_the_row() -> None:
    redactor = Redactor.of(["s3cr3tvalue"])
    request = HttpRequest("GET", "http://api.test/x?token=s3cr3tvalue", body=b"s3cr3tvalue")
    response = HttpResponse(200, (("X-Echo", "s3cr3tvalue"),), b'{"t": "s3cr3tvalue"}', error=None)
    row = _row(request, response, redactor)
    assert "s3cr3tvalue" not in repr(row)
    assert row[15] is True  # the body was redacted
    secret_request = HttpRequest("GET", "http://api.test/x?k=reqs3cret", secrets=frozenset({"reqs3cret"}))
    assert "reqs3cret" not in repr(_row(secret_request, response, Redactor.of()))


def test_header_lists_without_credentials_are_remembered_and_credentials_still_withheld() -> None:
    redactor = Redactor.of()
    clean = (("Accept", "application/json"), ("X-Trace", "1"))
    credential = (("Authorization", "Bearer t0ps3cret"), ("Accept", "application/json"))
    response = HttpResponse(200, (("Set-Cookie", "s=t0ps3cret"), ("Content-Length", "2")), b"{}")
    for _ in range(3):
        for headers in (clean, credential):
            # equal header lists, new tuples each time (as a driver builds them)
            request = HttpRequest("GET", "http://api.test/x", headers=tuple(tuple(pair) for pair in headers))
            row = _row(request, response, redactor)
            assert row == _general_row(request, response, redactor)
            assert "t0ps3cret" not in repr(row)
    assert clean in store_records._clean_headers
    assert not any("t0ps3cret" in repr(pairs) for pairs in store_records._clean_headers)
    first, second = (
        _row(HttpRequest("GET", "http://api.test/x", headers=clean), response, redactor) for _ in "ab"
    )
    assert first[7] == second[7] == list(clean) and first[7] is not second[7]
    for n in range(2 * store_records._CLEAN_HEADERS_KEPT + 5):
        _row(HttpRequest("GET", "http://api.test/x", headers=(("X-N", str(n)),)), response, redactor)
    assert len(store_records._clean_headers) <= store_records._CLEAN_HEADERS_KEPT


def _exchanges(store: RunStore) -> list[Any]:
    return list(store.get_run("run-1").exchanges)


def _pairs(count: int) -> list[tuple[HttpRequest, HttpResponse]]:
    pairs = []
    for seq in range(count):
        headers = (("Content-Type", "application/json"), ("Content-Length", str(seq % 7)))
        request = HttpRequest(
            "PUT" if seq % 5 == 0 else "GET",
            f"http://api.test/runs?run_id={seq % 3}",
            headers=(("Accept", "application/json"),) if seq % 2 else (),
            body=b'{"n": %d}' % seq if seq % 5 == 0 else None,
        )
        if seq % 11 == 4:
            response = HttpResponse(None, error=f"reset {seq}", elapsed=0.25)
        elif seq % 13 == 6:
            response = HttpResponse(204, headers, b"", elapsed=0.5)
        else:
            response = HttpResponse(200, headers, b"\x00\xff" + str(seq).encode(), elapsed=seq / 8)
        pairs.append((request, response))
    return pairs


def _write_general(store: RunStore, pairs: list[tuple[HttpRequest, HttpResponse]]) -> None:
    redactor = Redactor.of()
    with store.transaction():
        for seq, (request, response) in enumerate(pairs, start=1):
            store.record_intent(
                IntentRecord.from_request(
                    run_id="run-1", seq=seq, step_path="w/poll", step_id="poll", attempt=seq, request=request,
                    at=T0 + seq, redactor=redactor, idempotent=True,
                )
            )  # fmt: skip
            store.record_response(
                ResponseRecord.from_response(
                    run_id="run-1", seq=seq, response=response, received_at=T0 + seq + 0.5, redactor=redactor
                )
            )


def _write_rows(store: RunStore, pairs: list[tuple[HttpRequest, HttpResponse]], group: int) -> None:
    rows = [
        exchange_row(
            run_id="run-1",
            seq=seq,
            step_path="w/poll",
            step_id="poll",
            attempt=seq,
            request=request,
            idempotent=True,
            intent_at=T0 + seq,
            response=response,
            received_at=T0 + seq + 0.5,
            redactor=Redactor.of(),
        )  # fmt: skip
        for seq, (request, response) in enumerate(pairs, start=1)
    ]
    with store.transaction():
        for start in range(0, len(rows), group):
            store.record_exchanges(rows[start : start + group])


def test_whole_rows_read_back_as_the_same_exchanges_as_intent_and_response(tmp_path: Path) -> None:
    pairs = _pairs(60)
    with RunStore.open(tmp_path / "general.db") as general:
        general.create_run(make_header())
        _write_general(general, pairs)
        expected = _exchanges(general)
    # groups with and without a transport error (the literal-NULL statement and the general one)
    for group in (1, 3, 60):
        with RunStore.open(tmp_path / f"rows-{group}.db") as fast:
            fast.create_run(make_header())
            _write_rows(fast, pairs, group)
            assert _exchanges(fast) == expected
    errors = [x for x in expected if x.error is not None]
    empty = [x for x in expected if x.status == 204]
    assert errors and all(x.status is None for x in errors)
    assert empty and all(x.response_body == b"" and type(x.response_body) is bytes for x in empty)


def test_the_encoded_summaries_are_forgotten_past_their_bound_and_stay_right(tmp_path: Path) -> None:
    count = 2 * store_sqlite._ENCODED_CACHE + 5
    pairs = [
        (
            HttpRequest("GET", "http://api.test/x", headers=(("X-N", str(seq)),)),
            HttpResponse(200, (("X-N", str(seq)),), b"{}"),
        )
        for seq in range(count)
    ]
    with RunStore.open(tmp_path / "general.db") as general:
        general.create_run(make_header())
        _write_general(general, pairs)
        expected = _exchanges(general)
    with RunStore.open(tmp_path / "rows.db") as fast:
        fast.create_run(make_header())
        _write_rows(fast, pairs, 10)
        assert len(fast._headers_json) <= store_sqlite._ENCODED_CACHE + 10
        assert _exchanges(fast) == expected
