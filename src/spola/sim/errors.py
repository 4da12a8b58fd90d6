"""The one exception simulators raise to refuse a request; each vendor renders it in its own error format."""

from __future__ import annotations

__all__ = ["ApiError"]


class ApiError(Exception):
    """A vendor-level refusal: HTTP `status`, a vendor error `code` (when it has codes) and a message."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
