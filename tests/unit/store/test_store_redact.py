"""Redactor: credential headers, secret values in every encoding, URLs, values, inputs (by role, never\nby name: see tests/robustness/test_secrets_by_role.py for what makes a value secret)."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from spola.redact import REDACTED, Redactor, is_credential_header, secret_values

TOKEN = "tok-3f9a1c77/e5b2+4d0d"


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "Proxy-Authorization",
        "Cookie",
        "Set-Cookie",
        "X-Api-Key",
        "api-key",
        "X-Auth-Token",
        "Private-Token",
        "X-Vault-Token",
        "X-Client-Secret",
        "X-Session-Id",
    ],
)
def test_credential_headers_are_credentials_by_their_role(name: str) -> None:
    assert is_credential_header(name)


@pytest.mark.parametrize(
    "name", ["Accept", "WWW-Authenticate", "Idempotency-Key", "content-type", "X-Request-Id", "X-Tokens-Left"]
)
def test_other_headers_are_not(name: str) -> None:
    assert not is_credential_header(name)


def test_secret_values_are_collected_deeply() -> None:
    assert secret_values({"pat": "abc", "nested": {"a": ["x", 5]}}, ["pat", "nested", "missing"]) == {
        "abc",
        "x",
        "5",
    }


def test_every_encoding_of_a_secret_is_replaced_in_text() -> None:
    r = Redactor.of([TOKEN])
    for form in (TOKEN, quote(TOKEN, safe=""), json.dumps(TOKEN)[1:-1]):
        assert r.redact_text(f"before {form} after") == f"before {REDACTED} after"
    for prefix in ("", "u:", "us:", "use:"):
        encoded = base64.b64encode(f"{prefix}{TOKEN}".encode()).decode()
        assert TOKEN[4:10] not in base64.b64decode(_strip(r.redact_text(encoded))).decode(errors="replace")


def _strip(text: str) -> str:
    """Base64 text with the marker cut out, padded back to decodable length."""
    text = text.replace(REDACTED, "")
    return text + "=" * (-len(text) % 4)


def test_basic_auth_credentials_protect_the_pair_and_the_password() -> None:
    r = Redactor.of(["alice:" + TOKEN])
    pair = base64.b64encode(f"alice:{TOKEN}".encode()).decode()
    assert r.redact_text(f"Basic {pair}") == f"Basic {REDACTED}"
    assert r.redact_text(f"pw={TOKEN}") == f"pw={REDACTED}"
    assert Redactor.of(["Bearer " + TOKEN]).redact_text(TOKEN) == REDACTED


def test_short_secrets_are_only_redacted_when_a_whole_value_equals_them() -> None:
    r = Redactor.of(["abc"])
    assert r.redact_text("abcdef") == "abcdef"
    assert r.redact_text("abc") == REDACTED
    assert r.redact_value({"code": "abc", "other": "xabc"}) == {"code": REDACTED, "other": "xabc"}


def test_headers_with_credential_names_are_withheld_whatever_their_value() -> None:
    r = Redactor.of([TOKEN])
    pairs = [
        ("Authorization", "Basic Zm9vOmJhcg=="),
        ("Cookie", "a=b"),
        ("X-Api-Key", "k"),
        ("Accept", "application/json"),
        ("X-Echo", f"v={TOKEN}"),
        ("X-Databricks-Token", "z"),
    ]
    assert r.redact_headers(pairs) == [
        ("Authorization", REDACTED),
        ("Cookie", REDACTED),
        ("X-Api-Key", REDACTED),
        ("Accept", "application/json"),
        ("X-Echo", f"v={REDACTED}"),
        ("X-Databricks-Token", REDACTED),
    ]


def test_urls_lose_passwords_secret_query_values_and_secret_path_segments() -> None:
    r = Redactor.of([TOKEN])
    url = f"https://bob:pw@h.example/a/{quote(TOKEN, safe='')}/b?api_key={TOKEN}&q={TOKEN}&page=2#top"
    assert (
        r.redact_url(url)
        == f"https://bob:{REDACTED}@h.example/a/{REDACTED}/b?api_key={REDACTED}&q={REDACTED}&page=2#top"
    )
    # a value is withheld because it is a known secret, not because of the name it goes under
    assert r.redact_url("https://h.example/runs?idempotency_token=run-42") == (
        "https://h.example/runs?idempotency_token=run-42"
    )
    assert r.redact_url("/relative?x=1") == "/relative?x=1"


def test_values_are_redacted_deeply_by_value_never_by_key() -> None:
    r = Redactor.of([TOKEN])
    value = {
        "job": {"id": 1, "password": 1234, "note": f"t={TOKEN}"},
        "items": [TOKEN, ("x", TOKEN)],
        "auth": {"user": "bob", "pass": "pw"},
        "token": None,
        "secretSet": True,
    }
    assert r.redact_value(value) == {
        "job": {"id": 1, "password": 1234, "note": f"t={REDACTED}"},
        "items": [REDACTED, ("x", REDACTED)],
        "auth": {"user": "bob", "pass": "pw"},
        "token": None,
        "secretSet": True,
    }


def test_inputs_named_secret_are_withheld_and_the_rest_scrubbed() -> None:
    r = Redactor.of([TOKEN])
    assert r.redact_inputs({"pat": "anything", "jobId": 7, "note": TOKEN}, {"pat"}) == {
        "pat": REDACTED,
        "jobId": 7,
        "note": REDACTED,
    }


def test_a_redactor_can_learn_a_requests_own_secrets() -> None:
    r = Redactor()
    assert r.redact_text(TOKEN) == TOKEN
    assert r.with_secrets(frozenset({TOKEN})).redact_text(TOKEN) == REDACTED
    assert r.with_secrets(()) is r
    assert Redactor.of([TOKEN]).redact_bytes(f"x{TOKEN}y".encode()) == f"x{REDACTED}y".encode()
