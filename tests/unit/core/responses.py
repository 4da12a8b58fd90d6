"""Canned responses for driving a `Run` by hand."""

from __future__ import annotations

import json

from spola.exchange import HttpResponse


def ok(
    body: object,
    status: int = 200,
    headers: tuple[tuple[str, str], ...] = (),
    secrets: tuple[str, ...] = (),
) -> HttpResponse:
    """A JSON response (``Content-Type: application/json`` first, then ``headers``); ``secrets``
    are those a driver would have added while sending (an OAuth2 token it fetched)."""
    return HttpResponse(
        status=status,
        headers=(("Content-Type", "application/json"), *headers),
        body=json.dumps(body).encode(),
        secrets=secrets,
    )
