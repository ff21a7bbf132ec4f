"""Real Locust runs against the embedded reference deployment, with short bounded profiles."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_deploycheck.load.run import run_locust
from tests.conftest import Reference

LOCUSTFILE = Path(__file__).resolve().parent.parent / "locustfiles" / "anki_compendium.py"


def project(
    tmp_path: Path,
    *,
    faults: str = "",
    criteria: str = "",
    seconds: float = 6,
    users: int = 6,
    weights: str = "",
    extra: str = "",
) -> Path:
    (tmp_path / "deploycheck.toml").write_text(
        '[envs.local]\nbase_url = "embedded"\n'
        f"embedded.faults = [{faults}]\n"
        f"{weights}{extra}"
        "[envs.local.load.profiles.smoke]\n"
        f"stages = [{{ duration_s = {seconds}, users = {users}, spawn_rate = {users} }}]\n"
        + (f"[envs.local.load.criteria]\n{criteria}" if criteria else "")
    )
    return tmp_path


def locust(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    results = tmp_path / "verdict.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--only-summary",
            "--deploycheck-env",
            "local",
            "--deploycheck-results",
            str(results),
            *(args if "--load-profile" in args else ("--load-profile", "smoke", *args)),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    data = json.loads(results.read_text()) if results.exists() else {}
    return completed, data


def test_healthy_run_passes_the_seeds_criteria(tmp_path: Path) -> None:
    completed, verdict = locust(project(tmp_path))
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert [v["criterion"] for v in verdict["verdicts"]] == ["p95 < 2000ms", "error_rate < 1%"]
    assert all(v["ok"] for v in verdict["verdicts"]) and verdict["requests"] > 10
    assert "deploycheck: PASSED: 2 of 2 criteria hold" in completed.stderr
    # The table, one "deploycheck:" line per row (the pytest route forwards exactly those).
    assert re.search(
        r"deploycheck:\s+all\s+p95 < 2000ms\s+\S+ ms\s+< 2,000 ms\s+pass", completed.stderr
    )


def test_latency_fault_breaks_p95_and_the_exit_code(tmp_path: Path) -> None:
    completed, verdict = locust(
        project(tmp_path, faults='"slow=400"', criteria='all = "p95 < 300ms"\n')
    )
    assert completed.returncode == 1
    (p95,) = verdict["verdicts"]
    assert not p95["ok"] and p95["measured"] > 400
    assert "deploycheck: FAILED: 0 of 1 criteria hold" in completed.stderr


def test_5xx_burst_breaks_the_error_rate(tmp_path: Path) -> None:
    completed, verdict = locust(
        project(
            tmp_path,
            faults='"5xx-burst=0.2"',
            criteria='all = ["p95 < 2000ms", "error_rate < 1%"]\n',
        )
    )
    assert completed.returncode == 1
    p95, errors = verdict["verdicts"]
    assert p95["ok"] and not errors["ok"]
    assert 0.1 < errors["measured"] < 0.3
    # Which endpoints failed, and how.
    failing = {e["name"]: e for e in verdict["errors"]}
    assert failing, verdict
    # Whichever endpoints the burst hit, each names its failures and why.
    for name, entry in failing.items():
        assert entry["failures"] > 0 and entry["reasons"], (name, entry)
    assert any(
        "500" in reason or "503" in reason for e in failing.values() for reason in e["reasons"]
    ), failing
    assert re.search(r"deploycheck: \w+ /\S*: \d+ of \d+ failed", completed.stderr)


def test_a_small_profile_still_runs_a_creator(tmp_path: Path) -> None:
    """3 users at 10:1 weights would never upload; the creator gets a user of its own."""
    completed, verdict = locust(project(tmp_path, seconds=8, users=3))
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "POST /upload/" in verdict["endpoints"], verdict["endpoints"]


def test_weights_from_the_env_apply(tmp_path: Path) -> None:
    completed, verdict = locust(
        project(
            tmp_path,
            seconds=5,
            users=4,
            weights="load.creator_weight = 0\nload.browser_weight = 1\n",
        )
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "POST /upload/" not in verdict["endpoints"], verdict["endpoints"]


def test_failed_journeys_are_counted_but_not_timed(tmp_path: Path) -> None:
    completed, verdict = locust(
        project(
            tmp_path,
            faults='"job-failed"',
            seconds=6,
            users=3,
            criteria='time_to_deck = ["p95 < 300000ms", "error_rate < 1%"]\n',
        )
    )
    assert completed.returncode == 1
    p95, errors = verdict["verdicts"]
    # Every journey failed: there is no time to deck, so the latency criterion cannot hold.
    assert not p95["ok"] and p95["measured_text"] == "no samples", p95
    assert not errors["ok"] and errors["measured"] == 1.0
    # The failed journeys' jobs are deleted when the test stops, verified, and said.
    output = completed.stdout + completed.stderr
    assert re.search(r"deploycheck: load cleanup: deleted \d+ jobs?, 1 user", output), output[
        -2000:
    ]
    assert "left behind" not in output


def test_per_endpoint_criterion_catches_one_slow_route(tmp_path: Path) -> None:
    completed, verdict = locust(
        project(
            tmp_path,
            faults='"slow-route=600"',
            seconds=10,
            users=10,
            weights="load.creator_weight = 1\nload.browser_weight = 9\n",
            criteria='all = "p95 < 300ms"\n"GET /decks/[id]/download" = "p95 < 300ms"\n',
        )
    )
    overall, route = verdict["verdicts"]
    assert overall["ok"], overall
    assert not route["ok"] and route["measured"] >= 600, route
    assert completed.returncode == 1


def test_time_to_deck_is_a_metric_with_criteria(tmp_path: Path) -> None:
    completed, verdict = locust(
        project(
            tmp_path,
            seconds=8,
            weights="load.creator_weight = 1\nload.browser_weight = 1\n",
            criteria='time_to_deck = "p95 < 300000ms"\n',
        )
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "JOURNEY time_to_deck" in verdict["endpoints"]
    assert verdict["verdicts"][0]["ok"] and verdict["verdicts"][0]["measured"] > 0


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ('all = "p95 < 2s"\n', "durations are written in milliseconds, e.g. 'p95 < 2000ms'"),
        ('all = "p101 < 500ms"\n', "got p101"),
        (
            '"GET /job/[id]" = "p95 < 500ms"\n',
            "unknown endpoint 'GET /job/[id]' (did you mean 'GET /jobs/[id]'?)",
        ),
    ],
)
def test_bad_criteria_stop_the_run_before_it_starts(
    tmp_path: Path, criteria: str, message: str
) -> None:
    completed, _ = locust(project(tmp_path, criteria=criteria))
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr


def test_two_processes_judge_merged_statistics(tmp_path: Path) -> None:
    completed, verdict = locust(project(tmp_path, seconds=8), "--processes", "2")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert verdict["requests"] > 10 and all(v["ok"] for v in verdict["verdicts"])
    assert completed.stderr.count("deploycheck: PASSED") == 1  # judged once, on the master


def test_hopeless_breach_aborts_early(tmp_path: Path) -> None:
    completed, verdict = locust(
        project(
            tmp_path,
            faults='"slow=900"',
            seconds=90,
            criteria='all = "p95 < 300ms"\n',
            extra="load.abort_on_breach = true\n",
        ),
        "--progress-interval",
        "2",
    )
    assert completed.returncode == 1
    assert verdict["aborted"] and "over twice the limit: stopped early" in verdict["aborted"]
    # Stopped well before the profile's end (it needs 100 samples first: ~40 s at 900 ms).
    assert verdict["duration_s"] < 80


def copy_load_suite(pytester: pytest.Pytester) -> None:
    """The shipped suite, pointed at this repository's locustfile from a pytester directory."""
    source = (LOCUSTFILE.parent.parent / "suites" / "test_load.py").read_text()
    pytester.makepyfile(
        test_load=source.replace(
            'Path(__file__).resolve().parent.parent / "locustfiles" / "anki_compendium.py"',
            repr(str(LOCUSTFILE)),
        )
    )


