"""spola: run Arazzo workflows — durable, polite to the API, many at once.

The public surface (imported lazily so the command line starts fast)::

    result = spola.run("flow.arazzo.yaml", inputs={"job_id": 123}, servers={"api": "http://..."})
    result = await spola.arun(...)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "run": "spola.api",
    "arun": "spola.api",
    "prepare": "spola.api",
    "make_options": "spola.api",
    "run_many": "spola.batch",
    "resume": "spola.durable",
    "aresume": "spola.durable",
    "arun_many": "spola.batch",
    "acancel": "spola.cancel",
    "CancelSignal": "spola.cancel",
    "load": "spola.model",
    "Document": "spola.model",
    "Run": "spola.core.engine",
    "RunOptions": "spola.options",
    "PollPolicy": "spola.options",
    "Credential": "spola.options",
    "RunResult": "spola.core.report",
    "SendRequest": "spola.core.actions",
    "Wait": "spola.core.actions",
    "Finish": "spola.core.actions",
    "HttpRequest": "spola.exchange",
    "HttpResponse": "spola.exchange",
    "SpolaError": "spola.errors",
    "UserError": "spola.errors",
    "DocumentError": "spola.errors",
    "InputError": "spola.errors",
}

__all__ = [
    "CancelSignal",
    "Credential",
    "Document",
    "DocumentError",
    "Finish",
    "HttpRequest",
    "HttpResponse",
    "InputError",
    "PollPolicy",
    "Run",
    "RunOptions",
    "RunResult",
    "SendRequest",
    "SpolaError",
    "UserError",
    "Wait",
    "__version__",
    "acancel",
    "arun",
    "arun_many",
    "aresume",
    "load",
    "make_options",
    "prepare",
    "resume",
    "run",
    "run_many",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'spola' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
