"""Issue 21's figures: what a watch window costs over many rounds.

    python benchmarks/bench_watch.py [--rounds 1000]

Against one reference deployment (no auth rate limit), with the health and auth-flow
suites, in one run:

- **CPU per round**: a watch of ``--rounds`` rounds back to back (``--watch-every`` 1 ms),
  the pytest process's CPU time (user + system) over the rounds, from ``/proc``, divided
  by the rounds; the baseline is the same pytest run without ``--watch`` (its CPU for the
  run itself), measured in the same invocation;
- **memory**: the pytest process's resident memory (VmRSS) at round 100 and at the last
  round: flat means the rounds keep nothing;
- **auth calls per hour**: with six-second tokens (``access_token_minutes = 0.1``), the
  renewals the watch made in 30 s (one every half lifetime), and what the same rule gives
  for the reference's default 30-minute tokens at ``--watch-every 30s`` (a renewal when
  less than a minute is left: about 2 an hour per signed-in user).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_deploycheck.run import embedded  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SUITES = ("test_health.py", "test_auth_flow.py")
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _project(url: str) -> Path:
    project = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    for name in SUITES:
        (project / name).write_text((REPO / "suites" / name).read_text())
    (project / "deploycheck.toml").write_text(
        f'[envs.ref]\nbase_url = "{url}"\nauth.rate_limit = "off"\n'
    )
    return project


def _pytest(project: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "--env", "ref", *SUITES, "-p", "no:cacheprovider",
         "-p", "no:randomly", *extra],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTEST_ADDOPTS": ""},
    )  # fmt: skip


def cpu_and_memory(url: str, rounds: int) -> dict[str, float]:
    project = _project(url)
    baseline = _pytest(project)
    assert baseline.stdout is not None
    cpu_run = 0.0
    for _line in baseline.stdout:
        cpu_run = _cpu_s(baseline.pid)  # the last reading before it exits
    baseline.wait()
    watch = _pytest(project, "--watch", f"{rounds * 10}s", "--watch-every", "0.001s")
    assert watch.stdout is not None
    start_cpu = rss_100 = rss_last = cpu_end = 0.0
    began = 0.0
    for line in watch.stdout:
        if line.startswith("watch round 1/"):
            start_cpu, began = _cpu_s(watch.pid), time.monotonic()
        elif line.startswith("watch round 100/"):
            rss_100 = _rss_mb(watch.pid)
        elif line.startswith(f"watch round {rounds}/"):
            rss_last, cpu_end = _rss_mb(watch.pid), _cpu_s(watch.pid)
            wall = time.monotonic() - began
            watch.terminate()  # SIGTERM: the watch ends with its verdict
            break
    watch.communicate(timeout=120)
    return {
        "run_cpu_s": cpu_run,
        "cpu_per_round_ms": (cpu_end - start_cpu) / (rounds - 1) * 1000,
        "wall_per_round_ms": wall / (rounds - 1) * 1000,
        "rss_round_100_mb": rss_100,
        f"rss_round_{rounds}_mb": rss_last,
    }


def auth_calls(state: Path) -> dict[str, float]:
    deployment = embedded.ensure_started(
        state / "short", settings={"auth_rate_limit": 0, "access_token_minutes": 0.1}
    )
    try:
        project = _project(deployment.url)
        out = project / "v.json"
        run = _pytest(
            project, "--watch", "30s", "--watch-every", "1s", "--deploycheck-json", str(out)
        )
        run.communicate(timeout=300)
        watch = json.loads(out.read_text())["watch"]
    finally:
        embedded.stop(state / "short")
    renewals = watch["auth_calls"]
    return {
        "renewals_in_30s_with_6s_tokens": renewals,
        "renewal_every_s": 30 / max(renewals, 1),
        # renewed when less than max(2 intervals, 60 s), at most half the lifetime, is left
        "per_hour_per_user_with_30min_tokens_every_30s": 3600 / (30 * 60 - 60),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1000)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp())
    deployment = embedded.ensure_started(state, settings={"auth_rate_limit": 0})
    try:
        figures = cpu_and_memory(deployment.url, args.rounds)
    finally:
        embedded.stop(state)
    figures.update(auth_calls(state))
    for name, value in figures.items():
        print(f"{name:>40}: {value:,.2f}")


if __name__ == "__main__":
    main()
