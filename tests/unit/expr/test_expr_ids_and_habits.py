"""Step and workflow ids as Arazzo 1.0.x writes them (any character), and other runners' spellings."""

from __future__ import annotations

import pytest

from spola.errors import ExpressionError
from spola.expr import Scope, parse_condition, parse_embedded, parse_expression, parse_template

SCOPE = Scope(
    steps={
        "Search Stations": {"name": "Central", "ids": [4, 5]},
        "get.pet": {"id": 3},
        "Get (v2)": {"token": "t"},
        "login": {"token": "tok", "user": {"id": 9}},
        "outputs": {"x": 1},
    },
    workflows={"Find Pets": {"inputs": {"q": "cat"}, "outputs": {"count": 2}}},
)


@pytest.mark.parametrize(
    ("text", "step", "value"),
    [
        ("$steps.Search Stations.outputs.name", "Search Stations", "Central"),
        ("$steps.Search Stations.outputs.ids[1]", "Search Stations", 5),
        ("$steps.Search Stations.outputs.ids#/0", "Search Stations", 4),
        ("$steps.get.pet.outputs.id", "get.pet", 3),
        ("$steps.Get (v2).outputs.token", "Get (v2)", "t"),
    ],
)
def test_a_whole_value_takes_the_id_up_to_the_first_outputs(text: str, step: str, value: object) -> None:
    expression = parse_expression(text)
    assert expression.step_id == step
    assert expression.habit is None and expression.note is None  # 1.0.x grammar, not a habit
    assert expression.evaluate(SCOPE) == value
    assert str(expression) == text


def test_a_workflow_id_with_spaces_is_read_up_to_inputs_or_outputs() -> None:
    assert parse_expression("$workflows.Find Pets.outputs.count").evaluate(SCOPE) == 2
    assert parse_expression("$workflows.Find Pets.inputs.q").evaluate(SCOPE) == "cat"
    nested = parse_expression("$workflows.Find Pets.steps.Search Stations.outputs.name")
    assert (nested.id, nested.step, nested.name) == ("Find Pets", "Search Stations", "name")


def test_inside_braces_the_id_may_hold_anything_but_braces() -> None:
    template = parse_template(
        "Station: {$steps.Search Stations.outputs.name} ({$steps.Get (v2).outputs.token})"
    )
    assert template.evaluate(SCOPE) == "Station: Central (t)"
    embedded = parse_embedded("^{$steps.Search Stations.outputs.name}$")
    assert embedded.evaluate(SCOPE) == "^Central$"


def test_in_a_condition_the_id_is_words_up_to_outputs_and_operators_end_it() -> None:
    condition = parse_condition(
        "$steps.Search Stations.outputs.name == 'Central' && $steps.login.outputs.token != 'x'"
    )
    assert [e.step_id for e in condition.expressions] == ["Search Stations", "login"]
    assert condition.evaluate(SCOPE)
    assert parse_condition("$steps.Search Stations.outputs.ids[0]==4").evaluate(SCOPE)
    # an id with parentheses is not a word: it needs braces in a condition
    assert parse_condition("{$steps.Get (v2).outputs.token} == 't'").evaluate(SCOPE)
    with pytest.raises(ExpressionError):
        parse_condition("$steps.Get (v2).outputs.token == 't'")


def test_inside_a_string_without_braces_the_id_is_words_separated_by_single_spaces() -> None:
    template = parse_template("Bearer $steps.Search Stations.outputs.name.")
    assert template.evaluate(SCOPE) == "Bearer Central."
    # prose before an expression stays prose; the id never crosses another `$`
    template = parse_template("$inputs.a then $steps.login.outputs.token")
    assert [e.step_id for e in template.expressions] == [None, "login"]


def test_leading_or_trailing_spaces_are_not_part_of_an_id() -> None:
    with pytest.raises(ExpressionError):
        parse_expression("$steps. a.outputs.x")
    with pytest.raises(ExpressionError):
        parse_expression("$steps.a .outputs.x")


def test_the_grammatical_reading_wins_over_the_shorthand() -> None:
    # `outputs` right after the id is the outputs map, even when a step is named like an output
    assert parse_expression("$steps.outputs.outputs.x").evaluate(SCOPE) == 1
    assert parse_expression("$steps.login.outputs").evaluate(SCOPE) == SCOPE.steps["login"]


@pytest.mark.parametrize(
    ("text", "canonical", "value"),
    [
        ("$steps.login.token", "$steps.login.outputs.token", "tok"),
        ("$steps.login.user.id", "$steps.login.outputs.user.id", 9),
        ("$steps.login.user#/id", "$steps.login.outputs.user#/id", 9),
    ],
)
def test_arazzo_runner_shorthand_reads_the_step_output(text: str, canonical: str, value: object) -> None:
    expression = parse_expression(text)
    assert expression.habit == "steps-shorthand"
    assert str(expression) == canonical
    assert expression == parse_expression(canonical)
    assert f"read as `{canonical}`" in (expression.note or "")
    assert expression.evaluate(SCOPE) == value


def test_the_shorthand_needs_an_id_without_spaces() -> None:
    # without `.outputs` nothing says where an id with spaces ends
    with pytest.raises(ExpressionError):
        parse_expression("$steps.Search Stations.ids")


def test_the_shorthand_in_strings_and_conditions() -> None:
    assert parse_template("Bearer $steps.login.token").evaluate(SCOPE) == "Bearer tok"
    assert parse_template("Bearer {$steps.login.token}").evaluate(SCOPE) == "Bearer tok"
    condition = parse_condition("$steps.login.token == 'tok'")
    assert condition.expressions[0].habit == "steps-shorthand"
    assert condition.evaluate(SCOPE)


@pytest.mark.parametrize("text", ["$steps.login.output.token", "$steps.login.Outputs.token", "$steps.login."])
def test_a_misspelt_outputs_is_an_error_not_a_shorthand(text: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    assert "outputs" in caught.value.message
