"""Criteria syntax, exact statistics and profiles: the load verdict's parts, without running Locust."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pytest_deploycheck.config import LoadProfileOverride, LoadStage
from pytest_deploycheck.errors import ConfigError
from pytest_deploycheck.load.criteria import DEFAULT_CRITERIA, check_scopes, parse, parse_all
from pytest_deploycheck.load.profiles import PROFILES, select
from pytest_deploycheck.load.stats import Recorder, judge


@pytest.mark.parametrize(
    ("text", "metric", "op", "limit"),
    [
        ("p95 < 2000ms", "p95", "<", 2000),
        ("p99.9<=5000", "p99.9", "<=", 5000),
        ("avg < 300ms", "avg", "<", 300),
        ("max < 10000ms", "max", "<", 10000),
        ("error_rate < 1%", "error_rate", "<", 0.01),
        ("error_rate < 0.05", "error_rate", "<", 0.05),
        ("rps > 20", "rps", ">", 20),
        ("  P90   <  150ms ", "p90", "<", 150),
    ],
)
def test_parse(text: str, metric: str, op: str, limit: float) -> None:
    criterion = parse(text)
    assert (criterion.metric, criterion.op, criterion.limit) == (metric, op, limit)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("p95 < 2s", "durations are written in milliseconds, e.g. 'p95 < 2000ms'"),
        ("p101 < 500ms", "a percentile must be between p0 and p100 (exclusive), got p101"),
        ("p100 < 500ms", "use 'max' for the slowest request"),
        ("p9.5.1 < 5", "is not a percentile like p95 or p99.9"),
        ("latency < 5ms", "unknown metric 'latency'"),
        ("eror_rate < 1%", "(did you mean 'error_rate'?)"),
        ("error_rate < 5", "an error rate is a fraction (0.01) or a percentage (1%)"),
        ("rps > 20/s", "expected METRIC OP VALUE"),
        ("rps > 20ms", "rps takes no unit"),
        ("p95 2000", "expected METRIC OP VALUE, e.g. 'p95 < 2000ms'"),
    ],
)
def test_bad_criteria_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse(text, "GET /jobs/[id]")
    assert message in str(error.value)
    assert "GET /jobs/[id]" in str(error.value)


def test_unknown_endpoint_is_an_error_before_the_run() -> None:
    criteria = parse_all({"GET /job/[id]": "p95 < 500ms"})
    with pytest.raises(
        ConfigError,
        match=r"unknown endpoint 'GET /job/\[id\]' \(did you mean 'GET /jobs/\[id\]'\?\)",
    ):
        check_scopes(criteria, ["GET /jobs/[id]", "GET /health"])
    check_scopes(parse_all({"time_to_deck": "p95 < 300000ms"}), ["JOURNEY time_to_deck"])


def test_seeds_defaults_apply_when_none_declared() -> None:
    assert [str(c) for c in parse_all({})] == ["all: p95 < 2000ms", "all: error_rate < 1%"]
    assert DEFAULT_CRITERIA == {"all": ["p95 < 2000ms", "error_rate < 1%"]}


def test_percentiles_are_exact_to_a_tenth_of_a_percent() -> None:
    rng = random.Random(7)
    samples = [rng.lognormvariate(6.5, 0.6) for _ in range(20_000)]  # ms, long-tailed
    worker_a, worker_b, master = Recorder(), Recorder(), Recorder()
    for i, sample in enumerate(samples):
        (worker_a if i % 2 else worker_b).record("GET", "/x", sample, False)
    master.merge_wire(worker_a.take_wire())
    master.merge_wire(worker_b.take_wire())
    exact = sorted(samples)[int(0.95 * len(samples)) - 1]
    measured = master.series["GET /x"].percentile_ms(95)
    assert abs(measured - exact) / exact < 0.002
    assert master.series["GET /x"].requests == 20_000


def test_judge_overall_per_endpoint_and_custom_metrics() -> None:
    recorder = Recorder()
    for _ in range(97):
        recorder.record("GET", "/health", 10, False)
    for _ in range(3):
        recorder.record("GET", "/decks/[id]/download", 900, False)
    recorder.record("JOURNEY", "time_to_deck", 120_000, False)
    verdicts = judge(
        parse_all(
            {
                "all": "p95 < 500ms",
                "GET /decks/[id]/download": "p95 < 500ms",
                "time_to_deck": "p95 < 300000ms",
            }
        ),
        recorder,
        10,
    )
    assert [v.ok for v in verdicts] == [True, False, True]
    assert verdicts[1].measured_text == "900 ms"


def test_criterion_without_samples_fails() -> None:
    (verdict,) = judge(parse_all({"GET /never": "p95 < 1ms"}), Recorder(), 1)
    assert not verdict.ok and verdict.measured_text == "no samples"


def test_profiles_and_env_overrides() -> None:
    assert set(PROFILES) == {"smoke", "baseline", "stress", "spike", "soak"}
    assert select("smoke").duration_s == 30
    scaled = select("baseline", {"baseline": LoadProfileOverride(users=40, duration_s=60)})
    assert scaled.peak_users == 40 and scaled.duration_s == 60
    staged = select(
        "spike", {"spike": LoadProfileOverride(stages=[LoadStage(duration_s=5, users=2)])}
    )
    assert staged.stages == (LoadStage(duration_s=5, users=2),)
    with pytest.raises(
        ConfigError,
        match="unknown load profile 'peak'; known: smoke, baseline, stress, spike, soak",
    ):
        select("peak")


def test_a_criterion_is_found_by_its_id_however_it_was_written() -> None:
    """The load run's result and pytest's criterion meet by id, not by their text."""
    from pytest_deploycheck.load.criteria import Measured
    from pytest_deploycheck.load.report import CriterionResult, LoadReport

    written, rewritten = parse("p95<2000"), parse("  P95 <  2000ms ")
    assert written.id == rewritten.id == "all|p95<2000"
    assert parse("error_rate < 1%").id == parse("error_rate<0.01").id
    report = LoadReport(
        profile="smoke",
        duration_s=1,
        requests=10,
        failures=0,
        verdicts=[CriterionResult.of(Measured(written, 120.0, True))],
    )
    found = report.verdict_for(rewritten.id)
    assert found is not None and found.ok and found.measured == 120.0
    assert LoadReport.from_json(report.to_json()).verdict_for(rewritten.id) == found
    assert report.verdict_for(parse("p99 < 2000ms").id) is None


def test_the_request_handed_to_locust_is_private_and_whole(tmp_path: Path) -> None:
    """The env as pytest resolved it, its ${VAR} secrets still known as secrets on the other
    side; the file only its owner can read."""
    from pytest_deploycheck.config import load_config, resolve_env
    from pytest_deploycheck.load.request import LoadRequest

    (tmp_path / "deploycheck.toml").write_text(
        '[envs.p]\nbase_url = "https://api.example.com"\nproduction = true\n'
        '[envs.p.auth]\nmode = "account"\nemail = "smoke@example.com"\npassword = "${PW}"\n'
    )
    environ = {"PW": "hunter2-long"}
    env = resolve_env(load_config(tmp_path / "deploycheck.toml", environ), "p", environ=environ)
    path = LoadRequest(env, False, "env 'p' is production", "spike").write(tmp_path / "r.json")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    back = LoadRequest.read(path)
    assert back.env == env and "hunter2-long" in back.env.secrets
    assert (back.destructive_allowed, back.destructive_why, back.profile) == (
        False,
        "env 'p' is production",
        "spike",
    )
