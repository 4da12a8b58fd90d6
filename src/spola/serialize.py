"""OpenAPI parameter serialization (styles and explode) and request body encodings.

Pure functions: values in, strings and bytes out. Used by the request builder.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from spola import jsoncodec

DEFAULT_STYLE = {"path": "simple", "query": "form", "header": "simple", "cookie": "form"}


def scalar_text(value: Any) -> str:
    """A scalar as it appears in a URL or header: JSON spelling for booleans and null."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def serialize_path(name: str, value: Any, style: str | None, explode: bool | None) -> str:
    """The text that replaces ``{name}`` in a path template (percent-encoded)."""
    style = style or "simple"
    explode = bool(explode)

    def enc(text: str) -> str:
        return quote(text, safe="")

    if isinstance(value, list):
        items = [enc(scalar_text(v)) for v in value]
        if style == "label":
            return "." + ("." if explode else ",").join(items)
        if style == "matrix":
            if explode:
                return "".join(f";{name}={i}" for i in items)
            return f";{name}=" + ",".join(items)
        return ",".join(items)
    if isinstance(value, dict):
        pairs = [(enc(str(k)), enc(scalar_text(v))) for k, v in value.items()]
        body = [f"{k}={v}" for k, v in pairs] if explode else [x for kv in pairs for x in kv]
        if style == "label":
            return "." + ("." if explode else ",").join(body)
        if style == "matrix":
            if explode:
                return "".join(f";{p}" for p in body)
            return f";{name}=" + ",".join(body)
        return ",".join(body)
    text = enc(scalar_text(value))
    if style == "label":
        return "." + text
    if style == "matrix":
        return f";{name}={text}"
    return text


def serialize_query(name: str, value: Any, style: str | None, explode: bool | None) -> list[tuple[str, str]]:
    """Query pairs for one parameter (not yet encoded)."""
    style = style or "form"
    explode = True if explode is None and style == "form" else bool(explode)
    if isinstance(value, list):
        items = [scalar_text(v) for v in value]
        if style == "form" and explode:
            return [(name, i) for i in items]
        sep = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(style, ",")
        return [(name, sep.join(items))]
    if isinstance(value, dict):
        if style == "deepObject":
            return [(f"{name}[{k}]", scalar_text(v)) for k, v in value.items()]
        if explode:
            return [(str(k), scalar_text(v)) for k, v in value.items()]
        return [(name, ",".join(x for k, v in value.items() for x in (str(k), scalar_text(v))))]
    return [(name, scalar_text(value))]


def serialize_header(value: Any, explode: bool | None) -> str:
    """A header value in the ``simple`` style."""
    if isinstance(value, list):
        return ",".join(scalar_text(v) for v in value)
    if isinstance(value, dict):
        if explode:
            return ",".join(f"{k}={scalar_text(v)}" for k, v in value.items())
        return ",".join(x for k, v in value.items() for x in (str(k), scalar_text(v)))
    return scalar_text(value)


def encode_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Percent-encode query pairs (spaces as %20, RFC 3986)."""
    return encode_pairs(tuple(pairs))


@functools.lru_cache(maxsize=1024)
def encode_pairs(pairs: tuple[tuple[str, str], ...]) -> str:
    """`encode_query` for a tuple of pairs: a poll loop sends the same query every time, so each
    query is encoded once (the last 1024 kept)."""
    return urlencode(pairs, quote_via=quote, safe="")


def encode_form(value: Any) -> bytes:
    """``application/x-www-form-urlencoded``: objects become pairs, nested values JSON text."""
    if isinstance(value, str):
        return value.encode()
    if not isinstance(value, Mapping):
        raise TypeError("a form-encoded body must be an object or a string")
    pairs: list[tuple[str, str]] = []
    for key, item in value.items():
        if isinstance(item, list):
            pairs.extend((str(key), scalar_text(v)) for v in item)
        else:
            pairs.append((str(key), scalar_text(item)))
    return urlencode(pairs).encode()


def encode_multipart(value: Any) -> tuple[bytes, str]:
    """``multipart/form-data`` body and its content type; the boundary is derived from the content."""
    if not isinstance(value, Mapping):
        raise TypeError("a multipart body must be an object")
    parts: list[tuple[str, bytes, str | None]] = []
    for key, item in value.items():
        if isinstance(item, (dict, list)):
            parts.append((str(key), json.dumps(item).encode(), "application/json"))
        elif isinstance(item, bytes):
            parts.append((str(key), item, "application/octet-stream"))
        else:
            parts.append((str(key), scalar_text(item).encode(), None))
    digest = hashlib.sha256(b"".join(p[1] for p in parts)).hexdigest()[:24]
    boundary = f"spola-{digest}"
    out = bytearray()
    for name, data, ctype in parts:
        out += f"--{boundary}\r\n".encode()
        out += f'Content-Disposition: form-data; name="{name}"\r\n'.encode()
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def is_json_media(media: str) -> bool:
    """True for application/json and ``+json`` media types."""
    media = media.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json") or media == "text/json"


def is_xml_media(media: str) -> bool:
    """True for XML media types."""
    media = media.split(";", 1)[0].strip().lower()
    return media in ("application/xml", "text/xml") or media.endswith("+xml")


def encode_body(value: Any, media: str) -> tuple[bytes, str]:
    """Encode an evaluated payload for a media type; returns (bytes, content type header)."""
    base = media.split(";", 1)[0].strip().lower()
    if base == "multipart/form-data":
        return encode_multipart(value)
    if base == "application/x-www-form-urlencoded":
        return encode_form(value), media
    if isinstance(value, bytes):
        return value, media
    if isinstance(value, str):
        return value.encode(), media
    if is_json_media(media) or not isinstance(value, (str, bytes)):
        return jsoncodec.dumps_bytes(value), media
    return scalar_text(value).encode(), media
