"""The watch window against the reference deployment: green when it holds, red naming the
check (when it started, the evidence) when a fault starts after the run, never green on no
data."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import Faults, Reference, SuiteProject, assert_no_plugin_traceback

# The watch's tests judge in seconds what a real window judges in hours.
FAST = ["--passive-checks=on", "-p", "no:randomly"]


def _config(reference: Reference, extra: str = "") -> str:
    return f"""
[envs.ref]
base_url = "{reference.url}"
expected_version = "{_version()}"
auth.rate_limit = "off"
{extra}
"""


def _version() -> str:
    from pytest_deploycheck._version import __version__

    return __version__


def _queries(url: str, *queries: dict[str, object]) -> str:
    """An env's ``watch.prometheus`` table with these queries (TOML)."""
    lines = ["[envs.ref.watch.prometheus]", f'url = "{url}"']
    for query in queries:
        lines.append("[[envs.ref.watch.prometheus.queries]]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in query.items())
    return "\n".join(lines) + "\n"


def _summary(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text())
    return data


def test_a_healthy_deployment_stays_green_over_twenty_rounds(
    suite_project: SuiteProject, reference: Reference, faults: Faults, tmp_path: Path
) -> None:
    suite_project.config(_config(reference, "[envs.ref.deps.metrics]\n"))
    out = tmp_path / "verdict.json"
    result = suite_project.run(
        "--env", "ref", "test_health.py", "test_auth_flow.py", "--watch", "5s",
        "--watch-every", "0.25s", "--deploycheck-json", str(out), *FAST,
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "watch: 5s every 0.25s (up to 20 rounds): * checks a round and the target's metrics*",
            "watch round 1/20 *: * passed*",
            "watch round 20/20 *: * passed*",
            "GREEN: the deployment works and held through the watch *20 rounds*",
        ]
    )
    verdict = _summary(out)
    watch = verdict["watch"]
    assert isinstance(watch, dict)
    assert watch["verdict"] == "green" and watch["rounds"] == 20 and watch["failed_rounds"] == 0
    # It looked: the health checks, the signed-in read, the passive checks and the 5xx share.
    timeline = watch["timeline"]
    assert timeline["test_health.py::test_liveness"] == "P" * 20
    assert timeline["test_auth_flow.py::test_me_answers_for_the_signed_in_user"] == "P" * 20
    assert timeline["passive::contract"] == "P" * 20
    assert timeline["watch::error_ratio"] == "S" + "P" * 19  # the first read starts the count
    # Memory is judged over 10 minutes by default: skipped, saying how long it watched.
    assert set(timeline["watch::memory"]) == {"S"}
    assert verdict["examined"]["watch::test_health.py::test_liveness"] == (
        "passed in 20 of 20 rounds"
    )
    # Not repeated, and said why: what creates data or spends the auth rate limit.
    left_out = watch["left_out"]
    assert left_out["test_auth_flow.py::test_refresh_gives_a_working_token"] == (
        "uses refreshed_token"
    )
    assert watch["auth_calls"] == 0


