"""The same request object sent again (a poll's): what `send` remembers never skips a check it owes.

`send` keeps, per request object, the URL it sends to and the credential headers it carries, and
tells the hop middleware which URL it has just checked itself. These tests send one request object
several times, under different host policies and through redirects, and assert on every hop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from spola.core.actions import SendRequest
from spola.drivers import aio
from spola.exchange import REFUSED_PREFIX, HttpRequest
from spola.hosts import HostPolicy, parse_patterns
from tests.stub_server import Reply, StubServer


@pytest_asyncio.fixture(loop_scope="function")
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """One pooled session, as a batch's runs share."""
    async with aio.make_session() as client:
        yield client


def _action(request: HttpRequest) -> SendRequest:
    return SendRequest(
        call_id=1, request=request, step_path="w/s", step_id="s", attempt=1, idempotent=True, timeout=5.0
    )


async def test_the_same_request_redirected_to_a_metadata_address_is_refused_every_time(
    stub: StubServer, session: aiohttp.ClientSession
) -> None:
    stub.add("GET", "/poll", Reply(status=302, headers={"Location": "http://169.254.169.254/latest/"}))
    request = HttpRequest(method="GET", url=f"{stub.base_url}/poll")
    for _ in range(3):
        response = await aio.send(session, _action(request))
        assert response.status is None
        assert response.error is not None
        assert response.error.startswith(REFUSED_PREFIX)
        assert "metadata" in response.error
    assert len(stub.received()) == 3  # each time the first hop went out, the redirect did not


async def test_a_request_allowed_under_one_policy_is_refused_under_another(
    stub: StubServer, session: aiohttp.ClientSession
) -> None:
    stub.add("GET", "/poll", Reply(body={"ok": True}))
    request = HttpRequest(method="GET", url=f"{stub.base_url}/poll")
    allowed = HostPolicy(parse_patterns(["127.0.0.1"]))
    refusing = HostPolicy(parse_patterns(["*.example.com"]))
    for policy, expected in ((allowed, 200), (refusing, None), (allowed, 200), (refusing, None)):
        token = aio.HOSTS.set(policy)
        try:
            response = await aio.send(session, _action(request))
        finally:
            aio.HOSTS.reset(token)
        assert response.status == expected, response.error
    assert len(stub.received()) == 2


async def test_the_first_hop_is_checked_once_and_every_redirect_is_checked(
    stub: StubServer, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub.add("GET", "/poll", Reply(status=302, headers={"Location": "/landing"}))
    stub.add("GET", "/landing", Reply(body={"ok": True}))
    checked: list[str] = []
    original = HostPolicy.check_url

    def spy(self: HostPolicy, url: str) -> None:
        checked.append(url)
        original(self, url)

    monkeypatch.setattr(HostPolicy, "check_url", spy)
    request = HttpRequest(method="GET", url=f"{stub.base_url}/poll")
    for _ in range(2):
        response = await aio.send(session, _action(request))
        assert response.status == 200, response.error
    hop = [f"{stub.base_url}/poll", f"{stub.base_url}/landing"]
    assert checked == hop + hop


async def test_a_credential_is_left_behind_on_a_cross_origin_redirect_every_time(
    stub: StubServer, session: aiohttp.ClientSession
) -> None:
    other = StubServer().start()
    try:
        other.add("GET", "/landing", Reply(body={"ok": True}))
        stub.add("GET", "/poll", Reply(status=307, headers={"Location": f"{other.base_url}/landing"}))
        request = HttpRequest(
            method="GET",
            url=f"{stub.base_url}/poll",
            headers=(("X-Trace", "t-1"), ("X-Session", "s-9c1d")),
            secrets=frozenset({"s-9c1d"}),
        )
        for _ in range(3):
            response = await aio.send(session, _action(request))
            assert response.status == 200, response.error
        assert [hop.headers.get("x-session") for hop in stub.received()] == ["s-9c1d"] * 3
        landed: list[dict[str, Any]] = [dict(hop.headers) for hop in other.received()]
        assert len(landed) == 3
        for headers in landed:
            assert "x-session" not in headers, headers  # a secret by role: not a header aiohttp drops itself
            assert headers.get("x-trace") == "t-1"  # only the credential stays behind
    finally:
        other.stop()
