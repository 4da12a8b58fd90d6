"""spola's benchmarks in one command; prints Markdown tables of measurements and ratios.

    .venv/bin/python bench/run.py                  # everything (peers installed on first use), ~10 min
    .venv/bin/python bench/run.py --quick          # seconds: small sizes, no peers (the tests' smoke run)
    .venv/bin/python bench/run.py --readme         # also replace the tables in bench/README.md

Sections: 1 overhead (one workflow, spola vs a raw aiohttp loop), 2 peers (arazzo-runner, Redocly
respect), 3 scale (1,000 and 10,000 workflows in flight), 4 start-up, 5 hot spots (where the time goes).
All against one local server (``bench/server.py``) started here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import time
from dataclasses import asdict
from pathlib import Path

from common import BENCH, bench_server, mib
from hotspots import measure_hotspots
from overhead import measure_overhead
from peers import os_note, run_peers, setup_peers
from scale import measure_scale
from startup import FIRST_REQUEST, measure_startup
from startup import FLOOR as STARTUP_FLOOR
from startup import GOAL as STARTUP_GOAL

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def machine() -> str:
    """One line on the machine: CPU, cores, memory, OS, Python, aiohttp, SQLite, load."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
        with open("/proc/meminfo") as info:
            memory = int(next(line.split()[1] for line in info if line.startswith("MemTotal"))) / 1024 / 1024
    except (OSError, StopIteration):
        memory = 0.0
    import aiohttp

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}, "
        f"SQLite {sqlite3.sqlite_version}; "
        f"load average {load:.1f} at start"
    )


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def overhead_section(rows: list, polls: int, long_polls: int | None = None) -> str:
    raw = rows[0]
    raw_uv = next((r for r in rows if r.name.startswith("raw aiohttp loop on uvloop")), None)

    def base(r: object) -> object:
        return raw_uv if raw_uv is not None and "uvloop" in r.name else raw  # type: ignore[attr-defined]

    def cpu(r: object) -> list[str]:
        value = r.cpu_us  # type: ignore[attr-defined]
        floor = base(r).cpu_us  # type: ignore[attr-defined]
        return ["-", "-"] if value != value else [f"{value:.0f}", f"{value / floor:.2f}x"]

    def per_poll(r: object) -> list[str]:
        if long_polls is None:
            return []
        wall, cpu = r.per_poll_us, r.per_poll_cpu_us  # type: ignore[attr-defined]
        floor = base(r)
        if wall != wall:
            return ["-", "-", "-", "-"]
        return [f"{wall:.0f}", f"{wall / floor.per_poll_us:.2f}x",  # type: ignore[attr-defined]
                f"{cpu:.0f}", f"{cpu / floor.per_poll_cpu_us:.2f}x"]  # type: ignore[attr-defined]  # fmt: skip

    body = [[r.name, f"{r.per_request_us:.0f}", f"{r.per_request_us / base(r).per_request_us:.2f}x", *cpu(r),
             *per_poll(r), r.note]
            for r in rows]  # fmt: skip
    header = ["client", "wall us / request", "vs raw aiohttp", "client CPU us / request", "vs raw"]
    if long_polls is not None:
        header += ["wall us / poll", "vs raw", "CPU us / poll", "vs raw"]
    header.append("")
    poll_note = (
        f" The per-poll columns are one more poll: each contender also ran the same workflows with "
        f"{long_polls} polls right after, and the difference over the polls in between (median of the "
        "rounds' differences) leaves out each workflow's own costs (its run's header, lease and end, the "
        "trigger and its durable intent, the fetch): the steady work of a poll loop."
        if long_polls is not None
        else ""
    )
    uv_note = (
        " uvloop rows (when uvloop is installed: the dev extra has it) are compared with the raw loop on "
        "uvloop, never with the asyncio floor; spola itself runs on asyncio's loop."
        if raw_uv is not None
        else ""
    )
    return (f"### 1. Overhead: one 3-step workflow, {polls} polls, no waits\n\n" + _table(header, body)
            + "\n\nGoal: spola journalled within 1.10x of raw aiohttp (wall). Client CPU: the client "
            "process's CPU time (all threads), less disturbed by other load than wall time. The "
            "hand-specialised row (`specialised.py`) is the bench document's steps written out as plain "
            "Python over spola's own `send`: every parameter, criterion and output it declares, nothing "
            "interpreted, no journal; a floor for any engine in Python, generated per-step code included. "
            "The row below it adds spola's journal as spola keeps it (header, lease, the trigger's intent "
            "and response committed around its send, one row per poll, the run's end): the floor journalled."
            + poll_note + uv_note)  # fmt: skip


