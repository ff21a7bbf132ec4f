"""Issue 8's figures: what fuzzing and the passive checks cost.

    python benchmarks/bench_evidence.py [--runs 5]

Against one embedded reference deployment (no auth rate limit), in one run:

- ``pytest -m smoke`` wall time with the fuzz subset and without it
  (``-m "smoke and not fuzz"``), paired and alternating; the ratio is the price
  of the subset;
- a full ``-m fuzz`` run: requests sent per second (the run's own count over
  its own time, from the fuzz section);
- the passive analysers over 1,000 recorded exchanges (real answers of the
  deployment: health, me, job lists, 404s, 422s): median ms per 1,000.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._timing import REPO, pytest_command, report, time_command  # noqa: E402
from pytest_deploycheck.config import TargetEnv  # noqa: E402
from pytest_deploycheck.evidence import ANALYSERS, RunEvidence  # noqa: E402
from pytest_deploycheck.evidence.review import load_document, review  # noqa: E402
from pytest_deploycheck.run import embedded  # noqa: E402
from pytest_deploycheck.run.client import DeployClient  # noqa: E402

QUIET = ["-q", "-p", "no:cacheprovider"]


def record_exchanges(env: TargetEnv, count: int) -> list:
    client = DeployClient(env)
    name = uuid.uuid4().hex[:8]
    client.post(
        "/auth/register",
        json={"email": f"b{name}@example.com", "username": f"b{name}", "password": "Passw0rd!x1"},
    )
    token = client.post(
        "/auth/login", json={"email": f"b{name}@example.com", "password": "Passw0rd!x1"}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    requests = [
        lambda: client.get("/health"),
        lambda: client.get("/auth/me", headers=auth),
        lambda: client.get("/jobs/", headers=auth),
        lambda: client.get("/jobs/", params={"page": "0"}, headers=auth),
        lambda: client.get(f"/jobs/{uuid.uuid4()}", headers=auth),
        lambda: client.get("/auth/me"),
    ]
    while len(client.exchanges) < count:
        requests[len(client.exchanges) % len(requests)]()
    return client.exchanges[:count]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp())
    deployment = embedded.ensure_started(state, settings={"auth_rate_limit": 0})
    try:
        url = deployment.url
        common = ["--base-url", url, "--auth-rate-limit", "off", *QUIET]
        with_fuzz, without = [], []
        for _ in range(args.runs):
            with_fuzz += time_command(pytest_command(*common, "-m", "smoke"), runs=1)
            without += time_command(pytest_command(*common, "-m", "smoke and not fuzz"), runs=1)
        a = report("-m smoke (with the fuzz subset), wall", with_fuzz)
        b = report('-m "smoke and not fuzz", wall', without)
        print(f"{'price of the fuzz subset':<58} {a - b:+.2f} s  ({a / b:.2f}x)")

        rates = []
        for _ in range(max(1, args.runs // 2)):
            import subprocess

            done = subprocess.run(
                pytest_command(
                    *common,
                    "suites/test_schema_fuzz.py",
                    "-m",
                    "fuzz",
                    "-rA",
                    "-k",
                    "not stateful and not smoke",
                ),
                cwd=REPO,
                capture_output=True,
                text=True,
            )
            found = re.search(
                r"schema fuzzing \(full, seed \d+\): (\d+) requests to (\d+) operations in ([\d.]+) s",
                done.stdout,
            )
            if not found:
                sys.exit(done.stdout[-3000:])
            sent, operations, seconds = int(found[1]), int(found[2]), float(found[3])
            rates.append(sent / seconds)
            print(f"  full fuzz run: {sent} requests to {operations} operations in {seconds:.1f} s")
        print(f"{'full -m fuzz, requests per second':<58} median {statistics.median(rates):6.1f}")

        env = TargetEnv(name="bench", base_url=url)
        exchanges = record_exchanges(env, 1000)
        evidence = RunEvidence(env=env)
        with DeployClient(env) as client:
            load_document(evidence, client)
        costs = []
        for _ in range(args.runs):
            start = time.perf_counter()
            review([cls() for cls in ANALYSERS], exchanges, evidence)
            costs.append((time.perf_counter() - start) * 1000)
        print(
            f"{'passive analysers, per 1,000 exchanges':<58} median {statistics.median(costs):6.1f} ms"
            f"   (runs: {', '.join(f'{c:.1f}' for c in costs)})"
        )
    finally:
        embedded.stop(state)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
