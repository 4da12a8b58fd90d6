"""Static checks for Arazzo documents: what ``spola validate`` reports, and what ``spola run`` refuses.

- `lint` loads a document with the engine's model and returns a `LintReport` of located findings
  (``spola.errors.Finding``: rule id, severity, file:line:column, JSON Pointer, message, hint);
- `blocking_findings` gives the error findings certain to break a run;
- `RULES` describes every rule (id, severity, summary, fix), one table for docs and SARIF.
"""

from spola.lint.engine import LintReport, blocking_findings, lint, run_checks
from spola.lint.rules import ERROR, INFO, RULES, WARNING, Rule

__all__ = [
    "ERROR",
    "INFO",
    "RULES",
    "WARNING",
    "LintReport",
    "Rule",
    "blocking_findings",
    "lint",
    "run_checks",
]
