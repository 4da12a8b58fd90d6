"""What observing a run costs the engine: the rich events (request/response summaries, criteria with
observed values, action and why, remote state) against an unobserved run, side by side.

The engine alone, no I/O: ``next_actions`` + ``receive`` with canned Databricks responses, as in
``hotspots.py``. Journalled runs (``spola run`` with the store) are always observed.

    .venv/bin/python bench/events_bench.py [--polls 50] [--runs 200]
"""

from __future__ import annotations

import argparse
import time

from common import WORKFLOWS
from hotspots import _engine_loop, _options


def per_exchange(observed: bool, polls: int, runs: int) -> float:
    from spola.core.engine import Run
    from spola.model import load

    document = load(WORKFLOWS / "spola.arazzo.yaml")
    options = _options("http://127.0.0.1:9/api")
    best = float("inf")
    for _round in range(5):
        batch = [Run(document, None, {"job_id": polls}, options=options, run_id="r", started_at=0.0)
                 for _ in range(runs)]  # fmt: skip
        for run in batch:
            run.observed = observed
        started = time.perf_counter()
        sent = sum(_engine_loop(run, polls) for run in batch)
        best = min(best, (time.perf_counter() - started) / sent * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--polls", type=int, default=50)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    quiet = per_exchange(False, args.polls, args.runs)
    loud = per_exchange(True, args.polls, args.runs)
    print("| engine alone, per exchange | µs |")
    print("| --- | --: |")
    print(f"| unobserved | {quiet:.1f} |")
    print(f"| observed (rich events) | {loud:.1f} |")
    print(f"| ratio observed / unobserved | {loud / quiet:.2f}x |")


if __name__ == "__main__":
    main()
