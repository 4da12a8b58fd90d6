"""`spola run` as a user runs it, counted in instructions per poll: the whole CLI process, journalled.

``spola run DOC --json`` (journalled to a fresh store, observed: its journal keeps each step's
outcome for reports) runs the bench document against the bench server under
``valgrind --tool=callgrind``, once with 10 polls and once with 110; the difference over the 100
polls in between is what one more poll costs the command, its start-up cancelled out.

    .venv/bin/python bench/cli_instructions.py                 # this tree
    .venv/bin/python bench/cli_instructions.py --vs OTHER/src  # and another checkout, in turn

Needs valgrind; a few minutes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
LOW, HIGH = 10, 110


def _count(api: str, polls: int, src: str | None) -> int:
    """Instructions callgrind collected for one ``spola run`` process."""
    from common import callgrind_count

    with tempfile.TemporaryDirectory(prefix="spola-bench-") as tmp:
        arguments = ["-m", "spola", "run", str(BENCH / "workflows" / "spola.arazzo.yaml"),
                     "-i", f"job_id={polls}", "--server", f"databricksApi={api}", "--poll-interval", "0",
                     "--store", str(Path(tmp) / "runs.db"), "--json"]  # fmt: skip
        return callgrind_count(arguments, src, "spola run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vs", metavar="SRC", help="another checkout's src folder, counted in turn")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt install valgrind)")
    sys.path.insert(0, str(BENCH))
    from common import bench_server

    trees = {"this tree": None} | ({f"--vs {args.vs}": args.vs} if args.vs else {})
    print("| tree | `spola run DOC --json`, journalled: instructions per poll |")
    print("|---|---|")
    with bench_server() as server:
        for tree, src in trees.items():
            low, high = _count(server.api, LOW, src), _count(server.api, HIGH, src)
            print(f"| {tree} | {(high - low) / (HIGH - LOW):,.0f} |")


if __name__ == "__main__":
    main()
