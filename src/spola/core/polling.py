"""How long to wait: poll back-off, ``retryAfter``, and the HTTP ``Retry-After`` header."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random

    from spola.exchange import HttpResponse
    from spola.options import PollPolicy

THROTTLE_STATUSES = frozenset({429, 503})


def poll_delay(policy: PollPolicy, repeat: int, rng: random.Random) -> float:
    """Seconds to wait before the ``repeat``-th re-run (1-based) of a step in a poll loop."""
    if policy.fixed is not None:
        return max(0.0, policy.fixed)
    base = min(policy.cap, policy.initial * policy.factor ** max(0, repeat - 1))
    if policy.jitter:
        base *= rng.uniform(1 - policy.jitter, 1 + policy.jitter)
    return max(0.0, min(base, policy.cap))


def retry_after_seconds(response: HttpResponse | None, received_at: float) -> float | None:
    """The ``Retry-After`` of a response in seconds (delta-seconds or HTTP-date), or None.

    ``received_at`` is the epoch time the response arrived, used to turn a date into a delay.
    """
    if response is None:
        return None
    value = response.header("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # rare: an HTTP-date; the module costs start-up

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - received_at)
