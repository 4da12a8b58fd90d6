"""Runtime expressions: every ABNF form parses, prints canonically and evaluates; errors say where."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
import yaml

from spola.errors import ExpressionError, Unsupported
from spola.expr import MISSING, Headers, Reference, ResponseView, Scope, parse_expression
from tests.unit.expr.scopes import full_scope

CASES: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "cases" / "expressions.yaml").read_text())


@pytest.mark.parametrize("case", CASES["evaluate"], ids=lambda c: c["text"])
def test_an_expression_parses_prints_and_evaluates(case: dict[str, Any]) -> None:
    expression = parse_expression(case["text"])
    assert str(expression) == case.get("canonical", case["text"])
    assert expression.root == case["root"]
    assert not expression.is_lenient
    assert expression.note is None
    value = expression.evaluate(full_scope())
    if case.get("missing"):
        assert value is MISSING
    else:
        assert value == case["expect"]
        assert type(value) is type(case["expect"])


@pytest.mark.parametrize("case", CASES["lenient"], ids=lambda c: c["text"])
def test_a_tolerated_form_outside_the_grammar_parses_with_a_note_and_evaluates(case: dict[str, Any]) -> None:
    expression = parse_expression(case["text"])
    canonical = case.get("canonical", case["text"])
    assert str(expression) == canonical
    assert str(parse_expression(canonical)) == canonical
    assert expression.root == case["root"]
    assert expression.is_lenient
    assert expression.note is not None
    assert case["note"] in expression.note
    assert expression.references() == (Reference(*case["references"]),)
    value = expression.evaluate(full_scope())
    if case.get("missing"):
        assert value is MISSING
    else:
        assert value == case["expect"]
        assert type(value) is type(case["expect"])
    assert expression.evaluate(Scope()) is MISSING


def test_the_headers_alias_equals_the_grammatical_header_expression() -> None:
    alias, grammatical = parse_expression("$response.headers.ETag"), parse_expression("$response.header.ETag")
    assert alias == grammatical
    assert hash(alias) == hash(grammatical)
    assert alias.is_lenient
    assert not grammatical.is_lenient


def test_a_step_of_another_workflow_is_not_a_step_of_this_one() -> None:
    expression = parse_expression("$workflows.producer.steps.wait.outputs.userId#/a")
    assert (expression.id, expression.field, expression.step, expression.name) == (
        "producer",
        "steps",
        "wait",
        "userId",
    )
    assert expression.step_id is None
    assert expression.pointer == "/a"


def test_step_outputs_of_another_workflow_are_missing_until_the_engine_keeps_them() -> None:
    expression = parse_expression("$workflows.w.steps.s.outputs.x")
    assert expression.evaluate(Scope(workflows={"w": {"inputs": {}, "outputs": {"x": 1}}})) is MISSING
    assert expression.evaluate(Scope(workflows={"w": {"steps": {"s": {"x": 1}}}})) == 1


def test_all_outputs_of_a_step_is_the_mapping_as_kept() -> None:
    outputs = {"a": 1, "b": [2]}
    assert parse_expression("$steps.s.outputs").evaluate(Scope(steps={"s": outputs})) == outputs
    assert parse_expression("$steps.s.outputs").evaluate(Scope(steps={"s": {}})) == {}
    assert parse_expression("$steps.t.outputs").evaluate(Scope(steps={"s": outputs})) is MISSING


@pytest.mark.parametrize("case", CASES["canonical"], ids=lambda c: c["text"])
def test_the_canonical_form_reparses_to_itself(case: dict[str, Any]) -> None:
    expression = parse_expression(case["text"])
    assert str(expression) == case["canonical"]
    assert str(parse_expression(str(expression))) == case["canonical"]


@pytest.mark.parametrize("case", CASES["errors"], ids=lambda c: c["text"])
def test_a_bad_expression_names_the_problem_and_its_offset(case: dict[str, Any]) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(case["text"])
    assert case["message"] in caught.value.message
    assert caught.value.location.offset == case["offset"]


def test_every_value_is_missing_in_an_empty_scope() -> None:
    for case in CASES["evaluate"] + CASES["lenient"]:
        assert parse_expression(case["text"]).evaluate(Scope()) is MISSING, case["text"]


def test_a_step_expression_says_which_step_it_reads() -> None:
    expression = parse_expression("$steps.poll-run.outputs.status#/a")
    assert expression.step_id == "poll-run"
    assert expression.pointer == "/a"
    assert expression.references() == (Reference("steps", "poll-run", "status"),)


def test_references_name_inputs_workflows_and_components() -> None:
    assert parse_expression("$inputs.cfg.host").references()[0].head == "cfg"
    assert parse_expression("$workflows.w.outputs.x").references() == (Reference("workflows", "w", "x"),)
    assert parse_expression("$components.parameters.p").references() == (
        Reference("components", "parameters", "p"),
    )
    assert parse_expression("$response.body#/a").references() == (Reference("response"),)
    assert parse_expression("$statusCode").step_id is None


def test_an_exact_dotted_key_wins_over_walking_its_segments() -> None:
    scope = Scope(inputs={"a.b": "exact", "a": {"b": "walked"}})
    assert parse_expression("$inputs.a.b").evaluate(scope) == "exact"
    assert parse_expression("$inputs.a.b").evaluate(Scope(inputs={"a": {"b": "walked"}})) == "walked"


def test_a_json_text_body_is_read_through_a_pointer() -> None:
    scope = Scope(response=ResponseView(body='{"a": [10, 20]}'))
    assert parse_expression("$response.body#/a/1").evaluate(scope) == 20


def test_asyncapi_message_expressions_parse_but_do_not_run() -> None:
    for text in ("$message.payload#/status", "$message.header.Server", "$response.payload"):
        expression = parse_expression(text)
        assert str(expression) == text
        with pytest.raises(Unsupported):
            expression.evaluate(full_scope())


def test_missing_is_a_falsy_singleton_that_survives_pickling() -> None:
    assert not MISSING
    assert repr(MISSING) == "MISSING"
    assert pickle.loads(pickle.dumps(MISSING)) is MISSING
    assert type(MISSING)() is MISSING


def test_a_scope_can_take_an_exchange() -> None:
    base = Scope(inputs={"a": 1})
    with_exchange = base.with_exchange(status_code=204, method="DELETE")
    assert parse_expression("$statusCode").evaluate(with_exchange) == 204
    assert with_exchange.inputs == {"a": 1}
    assert base.status_code is None


def test_headers_ignore_case_and_keep_the_first_of_repeated_names() -> None:
    headers = Headers([("Set-Cookie", "a"), ("set-cookie", "b"), ("ETag", "x")])
    assert headers["SET-COOKIE"] == "a"
    assert "etag" in headers
    assert list(headers) == ["Set-Cookie", "ETag"]
    assert headers == {"set-cookie": "a", "etag": "x"}
    view = ResponseView(headers={"Content-Type": "text/plain"})
    assert view.headers["content-type"] == "text/plain"
