"""What each simulated vendor plugs into the shared ASGI shell (`spola.sim.base.SimApp`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from starlette.responses import HTMLResponse, Response

if TYPE_CHECKING:
    from starlette.datastructures import Headers
    from starlette.routing import BaseRoute

__all__ = ["Simulator", "Vendor", "bearer_credential", "gateway_error"]


class Simulator(ABC):
    """Vendor state (jobs, runs, scenarios); safe to call from any thread."""

    @abstractmethod
    def reset(self) -> None:
        """Back to the pre-seeded state: pre-seeded objects only, counters from the start."""

    @abstractmethod
    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready dump of the current state (for `GET /_sim/state`)."""


class Vendor(ABC):
    """One vendor API: its routes (each named by its endpoint key), auth and error bodies."""

    name: ClassVar[str]
    default_token: ClassVar[str]
    api_prefixes: ClassVar[tuple[str, ...]]

    def __init__(self, simulator: Simulator, *, token: str | None = None, auth: bool = True) -> None:
        self.simulator = simulator
        self.token = self.default_token if token is None else token
        self.auth = auth

    @abstractmethod
    def routes(self) -> list[BaseRoute]:
        """Vendor endpoints; every route's `name` is its endpoint key (used by faults and counters)."""

    def admin_routes(self) -> list[BaseRoute]:
        """Extra `/_sim/...` routes for this vendor (e.g. seeding objects)."""
        return []

    @abstractmethod
    def check_auth(self, headers: Headers) -> Response | None:
        """`None` when the request may pass, else the vendor's refusal."""

    @abstractmethod
    def error(self, status: int, message: str | None = None) -> Response:
        """The vendor's error answer for `status` (used by faults and routing errors)."""

    def not_found(self, method: str, path: str) -> Response:
        """The answer for a path the vendor does not serve."""
        return self.error(404, f"No API found for '{method} {path}'")

    def method_not_allowed(self, method: str, path: str) -> Response:
        """The answer for a known path called with the wrong method."""
        return self.error(405, f"Method {method} is not allowed for {path}")

    def extra_headers(self) -> dict[str, str]:
        """Headers added to every answer (e.g. Dataiku's `DSS-API-Version`)."""
        return {}


def bearer_credential(headers: Headers, *schemes: str) -> str | None:
    """The credential after one of `schemes` (case-insensitive) in `Authorization`, or `None`."""
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, credential = value.strip().partition(" ")
    if scheme.lower() in {s.lower() for s in schemes}:
        return credential.strip()
    return None


def gateway_error(status: int) -> Response:
    """A load balancer's HTML page, as vendors' gateways send for 502 and 504."""
    phrase = {502: "Bad Gateway", 504: "Gateway Timeout"}.get(status, "Error")
    return HTMLResponse(f"<html><body><h1>{status} {phrase}</h1></body></html>", status_code=status)
