"""Issue 13's figures: how close the smoke verdict comes to the deployment's own pace.

    python benchmarks/bench_speed.py [--runs 5] [--job-seconds 1.0] [--python PATH]

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
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._timing import REPO, pytest_command, report, time_command  # noqa: E402
from pytest_deploycheck import make_pdf  # noqa: E402
from pytest_deploycheck.run import embedded  # noqa: E402

CURL_SMOKE = REPO / "benchmarks" / "scripts" / "curl_smoke.sh"
QUIET = ["-q", "-p", "no:cacheprovider"]
# pyproject's addopts without --strict-markers (the markers are the plugin's to register).
LEAN = "addopts=-p no:schemathesis -p no:locust -p no:hypothesispytest -p no:anyio"


def _job_seconds(job: dict[str, str]) -> float:
    return (
        datetime.fromisoformat(job["completed_at"]) - datetime.fromisoformat(job["created_at"])
    ).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--job-seconds", type=float, default=1.0)
    parser.add_argument("--python", default=sys.executable, help="the install to measure")
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp())
    pdf = state / "sample.pdf"
    pdf.write_bytes(make_pdf())
    deployment = embedded.ensure_started(
        state, settings={"auth_rate_limit": 0, "job_step_delay_s": args.job_seconds / 3}
    )
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
    pytest_wall, pytest_phase, curl_wall, job_times = [], [], [], []
    # One run that is not counted: bytecode and hypothesis' caches written, as after a first run.
    subprocess.run(smoke, cwd=REPO, capture_output=True, text=True)
    try:
        for i in range(args.runs):
            for side in ("pytest", "curl") if i % 2 == 0 else ("curl", "pytest"):
                start = time.perf_counter()
                if side == "pytest":
                    done = subprocess.run(smoke, cwd=REPO, capture_output=True, text=True)
                    pytest_wall.append(time.perf_counter() - start)
                    if done.returncode != 0:
                        sys.exit(f"smoke run failed:\n{done.stdout[-3000:]}")
                    # pytest's count line ("40 passed … in 3.21s"); the verdict prints after it.
                    found = next(
                        (
                            m
                            for line in reversed(done.stdout.splitlines())
                            if (m := re.search(r"passed.* in ([\d.]+)s", line))
                        ),
                        None,
                    )
                    assert found, done.stdout[-500:]
                    pytest_phase.append(float(found.group(1)))
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

    print(f"== -m smoke vs a hand-written curl smoke, jobs of ~{args.job_seconds:g} s (paired)")
    print(f"(pytest from {args.python})")
    wall = report("pytest -m smoke, wall (start-up included)", pytest_wall)
    phase = report("pytest -m smoke, test phase only", pytest_phase)
    curl = report("curl smoke script, wall", curl_wall)
    job = report("the job's own processing time (server timestamps)", job_times)
    print(f"{'ratio pytest wall / curl wall':<58} {wall / curl:6.2f}x")
    print(f"{'ratio test phase / job processing time':<58} {phase / job:6.2f}x")

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