def test_500s_that_start_after_the_run_turn_the_watch_red_naming_the_check(
    suite_project: SuiteProject, reference: Reference, faults: Faults, tmp_path: Path
) -> None:
    suite_project.config(_config(reference))
    out = tmp_path / "verdict.json"
    faults.set("5xx-burst=0.5", "delay-faults=4")  # every other API answer, 4 s from now
    started = time.monotonic()
    result = suite_project.run(
        "--env", "ref", "test_health.py", "--watch", "60s", "--watch-every", "0.3s",
        "--deploycheck-json", str(out), "-rf", *FAST,
    )  # fmt: skip
    took = time.monotonic() - started
    output = result.stdout.str()
    assert result.ret == 1, output
    assert took < 30, "the watch stops once it is red (Argo's early abort)"
    result.stdout.fnmatch_lines(
        [
            "watch round 1/200 *: 6 passed*",
            "watch round * failed: *",
            "RED: * checks failed from * cause*",
            "cause 1: GET http://127.0.0.1:*/api/v1/* -> 500*",
            "watch (1m every 0.3s): * rounds over * s, 3 failed, 0 no data; RED: 3 rounds in a "
            "row failed, more than the 2 allowed (watch.consecutive_failure_limit)",
            "  test_health.py::test_*: failed in * of * rounds from round * (*:*:* UTC, * s in)",
            "    evidence: GET http://127.0.0.1:*/api/v1/* -> 500 Internal Server Error in * ms",
            "    replay: curl -sS -i -X GET http://127.0.0.1:*",
        ]
    )
    assert "FAILED watch::test_health.py::test_" in output
    watch = _summary(out)["watch"]
    assert isinstance(watch, dict)
    failure = next(f for f in watch["failures"] if f["check"].startswith("test_health.py"))
    assert failure["first_round"] > 1  # it started after the run, and the watch saw when
    assert failure["first_failed_after_s"] > 0
    assert "-> 500" in failure["message"]
    assert failure["evidence"].split(" ", 1)[1].startswith("GET http://127.0.0.1")
    assert failure["replay"].startswith("curl -sS -i -X GET http://127.0.0.1")
    assert "evidence (round" in output and "replay: curl" in output
    assert_no_plugin_traceback(result)


def test_resident_memory_that_grows_turns_the_watch_red(
    suite_project: SuiteProject, reference: Reference, faults: Faults, tmp_path: Path
) -> None:
    suite_project.config(
        _config(
            reference,
            "[envs.ref.deps.metrics]\n[envs.ref.watch]\nmemory_judged_after_s = 1.5\n",
        )
    )
    faults.set("memory-leak=600")  # 10 MB a second
    result = suite_project.run(
        "--env", "ref", "test_health.py", "--watch", "60s", "--watch-every", "0.3s", "-rf",
        *FAST,
    )  # fmt: skip
    output = result.stdout.str()
    assert result.ret == 1, output
    result.stdout.fnmatch_lines(
        [
            "resident memory grows 3?,??? MB an hour: * -> * MB over * s of watching "
            "(limit 50 MB/h, watch.memory_growth_limit_mb_per_hour)",
            "FAILED watch::memory - resident memory grows *",
        ]
    )
    assert "watch::test_health.py::test_liveness" not in output.split("short test summary")[1]


def test_a_restart_starts_a_new_memory_trend() -> None:
    from pytest_deploycheck.watch.target_metrics import MemoryTrend

    trend = MemoryTrend("", None)
    for second in range(5):
        trend.add(float(second), 100e6 + second * 1e6, started=1000.0)
    assert trend.growth_mb_per_hour() == pytest.approx(3600)
    trend.add(5.0, 50e6, started=1005.0)  # restarted: the drop is no trend
    trend.add(6.0, 50e6, started=1005.0)
    assert trend.restarts == 1 and len(trend.samples) == 2
    assert trend.growth_mb_per_hour() == 0


def test_nothing_to_repeat_is_inconclusive_not_green(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    suite_project.config(_config(reference))
    suite_project.pytester.makepyfile(
        test_own="""
        import pytest

        @pytest.mark.watch(False)
        def test_reads(http):
            assert http.get("/health").status_code == 200
        """
    )
    result = suite_project.run(
        "--env", "ref", "test_own.py", "--watch", "3s", "--watch-every", "1s", *FAST
    )  # fmt: skip
    assert result.ret == 7, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "watch: not started (none of the run's checks can be repeated (1 left out*",
            "INCONCLUSIVE: none of the run's checks can be repeated*",
        ]
    )


def test_a_red_run_is_not_watched(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    suite_project.config(_config(reference))
    faults.set("health-503")
    result = suite_project.run("--env", "ref", "test_health.py", "--watch", "30s", *FAST)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["watch: not started (the run is not green*"])
    assert "watch round" not in result.stdout.str()


