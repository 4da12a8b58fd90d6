"""``--html FILE.html`` and ``spola runs show ID --html FILE``: one self-contained page.

No network, no CDN: inline CSS, an inline SVG timeline and a few lines of inline script for the
hover card. Each step is a lane; each execution a bar on the time axis coloured by its outcome,
each wait a striped bar; hovering a bar shows the request, status, remote state and why the engine
went where it went. Below: the run's error, expectations, outputs and every execution in detail.
"""

from __future__ import annotations

import contextlib
import html
import json
import math
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from spola.store.records import iso_utc

if TYPE_CHECKING:
    from spola.reports.model import Execution, RunReport, WaitSpan

COLOURS = {
    "passed": "#2f9e5b",
    "failed": "#d9463e",
    "resent": "#e6a23c",
    "pending": "#8a94a6",
}
STATUS_COLOURS = {
    "succeeded": "#2f9e5b",
    "failed": "#d9463e",
    "interrupted": "#e6a23c",
    "cancelled": "#e6a23c",
}

WIDTH = 1100
LABEL_W = 190
RIGHT_PAD = 170
LANE_H = 40
BAR_H = 16
AXIS_H = 30
MIN_BAR = 3.0


def _asset(name: str) -> str:
    return files("spola.reports").joinpath("assets", name).read_text(encoding="utf-8")


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _seconds(value: float) -> str:
    if value >= 120:
        return f"{value / 60:.1f} min"
    if value >= 10:
        return f"{value:.0f} s"
    if value >= 1:
        return f"{value:.1f} s"
    return f"{value * 1000:.0f} ms"


def _tick_step(total: float) -> float:
    raw = total / 8
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def _tick_label(value: float, step: float) -> str:
    if step >= 60 and value % 60 == 0:
        return f"{value / 60:g} min"
    if step >= 1:
        return f"{value:g} s"
    return f"{value * 1000:g} ms" if step < 0.1 else f"{value:.1f} s"


def _state(execution: Execution) -> str:
    return ", ".join(f"{k} {_short(v, 28)}" for k, v in execution.remote_state)


def _tip(execution: Execution, t0: float) -> str:
    parts = [f"<b>{_e(execution.step_id)}</b> #{execution.execution}"]
    if execution.attempt > 1:
        parts[0] += f" <span class=k>attempt {execution.attempt}</span>"
    if execution.request is not None:
        parts.append(f"{_e(execution.request.method)} {_e(_short(execution.request.url, 90))}")
    response = execution.response
    if response is not None:
        status = response.status if response.status is not None else f"no response: {response.error}"
        parts.append(f"<span class=k>status</span> {_e(status)} · {response.elapsed * 1000:.0f} ms")
    start = execution.started_at - t0
    parts.append(f"<span class=k>at</span> {_seconds(start)}")
    if execution.remote_state:
        parts.append(f"<span class=k>remote state</span> <b>{_e(_state(execution))}</b>")
    for criterion in execution.criteria:
        mark = "✓" if criterion.passed else "✗"
        seen = ", ".join(f"was {_short(v, 30)}" for _, v in criterion.observed[:2])
        parts.append(f"{mark} <code>{_e(_short(criterion.condition, 70))}</code> {_e(seen)}")
    if execution.action is not None:
        parts.append(f"<span class=k>→</span> {_e(execution.action.why)}")
    elif execution.next:
        parts.append(f"<span class=k>→</span> {_e(execution.next)}")
    return "<br>".join(parts)


def _cancel_text(cancel: dict[str, Any]) -> str:
    text = f"cancel workflow {cancel.get('workflowId')}: {cancel.get('status')}"
    if cancel.get("reason"):
        text += f" (stopped: {cancel['reason']})"
    outputs = cancel.get("outputs") or {}
    if outputs:
        text += " — " + ", ".join(f"{k} {_short(v, 40)}" for k, v in outputs.items())
    if cancel.get("message"):
        text += f" — {cancel['message']}"
    return text


