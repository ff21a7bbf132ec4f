"""The fuzz subset with requests in flight at once (``fuzz.workers``) vs one at a time.

    python benchmarks/bench_fuzz_workers.py [--runs 5] [--latency-ms 0 30]

Against one reference deployment (no auth rate limit) whose every answer is delayed by
``--latency-ms`` (fault ``slow``: 0 is loopback, 30 ms is a target across a network),
``pytest -m "smoke and fuzz" --fuzz-seed 7`` with ``fuzz.workers`` = 1 and = 4, paired and
alternating. Reported: the fuzz run's own seconds ("schema fuzzing (smoke, …) in N s"),
medians and their ratio; the requests sent must be the same on both sides.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from benchmarks._timing import pytest_command  # noqa: E402
from pytest_deploycheck.run import embedded  # noqa: E402

LEAN = ["-q", "-rA", "-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:locust"]
SUMMARY = re.compile(r"schema fuzzing \(smoke, seed 7\): (\d+) requests .* in ([\d.]+) s")


def fuzz_seconds(project: Path, url: str, workers: int) -> tuple[int, float]:
    (project / "deploycheck.toml").write_text(
        f'[envs.ref]\nbase_url = "{url}"\nauth.rate_limit = "off"\n'
        f'fuzz.workers = {workers}\nfuzz.rate_limit = "off"\n'
    )
    done = subprocess.run(
        pytest_command("--env", "ref", "-m", "smoke and fuzz", "--fuzz-seed", "7", *LEAN),
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    found = SUMMARY.search(done.stdout)
    if done.returncode != 0 or not found:
        sys.exit(f"the fuzz run failed:\n{done.stdout[-3000:]}")
    return int(found.group(1)), float(found.group(2))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0, 30.0])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-fuzz-workers-"))
    project = work / "project"
    project.mkdir()
    deployment = embedded.ensure_started(
        work / "ref", settings={"auth_rate_limit": 0, "control_token": "t"}
    )
    try:
        for latency in args.latency_ms:
            faults = [f"slow={latency:g}"] if latency else []
            httpx.put(
                deployment.url + "/_deploycheck/faults",
                json={"faults": faults},
                headers={"X-Fault-Token": "t"},
            ).raise_for_status()
            times: dict[int, list[float]] = {1: [], 4: []}
            sent: dict[int, set[int]] = {1: set(), 4: set()}
            fuzz_seconds(project, deployment.url, 4)  # not counted: caches written
            for i in range(args.runs):
                for workers in (1, 4) if i % 2 == 0 else (4, 1):
                    count, seconds = fuzz_seconds(project, deployment.url, workers)
                    times[workers].append(seconds)
                    sent[workers].add(count)
            one, four = (statistics.median(times[w]) for w in (1, 4))
            print(f"== answers delayed by {latency:g} ms; requests sent: {sent[1]} vs {sent[4]}")
            for workers in (1, 4):
                spread = ", ".join(f"{t:.2f}" for t in times[workers])
                print(f"fuzz.workers = {workers}: median {statistics.median(times[workers]):.2f} s"
                      f"   (runs: {spread})")  # fmt: skip
            print(f"ratio workers 4 / workers 1: {four / one:.2f}x")
    finally:
        embedded.stop(work / "ref")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
