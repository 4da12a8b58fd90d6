"""TEST-ONLY: SIGKILL this process at a precise point of its n-th exchange.

``SPOLA_TEST_KILL_AT="<point>:<n>"`` makes the process kill itself (``SIGKILL``: no cleanup, no
flush, like a power cut or the OOM killer) when the asyncio driver reaches ``<point>`` of the
``n``-th exchange it sends (1-based, counted in this process; a resume counts afresh). It exists
for the kill matrix (``tests/robustness/test_kill_matrix.py``) and is not a user feature: it is
read once, at import, and without the variable every check is one falsy global.

The points, in the order an exchange passes them:

``before-intent``
    the engine asked for the request; nothing about it is journalled yet.
``before-send``
    its intent is journalled (committed, for an unsafe request; a safe one journals nothing yet);
    nothing is sent.
``before-response``
    the request was sent and the server answered (status and headers arrived); the body is not read.
``before-journal``
    the response was read; it is not journalled.
``after-journal``
    the response is journalled (committed for an unsafe request, queued for the next group commit
    for a safe one); the run has not taken the next step.
"""

from __future__ import annotations

import os
import signal

POINTS = ("before-intent", "before-send", "before-response", "before-journal", "after-journal")
"""Where an exchange can be killed, in the order it passes them."""

ENV = "SPOLA_TEST_KILL_AT"


def _parse(spec: str | None) -> tuple[str, int] | None:
    if not spec:
        return None
    point, _, index = spec.rpartition(":")
    if point not in POINTS or not index.isdigit() or int(index) < 1:
        raise SystemExit(f"{ENV}={spec!r}: expected <point>:<n> with a point among {', '.join(POINTS)}")
    return point, int(index)


_TARGET = _parse(os.environ.get(ENV))
ARMED = _TARGET is not None
"""Whether a kill point is set; the driver checks this before calling anything here."""

_exchanges = [0]
"""How many exchanges this process started (one counter, mutated in place)."""


def exchange_started() -> None:
    """Count an exchange the driver is about to journal and send (only called when ``ARMED``)."""
    _exchanges[0] += 1


def reached(point: str) -> None:
    """SIGKILL this process if ``point`` of the current exchange is the target (only when ``ARMED``)."""
    if (point, _exchanges[0]) == _TARGET:
        os.kill(os.getpid(), signal.SIGKILL)