def _wait_end(report: RunReport, wait: WaitSpan) -> float:
    """Where a wait's bar ends: its planned end, or where a stopped run cut it short."""
    if report.status not in ("interrupted", "cancelled"):
        return wait.until
    later = [e.started_at for e in report.executions if e.started_at > wait.at]
    lane = (wait.step_id, wait.workflow_id)
    if any(e.started_at > wait.at and (e.step_id, e.workflow_id) == lane for e in report.executions):
        return wait.until
    cut = min([*later, report.finished_at or wait.until, wait.until])
    return max(cut, wait.at)


def _timeline(report: RunReport) -> tuple[str, int]:
    t0 = report.started_at
    total = max(report.duration, 0.001)
    steps = report.steps()
    lanes: dict[str, int] = {path: i for i, (path, _s, _d, _x) in enumerate(steps)}
    plot_w = WIDTH - LABEL_W - RIGHT_PAD
    height = AXIS_H + LANE_H * max(1, len(steps)) + 10

    def x(at: float) -> float:
        return LABEL_W + (min(max(at - t0, 0.0), total) / total) * plot_w

    out = [
        f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="timeline of run {_e(report.run_id)}">',
        '<defs><pattern id="wait" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#e8edf5"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#b8c3d6" stroke-width="2.5"/></pattern></defs>',
    ]
    step = _tick_step(total)
    tick = 0.0
    while tick <= total + 1e-9:
        tx = LABEL_W + tick / total * plot_w
        out.append(
            f'<line x1="{tx:.1f}" y1="{AXIS_H - 6}" x2="{tx:.1f}" y2="{height - 6}" stroke="#e4e7ec"/>'
            f'<text class="tick" x="{tx:.1f}" y="{AXIS_H - 12}" text-anchor="middle">'
            f"{_tick_label(tick, step)}</text>"
        )
        tick = round(tick + step, 9)
    for i, (_path, step_id, depth, executions) in enumerate(steps):
        y = AXIS_H + i * LANE_H
        if i % 2:
            out.append(f'<rect x="0" y="{y}" width="{WIDTH}" height="{LANE_H}" fill="#fbfbfc"/>')
        owner = executions[0].workflow_id
        label = _e(("  " * depth) + (step_id if depth == 0 else f"{owner}.{step_id}"))
        count = len({e.execution for e in executions})
        suffix = f' <tspan fill="#98a2b3">&#215;{count}</tspan>' if count > 1 else ""
        out.append(
            f'<text class="lane-label" x="{10 + depth * 12}" y="{y + LANE_H / 2 + 9}">{label}{suffix}</text>'
        )
        last = executions[-1]
        if last.remote_state:
            out.append(
                f'<text class="state last" x="{WIDTH - RIGHT_PAD + 10}" y="{y + LANE_H / 2 + 9}">'
                f"{_e(_short(_state(last), 34))}</text>"
            )
    for wait in report.waits:
        wanted = f"{wait.workflow_id}/{wait.step_id}"
        lane = next((lanes[p] for p, _s, d, _x in steps if p.endswith(wanted) and d == wait.depth), None)
        if lane is None:
            continue
        top = AXIS_H + lane * LANE_H + (LANE_H - BAR_H) / 2 + 8
        until = _wait_end(report, wait)
        x1, x2 = x(wait.at), x(until)
        title = f"waiting {_seconds(until - wait.at)} ({wait.reason})"
        out.append(
            f'<rect class="wait" x="{x1:.1f}" y="{top:.1f}" width="{max(x2 - x1, 1):.1f}" '
            f'height="{BAR_H - 6}" rx="2" fill="url(#wait)"><title>{_e(title)}</title></rect>'
        )
    drawn = 0
    last_state: dict[int, str] = {}
    last_label_end: dict[int, float] = {}
    for index, execution in enumerate(report.executions):
        lane = lanes.get(execution.step_path)
        if lane is None:
            continue
        top = AXIS_H + lane * LANE_H + (LANE_H - BAR_H) / 2 + 5
        end = execution.finished_at if execution.finished_at is not None else report.ended_at
        x1, x2 = x(execution.started_at), x(end)
        width = max(x2 - x1, MIN_BAR)
        colour = COLOURS[execution.outcome]
        status = execution.status_code
        title = f"{execution.step_id} #{execution.execution}" + (f" {status}" if status is not None else "")
        out.append(
            f'<rect class="bar" data-step="{_e(execution.step_id)}" data-outcome="{execution.outcome}" '
            f'data-row="x{index}" data-tip="{_e(_tip(execution, report.started_at))}" '
            f'x="{x1:.1f}" y="{top:.1f}" width="{width:.1f}" height="{BAR_H}" rx="3" fill="{colour}">'
            f"<title>{_e(title)}</title></rect>"
        )
        drawn += 1
        state = ", ".join(_short(v, 24) for _k, v in execution.remote_state)
        seen = last_state.get(lane)
        if state and state != seen:
            room = x1 - last_label_end.get(lane, -1e9)
            if room > 4:
                out.append(f'<text class="state" x="{x1:.1f}" y="{top - 4:.1f}">{_e(state)}</text>')
                last_label_end[lane] = x1 + 6.2 * len(state)
                last_state[lane] = state
    out.append("</svg>")
    return "".join(out), drawn


