"""The HTML timeline opened in headless Chromium: the bars are laid out and drawn in their colours."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest

from spola.core.events import ActionTaken, CriterionResult, RequestSummary, ResponseSummary
from spola.reports import Execution, ReportPaths, RunReport, WaitSpan, write_reports

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (.ci/run installs it)")
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
    )


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA PNG (what Chromium writes) into rows of raw pixels."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                best = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + best) & 0xFF
        rows.append(bytes(line) if channels == 3 else bytes(b for i, b in enumerate(line) if i % 4 != 3))
        previous = line
    return width, height, rows


def count_colour(rows: list[bytes], rgb: tuple[int, int, int], tolerance: int = 12) -> int:
    found = 0
    for row in rows:
        for i in range(0, len(row), 3):
            if all(abs(row[i + c] - rgb[c]) <= tolerance for c in range(3)):
                found += 1
    return found


def sample_report() -> RunReport:
    t0 = 1_700_000_000.0
    report = RunReport("20240101-000000-abcdef12", "run-job-and-wait", "flow.arazzo.yaml", t0)
    ok = ResponseSummary(200, (("Content-Type", "application/json"),), 20, '{"state": "x"}', elapsed=0.05)
    report.executions.append(
        Execution("run-job-and-wait", "runNow", "run-job-and-wait/runNow", 0, 1, 1, 1, t0, t0 + 0.1,
                  RequestSummary("POST", "http://127.0.0.1/api/2.1/jobs/run-now"), ok, True, "next: waitForRun")
    )  # fmt: skip
    states = ["PENDING", "RUNNING", "RUNNING", "TERMINATING", "TERMINATED"]
    at = t0 + 0.2
    for n, state in enumerate(states, start=1):
        passed = state != "TERMINATING"
        criteria = (
            CriterionResult("onSuccess:stillActive", "$response.body#/state/life_cycle_state != 'TERMINATED'",
                            "simple", state != "TERMINATED",
                            (("$response.body#/state/life_cycle_state", state),)),
        )  # fmt: skip
        report.executions.append(
            Execution("run-job-and-wait", "waitForRun", "run-job-and-wait/waitForRun", 0, n, 1, n + 1, at,
                      at + 0.15, RequestSummary("GET", "http://127.0.0.1/api/2.1/jobs/runs/get?run_id=1"),
                      ResponseSummary(200 if passed else 503, elapsed=0.1), passed, "goto waitForRun", (),
                      criteria, ActionTaken("goto", "action 'stillActive' matched → goto waitForRun"),
                      (("lifeCycleState", state),))
        )  # fmt: skip
        if n < len(states):
            report.waits.append(
                WaitSpan("run-job-and-wait", "waitForRun", 0, at + 0.15, at + 2.0, f"poll {n + 1}")
            )
        at += 2.0
    report.status = "succeeded"
    report.finished_at = at
    report.outputs = {"resultState": "SUCCESS"}
    return report


def test_the_timeline_renders_its_bars_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "run.html"
    report = sample_report()
    write_reports(report, ReportPaths(html=str(page)), env={})
    dom = chromium(page, tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr
    match = re.search(r'data-rendered-bars="(\d+)"', dom.stdout)
    assert match is not None, "the page's script did not run"
    assert int(match.group(1)) == len(report.executions) == 6  # each bar laid out with a size
    shot = tmp_path / "shot.png"
    for _attempt in range(3):  # chromium under load sometimes writes no file on the first try
        done = chromium(page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,600")
        if shot.exists():
            break
        time.sleep(1)
    assert shot.exists(), done.stderr
    width, height, rows = png_pixels(shot)
    assert (width, height) == (1200, 600)
    green = count_colour(rows, (0x2F, 0x9E, 0x5B))
    red = count_colour(rows, (0xD9, 0x46, 0x3E))
    assert green > 100  # five passing bars (and the status badge)
    assert red > 20  # the failed poll
