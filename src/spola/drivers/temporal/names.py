"""Names shared by the workflow, the activities and the client (no ``temporalio`` import here)."""

from __future__ import annotations

WORKFLOW = "spola.ArazzoRun"
HTTP_ACTIVITY = "spola.http"
BURST_ACTIVITY = "spola.pollBurst"
PROGRESS_QUERY = "progress"
STATE_QUERY = "state"
DEFAULT_TASK_QUEUE = "spola"
DEFAULT_NAMESPACE = "default"

CONTINUE_AFTER_EVENTS = 4_000
"""A run continues as new once its history holds this many events (Temporal warns at 10,240)."""

LOCAL_BELOW_SECONDS = 1.0
"""A safe step re-polled more often than this polls inside one heartbeating activity (docs/temporal.md)."""

BURST_SECONDS = 30.0
"""How long one poll-burst activity drives a fast loop before it hands the run back to the workflow."""

MAX_BODY_BYTES = 1_500_000
"""The largest response body an activity hands back (Temporal refuses payloads above 2 MB)."""

EVENT_BUFFER = 2_000
"""How many progress events a workflow keeps for followers."""
