"""``--junit FILE.xml``: a JUnit XML test case per workflow run, the format CI systems read.

A failed run is a ``<failure>`` naming the step and the reason; a failed ``--expect`` is a
``<failure>`` naming the expectation; an interrupted or cancelled run is an ``<error>``.
``<system-out>`` holds one line per step execution.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from pathlib import PurePath
from typing import TYPE_CHECKING

from spola.store.records import iso_utc

if TYPE_CHECKING:
    from spola.reports.model import Execution, RunReport


def execution_line(execution: Execution) -> str:
    """``pollRun #3 GET …/runs/1  200  12 ms  status 20 → end (runFailed)``."""
    parts = [f"{'  ' * execution.depth}{execution.step_id} #{execution.execution}"]
    if execution.attempt > 1:
        parts[0] += f" (attempt {execution.attempt})"
    if execution.request is not None:
        parts.append(f"{execution.request.method} {execution.request.url}")
    response = execution.response
    if response is not None:
        parts.append(
            str(response.status) if response.status is not None else f"no response ({response.error})"
        )
    if execution.finished_at is not None:
        parts.append(f"{(execution.finished_at - execution.started_at) * 1000:.0f} ms")
    if execution.remote_state:
        parts.append(", ".join(f"{k} {v}" for k, v in execution.remote_state))
    if execution.action is not None:
        parts.append(execution.action.why)
    elif execution.next:
        parts.append(f"→ {execution.next}")
    return "  ".join(parts)


def _suite_name(report: RunReport) -> str:
    return PurePath(report.document).name or report.document


def junit_xml(report: RunReport) -> str:
    """The JUnit XML document (one ``testsuite`` with one ``testcase``)."""
    failures = 0
    errors = 0
    case = ET.Element(
        "testcase",
        {
            "name": report.workflow_id,
            "classname": _suite_name(report),
            "time": f"{report.duration:.3f}",
        },
    )
    if report.status in ("interrupted", "cancelled"):
        errors = 1
        error = ET.SubElement(
            case,
            "error",
            {
                "message": report.redact_text(
                    f"the run was {report.status}: {report.error or ''}".rstrip(": ")
                ),
                "type": report.status,
            },
        )
        error.text = report.redact_text(report.error or report.status)
    elif report.status != "succeeded":
        failures = 1
        where = f"step {report.error_step}: " if report.error_step else ""
        message = report.error or f"the workflow {report.status}"
        if report.error_step and message.startswith(f"step {report.error_step}"):
            where = ""
        failure = ET.SubElement(
            case, "failure", {"message": report.redact_text(where + message), "type": "failed"}
        )
        failure.text = report.redact_text(where + message)
    failed = report.failed_expectations
    if failed and not errors:
        if not failures:
            failures = 1
            failure = ET.SubElement(
                case,
                "failure",
                {"message": report.redact_text(failed[0].message), "type": "expectation"},
            )
            failure.text = report.redact_text("\n".join(e.message for e in failed))
        else:
            node = case.find("failure")
            assert node is not None
            node.text = (node.text or "") + "\n" + report.redact_text("\n".join(e.message for e in failed))
    out = ET.SubElement(case, "system-out")
    lines = [f"run {report.run_id}: {report.status}"] + [execution_line(e) for e in report.executions]
    if report.outputs:
        lines.append("outputs: " + ", ".join(f"{k}={v!r}" for k, v in report.outputs.items()))
    out.text = report.redact_text("\n".join(lines))
    suite = ET.Element(
        "testsuite",
        {
            "name": _suite_name(report),
            "tests": "1",
            "failures": str(failures),
            "errors": str(errors),
            "skipped": "0",
            "time": f"{report.duration:.3f}",
            "timestamp": (iso_utc(report.started_at) or "")[:19],
            "hostname": socket.gethostname() or "localhost",
            "id": "0",
            "package": "spola",
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("spola.runId", report.run_id),
        ("spola.workflowId", report.workflow_id),
        ("spola.document", report.document),
        ("spola.status", report.status),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": report.redact_text(value)})
    suite.append(case)
    ET.SubElement(suite, "system-out").text = ""
    ET.SubElement(suite, "system-err").text = ""
    root = ET.Element(
        "testsuites",
        {
            "name": "spola",
            "tests": "1",
            "failures": str(failures),
            "errors": str(errors),
            "time": f"{report.duration:.3f}",
        },
    )
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
