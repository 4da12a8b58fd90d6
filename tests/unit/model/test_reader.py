"""YAML/JSON text → tree and positions: safe, JSON-like, every node located."""

from __future__ import annotations

from spola.model.reader import parse_text


def test_positions_are_one_based_and_point_at_keys_and_items() -> None:
    parsed = parse_text("a: 1\nb:\n  - x: 2\n    y: [1, 2]\n", "f.yaml")
    assert parsed.positions == {
        "": (1, 1),
        "/a": (1, 1),
        "/b": (2, 1),
        "/b/0": (3, 5),
        "/b/0/x": (3, 5),
        "/b/0/y": (4, 5),
        "/b/0/y/0": (4, 9),
        "/b/0/y/1": (4, 12),
    }


def test_keys_with_slashes_and_tildes_are_escaped_in_pointers() -> None:
    parsed = parse_text("paths:\n  /pets/{id}:\n    a~b: 1\n", None)
    assert parsed.positions["/paths/~1pets~1{id}/a~0b"] == (3, 5)


def test_the_tree_is_json_like_timestamps_and_keys_stay_text() -> None:
    parsed = parse_text("when: 2024-01-02\n200: ok\non: yes\nv: 1.0\n", None)
    assert parsed.data == {"when": "2024-01-02", "200": "ok", "on": True, "v": 1.0}


def test_anchors_and_merge_keys_work() -> None:
    parsed = parse_text("base: &b {k: v}\nuse:\n  <<: *b\n  m: 1\n", None)
    assert parsed.data["use"] == {"k": "v", "m": 1}
    assert parsed.positions["/use/m"] == (4, 3)


def test_duplicate_keys_are_reported_where_the_second_one_is() -> None:
    parsed = parse_text("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert parsed.ok
    (finding,) = parsed.findings
    assert (finding.message, finding.location.line, finding.location.pointer) == (
        "duplicate key 'a' (the last one wins)",
        3,
        "/a",
    )


def test_syntax_errors_carry_line_and_column() -> None:
    parsed = parse_text("a:\n  b: [1, 2\n  c: 3\n", "f.yaml")
    assert not parsed.ok
    (finding,) = parsed.findings
    assert finding.rule == "syntax"
    assert finding.location.line == 3
    assert finding.message.startswith("invalid YAML:")


def test_unknown_tags_are_refused_safely() -> None:
    parsed = parse_text("a: !!python/object/apply:os.system ['echo hi']\n", "f.yaml")
    assert not parsed.ok
    assert "could not determine a constructor" in parsed.findings[0].message


def test_json_with_tabs_falls_back_to_the_json_parser_and_json_errors_are_located() -> None:
    assert parse_text('{\t"a":\t[1,\t2]}', None).data == {"a": [1, 2]}
    parsed = parse_text('{"a": [1, 2}\n', "f.json")
    assert not parsed.ok
    assert parsed.findings[0].location.line == 1


def test_fast_mode_skips_positions() -> None:
    parsed = parse_text("a: {b: 1}\n", None, positions=False)
    assert parsed.data == {"a": {"b": 1}}
    assert parsed.positions == {}


def test_absurd_nesting_is_a_finding_not_a_crash() -> None:
    parsed = parse_text("[" * 5000 + "]" * 5000, "deep.yaml")
    assert not parsed.ok
    assert parsed.findings[0].location.file == "deep.yaml"
