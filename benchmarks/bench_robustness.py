"""Issue 10's figures: a run against the real service's auth limit, a slow-drip target, a huge body.

    python benchmarks/bench_robustness.py [--runs 1] [--window 60]

- the full ``-m smoke`` run against the reference deployment in the real
  service's rate-limit mode (5 calls per ``--window`` s shared by register,
  login and refresh; Retry-After rounded down), the env knowing that budget:
  wall time, auth calls spent, 429s met, seconds spent waiting;
- time to verdict against a target that sends its headers and then one byte
  every 0.5 s (``timeouts.total = 5``);
- peak memory (max RSS of the pytest process) against a /health that answers
  50 MB, with the default body cap and with the cap lifted to 100 MB (what the
  run did before it streamed and capped bodies).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._timing import REPO, report  # noqa: E402
from tests.conftest import running_reference  # noqa: E402
from tests.servers import tcp_server  # noqa: E402

SUITES = REPO / "suites"


def pytest_in(
    project: Path, config: str, *args: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    (project / "deploycheck.toml").write_text(config)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=project,
        capture_output=True,
        text=True,
    )
    return done, time.perf_counter() - start


def peak_rss_mb(project: Path, config: str, *args: str) -> float:
    """Max RSS of one pytest child (a fresh interpreter that runs it and reports its own)."""
    (project / "deploycheck.toml").write_text(config)
    code = (
        "import resource, sys, pytest\n"
        f"pytest.main({['-p', 'no:cacheprovider', '-q', *args]!r})\n"
        "print('RSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True)
    found = re.search(r"RSS (\d+)", done.stderr)
    assert found, done.stderr[-2000:]
    return int(found.group(1)) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--window", type=float, default=60.0)
    args = parser.parse_args()
    project = Path(tempfile.mkdtemp(prefix="bench-robustness-"))
    for suite in SUITES.glob("test_*.py"):
        (project / suite.name).write_text(suite.read_text())

    print(
        f"== -m smoke against the real service's auth limit (5/{args.window:g}s, shared, rounded down)"
    )
    walls, waits = [], []
    with running_reference(
        auth_rate_limit=5, auth_rate_window_s=args.window, retry_after_rounding="down"
    ) as deployment:
        config = (
            f'[envs.real]\nbase_url = "{deployment.url}"\n'
            f'auth.rate_limit = "5/{args.window:g}s"\nauth.rate_limit_wait_s = {3 * args.window:g}\n'
        )
        for _ in range(args.runs):
            calls_before = sum(
                deployment.metric("http_requests_total", method="POST", route=f"/api/v1/auth/{r}")
                for r in ("register", "login", "refresh")
            )
            refused_before = deployment.metric("http_requests_total", status="429")
            done, wall = pytest_in(project, config, "--env", "real", "-m", "smoke")
            if done.returncode != 0:
                sys.exit(done.stdout[-3000:])
            walls.append(wall)
            waited = [
                float(m) for m in re.findall(r"deploycheck: waiting (\d+) s for", done.stdout)
            ]
            waits.append(max(waited) if waited else 0.0)
            calls = (
                sum(
                    deployment.metric(
                        "http_requests_total", method="POST", route=f"/api/v1/auth/{r}"
                    )
                    for r in ("register", "login", "refresh")
                )
                - calls_before
            )
            refused = deployment.metric("http_requests_total", status="429") - refused_before
            print(f"   run: {wall:.1f} s wall, {calls:.0f} auth calls, {refused:.0f} answered 429")
    report("smoke run, wall", walls)
    report("longest auth wait announced", waits)

    print("== time to verdict on a slow-drip target (a byte every 0.5 s; timeouts.total = 5)")
    with tcp_server("trickle") as url:
        config = f'[envs.drip]\nbase_url = "{url}"\ntimeouts = {{ total = 5 }}\n'
        times = []
        for _ in range(max(args.runs, 3)):
            done, wall = pytest_in(project, config, "--env", "drip", "test_health.py")
            assert "too slow to arrive" in done.stdout, done.stdout[-2000:]
            times.append(wall)
    report("verdict (process start to exit)", times)

    print("== peak memory against a 50 MB /health body")
    with tcp_server("big") as url:
        capped = peak_rss_mb(
            project, f'[envs.big]\nbase_url = "{url}"\n', "--env", "big", "test_health.py"
        )
        lifted = peak_rss_mb(
            project,
            f'[envs.big]\nbase_url = "{url}"\nlimits.max_body_bytes = 100000000\n',
            "--env",
            "big",
            "test_health.py",
        )
    print(f"{'max RSS, default cap (10 MB)':<58} {capped:7.0f} MB")
    print(f"{'max RSS, cap lifted to 100 MB (the body read whole)':<58} {lifted:7.0f} MB")


if __name__ == "__main__":
    main()
