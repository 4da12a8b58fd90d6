"""Wait computations: poll back-off and Retry-After."""

from __future__ import annotations

import random
from email.utils import formatdate

from spola.core.polling import poll_delay, retry_after_seconds
from spola.exchange import HttpResponse
from spola.options import PollPolicy


def test_back_off_grows_by_the_factor_up_to_the_cap() -> None:
    policy = PollPolicy(initial=1.0, factor=1.5, cap=30.0, jitter=0.0)
    rng = random.Random(0)
    assert [poll_delay(policy, n, rng) for n in (1, 2, 3)] == [1.0, 1.5, 2.25]
    assert poll_delay(policy, 50, rng) == 30.0


def test_jitter_stays_within_its_band_and_is_seeded() -> None:
    policy = PollPolicy(initial=10.0, factor=1.0, cap=30.0, jitter=0.1)
    first = [poll_delay(policy, 1, random.Random(3)) for _ in range(5)]
    assert len(set(first)) == 1
    values = [poll_delay(policy, 1, rng) for rng in [random.Random(s) for s in range(200)]]
    assert all(9.0 <= v <= 11.0 for v in values) and len(set(values)) > 100


def test_a_fixed_interval_is_exact() -> None:
    assert poll_delay(PollPolicy(fixed=2.5), 7, random.Random(1)) == 2.5
    assert poll_delay(PollPolicy(fixed=0), 1, random.Random(1)) == 0


def test_retry_after_in_seconds_and_as_an_http_date() -> None:
    assert retry_after_seconds(HttpResponse(429, (("Retry-After", "7"),)), 0.0) == 7.0
    now = 1_800_000_000.0
    date = formatdate(now + 30, usegmt=True)
    assert retry_after_seconds(HttpResponse(503, (("retry-after", date),)), now) == 30.0
    assert (
        retry_after_seconds(HttpResponse(503, (("Retry-After", formatdate(now - 5, usegmt=True)),)), now)
        == 0.0
    )
    assert retry_after_seconds(HttpResponse(503, (("Retry-After", "soon"),)), now) is None
    assert retry_after_seconds(HttpResponse(200), now) is None
