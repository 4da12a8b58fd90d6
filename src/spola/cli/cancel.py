"""``spola cancel RUN_ID``: stop a run another spola process drives (or mark a dead one), journalled."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.text import Text

from spola.cli.render import to_json
from spola.errors import EXIT_FAILED, EXIT_OK


def cancel_run(
    run_id: str,
    *,
    store: str | None,
    reason: str | None,
    wait: float,
    json_out: bool,
    inputs: list[str] | None = None,
    auth: list[str] | None = None,
    servers: list[str] | None = None,
    insecure: bool = False,
) -> int:
    """Ask for the cancel, wait for the outcome, print it; 0 when the run is cancelled now."""
    from spola.cancel import cancel
    from spola.cli import args as cli_args

    outcome = cancel(
        run_id,
        store_path=store,
        reason=reason or "cancelled with spola cancel",
        wait=wait,
        inputs=cli_args.gather_inputs(inputs or [], None, None),
        credentials=cli_args.parse_credentials(auth or []),
        servers=cli_args.parse_servers(servers or []),
        insecure=insecure,
    )
    if json_out:
        sys.stdout.write(to_json(outcome.to_dict()) + "\n")
    else:
        console = Console(highlight=False)
        colour = "green" if outcome.cancelled else "red"
        console.print(Text(f"run {outcome.run_id}: {outcome.status}", style=f"bold {colour}"))
        console.print(Text(outcome.message), soft_wrap=True)
        data = outcome.cancel
        if data:
            outputs = data.get("outputs") or {}
            shown = ", ".join(f"{k} {v}" for k, v in outputs.items() if v is not None)
            line = f"cancel workflow {data.get('workflowId')}: {data.get('status')}"
            ok = data.get("status") in ("succeeded", "skipped")
            console.print(
                Text(line + (f" ({shown})" if shown else ""), style="green" if ok else "red"), soft_wrap=True
            )
            if data.get("message"):
                console.print(Text(str(data["message"])), soft_wrap=True)
    return EXIT_OK if outcome.cancelled else EXIT_FAILED
