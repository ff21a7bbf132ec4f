"""Unreachable, hanging and TLS-broken targets: one readable message, a fast stop, no traceback."""

from __future__ import annotations

import re
import time

import pytest

from tests.conftest import Faults, Reference, SuiteProject, assert_no_plugin_traceback
from tests.servers import free_port, tcp_server


def test_unreachable_target_stops_the_run_with_one_message(suite_project: SuiteProject) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = suite_project.run("--base-url", url, "test_health.py", "-rE")
    result.assert_outcomes(errors=1)  # the first check; the run stops there
    result.stdout.fnmatch_lines(
        [
            f"*could not reach GET {url}/api/v1/health: connection refused: nothing listens there;"
            " check the port and that the service runs — stopping the run*",
            "*target unreachable: connection refused*",
        ]
    )
    assert result.ret == 6  # target unreachable: its own exit code
    assert_no_plugin_traceback(result)


def test_hanging_target_times_out_with_a_clear_message(suite_project: SuiteProject) -> None:
    with tcp_server("hang") as url:
        suite_project.config(
            f'[envs.hang]\nbase_url = "{url}"\ntimeouts = {{ connect = 1, read = 0.5 }}\n'
        )
        result = suite_project.run("--env", "hang", "test_health.py")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*could not reach GET */api/v1/health: connected, but no answer within 0.5 s (read timeout)*"
        ]
    )
    assert_no_plugin_traceback(result)


def test_trickling_answer_stops_at_the_total_deadline(suite_project: SuiteProject) -> None:
    """Headers, then a byte every 0.5 s: the read timeout never trips, timeouts.total does."""
    with tcp_server("trickle") as url:
        suite_project.config(
            f'[envs.drip]\nbase_url = "{url}"\ntimeouts = {{ read = 5, total = 2 }}\n'
        )
        started = time.monotonic()
        result = suite_project.run("--env", "drip", "test_health.py")
        took = time.monotonic() - started
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*could not reach GET */api/v1/health: the answer was too slow to arrive: * bytes of "
            "its body in 2 s (timeouts.total, the limit for a whole exchange)*"
        ]
    )
    assert "nothing listens" not in result.stdout.str()
    assert took < 20, took  # not minutes: the deadline held (start-up included)
    assert_no_plugin_traceback(result)


def test_stalled_tls_handshake_is_named(suite_project: SuiteProject) -> None:
    """TCP connects, the handshake never completes: say that, not "no TCP connection"."""
    with tcp_server("hang") as url:
        tls_url = url.replace("http://", "https://")
        suite_project.config(
            f'[envs.stall]\nbase_url = "{tls_url}"\ntimeouts = {{ connect = 1, total = 5 }}\n'
        )
        result = suite_project.run("--env", "stall", "test_health.py")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*could not reach GET https://*/api/v1/health: TCP connected, but the TLS handshake did not complete within 1*"
        ]
    )
    assert "no TCP connection" not in result.stdout.str()


def test_huge_body_is_not_read_past_the_cap(suite_project: SuiteProject) -> None:
    with tcp_server("big") as url:
        suite_project.config(f'[envs.big]\nbase_url = "{url}"\nlimits.max_body_bytes = 1000000\n')
        result = suite_project.run("--env", "big", "test_health.py", "-k", "liveness")
    result.assert_outcomes(errors=1)  # the reachability probe reads /health first
    result.stdout.fnmatch_lines(
        [
            "*GET */api/v1/health: the answer's body passed 1,000,000 bytes, so reading stopped "
            "there (limits.max_body_bytes*"
        ]
    )
    assert_no_plugin_traceback(result)


def test_tls_failure_is_named(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    # https:// to a plain-http port: the TLS handshake fails.
    tls_url = reference.url.replace("http://", "https://")
    result = suite_project.run("--base-url", tls_url, "test_health.py")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*could not reach GET https://127.0.0.1:*/api/v1/health: TLS failed:*"]
    )
    assert_no_plugin_traceback(result)


def test_unreachable_under_xdist_stops_too(suite_project: SuiteProject) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = suite_project.run("--base-url", url, "test_health.py", "-n", "2")
    assert result.ret == 6
    result.stdout.fnmatch_lines(["*connection refused*"])
    assert "passed" not in result.stdout.lines[-1]


def test_failure_during_a_test_is_kept_apart_from_check_failures(pytester: pytest.Pytester) -> None:
    """A transport error mid-run says 'could not reach', not an assertion about the answer."""
    with tcp_server("ok") as ok_url:
        pytester.makepyfile(
            f"""
            def test_other_host(http):
                http.get("http://127.0.0.1:{free_port()}/x")
            """
        )
        result = pytester.runpytest("--base-url", ok_url, "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*could not reach GET http://127.0.0.1:*/x: connection refused*"])
    assert_no_plugin_traceback(result)


def test_a_bug_in_the_plugin_is_a_failure_that_names_it(
    pytester: pytest.Pytester, reference: Reference
) -> None:
    """A check never vanishes, and a red is never blamed on the target for our bug: an
    exception raised inside the plugin fails the check naming it, where, and the version; a
    team's own check that raises keeps its own traceback."""
    from pytest_deploycheck._version import __version__

    pytester.makeconftest(
        "import pytest_deploycheck.run.expect as expect\n"
        "expect.CheckFailed = None  # a bug: expect_status() calls None\n"
    )
    pytester.makepyfile(
        test_checks="""
        from pytest_deploycheck import expect_status

        def test_uses_a_helper(http):
            expect_status(http.get("/api/v1/health"), 599)

        def test_own_bug():
            {}["missing"]
        """
    )
    # In its own process: the conftest breaks the plugin's module for that process only.
    result = pytester.runpytest_subprocess(
        "--base-url", reference.url, "-rf", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            f"*internal error in pytest-deploycheck {__version__}: test_checks.py::"
            "test_uses_a_helper (call) raised TypeError: * at pytest_deploycheck.run.expect:*; "
            "this is a bug of the plugin, not of the target: please report it*",
        ]
    )
    # test_own_bug's own failure block: from its header to the next section line.
    block = result.stdout.str().split("_ test_own_bug _", 1)[1]
    own = re.split(r"\n(?:_{3,}|={3,}) ", block, maxsplit=1)[0]
    assert "internal error" not in own and "KeyError" in own, own


def test_a_trickle_on_a_reused_connection_stops_at_the_total_deadline(
    pytester: pytest.Pytester,
) -> None:
    """A team's check that makes two requests on ``http``: the second goes over the kept-alive
    connection (no connect event to hook) and its head trickles in; it is cut at
    timeouts.total, not after read timeouts that each byte resets."""
    with tcp_server("keepalive-trickle") as url:
        (pytester.path / "deploycheck.toml").write_text(
            f'[envs.drip]\nbase_url = "{url}"\napi_prefix = ""\n'
            "timeouts = { read = 5, total = 2 }\n"
        )
        pytester.makepyfile(
            test_twice="""
            def test_twice(http):
                assert http.get("/health").status_code == 200
                http.get("/health")
            """
        )
        started = time.monotonic()
        result = pytester.runpytest("--env", "drip", "-p", "no:cacheprovider")
        took = time.monotonic() - started
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*the answer was too slow to arrive (waiting for the answer's headers) within 2 s*"]
    )
    assert took < 2 + 1 + 1.5, took  # the deadline, a second of grace, pytest's own start
