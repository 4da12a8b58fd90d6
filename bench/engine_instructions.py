"""The engine alone, counted in instructions: where its cost per exchange goes, layer by layer.

`hotspots.py`'s engine loop (``next_actions`` and ``receive`` over canned responses, no I/O) runs
under ``valgrind --tool=callgrind`` with 2 and with 12 runs of the bench document (trigger, 50 polls,
fetch); the difference over the 520 exchanges in between is what one exchange costs, the
interpreter's start-up and imports cancelled out. Four contenders peel the layers off:

- ``observed``: the engine as ``spola run`` drives it (every event built, for the journal's step log);
- ``engine``: the engine as a batch drives it (nobody observes: no events);
- ``free judge``: the same, with the step's judgement (criteria, outputs, the choice of action and
  the scheduling) replaced by a decision that costs nothing: what is left is the state machine's
  bookkeeping per exchange (the action, the call id, the frame, the report, the scope, the body);
- ``harness``: no engine at all, a stub handing out one ready request: the loop that feeds it.

    .venv/bin/python bench/engine_instructions.py                 # this tree
    .venv/bin/python bench/engine_instructions.py --vs OTHER/src  # and another checkout, in turn

Needs valgrind. The counts are deterministic for a tree (PYTHONHASHSEED is fixed), whatever the load.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
KINDS = {
    "observed": "engine, observed (spola run: every event built)",
    "engine": "engine, unobserved (a batch: no events)",
    "free-judge": "engine, unobserved, the judgement free (bookkeeping alone)",
    "harness": "no engine: the loop feeding a stub one ready request",
}
POLLS = 50
LOW, HIGH = 2, 12


def _free_judge() -> None:
    """Replace `flow.judge` by the bench document's decisions at no cost (trigger, poll until the
    body says TERMINATED, fetch, end)."""
    from hotspots import DONE

    from spola.core import flow

    move = flow.Verdict(True, [], "next", None)
    end = flow.Verdict(True, [], "end", flow.Complete("succeeded", None))

    def judge(frame: Any, scope: Any, now: float, options: Any, rng: Any, **given: Any) -> flow.Verdict:
        index = frame.index
        frame.phase, frame.pending_delay = "ready", None
        if index == 0:
            frame.index = 1
        elif index == 1:
            if given["response"].body == DONE:
                frame.index = 2
        else:
            return end
        return move

    flow.judge = judge  # type: ignore[assignment]


class _Stub:
    """The smallest thing `_engine_loop` can drive: one ready request, 52 times, then the end."""

    def __init__(self) -> None:
        from spola.core.actions import Finish, SendRequest
        from spola.exchange import HttpRequest

        self.turns = 0
        self.events: list[Any] = []
        request = HttpRequest("GET", "http://127.0.0.1:9/api/2.1/jobs/runs/get?run_id=1")
        self.send = [SendRequest(1, request, "w/pollRun", "pollRun", 1, True, 30.0)]
        self.end = [Finish(None)]  # type: ignore[arg-type]

    def next_actions(self, now: float) -> list[Any]:
        self.turns += 1
        return self.end if self.turns > POLLS + 2 else self.send

    def receive(self, call_id: int, response: Any, now: float) -> None:
        pass

    def drain_events(self) -> list[Any]:
        return []


def _child(kind: str, runs: int) -> None:
    """Drive ``runs`` runs as ``kind`` (in the process callgrind watches)."""
    sys.path.insert(0, str(BENCH))
    from common import WORKFLOWS
    from hotspots import _engine_loop, _options

    from spola.core.engine import Run
    from spola.model import load

    if kind == "harness":
        sent = sum(_engine_loop(_Stub(), POLLS) for _ in range(runs))
    else:
        if kind == "free-judge":
            _free_judge()
        document = load(WORKFLOWS / "spola.arazzo.yaml")
        options = _options("http://127.0.0.1:9/api")
        made = [Run(document, None, {"job_id": POLLS}, options=options, run_id="r") for _ in range(runs)]
        for run in made:
            run.observed = kind == "observed"
        sent = sum(_engine_loop(run, POLLS) for run in made)
    if sent != runs * (POLLS + 2):
        raise SystemExit(f"{kind}: {sent} exchanges, expected {runs * (POLLS + 2)}")


def _count(kind: str, runs: int, src: str | None) -> int:
    """Instructions callgrind collected for one child process."""
    from common import callgrind_count

    return callgrind_count([str(Path(__file__).resolve()), "--child", kind, str(runs)], src, kind)


def per_exchange(kind: str, src: str | None) -> float:
    """Instructions one more exchange costs: (12 runs - 2 runs) / the exchanges in between."""
    low, high = _count(kind, LOW, src), _count(kind, HIGH, src)
    return (high - low) / ((HIGH - LOW) * (POLLS + 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vs", metavar="SRC", help="another checkout's src folder, counted in turn")
    parser.add_argument("--kinds", default=",".join(KINDS), help="which contenders (comma-separated)")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "RUNS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt install valgrind)")
    kinds = [k for k in args.kinds.split(",") if k]
    trees = {"this tree": None} | ({f"--vs {args.vs}": args.vs} if args.vs else {})
    counts = {(tree, kind): per_exchange(kind, src) for tree, src in trees.items() for kind in kinds}
    print("| tree | contender | instructions / exchange | vs the unobserved engine |")
    print("|---|---|---|---|")
    for (tree, kind), value in counts.items():
        engine = counts.get((tree, "engine"))
        versus = f"{value / engine:.2f}x" if engine else "-"
        print(f"| {tree} | {KINDS[kind]} | {value:,.0f} | {versus} |")


if __name__ == "__main__":
    main()
