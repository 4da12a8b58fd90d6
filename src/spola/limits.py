"""The default of every limit spola enforces, each with its flag (a leaf: imports nothing).

See docs/robustness.md for what happens when a limit is reached.
"""

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""``--max-response-bytes``: a response body larger than this fails its step."""

DEFAULT_TIMEOUT = 24 * 3600.0
"""``--timeout``: the whole run, in seconds (a day: jobs that are polled can run for hours)."""

RETRY_ATTEMPTS = 30
"""``--retry-attempts``: transparent re-sends of one step execution."""

RETRY_WAIT = 300.0
"""``--retry-wait``: seconds the transparent re-sends of one step execution may wait in all."""

MAX_DEPTH = 32
"""``--max-depth``: workflows nested in workflows (a step that runs a workflow, goto, retry)."""

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
"""``--max-document-bytes``: a document, source description or ``$ref``'d file read or fetched."""

MAX_DOCUMENT_NODES = 1_000_000
"""``--max-document-nodes``: nodes of a document once YAML aliases are expanded (alias bombs)."""

MAX_DOCUMENT_DEPTH = 200
"""``--max-document-depth``: nesting of mappings and sequences in a document."""


class LoadLimits:
    """The limits of one load: file size, expanded node count, nesting depth (see the constants)."""

    __slots__ = ("max_bytes", "max_depth", "max_nodes")

    def __init__(
        self,
        max_bytes: int = MAX_DOCUMENT_BYTES,
        max_nodes: int = MAX_DOCUMENT_NODES,
        max_depth: int = MAX_DOCUMENT_DEPTH,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_nodes = max_nodes
        self.max_depth = max_depth

    def key(self) -> tuple[int, int, int]:
        """The limits as a tuple (a cache key)."""
        return (self.max_bytes, self.max_nodes, self.max_depth)


DEFAULT_LOAD_LIMITS = LoadLimits()