def test_an_unreachable_target_for_too_long_is_inconclusive(
    suite_project: SuiteProject, tmp_path: Path
) -> None:
    import threading

    from pytest_deploycheck.run import embedded
    from tests.conftest import start_reference

    state = tmp_path / "state"
    state.mkdir()
    own = start_reference(state)
    suite_project.config(_config(own, "[envs.ref.watch]\nunreachable_limit = 2\n"))
    stopper = threading.Timer(2.0, embedded.stop, args=(state,))
    stopper.start()
    try:
        result = suite_project.run(
            "--env", "ref", "test_health.py", "--watch", "60s", "--watch-every", "0.3s", *FAST
        )  # fmt: skip
    finally:
        stopper.cancel()
        embedded.stop(state)
    assert result.ret == 7, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "watch round * (no data)",
            "INCONCLUSIVE: 3 rounds in a row gave no data (the target unreachable, or nothing "
            "examined), more than the 2 allowed (watch.unreachable_limit)*",
        ]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--watch", "soon"], "--watch must be a duration like 30s, 10m, 2h or 1h30m, got 'soon'"),
        (["--watch-every", "5s"], "--watch-every needs --watch DURATION"),
        (["--watch", "10s", "--watch-every", "1m"], "--watch-every 1m is longer than the window"),
        (["--watch", "10s"], "watch.every_s 30s is longer than the window (--watch 10s)"),
        (["--watch", "1h", "-n", "2"], "--watch runs its rounds in one process: drop -n"),
        (["--watch", "1h", "--watch-metrics-port", "x:y"], "--watch-metrics-port takes PORT"),
    ],
)
def test_bad_watch_options_are_one_line(
    suite_project: SuiteProject, reference: Reference, args: list[str], message: str
) -> None:
    suite_project.config(_config(reference))
    result = suite_project.run("--env", "ref", "test_health.py", *args)
    assert result.ret == 4
    assert message in result.stderr.str(), result.stderr.str()


