"""``spola sim``: serve the bundled vendor simulators until interrupted."""

from __future__ import annotations

from rich.console import Console

from spola.errors import UsageError

KINDS = ("databricks", "dataiku", "dbt", "all")


def serve(
    kind: str, *, host: str, port: int, speed: float, faults: str | None, seed: int | None, token: str | None
) -> None:
    """Start the simulator(s) for ``kind`` and block until Ctrl-C.

    Raises:
        UsageError: an unknown kind or a bad fault plan.
    """
    if kind not in KINDS:
        raise UsageError(f"unknown simulator '{kind}'", hint=f"Pick one of: {', '.join(KINDS)}.")
    from spola.sim.server import serve_forever

    console = Console(stderr=True, highlight=False)
    kinds = ("databricks", "dataiku", "dbt") if kind == "all" else (kind,)
    try:
        serve_forever(
            kinds,
            host=host,
            port=port,
            speed=speed,
            faults=faults,
            seed=seed,
            token=token,
            print_fn=lambda line: console.print(line, markup=False),
        )
    except ValueError as exc:
        raise UsageError(f"--faults: {exc}") from exc
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="Pick another --port (0 picks a free one) or stop what is using it.",
        ) from exc
