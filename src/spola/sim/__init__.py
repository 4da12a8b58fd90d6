"""Stateful simulators of vendor job APIs (Databricks Jobs, Dataiku DSS scenarios, dbt Cloud v2).

Users develop workflows offline against them; spola's integration tests run against them. Each simulator
is a Starlette app with time-driven state machines (scaled by `speed`, driven by an injectable clock),
scripted outcomes, vendor-faithful auth and errors, fault injection and `/_sim` admin endpoints.
This package imports nothing else from spola.

Quick start::

    from spola.sim import create_app, serve_in_thread

    app = create_app("databricks", speed=20, faults="runs/get:429@0.2", seed=1)
    with serve_in_thread(app) as server:
        ...  # POST {server.base_url}/api/2.1/jobs/run-now with "Authorization: Bearer dapi-sim-token"
    app.log.count("run-now")

See `spola.sim.databricks`, `spola.sim.dataiku` and `spola.sim.dbt` for paths, pre-seeded ids and tokens,
`spola.sim.faults` for the fault grammar, `spola.sim.admin` for the admin endpoints and `spola.sim.apps`
for the combined app.
"""

from __future__ import annotations

from spola.sim.apps import KINDS, CombinedApp, api_base_urls, create_app, create_combined_app
from spola.sim.base import SimApp
from spola.sim.clock import ManualClock, SimClock
from spola.sim.databricks import DatabricksAPI, DatabricksSimulator
from spola.sim.databricks_plan import Timing as DatabricksTiming
from spola.sim.dataiku import DataikuAPI, DataikuSimulator
from spola.sim.dataiku_state import DataikuTiming
from spola.sim.dbt import DbtAPI, DbtSimulator
from spola.sim.dbt_state import DbtTiming
from spola.sim.faults import FaultDecision, FaultInjector, FaultPlan, FaultRule, FaultSpecError
from spola.sim.recorder import RecordedRequest, RequestLog
from spola.sim.server import ServerHandle, serve_forever, serve_in_thread
from spola.sim.vendor import Simulator, Vendor

__all__ = [
    "KINDS",
    "CombinedApp",
    "DataikuAPI",
    "DataikuSimulator",
    "DataikuTiming",
    "DatabricksAPI",
    "DatabricksSimulator",
    "DatabricksTiming",
    "DbtAPI",
    "DbtSimulator",
    "DbtTiming",
    "FaultDecision",
    "FaultInjector",
    "FaultPlan",
    "FaultRule",
    "FaultSpecError",
    "ManualClock",
    "RecordedRequest",
    "RequestLog",
    "ServerHandle",
    "SimApp",
    "SimClock",
    "Simulator",
    "Vendor",
    "api_base_urls",
    "create_app",
    "create_combined_app",
    "serve_forever",
    "serve_in_thread",
]
