"""Collects findings while a document is read, each located by JSON Pointer and file:line:column."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spola.errors import Finding, Location

if TYPE_CHECKING:
    from collections.abc import Mapping


def nearest_position(positions: Mapping[str, tuple[int, int]], pointer: str) -> tuple[int, int] | None:
    """The (line, column) of the pointer, or of its nearest ancestor that has one."""
    current = pointer
    while True:
        if current in positions:
            return positions[current]
        if not current:
            return None
        current = current.rsplit("/", 1)[0]


class Collector:
    """Where findings go while one file is being read; never raises."""

    def __init__(self, file: str | None, positions: Mapping[str, tuple[int, int]] | None = None) -> None:
        self.file = file
        self.positions: Mapping[str, tuple[int, int]] = positions or {}
        self.findings: list[Finding] = []

    def locate(self, pointer: str, offset: int | None = None) -> Location:
        """A Location for a pointer in this file (line and column from the nearest known node)."""
        where = nearest_position(self.positions, pointer)
        line, column = where if where else (None, None)
        return Location(self.file, line, column, pointer, offset)

    def error(
        self,
        pointer: str,
        message: str,
        *,
        hint: str | None = None,
        rule: str = "structure",
        offset: int | None = None,
    ) -> None:
        """Record an error at a pointer."""
        self.findings.append(Finding(message, self.locate(pointer, offset), hint, rule, "error"))

    def warn(self, pointer: str, message: str, *, hint: str | None = None, rule: str = "structure") -> None:
        """Record a warning at a pointer (never makes loading fail)."""
        self.findings.append(Finding(message, self.locate(pointer), hint, rule, "warning"))

    def add(self, findings: list[Finding] | tuple[Finding, ...]) -> None:
        """Take findings made elsewhere (another file, a parser)."""
        self.findings.extend(findings)

    @property
    def errors(self) -> list[Finding]:
        """The findings that make a document invalid."""
        return [f for f in self.findings if f.severity == "error"]
