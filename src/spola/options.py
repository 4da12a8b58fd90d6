"""Options that shape a run: limits, polling politeness, server overrides, credentials."""

from __future__ import annotations

from msgspec import Struct, field

from spola.limits import DEFAULT_TIMEOUT, MAX_DEPTH, MAX_RESPONSE_BYTES, RETRY_ATTEMPTS, RETRY_WAIT

__all__ = ["DEFAULT_TIMEOUT", "MAX_RESPONSE_BYTES", "Credential", "PollPolicy", "RunOptions"]


class PollPolicy(Struct, frozen=True):
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


class Credential(Struct, frozen=True):
    """A credential given with ``--auth SOURCE[.SCHEME]=VALUE`` (the value already read from env)."""

    source: str
    scheme: str | None
    value: str

    def __repr__(self) -> str:  # the value is a secret: never in a repr
        return f"Credential(source={self.source!r}, scheme={self.scheme!r}, value=<redacted>)"


class RunOptions(Struct, frozen=True, gc=False):
    """Everything besides the document and inputs that decides how a run behaves.

    ``servers`` maps a source name to a whole base URL; ``server_vars`` maps (source, variable) to a
    value. Transparent retries (see docs/robustness.md) re-send a failed exchange the document says
    nothing about: a 429 (any method), a 5xx or transport failure of a safe request, a failure before
    any byte was sent; at most ``retry_attempts`` re-sends per step execution, waiting (by
    ``Retry-After`` or ``retry_backoff``) at most ``retry_wait`` seconds in all. Every limit here is
    a CLI flag: ``max_response_bytes`` (a bigger body fails the step), ``max_depth`` (workflows
    nested in workflows), ``timeout`` (the whole run), ``max_steps`` (step executions).
    ``allow_hosts`` bounds where requests may go (empty: anywhere but link-local / metadata
    addresses; see ``spola.hosts``).
    """

    servers: dict[str, str] = field(default_factory=dict)
    server_vars: dict[tuple[str, str], str] = field(default_factory=dict)
    credentials: tuple[Credential, ...] = ()
    poll: PollPolicy = field(default_factory=PollPolicy)
    max_steps: int = 10_000
    timeout: float | None = None
    http_timeout: float = 30.0
    retry_attempts: int = RETRY_ATTEMPTS
    retry_wait: float = RETRY_WAIT
    retry_backoff: PollPolicy = field(default_factory=PollPolicy)
    retry_after_cap: float = 300.0
    max_response_bytes: int = MAX_RESPONSE_BYTES
    max_depth: int = MAX_DEPTH
    allow_hosts: tuple[str, ...] = ()
    seed: int = 0
