"""aiohttp's two default TLS contexts, with the system's CA certificates read at their first handshake.

When it is imported, aiohttp builds a verified and an unverified ``SSLContext``, and each reads the
whole CA bundle (OpenSSL parses every certificate of ``SSL_CERT_FILE`` / the default ``cert.pem``):
about 45 % of aiohttp's import, and the largest single share of ``spola run``'s start-up, paid even
by a run that only talks ``http://`` (the simulators, a local server). `import_aiohttp` imports
aiohttp with that reading deferred: each context reads its CAs the first time it wraps a
connection (``wrap_bio``, what asyncio calls, or ``wrap_socket``), so an ``https://`` request is
verified exactly as before, and an ``http://`` run never pays for it.

The command line calls it before anything imports aiohttp (the process is spola's own); importing
spola as a library leaves aiohttp's import untouched.
"""

from __future__ import annotations

import ssl
import sys
import threading
from typing import Any

_LOCK = threading.Lock()
_READ_CAS = ssl.SSLContext.set_default_verify_paths  # the C method, inherited from _ssl._SSLContext


def import_aiohttp() -> None:
    """Import aiohttp (once) with its default contexts reading their CAs at their first handshake."""
    if "aiohttp" in sys.modules or "set_default_verify_paths" in vars(ssl.SSLContext):
        return
    made: list[ssl.SSLContext] = []

    def defer(context: ssl.SSLContext) -> None:
        made.append(context)

    # `load_default_certs` (create_default_context) and aiohttp's unverified context both end here
    ssl.SSLContext.set_default_verify_paths = defer  # type: ignore[method-assign,assignment]
    try:
        import aiohttp  # noqa: F401
    finally:
        del ssl.SSLContext.set_default_verify_paths  # the inherited method again
    for context in made:
        _read_at_first_handshake(context)


def _read_at_first_handshake(context: ssl.SSLContext) -> None:
    own = vars(context)

    def read() -> None:
        with _LOCK:  # the hooks go only once the CAs are in: no handshake can slip past them
            if "wrap_bio" in own:
                _READ_CAS(context)
                del own["wrap_bio"], own["wrap_socket"]

    def wrap_bio(*args: Any, **kwargs: Any) -> ssl.SSLObject:
        read()
        return context.wrap_bio(*args, **kwargs)

    def wrap_socket(*args: Any, **kwargs: Any) -> ssl.SSLSocket:
        read()
        return context.wrap_socket(*args, **kwargs)

    # instance attributes: they shadow the class's methods until `read` removes them
    own["wrap_bio"] = wrap_bio
    own["wrap_socket"] = wrap_socket


def deferred(context: ssl.SSLContext) -> bool:
    """Whether a context has not read its CA certificates yet (for tests and diagnostics)."""
    return "wrap_bio" in vars(context)
