"""``server-mismatch``: an operation that exists only under a server other than the default one.

spola sends each request to the first server of the operation (its own ``servers``, else its path's,
else the description's). When a description lists one server per API version and the operation
has no servers of its own, the first one is a guess: for the APIs in `spola.lint.known_apis` the
guess is checked (a warning when it is wrong); for others an info names the sources concerned.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from spola.lint.known_apis import KNOWN_APIS, KnownApi
from spola.model.pointers import join

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spola.errors import Finding
    from spola.lint.context import LintContext
    from spola.model import Operation, Step

_VERSION: Final = re.compile(r"/(v\d+(?:\.\d+)?|\d+\.\d+)(?=/|$)")
_PARAM: Final = re.compile(r"\{[^{}]*\}")


def _versions(urls: list[str]) -> dict[str, str] | None:
    """Version → server URL when the URLs differ only by a version segment, else None."""
    found: dict[str, str] = {}
    rests: set[str] = set()
    for url in urls:
        match = _VERSION.search(url)
        if match is None:
            return None
        found.setdefault(match.group(1), url)
        rests.add(url[: match.start()] + url[match.end() :])
    return found if len(found) > 1 and len(rests) == 1 else None


def _own_servers(ctx: LintContext, operation: Operation) -> bool:
    if operation.raw.get("servers"):
        return True
    tree = ctx.source_tree(operation.source) or {}
    item: Any = (tree.get("paths") or {}).get(operation.path)
    return isinstance(item, dict) and bool(item.get("servers"))


def _known(host: str) -> KnownApi | None:
    return next((api for api in KNOWN_APIS if api.serves(host)), None)


def server_mismatches(ctx: LintContext) -> Iterator[Finding]:
    """A warning per step whose operation is known to live under another version's server; an info
    per source whose servers are versions of one API and whose operations give no server."""
    ambiguous: dict[str, list[str]] = {}
    for _, step in ctx.steps():
        operation = ctx.operation(step)
        tree = ctx.source_tree(operation.source) if operation is not None else None
        if operation is None or tree is None or _own_servers(ctx, operation):
            continue
        urls = [
            s["url"]
            for s in tree.get("servers") or []
            if isinstance(s, dict) and isinstance(s.get("url"), str)
        ]
        versions = _versions(urls)
        if versions is None:
            continue
        known, finding = _check(ctx, step, operation, urls[0], versions)
        if not known:
            ambiguous.setdefault(operation.source, []).append(step.step_id)
        elif finding is not None:
            yield finding
    for name, steps in ambiguous.items():
        description = ctx.document.source(name)
        if description is None:
            continue
        yield ctx.finding(
            "server-mismatch",
            join(description.pointer, "url"),
            f"source '{name}' lists one server per API version and its operations give none of their "
            f"own; spola sends steps {', '.join(steps)} to the first server, whichever version they "
            "belong to",
            hint=f"check which version each operation belongs to; run with --server {name}=<url> if needed",
            severity="info",
        )


def _check(
    ctx: LintContext, step: Step, operation: Operation, default: str, versions: dict[str, str]
) -> tuple[bool, Finding | None]:
    """Whether spola knows the API, and a finding when the operation is known to be elsewhere."""
    api = _known(urlsplit(default).hostname or "")
    if api is None:
        return False, None
    home = api.version_of(_PARAM.sub("{}", operation.path))
    if home is None:
        return True, None  # a known API: a path no version owns alone is in all of them
    default_version = next(v for v, url in versions.items() if url == default)
    if home == default_version:
        return True, None
    target = versions.get(home)
    where = f"the server for {home} ({target})" if target else f"a {home} server"
    return True, ctx.finding(
        "server-mismatch",
        join(step.pointer, "operationId" if step.operation_id is not None else "operationPath"),
        f"{operation} ({operation.method} {operation.path}) exists only in {api.name} {home}, but the "
        f"description's first server is {default} ({default_version}), where spola sends it; "
        f"it belongs under {where}",
        hint=f"run with --server {operation.source}={target or '<' + home + ' url>'}, or give the "
        "operation its own `servers`",
    )
