"""The public surface: every name in ``spola.__all__`` resolves, and nothing else is promised."""

from __future__ import annotations

import spola


def test_every_exported_name_resolves() -> None:
    for name in spola.__all__:
        assert getattr(spola, name) is not None, name


def test_the_exports_are_the_documented_set() -> None:
    assert sorted(spola.__all__) == sorted(
        [
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
            "aresume",
            "arun",
            "arun_many",
            "load",
            "make_options",
            "prepare",
            "resume",
            "run",
            "run_many",
        ]
    )