def test_pytest_entry_turns_criteria_into_test_results(pytester: pytest.Pytester) -> None:
    project(pytester.path, criteria='all = ["p95 < 2000ms", "error_rate < 1%"]\n', seconds=5)
    copy_load_suite(pytester)
    artifacts = pytester.path / "artifacts"
    html = pytester.path / "report.html"
    result = pytester.runpytest(
        "--env",
        "local",
        "-m",
        "load",
        f"--load-artifacts={artifacts}",
        f"--html={html}",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=3)
    # One embedded deployment for the run: the Locust process was handed the URL pytest
    # started (--deploycheck-request), and started none of its own.
    output = result.stdout.str()
    assert "started the embedded reference deployment" not in output
    assert not list(artifacts.glob("*request*"))  # the env's secrets are not left with them
    url = re.search(
        r"env local at (http://127\.0\.0\.1:\d+)", output.split("deploycheck: verdict")[-1]
    )
    assert url, output[-2000:]
    result.stdout.fnmatch_lines([f"*deploycheck: env local at {url.group(1)}, profile smoke*"])
    assert (artifacts / "locust-report.html").exists() and (artifacts / "locust_stats.csv").exists()
    report = html.read_text()
    assert "Locust HTML report" in report and "locust_stats.csv" in report


def test_pytest_entry_fails_the_breached_criterion(pytester: pytest.Pytester) -> None:
    project(
        pytester.path,
        faults='"slow=400"',
        criteria='all = ["p95 < 300ms", "error_rate < 1%"]\n',
        seconds=5,
    )
    copy_load_suite(pytester)
    result = pytester.runpytest("--env", "local", "-m", "load", "-p", "no:cacheprovider", "-rf")
    result.assert_outcomes(passed=2, failed=1)
    # The verdict table reaches pytest's terminal whole: title and rows.
    result.stdout.fnmatch_lines(
        [
            "deploycheck: load verdict (smoke profile, * s)",
            "deploycheck:   scope*criterion*measured*limit*result",
            "deploycheck:   all*p95 < 300ms*ms*< 300 ms*FAIL",
            "deploycheck:   all*error_rate < 1%*pass",
        ]
    )
    result.stdout.fnmatch_lines(
        ["all: p95 < 300ms breached: measured * ms, limit < 300 ms (smoke profile, * requests)"]
    )
    result.stdout.fnmatch_lines(["FAILED test_load.py::test_load_criterion[[]all: p95 < 300ms[]]*"])