def _pre(text: str | None, truncated: bool = False) -> str:
    if not text:
        return '<span class="meta">(no body)</span>'
    with contextlib.suppress(ValueError):
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    return f"<pre>{_e(text)}</pre>" + ('<span class="meta">(truncated)</span>' if truncated else "")


def _headers(pairs: tuple[tuple[str, str], ...]) -> str:
    return "<br>".join(f"<code>{_e(k)}: {_e(v)}</code>" for k, v in pairs) or '<span class="meta">-</span>'


def _details(execution: Execution) -> str:
    parts: list[str] = []
    if execution.criteria:
        items = []
        for c in execution.criteria:
            seen = ", ".join(
                f"{_e(name)} was <code>{_e(_short(value, 60))}</code>" for name, value in c.observed
            )
            mark = '<span class="ok">✓</span>' if c.passed else '<span class="bad">✗</span>'
            items.append(
                f"<li>{mark} <code>{_e(c.condition)}</code> "
                f"<span class=meta>{_e(c.type)} · {_e(c.role)}</span>"
                + (f" — {seen}" if seen else "")
                + "</li>"
            )
        parts.append("<b>Criteria</b><ul>" + "".join(items) + "</ul>")
    if execution.request is not None:
        request = execution.request
        parts.append(
            f"<b>Request</b> <code>{_e(request.method)} {_e(request.url)}</code><br>"
            f"{_headers(request.headers)}"
            + (_pre(request.body, request.body_truncated) if request.body_bytes is not None else "")
        )
    if execution.response is not None:
        response = execution.response
        head = response.status if response.status is not None else f"no response: {response.error}"
        parts.append(
            f"<b>Response</b> <code>{_e(head)}</code> · {response.body_bytes} bytes<br>"
            f"{_headers(response.headers)}{_pre(response.body, response.body_truncated)}"
        )
    if execution.outputs:
        parts.append(f"<b>Outputs</b>{_pre(json.dumps(execution.outputs, ensure_ascii=False, default=str))}")
    return "".join(f"<div>{p}</div>" for p in parts)