def peers_section(rows: list, polls: int, note: str) -> str:
    spola = next((r for r in rows if r.tool == "spola" and r.ok), None)
    body = []
    for r in rows:
        versus = f"{spola.rate / r.rate:.1f}x" if spola and r.ok and r.rate else "-"
        memory = f"{r.peak_rss / spola.peak_rss:.1f}x" if spola and r.peak_rss and spola.peak_rss else "-"
        body.append([
            r.tool, r.form, "yes" if r.ok else "no", str(r.requests), f"{r.rate:.0f}" if r.ok else "-",
            versus, f"{r.wall:.2f}" if r.ok else "-", mib(r.peak_rss) if r.peak_rss else "-", memory, r.note,
        ])  # fmt: skip
    header = ["tool", "workflow form", "ran", "requests", "req/s", "spola is faster by", "wall s",
              "peak RSS", "RSS vs spola", "why not"]  # fmt: skip
    return (f"### 2. Peers: the same workflow ({polls} polls), one process per run ({note})\n\n"
            + _table(header, body)
            + "\n\nreq/s: as the server saw it, first to last request (start-up excluded); wall s includes "
            "start-up. spola journals to SQLite here, the peers keep nothing.")  # fmt: skip


def scale_section(rows: list) -> str:
    body = []
    for r in rows:
        body.append([
            f"{r.workflows:,}", f"{r.peak_in_flight:,}", f"{r.polls} x {r.interval:g} s", mib(r.peak_rss),
            f"{r.rss_per_workflow / 1024:.1f} KiB", f"{r.rate:.0f}",
            f"{r.lag_p50_ms:.0f} / {r.lag_p99_ms:.0f} / {r.lag_max_ms:.0f}", f"{r.wall:.1f}",
            f"{r.commits} / {r.largest_batch}",
            "yes" if r.ok and r.peak_rss < 1024**3 else "no", r.note,
        ])  # fmt: skip
    header = ["workflows", "peak in flight", "polls x interval", "peak RSS", "RSS per workflow", "req/s",
              "loop lag p50/p99/max ms", "wall s", "commits / largest",
              "ok, < 1 GiB", ""]  # fmt: skip
    return ("### 3. Scale: workflows in flight at once in one process, journalled\n\n" + _table(header, body)
            + "\n\nRSS per workflow: (peak RSS - RSS before the batch) / peak in flight. Loop lag: how late "
            "a 50 ms timer fired.")  # fmt: skip


def startup_section(rows: list) -> str:
    base = rows[0].wall
    floor = next((r.wall for r in rows if r.command == STARTUP_FLOOR and r.ok), None)
    body = []
    for r in rows:
        goal, note = "", "" if r.ok else r.note
        if r.command == FIRST_REQUEST:
            met = r.ok and r.wall <= STARTUP_GOAL
            goal = f"<= {STARTUP_GOAL * 1000:.0f} ms: " + ("met" if met else "not met")
            if floor is not None and r.ok:
                note = note or f"floor + {(r.wall - floor) * 1000:.0f} ms"
        spread = f"{min(r.walls) * 1000:.0f}-{max(r.walls) * 1000:.0f}" if r.walls else "-"
        body.append([r.command, f"{r.wall * 1000:.0f}", spread, f"{r.wall / base:.1f}x",
                     mib(r.peak_rss), goal, note])  # fmt: skip
    return "### 4. Start-up (fresh process, median)\n\n" + _table(
        ["command", "wall ms", "range ms", "vs bare interpreter", "peak RSS", "goal", ""], body
    ) + ("\n\nThe first-request rows: from spawning the process to the first request the bench server saw;"
         " `spola run DOC --json` is journalled; the floor is `bench/raw_client.py --client aiohttp`"
         " (the interpreter, asyncio and aiohttp imported, one session, one POST), sampled in turn"
         " with it.")  # fmt: skip


