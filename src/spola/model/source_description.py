"""`SourceDescription`: one entry of the document's `sourceDescriptions`, as written.

It sits below both `spola.model.document` (which re-exports it as part of the document model) and
`spola.model.sources` (whose loaded `Source` keeps the entry it came from), so neither imports the other
for it.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field

__all__ = ["SourceDescription"]


class SourceDescription(Struct, frozen=True):
    """A named source description (OpenAPI, AsyncAPI or Arazzo) as written in the document."""

    name: str
    url: str
    type: str | None = None  # "openapi" | "asyncapi" | "arazzo" | None (detected when loaded)
    extensions: dict[str, Any] = field(default_factory=dict)
    pointer: str = ""