def _rows(report: RunReport) -> str:
    out = []
    t0 = report.started_at
    for index, e in enumerate(report.executions):
        colour = COLOURS[e.outcome]
        request = f"{e.request.method} {_short(e.request.url, 70)}" if e.request else "workflow"
        status = (
            e.status_code if e.status_code is not None else ("-" if e.response is None else "no response")
        )
        took = "" if e.finished_at is None else _seconds(e.finished_at - e.started_at)
        why = e.action.why if e.action else e.next
        out.append(
            f'<tr id="x{index}"><td class="step"><span class="dot" style="background:{colour}"></span>'
            f"{_e(('· ' * e.depth) + e.step_id)}</td><td class=num>{e.execution}</td>"
            f"<td class=num>{_seconds(e.started_at - t0)}</td><td><code>{_e(request)}</code></td>"
            f"<td class=num>{_e(status)}</td><td class=num>{took}</td><td>{_e(_state(e))}</td>"
            f"<td>{_e(why)}<details><summary>details</summary>{_details(e)}</details></td></tr>"
        )
    return "".join(out)


def html_page(report: RunReport) -> str:
    """The page, redacted with the report's redactor."""
    colour = STATUS_COLOURS.get(report.status, "#8a94a6")
    svg, _drawn = _timeline(report)
    started = iso_utc(report.started_at) or ""
    blocks = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">",
        f"<title>{_e(report.workflow_id)} — {_e(report.status)} — spola</title>",
        f"<style>{_asset('timeline.css')}</style></head><body><main>",
        f'<h1>{_e(report.workflow_id)} <span class="badge" style="background:{colour}">'
        f"{_e(report.status)}</span>",
    ]
    if report.failed_expectations:
        blocks.append('<span class="badge" style="background:#d9463e">expectation failed</span>')
    blocks.append("</h1>")
    blocks.append(
        f'<div class="meta">run <code>{_e(report.run_id)}</code> · started {_e(started)} · '
        f"{_seconds(report.duration)} · {len(report.executions)} executions · "
        f"<code>{_e(report.document)}</code></div>"
    )
    if report.error:
        where = f"step {report.error_step}: " if report.error_step else ""
        if report.error_step and report.error.startswith(f"step {report.error_step}"):
            where = ""
        blocks.append(f'<div class="error">{_e(where + report.error)}</div>')
    if report.cancel:
        blocks.append(f'<div class="expect">{_e(_cancel_text(report.cancel))}</div>')
    if report.expectations:
        blocks.append("<h2>Expectations</h2>")
        for expectation in report.expectations:
            mark = '<span class="ok">✓</span>' if expectation.passed else '<span class="bad">✗</span>'
            css = "expect" if expectation.passed else "expect bad"
            blocks.append(f'<div class="{css}">{mark} {_e(expectation.message)}</div>')
    blocks.append("<h2>Timeline</h2>")
    legend = "".join(
        f'<span><i style="background:{COLOURS[k]}"></i>{label}</span>'
        for k, label in (("passed", "passed"), ("failed", "failed"), ("resent", "throttled, re-sent"))
    )
    stripes = "repeating-linear-gradient(45deg,#e8edf5 0 3px,#b8c3d6 3px 5px)"
    legend += f'<span><i style="background:{stripes}"></i>waiting</span>'
    blocks.append(f'<div class="panel">{svg}<div class="legend">{legend}</div></div>')
    if report.outputs:
        rows = "".join(
            f"<tr><td><code>{_e(k)}</code></td><td><code>{_e(_short(v, 400))}</code></td></tr>"
            for k, v in report.outputs.items()
        )
        blocks.append(f"<h2>Outputs</h2><table><tr><th>output</th><th>value</th></tr>{rows}</table>")
    if report.inputs:
        rows = "".join(
            f"<tr><td><code>{_e(k)}</code></td><td><code>{_e(_short(v, 400))}</code></td></tr>"
            for k, v in report.inputs.items()
        )
        blocks.append(f"<h2>Inputs</h2><table><tr><th>input</th><th>value</th></tr>{rows}</table>")
    blocks.append(
        "<h2>Executions</h2><table><tr><th>step</th><th>#</th><th>at</th><th>request</th><th>status</th>"
        f"<th>took</th><th>remote state</th><th>then</th></tr>{_rows(report)}</table>"
    )
    blocks.append(f'<div id="tip"></div></main><script>{_asset("timeline.js")}</script></body></html>')
    return report.redact_text("\n".join(blocks))
