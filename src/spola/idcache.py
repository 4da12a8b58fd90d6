"""Values derived once from long-lived objects (an operation, a document), remembered by identity.

`by_identity(make, limit)` returns a function that gives ``make(key)``, computed once per key object
(objects that are equal but not the same get their own values): entries are keyed by ``id(key)``
and hold the key itself, so the id stays that object's while it is cached, and a hit checks it
with ``is``. When ``limit`` entries are held, they are all dropped (a bound for processes that load
many documents, not an LRU: the working set is a few objects).
`by_identity_pair` is the same for a value derived from two objects.

The result is a closure, not an object with a method: a hit costs one call, a dict lookup and an
identity check, as the hand-written caches it replaced did. Values are shared: treat them as read-only.
A leaf module: it imports nothing from spola, so every layer may use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["by_identity", "by_identity_pair"]

K = TypeVar("K")
K2 = TypeVar("K2")
V = TypeVar("V")


def by_identity(make: Callable[[K], V], limit: int) -> Callable[[K], V]:
    """``make`` remembered per key object (see the module docstring); at most ``limit`` entries."""
    entries: dict[int, tuple[K, V]] = {}
    get = entries.get  # bound once; the hit path closes over two names only (each call copies them)

    def miss(key: K) -> V:
        value = make(key)
        if len(entries) >= limit:
            entries.clear()
        entries[id(key)] = (key, value)
        return value

    def cached(key: K) -> V:
        known = get(id(key))
        if known is not None and known[0] is key:
            return known[1]
        return miss(key)

    cached.__doc__ = make.__doc__
    return cached


def by_identity_pair(make: Callable[[K, K2], V], limit: int) -> Callable[[K, K2], V]:
    """``make`` remembered per pair of key objects; at most ``limit`` entries."""
    entries: dict[tuple[int, int], tuple[K, K2, V]] = {}
    get = entries.get

    def miss(first: K, second: K2) -> V:
        value = make(first, second)
        if len(entries) >= limit:
            entries.clear()
        entries[id(first), id(second)] = (first, second, value)
        return value

    def cached(first: K, second: K2) -> V:
        known = get((id(first), id(second)))
        if known is not None and known[0] is first and known[1] is second:
            return known[2]
        return miss(first, second)

    cached.__doc__ = make.__doc__
    return cached
