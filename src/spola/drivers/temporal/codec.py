"""Encrypt every payload spola puts into Temporal: inputs, credentials, requests, responses, results.

A run's workflow argument carries its credentials (the engine builds requests in workflow code, so
it needs them) and its activities carry built requests with ``Authorization`` headers. Temporal
stores all of that in the workflow history; this codec seals each payload with AES-256-GCM before it
leaves the process, so the server (and anyone reading its database or UI) sees only ciphertext. The
client and every worker must share the key:

- ``SPOLA_TEMPORAL_KEY``: the key itself (64 hex digits or base64 of 32 bytes, or any passphrase,
  stretched with SHA-256), or
- ``SPOLA_TEMPORAL_KEY_FILE``: a file holding it, else
- ``$XDG_CONFIG_HOME/spola/temporal.key`` (``~/.config/spola/temporal.key``), created with a fresh
  random key (mode 0600) on first use — enough when client and worker share a machine; copy it to
  every machine of a fleet (or set the variable from a secret store).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from spola.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

ENCODING = b"binary/spola-aes256gcm"
KEY_ENV = "SPOLA_TEMPORAL_KEY"
KEY_FILE_ENV = "SPOLA_TEMPORAL_KEY_FILE"


def default_key_file() -> Path:
    """Where the shared key lives when no variable names it."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "spola" / "temporal.key"


def _parse_key(text: str) -> bytes:
    text = text.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == 32:
        return raw
    return hashlib.sha256(text.encode("utf-8")).digest()


def load_key() -> bytes:
    """The 32-byte key the client and the workers share (see the module docstring).

    Raises:
        UsageError: the key file named cannot be read or is empty.
    """
    if os.environ.get(KEY_ENV):
        return _parse_key(os.environ[KEY_ENV])
    named = os.environ.get(KEY_FILE_ENV)
    path = Path(named) if named else default_key_file()
    if not named and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"cannot read the Temporal payload key {path}: {exc.strerror or exc}",
            hint=f"set {KEY_ENV} or {KEY_FILE_ENV} to the key the workers use",
        ) from exc
    if not text.strip():
        raise UsageError(f"the Temporal payload key file {path} is empty")
    return _parse_key(text)


def key_id(key: bytes) -> str:
    """A short fingerprint of a key (safe to show: it does not reveal the key)."""
    return hashlib.sha256(b"spola-key-id:" + key).hexdigest()[:16]


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over each whole serialized payload; the key fingerprint rides in the metadata."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._key_id = key_id(key).encode("ascii")

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Seal each payload."""
        out = []
        for payload in payloads:
            nonce = secrets.token_bytes(12)
            sealed = self._aead.encrypt(nonce, payload.SerializeToString(), None)
            out.append(
                Payload(
                    metadata={"encoding": ENCODING, "encryption-key-id": self._key_id}, data=nonce + sealed
                )
            )
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Open each sealed payload (others pass through unchanged)."""
        out = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                out.append(payload)
                continue
            if payload.metadata.get("encryption-key-id") != self._key_id:
                raise ValueError(
                    "a Temporal payload was sealed with another spola key "
                    f"({payload.metadata.get('encryption-key-id', b'?').decode()}); "
                    f"give this process the same {KEY_ENV}"
                )
            data = payload.data
            inner = Payload()
            inner.ParseFromString(self._aead.decrypt(data[:12], data[12:], None))
            out.append(inner)
        return out


def data_converter(key: bytes | None = None) -> DataConverter:
    """The data converter spola's clients and workers use: JSON payloads, sealed; failures too."""
    return DataConverter(
        payload_codec=EncryptionCodec(key if key is not None else load_key()),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
