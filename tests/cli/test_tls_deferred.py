"""``spola run`` reads the CA bundle at its first TLS handshake, not at start-up, and still verifies.

A local https server with a certificate from a test CA; the CA bundle of the ``spola`` process is
that CA alone (``SSL_CERT_FILE``, which OpenSSL's default verify paths read). A run against it
succeeds (the CAs were read when the connection was made); against a server whose certificate comes
from another CA it fails to connect (still verified); ``--insecure`` connects to that one.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.stub_server import Reply, StubServer

BENCH_DOC = Path(__file__).resolve().parents[2] / "bench" / "workflows" / "spola.arazzo.yaml"


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _issue(folder: Path, label: str) -> tuple[Path, ssl.SSLContext]:
    """A CA (its PEM file) and a server context with a 127.0.0.1 certificate it signed."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(f"spola test CA {label}"))
        .issuer_name(_name(f"spola test CA {label}"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = folder / f"ca-{label}.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = folder / f"server-{label}.pem"
    chain.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(chain)
    return ca_pem, server


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, StubServer, StubServer]]:
    folder = tmp_path_factory.mktemp("tls")
    trusted_ca, trusted_context = _issue(folder, "trusted")
    _, other_context = _issue(folder, "other")
    trusted, other = StubServer(trusted_context).start(), StubServer(other_context).start()
    for stub in (trusted, other):
        stub.add("POST", "/api/2.1/jobs/run-now", Reply(body={"run_id": 3, "number_in_job": 1}))
        stub.add("GET", "/api/2.1/jobs/runs/get", Reply(body={"state": {"life_cycle_state": "TERMINATED"}}))
        stub.add("GET", "/api/2.1/jobs/runs/get-output", Reply(body={"notebook_output": {"result": "ok"}}))
    yield trusted_ca, trusted, other
    trusted.stop()
    other.stop()


def _run(ca: Path, base_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spola", "run", str(BENCH_DOC), "-i", "job_id=3", "--json", "--no-store",
         "--poll-interval", "0", "--retry-attempts", "0", "--server", f"databricksApi={base_url}/api", *extra],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "NO_COLOR": "1", "SSL_CERT_FILE": str(ca), "SSL_CERT_DIR": str(ca.parent / "none")},
    )  # fmt: skip


def test_an_https_run_verifies_with_the_ca_bundle_read_at_the_first_handshake(
    tls: tuple[Path, StubServer, StubServer],
) -> None:
    ca, trusted, _ = tls
    trusted.requests.clear()
    proc = _run(ca, trusted.base_url)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["outputs"]["notebookResult"] == "ok"
    assert [r.path for r in trusted.received()] == [
        "/api/2.1/jobs/run-now", "/api/2.1/jobs/runs/get", "/api/2.1/jobs/runs/get-output",
    ]  # fmt: skip


def test_a_certificate_from_another_ca_is_still_refused(tls: tuple[Path, StubServer, StubServer]) -> None:
    ca, _, other = tls
    other.requests.clear()
    proc = _run(ca, other.base_url)
    assert proc.returncode == 1, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "failed"
    message = result["error"]["message"]
    assert "cannot connect" in message and "certificate was not accepted" in message  # nothing was sent
    assert "operation not permitted" not in message
    assert other.received() == []
    insecure = _run(ca, other.base_url, "--insecure")
    assert insecure.returncode == 0, insecure.stderr
    assert len(other.received()) == 3


PROBE = """
import asyncio, json, sys
from spola.drivers.tls import deferred, import_aiohttp
import_aiohttp()
import aiohttp, aiohttp.connector as connector
contexts = (connector._SSL_CONTEXT_VERIFIED, connector._SSL_CONTEXT_UNVERIFIED)
before = [deferred(c) for c in contexts]
async def get(url):
    async with aiohttp.ClientSession() as session, session.get(url) as reply:
        return reply.status
asyncio.run(get(sys.argv[2]))
after_http_deferred = [deferred(c) for c in contexts]
status = asyncio.run(get(sys.argv[1]))
print(json.dumps([before, after_http_deferred, status, [deferred(c) for c in contexts],
                  contexts[0].cert_store_stats()["x509_ca"]]))
"""


def test_the_contexts_read_their_cas_only_when_a_tls_connection_is_made(
    tls: tuple[Path, StubServer, StubServer], stub: StubServer
) -> None:
    ca, trusted, _ = tls
    stub.add("GET", "/plain", Reply(body={}))
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, f"{trusted.base_url}/api/2.1/jobs/runs/get", f"{stub.base_url}/plain"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "SSL_CERT_FILE": str(ca), "SSL_CERT_DIR": str(ca.parent / "none")},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    before, after_http, status, after_https, cas = json.loads(proc.stdout)
    assert before == [True, True]
    assert after_http == [True, True]  # an http:// request reads nothing
    assert status == 200
    assert after_https == [False, True]  # the verified context read the bundle: our one CA
    assert cas == 1
