"""Options that shape a run: limits, polling politeness, server overrides, credentials."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """How long to wait before a step that already ran in this run runs again (a poll loop).

    ``fixed`` set: always that many seconds (0 = no wait). Otherwise exponential: ``initial`` seconds,
    times ``factor`` per repeat, capped at ``cap``, with multiplicative ``jitter`` (±fraction) drawn
    from the run's seeded random source.
    """

    fixed: float | None = None
    initial: float = 1.0
    factor: float = 1.5
    cap: float = 30.0
    jitter: float = 0.1


@dataclass(frozen=True, slots=True)
class Credential:
    """A credential given with ``--auth SOURCE[.SCHEME]=VALUE`` (the value already read from env)."""

    source: str
    scheme: str | None
    value: str


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Everything besides the document and inputs that decides how a run behaves.

    ``servers`` maps a source name to a whole base URL; ``server_vars`` maps (source, variable) to a
    value; ``throttle_retries`` is how many times a 429 (any method) or a 503 on a safe request is
    re-sent transparently, honouring ``Retry-After``, before the step sees it; ``transport_retries``
    likewise for a refused / reset / timed-out exchange of a safe request.
    """

    servers: dict[str, str] = field(default_factory=dict)
    server_vars: dict[tuple[str, str], str] = field(default_factory=dict)
    credentials: tuple[Credential, ...] = ()
    poll: PollPolicy = field(default_factory=PollPolicy)
    max_steps: int = 10_000
    timeout: float | None = None
    http_timeout: float = 30.0
    throttle_retries: int = 8
    transport_retries: int = 2
    retry_after_cap: float = 300.0
    seed: int = 0
