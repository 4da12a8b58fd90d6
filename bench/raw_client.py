"""The physical limit: the bench workflow's requests issued by a plain client loop, no engine at all.

Trigger (POST run-now), poll (GET runs/get) until TERMINATED, fetch the output: the same requests
spola sends, with the JSON parsed and the state tested. Runs under any Python that has the client
(aiohttp in spola's venv; httpx / requests in the peers' venv):

    python bench/raw_client.py --client aiohttp --api http://127.0.0.1:PORT/api --polls 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

RUN_NOW = "/2.1/jobs/run-now"
GET = "/2.1/jobs/runs/get"
OUTPUT = "/2.1/jobs/runs/get-output"


def _done(body: dict[str, Any]) -> bool:
    return body["state"]["life_cycle_state"] == "TERMINATED"


async def aiohttp_workflows(api: str, workflows: int, polls: int, session: Any = None) -> int:
    """Run ``workflows`` trigger-poll-fetch loops one after another with aiohttp; returns requests sent."""
    import aiohttp

    own = session is None
    session = session or aiohttp.ClientSession()
    sent = 0
    try:
        for _ in range(workflows):
            async with session.post(api + RUN_NOW, json={"job_id": polls}) as reply:
                run_id = (await reply.json())["run_id"]
            sent += 1
            while True:
                async with session.get(api + GET, params={"run_id": run_id}) as reply:
                    body = await reply.json()
                sent += 1
                if _done(body):
                    break
            async with session.get(api + OUTPUT, params={"run_id": run_id}) as reply:
                await reply.json()
            sent += 1
    finally:
        if own:
            await session.close()
    return sent


def httpx_sync_workflows(api: str, workflows: int, polls: int) -> int:
    """The same loop with a synchronous httpx client."""
    import httpx

    sent = 0
    with httpx.Client() as client:
        for _ in range(workflows):
            run_id = client.post(api + RUN_NOW, json={"job_id": polls}).json()["run_id"]
            sent += 1
            while True:
                body = client.get(api + GET, params={"run_id": run_id}).json()
                sent += 1
                if _done(body):
                    break
            client.get(api + OUTPUT, params={"run_id": run_id}).json()
            sent += 1
    return sent


async def httpx_async_workflows(api: str, workflows: int, polls: int) -> int:
    """The same loop with an asynchronous httpx client."""
    import httpx

    sent = 0
    async with httpx.AsyncClient() as client:
        for _ in range(workflows):
            run_id = (await client.post(api + RUN_NOW, json={"job_id": polls})).json()["run_id"]
            sent += 1
            while True:
                body = (await client.get(api + GET, params={"run_id": run_id})).json()
                sent += 1
                if _done(body):
                    break
            (await client.get(api + OUTPUT, params={"run_id": run_id})).json()
            sent += 1
    return sent


def requests_workflows(api: str, workflows: int, polls: int) -> int:
    """The same loop with a requests session (what arazzo-runner uses)."""
    import requests

    sent = 0
    with requests.Session() as client:
        for _ in range(workflows):
            run_id = client.post(api + RUN_NOW, json={"job_id": polls}).json()["run_id"]
            sent += 1
            while True:
                body = client.get(api + GET, params={"run_id": run_id}).json()
                sent += 1
                if _done(body):
                    break
            client.get(api + OUTPUT, params={"run_id": run_id}).json()
            sent += 1
    return sent


def measure(client: str, api: str, workflows: int, polls: int, rounds: int) -> float:
    """Median microseconds per request over ``rounds`` rounds of ``workflows`` workflows."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        if client == "aiohttp":
            sent = asyncio.run(aiohttp_workflows(api, workflows, polls))
        elif client == "httpx-sync":
            sent = httpx_sync_workflows(api, workflows, polls)
        elif client == "httpx-async":
            sent = asyncio.run(httpx_async_workflows(api, workflows, polls))
        elif client == "requests":
            sent = requests_workflows(api, workflows, polls)
        else:
            raise SystemExit(f"unknown client {client}")
        samples.append((time.perf_counter() - started) / sent * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--client", required=True, choices=["aiohttp", "httpx-sync", "httpx-async", "requests"]
    )
    parser.add_argument("--api", required=True)
    parser.add_argument("--workflows", type=int, default=5)
    parser.add_argument("--polls", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    per_request = measure(args.client, args.api, args.workflows, args.polls, args.rounds)
    print(json.dumps({"client": args.client, "perRequestUs": per_request}))


if __name__ == "__main__":
    main()
