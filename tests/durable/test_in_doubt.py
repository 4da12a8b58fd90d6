"""An in-doubt trigger is judged by what was sent (the journalled intent), not by the request rebuilt."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.conftest import SEEDS, shared_or_skip, spola_cli
from tests.durable.test_resume import newest_run_id, start, wait_for
from tests.stub_server import Reply, StubServer

DATABRICKS = SEEDS / "databricks-run-job-and-wait-workflow.yml"
DAPI = "dapi-secret-7788"


def test_an_idempotency_token_given_only_at_resume_does_not_make_the_lost_trigger_safe(
    tmp_path: Path,
) -> None:
    """The original run-now had no idempotency_token; resuming with one would rebuild a request that
    looks safe, but the request that may have started a job carried none: re-sending starts a second."""
    shared_or_skip()
    server = StubServer().start()
    try:
        server.add("POST", "/api/2.1/jobs/run-now", Reply(body={"run_id": 5}, delay=5))
        store = tmp_path / "runs.db"
        base = ["--server", f"databricksApi={server.base_url}/api", "--auth", f"databricksApi={DAPI}"]
        proc = start("run", str(DATABRICKS), "-i", "job_id=123", *base, "--store", str(store))
        wait_for(lambda: len(server.received("POST")) == 1)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
        (sent,) = server.received("POST")
        assert sent.json == {"job_id": 123}
        run_id = newest_run_id(store)

        refused = spola_cli(
            "resume", run_id, "--store", str(store), *base[2:], "-i", "idempotency_token=tok-late-1"
        )
        assert refused.returncode == 2, refused.stderr
        assert "--force-resend" in refused.stderr
        assert "the one sent did not" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert len(server.received("POST")) == 1
    finally:
        server.stop()
