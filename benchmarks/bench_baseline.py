"""Issue 22's figures: release over release at default settings.

    python benchmarks/bench_baseline.py [--clean-runs 20] [--timing-runs 3]

Against reference deployments started here (no auth rate limit), with the shipped smoke
run (`pytest --env ref -m smoke`, the suites collected by the plugin):

- **false alarms**: release 1.0.0 recorded once; then ``--clean-runs`` runs of a clean
  1.0.1 against it: how many are red;
- **the smallest shift found**: 1.0.1 with fault ``slow-reads=X`` for X in 5 … 60 ms, each
  judged against 1.0.0's record alone: the smallest X that fails (default floors: 25 ms
  or 10 % of the baseline's median, 98 % confidence);
- **what a baseline costs**: the smoke run's wall time with and without ``--baseline``,
  paired and alternating, medians and their ratio (and the sampling time the run reports).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_deploycheck.run import embedded  # noqa: E402

LEAN = ["-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:schemathesis", "-p", "no:locust"]


def _start(state: Path, version: str, faults: list[str] | None = None) -> str:
    settings: dict[str, object] = {"auth_rate_limit": 0, "version": version, "control_token": "t"}
    deployment = embedded.ensure_started(state, settings=settings)
    if faults:
        import httpx

        httpx.put(
            deployment.url + "/_deploycheck/faults",
            json={"faults": faults},
            headers={"X-Fault-Token": "t"},
        ).raise_for_status()
    return deployment.url


def _smoke(url: str, project: Path, *extra: str) -> tuple[int, float, dict[str, object]]:
    (project / "deploycheck.toml").write_text(
        f'[envs.ref]\nbase_url = "{url}"\nauth.rate_limit = "off"\n'
    )
    out = project / "verdict.json"
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--env", "ref", "-m", "smoke", "-q",
         f"--deploycheck-json={out}", *LEAN, *extra],
        cwd=project, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    took = time.perf_counter() - began
    verdict = json.loads(out.read_text()) if out.exists() else {}
    return done.returncode, took, verdict


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clean-runs", type=int, default=20)
    parser.add_argument("--timing-runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    project = work / "project"
    project.mkdir()
    store = work / "records"
    first = work / "first"

    previous = _start(work / "v100", "1.0.0")
    code, _, _ = _smoke(previous, project, f"--baseline={store}")
    embedded.stop(work / "v100")
    assert code == 0, "the first release's run must be green"
    shutil.copytree(store, first)

    clean = _start(work / "v101", "1.0.1")
    reds, sampling = 0, []
    for _ in range(args.clean_runs):
        code, _, verdict = _smoke(clean, project, f"--baseline={store}")
        reds += code != 0
        baseline = verdict.get("baseline") or {}
        sampling.append(float(baseline.get("sampling_s", 0)))  # type: ignore[union-attr]
    with_times, without_times = [], []
    for _ in range(args.timing_runs):
        without_times.append(_smoke(clean, project)[1])
        with_times.append(_smoke(clean, project, f"--baseline={store}")[1])
    embedded.stop(work / "v101")

    smallest = None
    for shift in (5, 10, 15, 20, 25, 30, 40, 50, 60):
        slower = _start(work / f"s{shift}", "1.0.1", [f"slow-reads={shift}"])
        judged = work / f"judged-{shift}"
        shutil.copytree(first, judged)
        code, _, verdict = _smoke(slower, project, f"--baseline={judged}")
        embedded.stop(work / f"s{shift}")
        if code != 0 and smallest is None:
            smallest = shift
            rows = (verdict.get("baseline") or {}).get("endpoints", [])  # type: ignore[union-attr]
            found = [r["endpoint"] for r in rows if r["outcome"] == "regression"]
            print(f"smallest shift found: +{shift} ms ({', '.join(found)})")
    if smallest is None:
        print("smallest shift found: none up to +60 ms")
    print(f"false alarms: {reds} of {args.clean_runs} clean runs red")
    print(f"sampling (median over the clean runs): {statistics.median(sampling):.2f} s")
    a, b = statistics.median(with_times), statistics.median(without_times)
    print(f"smoke run with --baseline: {a:.2f} s; without: {b:.2f} s; ratio {a / b:.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
