"""`Resolution`: what the sources phase found for one document.

Filled by `spola.model.resolve` (sources) and `spola.model.operations` (each step's target); it sits
below both so that neither imports the other for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec import Struct, field

if TYPE_CHECKING:
    from spola.model.operation import Operation
    from spola.model.sources import Source

__all__ = ["Resolution"]


class Resolution(Struct):
    """What the sources phase found for one document."""

    sources: dict[str, Source] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)  # sources that could not be loaded
    operations: dict[str, Operation] = field(default_factory=dict)
    async_steps: set[str] = field(default_factory=set)
