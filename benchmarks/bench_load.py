"""Issue 5's figures: load-generator throughput, p95 accuracy, and --processes scaling.

    python benchmarks/bench_load.py [--seconds 15] [--users 20] [--runs 3]

The reference deployment runs alone on core 1 (taskset), the load generator
on core 0, so "one core" is literal. For each figure, medians of N runs.
- rps of the shipped profile's machinery vs a bare FastHttpUser vs wrk (the
  machine's ceiling), all hitting GET /api/v1/health;
- p95 as Locust reports it (bucketed), as we judge it (HDR, exact to 0.1 %),
  and as the server timed the same requests (X-Process-Time);
- --processes 2 vs 1 (both cores for the generator, the server shares them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
LOCUSTFILE = REPO / "benchmarks" / "locust_overhead.py"


def start_server(cpu: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    data = Path(tempfile.mkdtemp())
    port = 18000 + os.getpid() % 1000
    process = subprocess.Popen(
        [
            "taskset",
            "-c",
            cpu,
            sys.executable,
            "-m",
            "pytest_deploycheck.reference",
            "--port",
            str(port),
            "--data-dir",
            str(data),
            "--set",
            "auth_rate_limit=0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/api/v1/health", timeout=1)
            return process, url, data
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the reference deployment did not start")


def run_locust(
    url: str,
    user: str,
    seconds: float,
    users: int,
    cpu: str,
    processes: int = 0,
    server_times: Path | None = None,
) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "deploycheck.toml").write_text(
            f'[envs.b]\nbase_url = "{url}"\n[envs.b.load.profiles.smoke]\n'
            f"stages = [{{ duration_s = {seconds}, users = {users}, spawn_rate = {users} }}]\n"
        )
        results = Path(tmp) / "verdict.json"
        command = [
            "taskset",
            "-c",
            cpu,
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            user,
            "--headless",
            "--only-summary",
            "--deploycheck-env",
            "b",
            "--deploycheck-results",
            str(results),
            "--progress-interval",
            "3600",
        ]
        if processes:
            command += ["--processes", str(processes)]
        env = {**os.environ}
        if server_times:
            env["BENCH_SERVER_TIMES"] = str(server_times)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        completed = subprocess.run(
            command, cwd=tmp, capture_output=True, text=True, env=env, timeout=seconds + 120
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if not results.exists():
            raise SystemExit(f"locust left no verdict:\n{completed.stderr[-2000:]}")
        verdict = json.loads(results.read_text())
        # Every request, bare or not, passes through the plugin's request listener.
        verdict["rps"] = verdict["requests"] / verdict["duration_s"]
        # Start-up (imports, sign-in) is in the CPU time too; long runs make it small.
        verdict["cpu_us_per_request"] = cpu_s / verdict["requests"] * 1e6
        return verdict


def run_wrk(url: str, seconds: float, connections: int, cpu: str) -> tuple[float, float]:
    out = subprocess.run(
        [
            "taskset",
            "-c",
            cpu,
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            "--latency",
            url + "/api/v1/health",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    return rps, _ms(p99) if p99 else float("nan")


def _ms(match: re.Match[str]) -> float:
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    server, url, data = start_server("1")
    try:
        profile, bare, wrk, scaled = [], [], [], []
        cpu_profile, cpu_bare = [], []
        p95_locust, p95_exact, p95_server = [], [], []
        for _ in range(args.runs):
            times = Path(tempfile.mktemp())
            a = run_locust(
                url, "ProfileHealthUser", args.seconds, args.users, "0", server_times=times
            )
            b = run_locust(url, "BareHealthUser", args.seconds, args.users, "0")
            c = run_locust(url, "ProfileHealthUser", args.seconds, args.users, "0,1", processes=2)
            profile.append(a["rps"])
            bare.append(b["rps"])
            cpu_profile.append(a["cpu_us_per_request"])
            cpu_bare.append(b["cpu_us_per_request"])
            scaled.append(c["rps"])
            p95_locust.append(a["p95_ms_locust"])
            p95_exact.append(a["p95_ms_exact"])
            served = sorted(x for line in times.read_text().splitlines() for x in json.loads(line))
            p95_server.append(served[int(0.95 * len(served)) - 1])
            times.unlink()
            if shutil.which("wrk"):
                wrk.append(run_wrk(url, args.seconds, args.users, "0")[0])
        print(
            f"== one generator core (taskset -c 0), server on core 1, {args.users} users, {args.seconds:.0f} s, medians of {args.runs}"
        )
        print(
            f"shipped profile machinery (DeployCheckUser.api)  {median(profile):8.0f} rps  (runs: {', '.join(f'{x:.0f}' for x in profile)})"
        )
        print(
            f"bare FastHttpUser                                {median(bare):8.0f} rps  (runs: {', '.join(f'{x:.0f}' for x in bare)})"
        )
        print(
            f"profile / bare                                   {median(profile) / median(bare):8.2f}  (both capped by the server: see wrk)"
        )
        print(f"generator CPU per request, profile               {median(cpu_profile):8.0f} us")
        print(f"generator CPU per request, bare                  {median(cpu_bare):8.0f} us")
        print(
            f"profile overhead in CPU per request              {median(cpu_profile) / median(cpu_bare) - 1:+8.1%}"
        )
        if wrk:
            print(
                f"wrk -t1 -c{args.users} (the machine's ceiling)             {median(wrk):8.0f} rps  (runs: {', '.join(f'{x:.0f}' for x in wrk)})"
            )
        print("== p95 of the same requests (profile runs)")
        print(f"Locust's own (bucketed)                          {median(p95_locust):8.1f} ms")
        print(f"ours (HDR, judged)                               {median(p95_exact):8.1f} ms")
        print(f"server's own timing (X-Process-Time)             {median(p95_server):8.1f} ms")
        print(
            f"client-side minus server-side                    {median(p95_exact) - median(p95_server):+8.1f} ms"
        )
        print("== --processes 2 vs 1 (generator on both cores, sharing them with the server)")
        print(
            f"--processes 2                                    {median(scaled):8.0f} rps  (runs: {', '.join(f'{x:.0f}' for x in scaled)})"
        )
        print(
            f"scaling ratio (2 / 1)                            {median(scaled) / median(profile):8.2f}"
        )
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
