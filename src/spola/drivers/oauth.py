"""OAuth2 client-credentials tokens, fetched by the driver at send time and cached until they expire."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import TYPE_CHECKING

import aiohttp
from msgspec import Struct, field

if TYPE_CHECKING:
    from spola.exchange import TokenGrant

EXPIRY_MARGIN = 30.0


class TokenError(Exception):
    """The token endpoint did not hand out a token; the message says why (never the secret)."""


class TokenCache(Struct):
    """Tokens per (token URL, client id, scopes), refreshed ``EXPIRY_MARGIN`` seconds before expiry."""

    tokens: dict[tuple[str, str, tuple[str, ...]], tuple[str, float]] = field(default_factory=dict)
    locks: dict[tuple[str, str, tuple[str, ...]], asyncio.Lock] = field(default_factory=dict)

    async def token(self, session: aiohttp.ClientSession, grant: TokenGrant, timeout: float) -> str:
        """A valid access token for ``grant``, fetching one when none is cached.

        Raises:
            TokenError: the endpoint refused or answered without ``access_token``.
        """
        key = (grant.token_url, grant.client_id, grant.scopes)
        lock = self.locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self.tokens.get(key)
            if cached is not None and cached[1] > time.monotonic():
                return cached[0]
            form = {"grant_type": "client_credentials"}
            if grant.scopes:
                form["scope"] = " ".join(grant.scopes)
            basic = base64.b64encode(f"{grant.client_id}:{grant.client_secret}".encode()).decode()
            headers = {"Authorization": f"Basic {basic}", "Accept": "application/json"}
            try:
                async with session.post(
                    grant.token_url, data=form, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
                ) as resp:
                    payload = await resp.json(content_type=None) if resp.status < 400 else None
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                raise TokenError(f"the OAuth2 token request to {grant.token_url} failed ({exc})") from exc
            if not isinstance(payload, dict) or not isinstance(payload.get("access_token"), str):
                raise TokenError(
                    f"the OAuth2 token endpoint {grant.token_url} answered HTTP {status} without "
                    "an access_token (check --auth SOURCE.SCHEME=CLIENT_ID:CLIENT_SECRET)"
                )
            lifetime = float(payload.get("expires_in") or 3600)
            token: str = payload["access_token"]
            self.tokens[key] = (token, time.monotonic() + max(0.0, lifetime - EXPIRY_MARGIN))
            return token
