"""The one error tree of spola, and where an error happened.

```
SpolaError
├── UserError                 something the user can fix; exit status 2 unless noted
│   ├── DocumentError         the Arazzo document (or a source it names) is unreadable or invalid
│   ├── ExpressionError       a runtime expression or condition does not parse
│   ├── OperationNotFound     a step names an operation no source description has
│   ├── WorkflowNotFound      the requested workflow id does not exist
│   ├── InputError            workflow inputs are missing or do not match their schema
│   ├── UsageError            command-line arguments are wrong
│   ├── StoreError            the run store cannot be opened or read
│   │   └── StoreLocked       another process holds the store's write lock and does not let go
│   ├── ResumeRefused         a run cannot be resumed safely (exit 2)
│   └── LimitExceeded         a document or run is over a limit (docs/robustness.md)
│       └── NestingTooDeep    workflows nested in workflows beyond --max-depth
├── Unsupported               a feature spola knows of but does not run yet (exit 2)
└── EngineMisuse (also RuntimeError)   a driver used the engine wrongly: a bug (exit 70)
```

A failing criterion, a failed step or an ``end`` action is never an exception: it is an outcome in
the report. Anything that is not a ``SpolaError`` escaping spola is a bug.
"""

from __future__ import annotations

from msgspec import Struct, field

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_INTERNAL = 70
EXIT_IOERR = 74
EXIT_LEASE_LOST = 75
EXIT_INTERRUPTED = 130


class Location(Struct, frozen=True):
    """Where something is: a file, a line and column (1-based), a JSON Pointer, an offset in an expression."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    pointer: str | None = None
    offset: int | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        if self.pointer is not None:
            parts.append(pointer_to_path(self.pointer))
        return " ".join(parts)


def pointer_to_path(pointer: str) -> str:
    """Render a JSON Pointer as a dotted path: ``/workflows/0/steps/2`` → ``workflows[0].steps[2]``."""
    out = ""
    for raw in pointer.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        if token.isdigit():
            out += f"[{token}]"
        else:
            out += ("." if out else "") + token
    return out or "(document)"


class Finding(Struct, frozen=True):
    """One problem found in a document: what, where, and an optional hint."""

    message: str
    location: Location = field(default_factory=Location)
    hint: str | None = None
    rule: str = "structure"
    severity: str = "error"
    fix: str | None = None
    """The whole rewritten value at the finding's pointer, when the finding has a mechanical fix."""

    def __str__(self) -> str:
        where = str(self.location)
        text = f"{where}: {self.message}" if where else self.message
        return f"{text} ({self.hint})" if self.hint else text


class SpolaError(Exception):
    """Base of every error spola raises on purpose."""

    exit_status: int = EXIT_INVALID

    def __init__(self, message: str, location: Location | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()
        self.hint = hint

    def __str__(self) -> str:
        where = str(self.location)
        text = f"{where}: {self.message}" if where else self.message
        if not self.hint:
            return text
        stop = "" if text.rstrip().endswith((".", "!", "?", ":")) else "."
        return f"{text}{stop} {self.hint}"


class UserError(SpolaError):
    """Something the user supplied is wrong; nothing was sent."""


class DocumentError(UserError):
    """The document is unreadable or invalid; carries every finding, not just the first."""

    def __init__(
        self,
        message: str,
        findings: list[Finding] | None = None,
        location: Location | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, location, hint)
        self.findings = list(findings or [])

    def __str__(self) -> str:
        if not self.findings:
            return SpolaError.__str__(self)
        lines = [self.message] + [f"  - {f}" for f in self.findings]
        return "\n".join(lines)


class ExpressionError(UserError):
    """A runtime expression or condition does not parse."""


class OperationNotFound(UserError):
    """A step names an operation that no source description defines."""


class WorkflowNotFound(UserError):
    """The requested workflow id does not exist in the document."""


class InputError(UserError):
    """Workflow inputs are missing or do not match the workflow's input schema."""


class UsageError(UserError):
    """Command-line arguments are wrong."""


class StoreError(UserError):
    """The run store cannot be opened, migrated or read."""


class StoreLocked(StoreError):
    """Another process has held the store's write lock past the busy timeout (it is stopped mid-write)."""


class StoreWriteFailed(SpolaError):
    """The run store could not be written while a run was driven (disk full, I/O error): it stopped."""

    exit_status = EXIT_IOERR


class ResumeRefused(UserError):
    """A run cannot be resumed without risking a duplicate side effect."""


class LimitExceeded(UserError):
    """A document, file or run is over one of spola's limits (each has a flag; docs/robustness.md)."""


class NestingTooDeep(LimitExceeded):
    """Workflows nested in workflows beyond ``--max-depth`` (a workflow that runs itself)."""


class Unsupported(SpolaError):
    """A feature spola recognises but does not execute yet."""


class EngineMisuse(SpolaError, RuntimeError):
    """A driver used the engine wrongly (a response nobody asked for, …): a bug in the driver."""

    exit_status = EXIT_INTERNAL