def test_runner_reports_a_run_that_left_no_verdict(tmp_path: Path) -> None:
    from pytest_deploycheck.errors import DeployCheckError

    (tmp_path / "deploycheck.toml").write_text(
        '[envs.x]\nbase_url = "http://127.0.0.1:9"\nload.criteria = { all = "p95 < 2s" }\n'
    )
    with pytest.raises(DeployCheckError, match="left no verdict"):
        run_locust(LOCUSTFILE, tmp_path / "a", env_name="x", cwd=tmp_path, timeout_s=60)


def stress_project(tmp_path: Path, faults: str = "") -> Path:
    (tmp_path / "deploycheck.toml").write_text(
        '[envs.local]\nbase_url = "embedded"\n'
        f"embedded.faults = [{faults}]\n"
        '[envs.local.load.criteria]\nall = "p95 < 300ms"\n'
        "[envs.local.load.profiles.stress]\n"
        "stages = [{ duration_s = 3, users = 2, spawn_rate = 2 }, { duration_s = 3, users = 4, spawn_rate = 4 }]\n"
    )
    return tmp_path


def test_stress_without_a_breaking_point(tmp_path: Path) -> None:
    completed, verdict = locust(stress_project(tmp_path), "--load-profile", "stress")
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert verdict["breaking_point"] == "no breaking point up to 4 users"


def test_stress_reports_the_breaking_point(tmp_path: Path) -> None:
    completed, verdict = locust(stress_project(tmp_path, '"slow=400"'), "--load-profile", "stress")
    assert completed.returncode == 1
    assert verdict["breaking_point"].startswith(
        "breaking point: 2 users (all: p95 < 300ms measured"
    )
    assert "deploycheck: breaking point: 2 users" in completed.stderr


