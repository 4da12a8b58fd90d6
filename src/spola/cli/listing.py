"""``spola workflows``: each workflow with its inputs and outputs."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from spola.model import load


def describe(doc: str) -> list[dict[str, Any]]:
    """Workflows of a document as plain data: id, summary, inputs (name, type, required, default), outputs."""
    document = load(doc)
    result = []
    for wf in document.workflows:
        schema = wf.inputs or {}
        required = set(schema.get("required", []) or [])
        inputs = []
        for name, raw in (schema.get("properties") or {}).items():
            prop = raw if isinstance(raw, dict) else {}
            entry: dict[str, Any] = {"name": name, "type": prop.get("type"), "required": name in required}
            if "default" in prop:
                entry["default"] = prop["default"]
            if prop.get("description"):
                entry["description"] = " ".join(str(prop["description"]).split())
            inputs.append(entry)
        result.append(
            {
                "workflowId": wf.workflow_id,
                "summary": wf.summary,
                "inputs": inputs,
                "outputs": list(wf.outputs),
                "steps": [s.step_id for s in wf.steps],
            }
        )
    return result


def print_workflows(doc: str, *, json_out: bool) -> None:
    """Print the workflows of ``doc`` as a table (or JSON)."""
    data = describe(doc)
    if json_out:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        return
    console = Console(highlight=False)
    for wf in data:
        console.print(f"[bold]{wf['workflowId']}[/bold]  {wf['summary'] or ''}")
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        for col in ("input", "type", "required", "default"):
            table.add_column(col)
        for item in wf["inputs"]:
            table.add_row(
                item["name"],
                str(item.get("type") or "any"),
                "yes" if item["required"] else "",
                json.dumps(item["default"]) if "default" in item else "",
            )
        console.print(table)
        console.print(f"  outputs: {', '.join(wf['outputs']) or '(none)'}")
        console.print(f"  steps:   {' → '.join(wf['steps'])}\n")
