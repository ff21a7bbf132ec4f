"""Issue 3's figures: a full smoke run against the embedded deployment, next to its parts.

    python benchmarks/bench_journey.py [--runs 5]

- the smoke run (health + auth + journey), serial and with -n 2;
- its fixed costs measured alone: pytest start-up and collection, and starting
  the embedded deployment;
- the deployment's critical path: upload -> job completed, as the server
  timestamps it (created_at -> completed_at), and as a client polling every
  10 ms sees it.
The suite's own overhead is what the run costs beyond those.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from benchmarks._timing import pytest_command, report, time_command  # noqa: E402
from pytest_deploycheck.run import embedded  # noqa: E402
from pytest_deploycheck.target.sample_pdf import make_pdf  # noqa: E402

# The issue asks for health + auth + journey; -m smoke also selects the security suite.
SMOKE = "smoke and not security"


def critical_path(runs: int) -> tuple[list[float], list[float], list[float]]:
    starts, server, client = [], [], []
    for _ in range(runs):
        state = Path(tempfile.mkdtemp())
        t0 = time.perf_counter()
        deployment = embedded.ensure_started(state, settings={"auth_rate_limit": 100})
        starts.append(time.perf_counter() - t0)
        try:
            api = httpx.Client(base_url=deployment.url + "/api/v1", timeout=10)
            name = uuid.uuid4().hex[:8]
            api.post(
                "/auth/register",
                json={"email": f"{name}@example.com", "username": name, "password": "password123"},
            )
            token = api.post(
                "/auth/login", json={"email": f"{name}@example.com", "password": "password123"}
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            t0 = time.perf_counter()
            job = api.post(
                "/upload/", files={"file": ("a.pdf", make_pdf(), "application/pdf")}, headers=auth
            ).json()
            while job["status"] not in ("completed", "failed"):
                time.sleep(0.01)
                job = api.get(f"/jobs/{job['id']}", headers=auth).json()
            client.append(time.perf_counter() - t0)
            server.append(
                (
                    datetime.fromisoformat(job["completed_at"])
                    - datetime.fromisoformat(job["created_at"])
                ).total_seconds()
            )
        finally:
            embedded.stop(state)
            shutil.rmtree(state, ignore_errors=True)
    return starts, server, client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    quiet = ["-q", "-p", "no:cacheprovider"]

    print(f"== pytest --env local -m '{SMOKE}' (health + auth + journey)")
    serial = report(
        "smoke run, serial",
        time_command(pytest_command("--env", "local", "-m", SMOKE, *quiet), runs),
    )
    report(
        "smoke run, -n 2",
        time_command(pytest_command("--env", "local", "-m", SMOKE, "-n", "2", *quiet), runs),
    )

    print("== fixed costs, measured alone")
    collect = report(
        "pytest start-up + collection (--co)",
        time_command(pytest_command("--env", "local", "-m", SMOKE, "--co", *quiet), runs),
    )
    starts, server, client = critical_path(runs)
    start = report("starting the embedded deployment", starts)

    print("== the deployment's critical path: upload -> completed")
    report("server timestamps (created_at -> completed_at)", server)
    path_client = report("client view (upload answer -> completed, 10 ms polls)", client)

    overhead = serial - collect - start - path_client
    print(
        f"{'suite overhead beyond those':<58} {overhead:6.2f} s ({overhead / serial:.0%} of the run)"
    )
    print(f"(medians; critical path {statistics.median(server) * 1000:.0f} ms server-side)")


if __name__ == "__main__":
    main()
