"""Issue 13's figures: how close the smoke verdict comes to the deployment's own pace.

    python benchmarks/bench_speed.py [--runs 5] [--job-seconds 1.0] [--python PATH]

``--baseline-python``: a second install (an earlier commit's, for instance) run in the same
rounds, for a paired before/after ratio::

    git worktree add /tmp/before <commit> && python3 -m venv /tmp/before-venv
    /tmp/before-venv/bin/pip install -e "/tmp/before[reference,anki,fuzz,report]"
    python benchmarks/bench_speed.py --python /tmp/team/bin/python --baseline-python /tmp/before-venv/bin/python

``--latency-ms``: every answer delayed that long (the deployment's ``slow`` fault), as a
target across a network is: the checks' requests and the fuzzing's then take time of their
own, not only CPU.

``--python``: the interpreter whose install is measured (default: this one). The
project's own ``.venv`` holds ``[all]``, development tools included (selenium brings
trio, which hypothesis loads as a plugin when fuzzing starts); a team installs the
README's extras. Measure that install with, for instance::

    python3 -m venv /tmp/team && /tmp/team/bin/pip install -e ".[reference,anki,fuzz,report]"
    python benchmarks/bench_speed.py --python /tmp/team/bin/python

Against one reference deployment whose jobs take about ``--job-seconds``
(``job_step_delay_s``; no auth rate limit, so both sides are judged on pace
alone), paired and alternating, in one run:

- ``pytest --base-url URL -m smoke``: wall time, and its test phase alone
  (pytest's own "in N s", start-up and collection excluded);
- ``benchmarks/scripts/curl_smoke.sh``: health, register, login, upload, poll
  every 0.1 s, download; what a team would write by hand;
- the job's own processing time, by the server's timestamps.

Reported: medians, the ratio pytest / curl, and the test phase / job time. Child
processes run without PYTHONDONTWRITEBYTECODE (set in this workplace, not on a user's
machine) after one uncounted warm-up run.
Also ``pytest --co`` with and without the plugin (``-p no:deploycheck``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._timing import REPO, pytest_command, report, time_command  # noqa: E402
from pytest_deploycheck import make_pdf  # noqa: E402
from pytest_deploycheck.run import embedded  # noqa: E402

CURL_SMOKE = REPO / "benchmarks" / "scripts" / "curl_smoke.sh"
CONTROL_TOKEN = "bench-control-token"  # switches the deployment's faults (--latency-ms)
# Each install imports its own package: without it, ``python -m pytest`` run here would put
# this checkout first on sys.path, and a baseline install would measure this code.
SAFE_PATH = {**os.environ, "PYTHONSAFEPATH": "1"}
QUIET = ["-q", "-p", "no:cacheprovider"]
# pyproject's addopts without --strict-markers (the markers are the plugin's to register).
LEAN = "addopts=-p no:schemathesis -p no:locust -p no:hypothesispytest -p no:anyio"


def _job_seconds(job: dict[str, str]) -> float:
    return (
        datetime.fromisoformat(job["completed_at"]) - datetime.fromisoformat(job["created_at"])
    ).total_seconds()


def _test_phase(stdout: str) -> float:
    """pytest's count line ("40 passed … in 3.21s"); the verdict prints after it."""
    found = next(
        (
            m
            for line in reversed(stdout.splitlines())
            if (m := re.search(r"passed.* in ([\d.]+)s", line))
        ),
        None,
    )
    assert found, stdout[-500:]
    return float(found.group(1))


