"""Reading command-line values: ``NAME=VALUE`` pairs, ``env:VAR`` credentials, inputs files."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spola.core.inputs import coerce_text, read_inputs_file
from spola.errors import InputError, UsageError
from spola.options import Credential

if TYPE_CHECKING:
    from collections.abc import Iterable


def split_pair(text: str, flag: str, example: str) -> tuple[str, str]:
    """Split ``NAME=VALUE`` at the first ``=``.

    Raises:
        UsageError: no ``=`` or an empty name.
    """
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise UsageError(f"{flag} expects NAME=VALUE, got {text!r}", hint=f"For example: {flag} {example}")
    return name.strip(), value


def read_secret(value: str, flag: str, env: Mapping[str, str] = os.environ) -> str:
    """A credential value, reading ``env:VAR`` from the environment.

    Raises:
        UsageError: the variable is not set.
    """
    if value.startswith("env:"):
        var = value[4:]
        if var not in env:
            raise UsageError(f"{flag} refers to the environment variable {var}, which is not set")
        return env[var]
    return value


def parse_credentials(values: Iterable[str], env: Mapping[str, str] = os.environ) -> tuple[Credential, ...]:
    """``--auth SOURCE=VALUE`` or ``SOURCE.SCHEME=VALUE`` into credentials."""
    creds = []
    for text in values:
        key, value = split_pair(text, "--auth", "databricksApi=env:DATABRICKS_TOKEN")
        source, _, scheme = key.partition(".")
        creds.append(Credential(source, scheme or None, read_secret(value, "--auth", env)))
    return tuple(creds)


def parse_servers(values: Iterable[str]) -> dict[str, str]:
    """``--server NAME=URL`` pairs."""
    servers = {}
    for text in values:
        name, url = split_pair(text, "--server", "databricksApi=http://127.0.0.1:8080/api")
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--server {name}: {url!r} is not an http(s) URL")
        servers[name] = url.rstrip("/")
    return servers


def parse_server_vars(values: Iterable[str]) -> dict[tuple[str, str], str]:
    """``--server-var NAME.VAR=VALUE`` pairs."""
    out = {}
    for text in values:
        key, value = split_pair(text, "--server-var", "databricksApi.workspace_host=example.net")
        source, dot, var = key.partition(".")
        if not dot or not var:
            raise UsageError(f"--server-var expects SOURCE.VARIABLE=VALUE, got {text!r}")
        out[(source, var)] = value
    return out


def gather_inputs(
    pairs: Iterable[str],
    inputs_file: str | None,
    schema: Mapping[str, Any] | None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Inputs from ``SPOLA_INPUT_<NAME>`` (with ``env``), ``--inputs FILE|-``, then ``--input NAME=VALUE``.

    Each later source wins; text is coerced by the schema. The environment is read only for the
    names the schema's properties declare (``SPOLA_INPUT_`` + the name in upper case).
    """
    result: dict[str, Any] = {}
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    if env is not None and isinstance(props, Mapping):
        for declared in props:
            key = f"SPOLA_INPUT_{str(declared).upper()}"
            if key in env:
                result[str(declared)] = coerce_text(str(declared), env[key], schema)
    if inputs_file:
        if inputs_file == "-":
            text, origin = sys.stdin.read(), "<stdin>"
        else:
            path = Path(inputs_file)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise InputError(f"cannot read the inputs file {inputs_file}: {exc.strerror}") from exc
            origin = str(path)
        result.update(read_inputs_file(text, origin))
    for text in pairs:
        name, value = split_pair(text, "--input", "job_id=123")
        result[name] = coerce_text(name, value, schema)
    return result


def check_sources(names: Iterable[str], known: Iterable[str], flag: str) -> None:
    """Every source named in a flag must exist in the document."""
    known_set = set(known)
    for name in names:
        if name not in known_set:
            listing = ", ".join(sorted(known_set)) or "(none)"
            raise UsageError(
                f"{flag} names the source '{name}', which the document does not declare",
                hint=f"Sources: {listing}.",
            )
