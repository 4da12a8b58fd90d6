"""The fault spec language: parsing, canonical form, errors, and the seeded injector."""

from __future__ import annotations

import pytest

from spola.sim import FaultInjector, FaultPlan, FaultRule, FaultSpecError

CANONICAL = [
    ("runs/get:429@0.2", "runs/get:429@0.2"),
    ("runs/get:429@0.2:retry-after=3", "runs/get:429@0.2:retry-after=3"),
    ("runs/get:429:retry-after=none", "runs/get:429:retry-after=none"),
    ("runs/submit:503@10%", "runs/submit:503@0.1"),
    ("*:latency=200ms@0.5", "*:latency=200ms@0.5"),
    ("*:latency=1.5s", "*:latency=1500ms"),
    ("runs/get:drop@0.05", "runs/get:drop@0.05"),
    ("run-now:503x3", "run-now:503x3"),
    ("run-now:500x2@0.5", "run-now:500@0.5x2"),
    ("run-now:dropx1:late", "run-now:dropx1:late"),
    ("dbt.runs/*:502", "dbt.runs/*:502"),
    (" a:500 ; b:501\nc:502 ", "a:500,b:501,c:502"),
    ("", ""),
]


@pytest.mark.parametrize(("spec", "canonical"), CANONICAL)
def test_specs_parse_to_a_canonical_form(spec: str, canonical: str) -> None:
    plan = FaultPlan.parse(spec)
    assert str(plan) == canonical
    assert FaultPlan.parse(str(plan)) == plan


def test_a_rule_keeps_every_field() -> None:
    (rule,) = FaultPlan.parse("databricks.runs/get:429@0.25x4:retry-after=2").rules
    assert rule == FaultRule(
        pattern="runs/get",
        kind="status",
        vendor="databricks",
        status=429,
        probability=0.25,
        count=4,
        retry_after=2.0,
    )
    (default,) = FaultPlan.parse("runs/get:429").rules
    assert default.retry_after == 1.0
    (other,) = FaultPlan.parse("runs/get:503").rules
    assert other.retry_after is None


BAD = [
    ("runs/get", "expected TARGET:EFFECT"),
    ("runs/get:", "expected TARGET:EFFECT"),
    ("runs/get:200", "not an error status"),
    ("runs/get:teapot", "unknown effect"),
    ("runs/get:latency=200", "needs a unit"),
    ("runs/get:429@1.5", "probability must be in (0, 1]"),
    ("runs/get:429@0", "probability must be in (0, 1]"),
    ("runs/get:429x0", "N >= 1"),
    ("runs/get:429x1x2", "given twice"),
    ("runs/get:429:colour=red", "unknown option"),
    ("runs/get:drop:retry-after=1", "needs a status"),
    ("runs/get:latency=1s:late", "latency takes no options"),
    ("snowflake.runs/get:429", "unknown vendor"),
    ("runs/get:429:retry-after=soon", "retry-after needs seconds"),
]


@pytest.mark.parametrize(("spec", "problem"), BAD)
def test_bad_specs_say_which_rule_and_what_is_wrong(spec: str, problem: str) -> None:
    with pytest.raises(FaultSpecError) as caught:
        FaultPlan.parse(f"runs/list:500,{spec}")
    assert problem in str(caught.value)
    assert spec.rsplit(",", maxsplit=1)[-1] in str(caught.value)


def test_xn_fails_only_the_first_n_matching_calls() -> None:
    injector = FaultInjector(FaultPlan.parse("run-now:503x3"), "databricks")
    statuses = [injector.decide("run-now").early for _ in range(5)]
    assert [r.status if r else None for r in statuses] == [503, 503, 503, None, None]
    assert injector.decide("runs/get").early is None


def test_the_same_seed_faults_the_same_calls() -> None:
    def pattern(seed: int) -> list[bool]:
        injector = FaultInjector(FaultPlan.parse("runs/get:429@0.3"), "databricks", seed)
        return [injector.decide("runs/get").early is not None for _ in range(200)]

    assert pattern(1) == pattern(1)
    assert pattern(1) != pattern(2)
    assert 30 < sum(pattern(1)) < 90


def test_latencies_add_up_and_the_first_status_wins() -> None:
    plan = FaultPlan.parse("*:latency=100ms,runs/*:latency=50ms,runs/get:500,*:503,runs/get:drop:late")
    decision = FaultInjector(plan, "databricks").decide("runs/get")
    assert decision.latency == pytest.approx(0.15)
    assert decision.early is not None and decision.early.status == 500
    assert decision.late is not None and decision.late.kind == "drop"


def test_a_vendor_qualifier_limits_a_rule_to_that_vendor() -> None:
    plan = FaultPlan.parse("dbt.runs/get:500,runs/get:latency=10ms")
    assert FaultInjector(plan, "databricks").decide("runs/get").early is None
    assert FaultInjector(plan, "dbt").decide("runs/get").early is not None
    assert len(plan.for_vendor("databricks").rules) == 1


def test_reset_starts_counting_again() -> None:
    injector = FaultInjector(FaultPlan.parse("run-now:503x1"), "databricks")
    assert injector.decide("run-now").early is not None
    assert injector.decide("run-now").early is None
    injector.reset()
    assert injector.decide("run-now").early is not None