def hotspot_section(rows: list) -> str:
    body = [[r.what, f"{r.micros:.0f}", r.per, r.note] for r in rows]
    return "### 5. Hot spots: where spola's time goes\n\n" + _table(["what", "us", "per", "note"], body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="seconds: small sizes, no peers")
    parser.add_argument("--no-peers", action="store_true", help="skip benchmark 2")
    parser.add_argument("--scale", default="1000,10000", help="workflow counts for benchmark 3")
    parser.add_argument("--scale-polls", type=int, default=5, help="polls per workflow in benchmark 3")
    parser.add_argument(
        "--scale-rate",
        type=float,
        default=250.0,
        help="poll requests/s to aim at in benchmark 3 (poll interval = workflows / rate)",
    )
    parser.add_argument("--polls", type=int, default=50, help="polls per workflow in benchmarks 1, 2 and 5")
    parser.add_argument(
        "--long-polls",
        type=int,
        default=200,
        help="benchmark 1 also runs this many polls per workflow: the per-poll columns (0: not)",
    )
    parser.add_argument("--readme", action="store_true", help="write the tables into bench/README.md")
    parser.add_argument("--json", help="also write the raw measurements to this file")
    args = parser.parse_args()
    quick = args.quick
    polls = 5 if quick else args.polls
    sizes = [40] if quick else [int(n) for n in args.scale.split(",") if n]
    started = time.perf_counter()
    sections = [f"Machine: {machine()}.", f"Command: `{' '.join(['bench/run.py', *sys.argv[1:]])}`."]
    raw: dict[str, object] = {}
    env = None if quick or args.no_peers else setup_peers()  # first: its venv also has httpx for section 1
    with bench_server() as server:
        rounds, workflows = (1, 1) if quick else (7, 6)
        long = 2 * polls if quick else args.long_polls
        long_polls = long if long > polls else None
        overhead = measure_overhead(
            server, rounds=rounds, workflows=workflows, polls=polls, context=not quick, long_polls=long_polls
        )
        sections.append(overhead_section(overhead, polls, long_polls))
        raw["overhead"] = [asdict(r) for r in overhead]
        if env is not None:
            peers = run_peers(server, env, polls=polls, repeats=5)
            sections.append(peers_section(peers, polls, os_note()))
            raw["peers"] = [asdict(r) for r in peers]
        scale = [
            measure_scale(server, workflows=n, polls=args.scale_polls if not quick else 2,
                          interval=0.05 if quick else max(0.05, n / args.scale_rate), store=True)
            for n in sizes
        ]  # fmt: skip
        sections.append(scale_section(scale))
        raw["scale"] = [asdict(r) for r in scale]
        (startup,) = measure_startup(1 if quick else 7, quick=quick, server=server)
        sections.append(startup_section(startup))
        raw["startup"] = [asdict(r) for r in startup]
        hot = measure_hotspots(server, polls=polls, runs=4 if quick else 40, rounds=1 if quick else 5)
        sections.append(hotspot_section(hot))
        raw["hotspots"] = [asdict(r) for r in hot]
    sections.append(f"Measured in {time.perf_counter() - started:.0f} s.")
    report = "\n\n".join(sections) + "\n"
    sys.stdout.write(report)
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=2) + "\n")
    if args.readme:
        readme = BENCH / "README.md"
        text = readme.read_text()
        head, _, rest = text.partition(START)
        _, _, tail = rest.partition(END)
        readme.write_text(f"{head}{START}\n{report}{END}{tail}")


if __name__ == "__main__":
    main()
