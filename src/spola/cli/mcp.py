"""``spola mcp``: serve workflows as MCP tools (the ``mcp`` extra; imported only by this command)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spola.cli import args as cli_args
from spola.errors import UsageError
from spola.limits import MAX_RESPONSE_BYTES

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True, slots=True)
class McpFlags:
    """Everything ``spola mcp`` was given."""

    docs: list[str]
    inputs: list[str] = field(default_factory=list)
    servers: list[str] = field(default_factory=list)
    server_vars: list[str] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    allow_workflows: list[str] = field(default_factory=list)
    transport: str = "stdio"
    host: str = "127.0.0.1"
    port: int = 0
    poll_interval: float | None = None
    max_steps: int = 10_000
    timeout: float | None = None
    http_timeout: float = 30.0
    insecure: bool = False
    allow_remote: bool = False
    store: str | None = None
    no_store: bool = False
    allow_hosts: tuple[str, ...] = ()
    max_response_bytes: int = MAX_RESPONSE_BYTES
    retry_attempts: int = 30
    retry_wait: float = 300.0
    max_depth: int = 32


def bound_inputs(pairs: list[str], env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """``--input NAME=VALUE`` pairs as text (each workflow types them by its schema); ``env:VAR`` reads
    the environment, so a token need not appear on the command line."""
    out: dict[str, str] = {}
    for text in pairs:
        name, value = cli_args.split_pair(text, "--input", "token=env:DBT_TOKEN")
        out[name] = cli_args.read_secret(value, "--input", env)
    return out


def serve(flags: McpFlags) -> int:
    """Everything ``spola mcp`` does; returns the exit status."""
    try:
        import mcp  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            "spola mcp needs the MCP SDK, which is not installed",
            hint="Install the extra: pip install 'spola[mcp]'.",
        ) from exc
    from spola.mcp.runs import RunManager, Settings
    from spola.mcp.server import SpolaMCP
    from spola.mcp.server import serve as serve_app
    from spola.mcp.tools import build_tools
    from spola.model import load

    if flags.transport not in ("stdio", "http"):
        raise UsageError(f"--transport must be stdio or http, not {flags.transport!r}")
    if flags.transport == "stdio" and flags.port:
        raise UsageError("--port is for --transport http")
    if not flags.docs:
        raise UsageError("spola mcp needs at least one Arazzo document")
    from spola.hosts import parse_patterns

    hosts = parse_patterns(flags.allow_hosts)
    documents = [(doc, load(doc, allow_remote=flags.allow_remote, allow_hosts=hosts)) for doc in flags.docs]
    specs = build_tools(documents, bound_inputs(flags.inputs), flags.allow_workflows)
    servers = cli_args.parse_servers(flags.servers)
    server_vars = cli_args.parse_server_vars(flags.server_vars)
    credentials = cli_args.parse_credentials(flags.auth)
    names = [s.name for _, document in documents for s in document.source_descriptions]
    cli_args.check_sources(servers, names, "--server")
    cli_args.check_sources({s for s, _ in server_vars}, names, "--server-var")
    cli_args.check_sources({c.source for c in credentials}, names, "--auth")
    store_path: str | None = None
    if not flags.no_store:
        from spola.store import default_store_path

        store_path = flags.store or str(default_store_path())
    settings = Settings(
        servers=servers,
        server_vars=server_vars,
        credentials=credentials,
        poll_interval=flags.poll_interval,
        max_steps=flags.max_steps,
        timeout=flags.timeout,
        http_timeout=flags.http_timeout,
        insecure=flags.insecure,
        store_path=store_path,
        allow_hosts=hosts,
        max_response_bytes=flags.max_response_bytes,
        retry_attempts=flags.retry_attempts,
        retry_wait=flags.retry_wait,
        max_depth=flags.max_depth,
    )

    async def main() -> int:
        from spola.store import Journal

        journal = await Journal.open(store_path) if store_path is not None else None
        try:
            app = SpolaMCP(specs, RunManager(settings, journal))
            if flags.transport == "stdio":
                app.log(f"spola mcp: serving {len(specs)} tools over stdio")
            return await serve_app(app, flags.transport, host=flags.host, port=flags.port)
        finally:
            if journal is not None:
                await journal.close()

    return asyncio.run(main())
