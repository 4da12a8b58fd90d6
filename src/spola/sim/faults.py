"""Fault injection: a small spec language, parsed once into a frozen `FaultPlan`.

Grammar (whitespace around separators is ignored)::

    plan      := rule { ("," | ";" | newline) rule }
    rule      := target ":" effect { modifier } { ":" option }
    target    := [ vendor "." ] pattern        vendor: databricks | dataiku | dbt
    pattern   := an endpoint key or an fnmatch glob over keys: runs/get, runs/*, *
    effect    := status                        an HTTP status 400-599, answered with the vendor's error body
               | "drop"                        close the connection without any response
               | "latency=" duration           wait before answering (real time, not scaled by speed)
    duration  := number ("ms" | "s")           200ms, 1.5s
    modifier  := "@" probability               0 < p <= 1, or a percentage: @0.2, @20%
               | "x" count                     only the first N calls matching the target: x3
    option    := "retry-after=" seconds | "retry-after=none"
               | "late"                        let the request take effect, then fail the answer

Examples::

    runs/get:429@0.2:retry-after=1     one runs/get in five is throttled, with Retry-After: 1
    runs/submit:503@0.1                 one runs/submit in ten is unavailable
    *:latency=200ms@0.5                 half of all calls take 200 ms longer
    runs/get:drop@0.05                  one runs/get in twenty loses its connection
    run-now:503x3                       the first three run-now calls fail, the fourth goes through
    dbt.runs/get:500x1                  only dbt's runs/get, not Databricks'
    run-now:dropx1:late                 the first run-now starts a run, but its answer is lost

Semantics: every rule whose target matches a request counts that request (this is what `xN` counts). Of the
rules that fire, latencies add up; the first firing status/drop rule decides the answer. Without `late` the
request never reaches the simulator; with `late` it is handled (a run starts) and the answer is replaced.
A 429 carries `Retry-After: 1` unless `retry-after=` says otherwise; other statuses carry it only when asked.
Probabilities draw from `random.Random(seed)`, so a given seed and request sequence always fault alike.

Endpoint keys are listed in the vendor modules (`spola.sim.databricks`, `spola.sim.dataiku`, `spola.sim.dbt`).
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

__all__ = ["FaultDecision", "FaultInjector", "FaultPlan", "FaultRule", "FaultSpecError", "VENDORS"]

VENDORS = ("databricks", "dataiku", "dbt")
FaultKind = Literal["status", "drop", "latency"]

_EFFECT = re.compile(
    r"^(?:(?P<status>\d{3})|(?P<drop>drop)|latency=(?P<num>\d+(?:\.\d+)?|\.\d+)(?P<unit>ms|s)?)"
    r"(?P<mods>(?:@[0-9.]+%?|x\d+)*)$"
)
_MOD = re.compile(r"@(?P<p>[0-9.]+)(?P<pct>%?)|x(?P<n>\d+)")


class FaultSpecError(ValueError):
    """A fault spec that does not follow the grammar; the message names the rule and what is wrong."""

    def __init__(self, rule: str, problem: str) -> None:
        super().__init__(f"bad fault rule {rule!r}: {problem}")
        self.rule = rule
        self.problem = problem


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One parsed rule; see the module docstring for the meaning of each field."""

    pattern: str
    kind: FaultKind
    vendor: str | None = None
    status: int | None = None
    latency: float = 0.0
    probability: float = 1.0
    count: int | None = None
    retry_after: float | None = None
    late: bool = False

    def matches(self, vendor: str, key: str) -> bool:
        """Whether this rule targets endpoint `key` of `vendor`."""
        if self.vendor is not None and self.vendor != vendor:
            return False
        return fnmatchcase(key, self.pattern)

    def __str__(self) -> str:
        target = f"{self.vendor}.{self.pattern}" if self.vendor else self.pattern
        if self.kind == "status":
            effect = str(self.status)
        elif self.kind == "drop":
            effect = "drop"
        else:
            effect = f"latency={_num(self.latency * 1000)}ms"
        if self.probability < 1:
            effect += f"@{_num(self.probability)}"
        if self.count is not None:
            effect += f"x{self.count}"
        options = []
        if self.kind == "status" and self.retry_after != _default_retry_after(self.status):
            options.append(
                "retry-after=none" if self.retry_after is None else f"retry-after={_num(self.retry_after)}"
            )
        if self.late:
            options.append("late")
        return ":".join([target, effect, *options])


def _num(value: float) -> str:
    return f"{value:g}"


def _default_retry_after(status: int | None) -> float | None:
    return 1.0 if status == 429 else None


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """An ordered tuple of fault rules; `str(plan)` gives the canonical spec back."""

    rules: tuple[FaultRule, ...] = ()

    @classmethod
    def parse(cls, spec: str | None) -> FaultPlan:
        """Parse a spec (see the module docstring); an empty or `None` spec is the empty plan."""
        if not spec:
            return cls()
        parts = [p.strip() for p in re.split(r"[,;\n]", spec)]
        return cls(tuple(_parse_rule(p) for p in parts if p))

    def for_vendor(self, vendor: str) -> FaultPlan:
        """Only the rules that may apply to `vendor`."""
        return FaultPlan(tuple(r for r in self.rules if r.vendor in (None, vendor)))

    def __bool__(self) -> bool:
        return bool(self.rules)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.rules)


