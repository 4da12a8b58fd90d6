"""Hosts: --allow-host bounds every request and fetch; metadata addresses are refused before connecting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

import spola
from spola.errors import DocumentError
from spola.hosts import HostPolicy, HostRefused, is_metadata_address, parse_patterns
from spola.model import load
from tests.integration.documents import HEADER, OPENAPI, write
from tests.stub_server import Reply, StubServer

GET = """
workflows:
  - workflowId: w
    steps:
      - stepId: get
        operationId: getRun
        parameters: [{name: run_id, in: query, value: 1}]
        successCriteria: [{condition: $statusCode == 200}]
"""


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host aiohttp opens a connection to (the check must come before any of them)."""
    opened: list[str] = []
    original = aiohttp.TCPConnector._create_connection

    async def spy(self: aiohttp.TCPConnector, req: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(req.url.host))
        if str(req.url.host).startswith("169.254."):
            raise AssertionError("a connection to a metadata address was attempted")
        return await original(self, req, *args, **kwargs)

    monkeypatch.setattr(aiohttp.TCPConnector, "_create_connection", spy)
    return opened


@pytest.mark.parametrize(
    "base",
    [
        "http://169.254.169.254/api",
        "http://[fd00:ec2::254]/api",
        "http://metadata.google.internal/api",
        "http://[::ffff:169.254.169.254]/api",
    ],
)
async def test_a_server_at_a_metadata_address_is_refused_before_connecting(
    base: str, tmp_path: Path, connections: list[str]
) -> None:
    result = await spola.arun(write(tmp_path, GET), servers={"jobs": base})
    assert result.status == "failed"
    assert "refused before sending" in result.error.message
    assert "metadata" in result.error.message
    assert connections == []
    assert result.steps[0].executions == 1  # a refusal is not retried


async def test_a_redirect_to_a_metadata_address_is_not_followed(
    stub: StubServer, tmp_path: Path, connections: list[str]
) -> None:
    stub.add(
        "GET", "/api/jobs/runs/get", Reply(status=302, headers={"Location": "http://169.254.169.254/latest/"})
    )
    result = await spola.arun(write(tmp_path, GET), servers={"jobs": stub.base_url + "/api"})
    assert result.status == "failed"
    assert "refused before sending" in result.error.message
    assert connections == ["127.0.0.1"]
    assert len(stub.requests) == 1


async def test_allow_host_bounds_every_request(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={}))
    doc = write(tmp_path, GET)
    refused = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"}, allow_hosts=["*.example.com"])
    assert refused.status == "failed"
    assert "not allowed by --allow-host" in refused.error.message
    assert stub.requests == []
    allowed = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"}, allow_hosts=["127.0.0.1"])
    assert allowed.succeeded, allowed.error
    wrong_port = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"}, allow_hosts=["127.0.0.1:1"])
    assert wrong_port.status == "failed"
    assert len(stub.requests) == 1


async def test_only_http_and_https_are_requested(tmp_path: Path) -> None:
    result = await spola.arun(write(tmp_path, GET), servers={"jobs": "ftp://127.0.0.1/api"})
    assert result.status == "failed"
    assert "not an http(s) URL" in result.error.message


def _remote_doc(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "flow.arazzo.yaml"
    path.write_text(HEADER.replace("./jobs.openapi.yaml", url) + GET)
    return path


def test_a_remote_source_at_a_metadata_address_is_not_fetched(tmp_path: Path) -> None:
    with pytest.raises(DocumentError) as caught:
        load(_remote_doc(tmp_path, "http://169.254.169.254/openapi.yaml"), allow_remote=True)
    assert "metadata address" in str(caught.value)


def test_a_remote_source_redirected_to_a_metadata_address_is_not_fetched(
    stub: StubServer, tmp_path: Path
) -> None:
    stub.add("GET", "/openapi.yaml", Reply(status=302, headers={"Location": "http://169.254.169.254/x"}))
    with pytest.raises(DocumentError) as caught:
        load(_remote_doc(tmp_path, stub.base_url + "/openapi.yaml"), allow_remote=True)
    assert "metadata address" in str(caught.value)
    assert len(stub.requests) == 1


def test_allow_host_bounds_remote_fetches(stub: StubServer, tmp_path: Path) -> None:
    stub.add(
        "GET", "/openapi.yaml", Reply(raw=OPENAPI.encode(), headers={"Content-Type": "application/yaml"})
    )
    doc = _remote_doc(tmp_path, stub.base_url + "/openapi.yaml")
    assert load(doc, allow_remote=True, allow_hosts=["127.0.0.1"]).workflows
    with pytest.raises(DocumentError) as caught:
        load(doc, allow_remote=True, allow_hosts=["api.example.com"])
    assert "not allowed by --allow-host" in str(caught.value)
    assert len(stub.requests) == 1


def test_the_policy() -> None:
    assert is_metadata_address("169.254.169.254")
    assert is_metadata_address("fe80::1")
    assert is_metadata_address("METADATA.google.internal.")
    assert not is_metadata_address("127.0.0.1")
    anywhere = HostPolicy()
    anywhere.check_url("https://adb-1.azuredatabricks.net/api")
    with pytest.raises(HostRefused):
        anywhere.check_url("http://169.254.169.254/")
    with pytest.raises(HostRefused):
        anywhere.check_address("innocent.example", "169.254.169.254")
    named = HostPolicy(("169.254.169.254",))
    named.check_url("http://169.254.169.254/")  # named explicitly: allowed
    wildcard = HostPolicy(("*",))
    with pytest.raises(HostRefused):
        wildcard.check_url("http://169.254.169.254/")  # a wildcard never names a metadata address
    ports = HostPolicy(("*.example.com:443",))
    ports.check_url("https://a.example.com/")
    with pytest.raises(HostRefused):
        ports.check_url("http://a.example.com/")
    with pytest.raises(HostRefused):
        ports.check_url("https://example.org/")
    assert parse_patterns(["a.example.com", "[::1]:8080"]) == ("a.example.com", "[::1]:8080")
    HostPolicy(("[::1]:8080",)).check_url("http://[::1]:8080/")
    with pytest.raises(Exception, match="not a host pattern"):
        parse_patterns(["https://a.example.com/"])


def test_a_url_allowed_by_one_policy_is_checked_again_by_another() -> None:
    # check_url remembers the URL it allowed last (a poll's, sent again and again): only for the
    # patterns that allowed it
    url = "http://other.example/api/x?run_id=1"
    HostPolicy().check_url(url)
    HostPolicy().check_url(url)  # the same verdict, remembered
    strict = HostPolicy(parse_patterns(["api.example"]))
    with pytest.raises(HostRefused):
        strict.check_url(url)
    HostPolicy().check_url(url)
    with pytest.raises(HostRefused):
        strict.check_url(url)  # and again, after the open policy allowed it once more
    with pytest.raises(HostRefused):
        HostPolicy().check_url("http://169.254.169.254/latest/meta-data")
    strict.check_url("https://api.example/ok")
    with pytest.raises(HostRefused):
        HostPolicy(parse_patterns(["x.example"])).check_url("https://api.example/ok")
