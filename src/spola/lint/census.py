"""``python -m spola.lint.census DOC...``: how often each rule fires over a set of documents.

Prints a Markdown table (rule, severity, findings, documents with one); docs/validate.md holds its
output for the real-world corpus.
"""

from __future__ import annotations

import sys
from collections import Counter

from spola.lint.engine import lint
from spola.lint.rules import RULES


def census(paths: list[str]) -> str:
    """The Markdown table of finding counts per rule and severity (every rule, zero counts included)."""
    findings: Counter[tuple[str, str]] = Counter()
    documents: dict[tuple[str, str], set[str]] = {}
    for path in paths:
        for finding in lint(path).findings:
            findings[(finding.rule, finding.severity)] += 1
            documents.setdefault((finding.rule, finding.severity), set()).add(path)
    lines = [
        f"Over {len(paths)} documents.",
        "",
        "| rule | severity | findings | documents |",
        "| --- | --- | ---: | ---: |",
    ]
    for rule in RULES.values():
        severities = sorted({s for (r, s) in findings if r == rule.id}) or [rule.severity]
        for severity in severities:
            count = findings[(rule.id, severity)]
            docs = len(documents.get((rule.id, severity), ()))
            lines.append(f"| `{rule.id}` | {severity} | {count} | {docs} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the census of the documents named on the command line."""
    paths = sorted(argv if argv is not None else sys.argv[1:])
    if not paths:
        sys.stderr.write("usage: python -m spola.lint.census DOC...\n")
        return 2
    sys.stdout.write(census(paths) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