def _checkout_of(python: str) -> Path:
    """The checkout an install's package was installed from (``pip install -e``): each leg
    runs there, with its own pyproject and its own shipped suites."""
    found = subprocess.run(
        [python, "-P", "-c", "import pytest_deploycheck; print(pytest_deploycheck.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    root = Path(found.stdout.strip()).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        sys.exit(f"{python}: not an editable install of a checkout (pip install -e DIR)")
    return root


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--job-seconds", type=float, default=1.0)
    parser.add_argument("--python", default=sys.executable, help="the install to measure")
    parser.add_argument("--baseline-python", help="an install to compare with, paired")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0,
        help="every answer delayed this long (the deployment's slow fault), as a remote target's",
    )
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp())
    pdf = state / "sample.pdf"
    pdf.write_bytes(make_pdf())
    deployment = embedded.ensure_started(
        state,
        settings={
            "auth_rate_limit": 0,
            "job_step_delay_s": args.job_seconds / 3,
            "control_token": CONTROL_TOKEN,
        },
    )
    if args.latency_ms:
        httpx.put(
            deployment.url + "/_deploycheck/faults",
            json={"faults": [f"slow={args.latency_ms:g}"]},
            headers={"X-Fault-Token": CONTROL_TOKEN},
        ).raise_for_status()
    # The deployment's auth limit is off: say so, or the run paces to the default 5/60s.
    smoke = pytest_command(
        "--base-url",
        deployment.url,
        "--auth-rate-limit",
        "off",
        "-m",
        "smoke",
        *QUIET,
        python=args.python,
    )
    baseline = (
        pytest_command(*smoke[3:], python=args.baseline_python) if args.baseline_python else None
    )
    pytest_wall, pytest_phase, curl_wall, job_times = [], [], [], []
    baseline_wall: list[float] = []
    legs = ["pytest", "curl", *(["baseline"] if baseline else [])]
    # One run each that is not counted: bytecode and hypothesis' caches written, as after a
    # first run.
    checkout = {"pytest": _checkout_of(args.python)}
    if args.baseline_python:
        checkout["baseline"] = _checkout_of(args.baseline_python)
    for side, command in (("pytest", smoke), ("baseline", baseline)):
        if command:
            subprocess.run(
                command, cwd=checkout[side], capture_output=True, text=True, env=SAFE_PATH
            )
    try:
        for i in range(args.runs):
            for side in legs[i % len(legs) :] + legs[: i % len(legs)]:  # each leg leads in turn
                start = time.perf_counter()
                if side in ("pytest", "baseline"):
                    command = smoke if side == "pytest" else baseline
                    assert command is not None
                    done = subprocess.run(
                        command,
                        cwd=checkout[side],
                        capture_output=True,
                        text=True,
                        env=SAFE_PATH,
                    )
                    (pytest_wall if side == "pytest" else baseline_wall).append(
                        time.perf_counter() - start
                    )
                    if done.returncode != 0:
                        sys.exit(f"{side} smoke run failed:\n{done.stdout[-3000:]}")
                    if side == "pytest":
                        pytest_phase.append(_test_phase(done.stdout))
                else:
                    done = subprocess.run(
                        [str(CURL_SMOKE), deployment.url, str(pdf)], capture_output=True, text=True
                    )
                    curl_wall.append(time.perf_counter() - start)
                    if done.returncode != 0:
                        sys.exit(f"curl smoke failed: {done.stderr}")
                    job_times.append(_job_seconds(json.loads(done.stdout)))
    finally:
        embedded.stop(state)
        shutil.rmtree(state, ignore_errors=True)

    latency = f", every answer {args.latency_ms:g} ms late" if args.latency_ms else ""
    print(
        f"== -m smoke vs a hand-written curl smoke, jobs of ~{args.job_seconds:g} s{latency} "
        "(paired)"
    )
    print(f"(pytest from {args.python})")
    wall = report("pytest -m smoke, wall (start-up included)", pytest_wall)
    phase = report("pytest -m smoke, test phase only", pytest_phase)
    curl = report("curl smoke script, wall", curl_wall)
    job = report("the job's own processing time (server timestamps)", job_times)
    print(f"{'ratio pytest wall / curl wall':<58} {wall / curl:6.2f}x")
    print(f"{'ratio test phase / job processing time':<58} {phase / job:6.2f}x")
    if baseline_wall:
        before = report(f"baseline ({args.baseline_python}), wall", baseline_wall)
        pairs = statistics.median(a / b for a, b in zip(pytest_wall, baseline_wall, strict=True))
        print(f"{'ratio pytest wall / baseline wall (median of pairs)':<58} {pairs:6.2f}x")
        print(f"{'ratio baseline wall / curl wall':<58} {before / curl:6.2f}x")

    print("== pytest --co (collection), with and without the plugin")
    with_plugin = report(
        "pytest --co suites",
        time_command(
            pytest_command("--co", "suites", "-o", LEAN, *QUIET, python=args.python),
            args.runs,
            ok_codes=(0, 5),
        ),
    )
    without = report(
        "pytest --co suites -p no:deploycheck",
        time_command(
            pytest_command(
                "--co", "suites", "-o", LEAN, "-p", "no:deploycheck", *QUIET, python=args.python
            ),
            args.runs,
            ok_codes=(0, 5),
        ),
    )
    print(f"{'plugin cost at start-up':<58} {with_plugin - without:+6.2f} s")
    print(f"(medians of {args.runs} runs; job median {statistics.median(job_times):.2f} s)")


if __name__ == "__main__":
    main()
