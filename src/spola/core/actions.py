"""What the engine asks a driver to do: send a request, wait until a time, or finish."""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec import Struct

if TYPE_CHECKING:
    from spola.core.report import RunResult
    from spola.exchange import HttpRequest


class SendRequest(Struct, frozen=True, gc=False):
    """Send ``request`` and hand the response back with ``Run.receive(call_id, …)``.

    ``step_path`` names the step (``workflowId/stepId``, nested workflows joined by ``>``);
    ``idempotent`` says whether re-sending it after a crash is safe; ``timeout`` bounds the exchange;
    ``max_bytes`` the response body (``--max-response-bytes``).
    """

    call_id: int
    request: HttpRequest
    step_path: str
    step_id: str
    attempt: int
    idempotent: bool
    timeout: float
    max_bytes: int = 64 * 1024 * 1024


class Wait(Struct, frozen=True):
    """Nothing to send before ``until`` (absolute time, the clock the driver passes as ``now``)."""

    until: float
    reason: str


class Finish(Struct, frozen=True):
    """The run is over; ``result`` is the report."""

    result: RunResult


Action = SendRequest | Wait | Finish
