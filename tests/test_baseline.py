"""Release over release: the statistics agree with scipy, a slower release fails against the
previous one's record naming the endpoints, a clean one passes, a rollback is judged
against its own record, and too little data is said, never passed."""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from pytest_deploycheck.baseline.judge import compare_errors, compare_latency
from pytest_deploycheck.baseline.record import RunRecord, baseline_for
from pytest_deploycheck.config.schema import BaselineSettings
from tests.conftest import Faults, SuiteProject, running_reference

FAST = ["-p", "no:randomly", "--passive-checks=off"]


def _samples(mean: float, n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [max(0.1, rng.gauss(mean, mean * 0.1)) for _ in range(n)]


def test_the_statistics_are_scipys() -> None:
    base, now = _samples(4, 20, 1), _samples(9, 20, 2)
    found = compare_latency(base, now, BaselineSettings(allowed_increase_ms=1))
    assert found.p_value == stats.mannwhitneyu(now, base, alternative="two-sided").pvalue
    differences = np.subtract.outer(np.array(now), np.array(base)).ravel()
    assert found.shift_ms == pytest.approx(float(np.median(differences)))
    # The interval is where scipy's test stops rejecting: inside it accepts, outside rejects.
    alpha = 1 - 0.98
    assert found.ci_low_ms is not None and found.ci_high_ms is not None
    ordered = np.sort(differences)
    low = int(np.searchsorted(ordered, found.ci_low_ms))
    high = int(np.searchsorted(ordered, found.ci_high_ms))

    def p(shift: float) -> float:
        return float(stats.mannwhitneyu(np.array(now) - shift, base).pvalue)

    assert p(found.ci_low_ms) >= alpha and p(float(ordered[low - 1])) < alpha
    assert p(found.ci_high_ms) >= alpha and p(float(ordered[high + 1])) < alpha
    assert found.ci_low_ms < found.shift_ms < found.ci_high_ms
    assert found.outcome == "regression"


def test_fisher_exact_for_the_5xx_share() -> None:
    found = compare_errors(0, 200, 12, 200, BaselineSettings())
    table = [[12, 188], [0, 200]]
    assert found.p_value == stats.fisher_exact(table, alternative="greater").pvalue
    assert found.outcome == "regression"
    assert (
        compare_errors(0, 200, 1, 200, BaselineSettings()).outcome == "pass"
    )  # 0.5 %: not significant


@pytest.mark.parametrize(
    ("base", "now", "why"),
    [
        ([], _samples(4, 20, 1), "too few samples to judge: 0 in the baseline, 20 now"),
        (_samples(4, 5, 1), _samples(4, 20, 1), "too few samples to judge: 5 in the baseline"),
        (
            [math.nan] * 20,
            _samples(4, 20, 1),
            "0 in the baseline, 20 now, 10 needed on each side (baseline.min_samples); "
            "20 samples were not numbers",
        ),
    ],
    ids=["empty-baseline", "sparse-baseline", "nan-baseline"],
)
def test_too_little_data_is_inconclusive_never_a_pass(
    base: list[float], now: list[float], why: str
) -> None:
    found = compare_latency(base, now, BaselineSettings())
    assert found.outcome == "inconclusive"
    assert why in found.why


def test_a_zero_baseline_still_finds_a_slower_release() -> None:
    found = compare_latency([0.0] * 20, _samples(250, 20, 3), BaselineSettings())
    assert found.outcome == "regression" and found.shift_ms is not None
    assert found.shift_ms > 200


def test_small_shifts_under_the_floor_pass() -> None:
    found = compare_latency(_samples(4, 40, 1), _samples(6, 40, 2), BaselineSettings())
    assert found.outcome == "pass"
    assert (
        found.why.startswith("a significant increase of 1.")
        and "under the 25.0 ms floor" in found.why
    )


def _record(version: str, verdict: str, at: str) -> RunRecord:
    return RunRecord("prod", version, verdict, at, "r", "0.1.0")


def test_which_record_is_the_baseline() -> None:
    records = [
        _record("1.4.0", "green", "2026-11-01T00:00:00"),
        _record("1.4.1", "green", "2026-11-02T00:00:00"),
        _record("1.4.2", "red", "2026-11-03T00:00:00"),
    ]
    chosen, why = baseline_for(records, "1.4.2")
    assert chosen is records[1] and why == "the last green record of another version"
    # A red record is never a baseline, also not for its own version's next run.
    chosen, _ = baseline_for([*records, _record("1.4.2", "red", "2026-11-04T00:00:00")], "1.4.2")
    assert chosen is records[1]
    # A rollback to 1.4.1 after 1.4.2: judged against 1.4.1's own record.
    chosen, why = baseline_for(records, "1.4.1")
    assert chosen is records[1] and why.startswith("a rollback to 1.4.1")
    assert baseline_for([], "1.0")[0] is None


def _run(project: SuiteProject, url: str, store: Path, out: Path) -> tuple[int, str, dict]:
    project.config(
        f'[envs.ref]\nbase_url = "{url}"\nauth.rate_limit = "off"\n'
        "[envs.ref.baseline]\npace_per_s = 400\nsamples = 12\n"
    )
    result = project.run(
        "--env", "ref", "test_health.py", "test_auth_flow.py", f"--baseline={store}",
        f"--deploycheck-json={out}", "-rfs", *FAST,
    )  # fmt: skip
    return int(result.ret), result.stdout.str() + result.stderr.str(), json.loads(out.read_text())


def test_a_slower_release_fails_against_the_previous_one_and_a_clean_one_passes(
    suite_project: SuiteProject, tmp_path: Path
) -> None:
    store = tmp_path / "records"
    out = tmp_path / "verdict.json"
    with running_reference(version="1.4.1") as previous:
        code, output, verdict = _run(suite_project, previous.url, store, out)
    assert code == 0, output
    assert "SKIPPED [1] baseline:0: nothing to compare with in" in output
    assert "no record yet: this run is the first; this run is recorded" in output
    assert "baseline: this run (green, version 1.4.1) recorded in" in output
    assert len(list((store / "ref").glob("*.json"))) == 1

    with running_reference(version="1.4.2") as slower:
        Faults(slower).set("slow-reads=250")
        code, output, verdict = _run(suite_project, slower.url, store, out)
    assert code == 1, output
    # Each slower endpoint is one failed check, in one sentence; the others pass.
    for path in ("/api/v1/auth/me", "/api/v1/jobs/", "/api/v1/decks/"):
        assert f"FAILED baseline::GET {path} - " in output, output
        assert re.search(
            # 250 ms added; the difference of medians is less when the old one was slower
            # than the new one's own work (a loaded machine: "median 7 → 255 ms", 249 ms).
            rf"\nGET {path} is 2[2-9]\d ms slower than 1\.4\.1 \(.*\): median \d+ → 2[5-9]\d ms, "
            r"98 % CI \+2\d\d…\+2\d\d ms, p < 0\.001, 12 samples against 12\n",
            output,
        ), output
    assert "FAILED baseline::GET /api/v1/health" not in output
    rows = {row["endpoint"]: row for row in verdict["baseline"]["endpoints"]}
    assert rows["GET /api/v1/health"]["outcome"] == "pass"
    assert rows["GET /api/v1/auth/me"]["outcome"] == "regression"
    assert verdict["baseline"]["against"].startswith("1.4.1")

    with running_reference(version="1.4.2") as clean:
        code, output, verdict = _run(suite_project, clean.url, store, out)
    assert code == 0, output  # the red 1.4.2 record is no baseline: judged against 1.4.1
    assert verdict["baseline"]["against"].startswith("1.4.1")
    assert all(row["outcome"] == "pass" for row in verdict["baseline"]["endpoints"])

    # A rollback to 1.4.1 is a deploy too: judged against 1.4.1's own green record.
    with running_reference(version="1.4.1", account_deletion=False) as rolled_back:
        code, output, verdict = _run(suite_project, rolled_back.url, store, out)
    assert verdict["baseline"]["why"].startswith("a rollback to 1.4.1: judged against its own")
    # Its document lost an operation: a breaking change, named.
    assert "FAILED baseline::api - 1 breaking change since 1.4.1" in output
    assert "DELETE /api/v1/user/account was removed" in output
    assert code == 1


def test_records_in_s3_and_a_store_outside_the_project(
    suite_project: SuiteProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An S3 store (moto's server): records written and read back. And ``--baseline PATH``
    with a space, outside the project: pytest takes PATH for a test path when it picks its
    rootdir; the config is still found where pytest was started."""
    pytest.importorskip("boto3")
    server_module = pytest.importorskip("moto.server")
    import boto3

    from pytest_deploycheck.baseline.store import open_store
    from tests.servers import free_port

    port = free_port()
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        for name, value in (
            ("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}"),
            ("AWS_ACCESS_KEY_ID", "k"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ):
            monkeypatch.setenv(name, value)
        boto3.client("s3").create_bucket(Bucket="releases")
        store = open_store("s3://releases/deploycheck")
        store.save(RunRecord("prod", "1.4.1", "green", "2026-11-01T00:00:00", "a", "0.1.0"))
        store.save(RunRecord("prod", "1.4.2", "red", "2026-11-02T00:00:00", "b", "0.1.0"))
        found = store.records("prod")
        assert [(r.version, r.verdict) for r in found] == [("1.4.1", "green"), ("1.4.2", "red")]
        assert store.records("staging") == []
    finally:
        server.stop()

    outside = tmp_path / "elsewhere" / "records"
    (outside / "ref").mkdir(parents=True)
    with running_reference(version="2.0.0") as deployment:
        suite_project.config(
            f'[envs.ref]\nbase_url = "{deployment.url}"\nauth.rate_limit = "off"\n'
        )
        result = suite_project.run(
            "--env", "ref", "test_health.py", "--baseline", str(outside), *FAST
        )  # fmt: skip
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert len(list((outside / "ref").glob("*.json"))) == 1


def test_an_endpoint_the_baseline_read_never_vanishes_from_the_comparison(
    suite_project: SuiteProject, tmp_path: Path
) -> None:
    """Sampled in 1.4.1; in 1.4.2 /health answers 503 (a failed check, naming it) and the
    signed-in reads are not sampled because this run signed nobody in (skipped, saying so):
    none of them silently drops out."""
    store = tmp_path / "records"
    out = tmp_path / "verdict.json"
    with running_reference(version="1.4.1") as previous:
        code, output, _ = _run(suite_project, previous.url, store, out)
    assert code == 0, output
    with running_reference(version="1.4.2") as broken:
        Faults(broken).set("health-503")
        suite_project.config(
            f'[envs.ref]\nbase_url = "{broken.url}"\nauth.rate_limit = "off"\n'
            "[envs.ref.baseline]\npace_per_s = 400\nsamples = 12\n"
        )
        result = suite_project.run(
            "--env", "ref", "test_health.py", "-k", "readiness", f"--baseline={store}",
            f"--deploycheck-json={out}", "-rfs", *FAST,
        )  # fmt: skip
    output = result.stdout.str()
    assert result.ret == 1, output
    assert "GET /api/v1/health answered 503 Service Unavailable now; 1.4.1 (" in output, output
    assert "FAILED baseline::GET /api/v1/health - " in output
    assert "FAILED baseline::errors - more 5xx answers than 1.4.1" in output
    assert (
        "GET /api/v1/auth/me not sampled: needs a signed-in user; the run signed none in" in output
    )
