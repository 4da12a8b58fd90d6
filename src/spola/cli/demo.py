"""``spola demo``: start the bundled simulators and run a workflow against them, in one command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from spola.errors import UsageError

if TYPE_CHECKING:
    from spola.cli.execute import RunFlags
    from spola.model import Document

SIM_TOKEN = "dapi-sim-token"  # noqa: S105 - the simulators' documented fake tokens
OTHER_TOKEN = "sim-token"  # noqa: S105
DEFAULT_EXAMPLE = ("databricks", "run-job-and-wait.arazzo.yaml")
DEFAULT_INPUTS = ["job_id=123"]


def examples_dir() -> Path:
    """Where the bundled examples are: inside the installed package, or the repository's ``examples/``."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "examples", here.parent.parent / "examples"):
        if candidate.is_dir():
            return candidate
    raise UsageError("the bundled examples are not installed; pass a document: spola demo DOC")


def vendor_of(document: Document, source: str) -> str | None:
    """Which simulator serves a source, judged from its operations' paths."""
    paths = [op.path for op in document.operations.values() if op.source == source]
    if any("/jobs/" in p and p.startswith("/2.") for p in paths):
        return "databricks"
    if any("/scenarios/" in p for p in paths):
        return "dataiku"
    if any(p.startswith("/accounts/{") for p in paths):
        return "dbt"
    return None


def demo(
    doc: str | None,
    workflow: str | None,
    flags: RunFlags,
    *,
    speed: float,
    faults: str | None,
    seed: int | None,
) -> int:
    """Serve all simulators on a free port, point every source at them, run the workflow, stop."""
    from spola.cli import execute
    from spola.model import load
    from spola.sim import api_base_urls, create_combined_app, serve_in_thread

    if doc is None:
        doc = str(examples_dir().joinpath(*DEFAULT_EXAMPLE))
        if not flags.inputs and not flags.inputs_file:
            flags = _with(flags, inputs=list(DEFAULT_INPUTS))
    document = load(doc)
    from spola.errors import UsageError

    try:
        app = create_combined_app(speed=speed, faults=faults, seed=seed)
    except ValueError as exc:  # a fault plan that does not parse
        raise UsageError(f"--faults: {exc}") from exc
    with serve_in_thread(app) as server:
        bases = api_base_urls(("databricks", "dataiku", "dbt"), server.base_url, None)
        servers = list(flags.servers)
        auth = list(flags.auth)
        given_servers = {s.split("=", 1)[0] for s in servers}
        given_auth = {a.split("=", 1)[0].split(".")[0] for a in auth}
        for source in document.source_descriptions:
            vendor = vendor_of(document, source.name)
            if vendor is None:
                continue
            url, token = bases[vendor]
            if source.name not in given_servers:
                servers.append(f"{source.name}={url}")
            if source.name not in given_auth:
                auth.append(f"{source.name}={token}")
        inputs = list(flags.inputs) + _token_inputs(document, workflow, flags.inputs, bases)
        return execute.run(
            doc,
            workflow,
            _with(flags, servers=servers, auth=auth, inputs=inputs),
            max_steps=10_000,
            timeout=None,
            http_timeout=30.0,
            seed=seed,
        )


def _token_inputs(
    document: Document, workflow: str | None, given: list[str], bases: dict[str, tuple[str, str]]
) -> list[str]:
    """Fill inputs that carry the API token (``token``, ``apiKey``) with the simulator's token."""
    from spola.model.roles import secret_input_names

    wf = document.workflow(workflow) if workflow else document.default_workflow()
    credentials = secret_input_names(document, wf)
    names = {g.split("=", 1)[0] for g in given}
    props = (wf.inputs or {}).get("properties") or {}
    vendors = sorted(v for v in (vendor_of(document, s.name) for s in document.source_descriptions) if v)
    token = bases[vendors[0]][1] if vendors else OTHER_TOKEN
    return [f"{name}={token}" for name in props if name in credentials and name not in names]


def _with(flags: RunFlags, **changes: Any) -> RunFlags:
    from msgspec.structs import replace

    return replace(flags, **changes)
