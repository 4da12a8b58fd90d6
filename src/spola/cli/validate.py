"""``spola validate DOC...``: structural and semantic findings as text, JSON or SARIF.

Exit status: 0 no error (no warning either with ``--strict``), 1 findings at error level,
2 a document could not be read at all.
"""

from __future__ import annotations

import sys

from spola import __version__
from spola.errors import EXIT_FAILED, EXIT_INVALID, EXIT_OK, UsageError
from spola.lint import lint
from spola.lint.output import FORMATS, render_json, render_sarif, render_text


def validate_documents(docs: list[str], *, fmt: str, strict: bool) -> int:
    """Lint each document, print the findings to stdout in ``fmt``, and return the exit status.

    Raises:
        UsageError: an unknown format, or no document.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}'", hint=f"Use one of: {', '.join(FORMATS)}.")
    if not docs:
        raise UsageError("no document to validate", hint="Pass one or more Arazzo files.")
    reports = [lint(doc) for doc in docs]
    if fmt == "json":
        text = render_json(reports)
    elif fmt == "sarif":
        text = render_sarif(reports, version=__version__)
    else:
        text = render_text(reports)
    sys.stdout.write(text + "\n")
    if any(not r.readable for r in reports):
        return EXIT_INVALID
    return EXIT_FAILED if any(r.failed(strict=strict) for r in reports) else EXIT_OK
