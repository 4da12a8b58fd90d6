"""The graph of a workflow: nodes per step, transitions with their criteria, escaped for each format."""

from __future__ import annotations

from pathlib import Path

from spola.lint.graph import dot_text, layout, mermaid_text, to_dot, to_mermaid
from spola.model import load
from tests.lint.documents import end, goto, step, workflow, write_doc


def _workflows(tmp_path: Path) -> list:
    retry = [{"name": "again", "type": "retry", "retryAfter": 2, "retryLimit": 3}]
    poll = step(
        "poll",
        onSuccess=[
            goto("wait", "poll", '$.state.status == "RUNNING"', jsonpath=True),
            end("failed", "$response.body#/state/status == 'FAILED'"),
        ],
        onFailure=retry,
    )
    child = workflow([step("other")], "child")
    handover = step("handover", onSuccess=[{"name": "delegate", "type": "goto", "workflowId": "child"}])
    path = write_doc(tmp_path, [workflow([poll, handover, step("never")]), child])
    return list(load(path).workflows)


def test_every_transition_becomes_an_edge_with_its_criteria(tmp_path: Path) -> None:
    (main, nodes, arrows), _ = layout(_workflows(tmp_path))
    assert [n.kind for n in nodes] == ["start", "step", "step", "step", "end", "workflow"]
    assert any(a.label == 'wait: $.state.status == "RUNNING"' and a.target == "w0_s0" for a in arrows)
    assert any(a.label == "retry again (max 3, after 2s)" and a.dashed for a in arrows)
    assert any(
        a.label == "failed: $response.body#/state/status == 'FAILED'" and a.target == "w0_end" for a in arrows
    )
    assert any(a.source == "w0_s0" and a.target == "w0_s1" and a.dashed and not a.label for a in arrows)
    assert any(a.label == "delegate" and a.target == "w0_wf0" for a in arrows)


def test_mermaid_escapes_what_would_break_a_label(tmp_path: Path) -> None:
    text = to_mermaid(_workflows(tmp_path))
    assert text.startswith('flowchart TD\n  subgraph w0["main"]')
    assert '|"wait: $.state.status == #quot;RUNNING#quot;"|' in text
    assert "$response.body#35;/state/status" in text
    assert mermaid_text("a || b < c\nd") == "a #124;#124; b #lt; c<br/>d"


def test_dot_quotes_labels_and_clusters_several_workflows(tmp_path: Path) -> None:
    text = to_dot(_workflows(tmp_path))
    assert "subgraph cluster_0 {" in text and "subgraph cluster_1 {" in text
    assert 'label="wait: $.state.status == \\"RUNNING\\""' in text
    assert dot_text('say "hi"\\\n') == '"say \\"hi\\"\\\\\\n"'