def test_a_silent_hanging_load_run_is_stopped_at_its_timeout(tmp_path: Path) -> None:
    """The timeout must not depend on Locust printing anything."""
    from pytest_deploycheck.errors import DeployCheckError

    silent = tmp_path / "silent_locustfile.py"
    silent.write_text("import time\ntime.sleep(600)\n")  # hangs while loading, prints nothing
    started = time.monotonic()
    with pytest.raises(
        DeployCheckError, match=r"did not end within 3 s \(--load-timeout\): stopped"
    ):
        run_locust(
            silent,
            tmp_path / "a",
            env_name=None,
            host="http://127.0.0.1:9",
            cwd=tmp_path,
            timeout_s=3,
        )
    assert time.monotonic() - started < 30


def test_sign_in_failure_stops_the_run_with_a_redacted_message(tmp_path: Path) -> None:
    (tmp_path / "deploycheck.toml").write_text(
        '[envs.local]\nbase_url = "embedded"\nembedded.faults = ["upload-500"]\n'
        'auth.register_style = "full_name"\n'  # the reference expects username: register answers 422
        "[envs.local.load.profiles.smoke]\nstages = [{ duration_s = 5, users = 2, spawn_rate = 2 }]\n"
    )
    completed, verdict = locust(tmp_path)
    assert completed.returncode == 1
    assert "deploycheck: could not sign in, stopping: POST http://127.0.0.1:" in completed.stderr
    assert "-> 422 Unprocessable" in completed.stderr
    assert "aA1!" not in completed.stderr  # the generated password's tail
    assert verdict["requests"] == 0


def test_production_gets_no_creators_without_the_opt_in(
    tmp_path: Path, reference: Reference
) -> None:
    """The same production rule as pytest's, from Locust's own command line: the users that
    upload are left out on an env marked production unless --allow-destructive."""
    import httpx

    url = reference.url
    email, password = "load-prod@example.com", "a-standing-password-1"
    httpx.post(
        f"{url}/api/v1/auth/register",
        json={"email": email, "username": "loadprod", "password": password},
        timeout=10,
    )  # a standing account (registered once; a second run finds it there)
    (tmp_path / "deploycheck.toml").write_text(
        f'[envs.prod]\nbase_url = "{url}"\nproduction = true\n'
        f'auth = {{ mode = "account", email = "{email}", password = "{password}" }}\n'
        "load.creator_weight = 5\n"
        "[envs.prod.load.profiles.smoke]\n"
        "stages = [{ duration_s = 4, users = 4, spawn_rate = 4 }]\n"
    )

    def run(*extra: str) -> tuple[subprocess.CompletedProcess[str], dict]:
        results = tmp_path / "verdict.json"
        completed = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
             "--only-summary", "--deploycheck-env", "prod", "--load-profile", "smoke",
             "--deploycheck-results", str(results), *extra],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        return completed, json.loads(results.read_text()) if results.exists() else {}

    refused, verdict = run()
    output = refused.stdout + refused.stderr
    assert "left out CreatorUser (they create data): env 'prod' is marked production" in output
    assert "POST /upload/" not in verdict["endpoints"], verdict["endpoints"]
    assert verdict["requests"] > 0
    allowed, verdict = run("--allow-destructive")
    assert "left out" not in allowed.stdout + allowed.stderr
    assert "POST /upload/" in verdict["endpoints"], verdict["endpoints"]


def test_an_upload_that_answers_500_is_named_by_the_answer(tmp_path: Path) -> None:
    """The real backend's upload answered 500: the journey's failure names the answer, not a
    KeyError of the locustfile's."""
    completed, verdict = locust(project(tmp_path, faults='"upload-500"', seconds=5, users=3))
    assert completed.returncode == 1
    journey = {e["name"]: e for e in verdict["errors"]}["JOURNEY time_to_deck"]
    assert any("upload answered 500" in reason for reason in journey["reasons"]), journey
    assert "KeyError" not in completed.stdout + completed.stderr