def test_a_real_prometheus_scrapes_the_watch_and_its_queries_are_checks(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    from tests.infra_servers import prometheus_server, wait_until

    host = reference.url.removeprefix("http://")
    with prometheus_server(("reference", host)) as prometheus:
        # The reference is scraped before the watch asks about it.
        wait_until(lambda: bool(prometheus.query('up{job="reference"} == 1')), 30, "a scrape")
        scraped = 'up{job="reference"}'
        counted = 'sum(http_requests_total{job="reference"})'
        suite_project.config(
            _config(
                reference,
                _queries(
                    prometheus.url,
                    {"name": "reference scraped", "query": scraped, "condition": "== 1",
                     "fresh_within_s": 30},
                    {"name": "requests counted", "query": counted, "condition": "> 0"},
                ),
            )
        )  # fmt: skip
        result = suite_project.run(
            "--env", "ref", "test_health.py", "--watch", "6s", "--watch-every", "0.5s",
            "--watch-metrics-port", str(prometheus.scraped_port), *FAST,
        )  # fmt: skip
        assert result.ret == 0, result.stdout.str()
        result.stdout.fnmatch_lines(
            [
                f"watch: * 2 Prometheus queries; metrics at http://127.0.0.1:{prometheus.scraped_port}/metrics"
            ]
        )
        # Prometheus scraped the watch while it ran: its rounds and each check's success.
        rounds = prometheus.query("max_over_time(deploycheck_watch_rounds_total[5m])")
        assert rounds and float(rounds[0]["value"][1]) >= 3  # type: ignore[index]
        success = prometheus.query(
            'last_over_time(deploycheck_check_success{check="test_health.py::test_liveness"}[5m])'
        )
        assert success and success[0]["value"][1] == "1"  # type: ignore[index]
        assert success[0]["metric"]["env"] == "ref"  # type: ignore[index]

        # A query that returns nothing is no data, never a pass: the watch goes red naming it.
        suite_project.config(
            _config(
                reference,
                _queries(
                    prometheus.url,
                    {"name": "queue drained", "query": "deploycheck_no_such_series",
                     "condition": "< 10"},
                    {"name": "fresh", "query": scraped, "fresh_within_s": 0.001},
                ),
            )
        )  # fmt: skip
        result = suite_project.run(
            "--env", "ref", "test_health.py", "--watch", "20s", "--watch-every", "0.3s", *FAST
        )  # fmt: skip
        assert result.ret == 1, result.stdout.str()
        result.stdout.fnmatch_lines(
            [
                f"Prometheus at {prometheus.url}, query 'deploycheck_no_such_series' returned no "
                "series: no data (is the target scraped, is the series fresh?)",
                "FAILED watch::prometheus?queue drained? - *",
            ]
        )
        # A series whose newest sample is older than fresh_within_s is not fresh data.
        result.stdout.fnmatch_lines(
            [
                "*query 'up{job=\"reference\"}': its newest sample is * s old, older than "
                "fresh_within_s = 0.001: monitoring stopped receiving data*",
            ]
        )


def test_sigterm_ends_the_watch_with_the_verdict_of_what_it_saw_and_cleans_up(
    tmp_path: Path, reference: Reference, faults: Faults
) -> None:
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import SUITES
    from tests.test_cancelled_runs import counts

    for name in ("test_health.py", "test_auth_flow.py"):
        (tmp_path / name).write_text((SUITES / name).read_text())
    (tmp_path / "deploycheck.toml").write_text(_config(reference))
    before = counts(reference)
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--env", "ref", "test_health.py", "test_auth_flow.py",
         "--watch", "10m", "--watch-every", "0.3s", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=tmp_path, env={**os.environ, "PYTEST_ADDOPTS": ""}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    seen = []
    assert run.stdout is not None
    for line in run.stdout:
        seen.append(line)
        if line.startswith("watch round 4/"):
            break
    run.send_signal(signal.SIGTERM)
    rest, _ = run.communicate(timeout=60)
    output = "".join(seen) + rest
    assert run.returncode == 0, output[-3000:]
    assert "GREEN: the deployment works and held through the watch" in output
    assert "(1m every" not in output and "cancelled (Ctrl-C or SIGTERM) in round" in output
    assert "cleanup: deleted 1 user" in output, output[-3000:]
    assert counts(reference) == before


def test_tokens_are_renewed_before_they_expire_not_issued_again(
    suite_project: SuiteProject,
) -> None:
    from tests.conftest import running_reference

    with running_reference(access_token_minutes=0.1) as short_lived:  # six-second tokens
        suite_project.config(_config(short_lived))
        result = suite_project.run(
            "--env", "ref", "test_auth_flow.py", "--watch", "9s", "--watch-every", "0.5s",
            "--deploycheck-json", str(suite_project.pytester.path / "v.json"), *FAST,
        )  # fmt: skip
        logins = short_lived.rows("SELECT COUNT(*) FROM users")[0][0]
    assert result.ret == 0, result.stdout.str()
    watch = _summary(suite_project.pytester.path / "v.json")["watch"]
    assert isinstance(watch, dict)
    # The signed-in read passed in every round, long after the first token expired.
    assert watch["timeline"]["test_auth_flow.py::test_me_answers_for_the_signed_in_user"] == (
        "P" * watch["rounds"]
    )
    renewals = watch["timeline"]["watch::session[smoke]"]
    assert 2 <= renewals.count("P") <= 4 and "F" not in renewals  # every ~3 s, not every round
    assert watch["auth_calls"] == renewals.count("P")
    assert logins == 0  # the throwaway user was cleaned up


def test_the_journey_runs_again_at_its_own_interval_and_a_later_failure_is_red(
    suite_project: SuiteProject, tmp_path: Path
) -> None:
    from tests.conftest import Faults, running_reference
    from tests.test_cancelled_runs import counts

    # Each deck counts against the user's monthly quota (30 cards, 5 decks, by default).
    with running_reference(cards_limit_month=10_000) as roomy:
        faults = Faults(roomy)
        suite_project.config(_config(roomy))
        before = counts(roomy)
        out = tmp_path / "v.json"
        result = suite_project.run(
            "--env", "ref", "test_health.py", "test_journey.py", "--watch", "3s",
            "--watch-every", "0.25s", "--watch-journey-every", "0.9s",
            "--deploycheck-json", str(out), *FAST,
        )  # fmt: skip
        assert result.ret == 0, result.stdout.str()
        result.stdout.fnmatch_lines(
            ["watch: 3s every 0.25s *: 3 checks a round and the journey every 0.9s*"]
        )
        watch = _summary(out)["watch"]
        assert isinstance(watch, dict)
        assert watch["timeline"]["watch::journey"].count("P") >= 2
        assert counts(roomy) == before  # every job the watch made was deleted, and its user

        # A worker that starts failing jobs after the run: the watch's journey names it.
        faults.set("job-failed", "delay-faults=5")
        result = suite_project.run(
            "--env", "ref", "test_health.py", "test_journey.py", "--watch", "60s",
            "--watch-every", "0.25s", "--watch-journey-every", "0.5s", "-rf", *FAST,
        )  # fmt: skip
        faults.close()
        assert result.ret == 1, result.stdout.str()
        result.stdout.fnmatch_lines(
            [
                "job * ended 'failed' after * s: error_message='card generation failed: LLM "
                "provider unavailable (connection refused)'; states seen: *",
                "FAILED watch::journey - job *",
            ]
        )
        assert counts(roomy) == before


def test_each_source_gets_its_own_credentials_and_none_of_the_apis(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    """The metrics endpoint with its basic auth, Prometheus with its bearer token: each is
    sent its own, the API's own headers go to neither, and no credential is shown."""
    import base64
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[dict[str, str]] = []
    basic = "Basic " + base64.b64encode(b"scraper:m3trics-pass-77").decode()

    class Source(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            seen.append({k.lower(): v for k, v in self.headers.items()})
            if self.path.startswith("/metrics"):
                ok, body = (
                    self.headers.get("authorization") == basic,
                    (
                        b"process_resident_memory_bytes 1e8\nprocess_start_time_seconds 1\n"
                        b'http_requests_total{status="200"} 5\n'
                    ),
                )
                kind = b"text/plain; version=0.0.4"
            else:
                ok = self.headers.get("authorization") == "Bearer prom-s3cret-token-42"
                body = json.dumps(
                    {
                        "status": "success",
                        "data": {
                            "resultType": "vector",
                            "result": [{"metric": {}, "value": [1, "1"]}],
                        },
                    }  # fmt: skip
                ).encode()
                kind = b"application/json"
            self.send_response(200 if ok else 401)
            self.send_header("content-type", kind.decode())
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Source)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    source = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        suite_project.config(
            _config(
                reference,
                f"""headers = {{ X-Api-Key = "team-key-123" }}
[envs.ref.deps.metrics]
url = "{source}/metrics"
username = "scraper"
password = "m3trics-pass-77"
[envs.ref.watch.prometheus]
url = "{source}"
headers = {{ Authorization = "Bearer prom-s3cret-token-42" }}
[[envs.ref.watch.prometheus.queries]]
name = "up"
query = "up"
condition = "== 1"
""",
            )
        )
        result = suite_project.run(
            "--env", "ref", "test_health.py", "--watch", "2s", "--watch-every", "0.5s", *FAST
        )  # fmt: skip
    finally:
        server.shutdown()
    output = result.stdout.str()
    assert result.ret == 0, output
    assert seen and all("x-api-key" not in headers for headers in seen)
    assert any(h.get("authorization") == basic for h in seen)
    assert any(h.get("authorization", "").startswith("Bearer prom-") for h in seen)
    for secret in ("m3trics-pass-77", "prom-s3cret-token-42", "team-key-123"):
        assert secret not in output


def test_a_bug_of_ours_in_the_watch_is_a_failed_check_naming_it(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    suite_project.config(_config(reference))
    suite_project.pytester.makeconftest(
        """
        from pytest_deploycheck.plugin import watch

        def broken(self, session):
            raise ValueError("a bug planted by the test")

        watch.WatchLoop._repeatable = broken
        """
    )
    result = suite_project.pytester.runpytest_subprocess(
        "--env", "ref", "test_health.py", "--watch", "2s", "--watch-every", "1s",
        "-p", "no:cacheprovider", "-rf", *FAST,
    )  # fmt: skip
    assert result.ret == 1, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "internal error in pytest-deploycheck *: the watch window raised ValueError: a bug "
            "planted by the test at *; this is a bug of the plugin, not of the target*",
            "FAILED watch::window - internal error in pytest-deploycheck*",
            "watch: not started: a bug of the plugin stopped it (watch::window)",
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str()