def _parse_rule(text: str) -> FaultRule:
    pieces = [p.strip() for p in text.split(":")]
    if len(pieces) < 2 or not pieces[0] or not pieces[1]:
        raise FaultSpecError(text, "expected TARGET:EFFECT, e.g. runs/get:429@0.2")
    target, effect, options = pieces[0], pieces[1], pieces[2:]
    vendor: str | None = None
    if "." in target:
        vendor, _, target = target.partition(".")
        if vendor not in VENDORS:
            raise FaultSpecError(text, f"unknown vendor {vendor!r} (known: {', '.join(VENDORS)})")
        if not target:
            raise FaultSpecError(text, "missing endpoint after the vendor")
    match = _EFFECT.match(effect)
    if match is None:
        raise FaultSpecError(
            text, f"unknown effect {effect!r} (use a status like 503, drop, or latency=200ms)"
        )
    kind: FaultKind
    status: int | None = None
    latency = 0.0
    if match["status"]:
        kind, status = "status", int(match["status"])
        if not 400 <= status <= 599:
            raise FaultSpecError(text, f"status {status} is not an error status (400-599)")
    elif match["drop"]:
        kind = "drop"
    else:
        kind = "latency"
        if not match["unit"]:
            raise FaultSpecError(text, "latency needs a unit: ms or s")
        latency = float(match["num"]) / (1000 if match["unit"] == "ms" else 1)
    probability, count = _parse_modifiers(text, match["mods"])
    retry_after = _default_retry_after(status)
    late = False
    for option in options:
        name, _, value = option.partition("=")
        if name == "late" and not value:
            late = True
        elif name == "retry-after" and value:
            retry_after = _parse_retry_after(text, value)
        else:
            raise FaultSpecError(text, f"unknown option {option!r} (known: retry-after=N, late)")
    if kind == "latency" and (late or len(options) > 0):
        raise FaultSpecError(text, "latency takes no options")
    if kind == "drop" and retry_after is not None:
        raise FaultSpecError(text, "retry-after needs a status, not drop")
    return FaultRule(target, kind, vendor, status, latency, probability, count, retry_after, late)


def _parse_modifiers(text: str, mods: str) -> tuple[float, int | None]:
    probability: float | None = None
    count: int | None = None
    for mod in _MOD.finditer(mods):
        if mod["n"] is not None:
            if count is not None:
                raise FaultSpecError(text, "xN given twice")
            count = int(mod["n"])
            if count < 1:
                raise FaultSpecError(text, "xN needs N >= 1")
        else:
            if probability is not None:
                raise FaultSpecError(text, "@probability given twice")
            try:
                probability = float(mod["p"]) / (100 if mod["pct"] else 1)
            except ValueError:
                raise FaultSpecError(text, f"bad probability {mod['p']!r}") from None
            if not 0 < probability <= 1:
                raise FaultSpecError(text, "probability must be in (0, 1]")
    return (1.0 if probability is None else probability), count


def _parse_retry_after(text: str, value: str) -> float | None:
    if value == "none":
        return None
    try:
        seconds = float(value.removesuffix("s"))
    except ValueError:
        raise FaultSpecError(text, f"retry-after needs seconds or none, got {value!r}") from None
    if seconds < 0:
        raise FaultSpecError(text, "retry-after cannot be negative")
    return seconds


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What to do to one request: wait `latency` seconds, then fail `early` (before) or `late` (after)."""

    latency: float = 0.0
    early: FaultRule | None = None
    late: FaultRule | None = None

    def describe(self) -> str | None:
        """A short label for the request log, or `None` when nothing was injected."""
        labels = [str(rule) for rule in (self.early, self.late) if rule is not None]
        if self.latency:
            labels.insert(0, f"latency={_num(self.latency * 1000)}ms")
        return ", ".join(labels) or None


class FaultInjector:
    """Applies a `FaultPlan` to a stream of requests: per-rule call counters and a seeded generator."""

    def __init__(self, plan: FaultPlan, vendor: str, seed: int | None = None) -> None:
        self.vendor = vendor
        self._seed = seed
        self._lock = threading.Lock()
        self._plan = plan.for_vendor(vendor)
        self._counts = [0] * len(self._plan.rules)
        self._rng = random.Random(seed)  # noqa: S311 - simulation, not security

    @property
    def plan(self) -> FaultPlan:
        """The rules currently applied."""
        return self._plan

    def replace(self, plan: FaultPlan) -> None:
        """Swap in a new plan and start counting afresh."""
        with self._lock:
            self._plan = plan.for_vendor(self.vendor)
            self._counts = [0] * len(self._plan.rules)
            self._rng = random.Random(self._seed)  # noqa: S311 - simulation, not security

    def reset(self) -> None:
        """Forget the call counts and reseed the generator."""
        self.replace(self._plan)

    def decide(self, key: str) -> FaultDecision:
        """Count this call against every matching rule and say which faults fire."""
        latency = 0.0
        early: FaultRule | None = None
        late: FaultRule | None = None
        with self._lock:
            for index, rule in enumerate(self._plan.rules):
                if not rule.matches(self.vendor, key):
                    continue
                self._counts[index] += 1
                if rule.count is not None and self._counts[index] > rule.count:
                    continue
                if rule.probability < 1 and self._rng.random() >= rule.probability:
                    continue
                if rule.kind == "latency":
                    latency += rule.latency
                elif rule.late:
                    late = late or rule
                else:
                    early = early or rule
        return FaultDecision(latency, early, late)
