"""Unreachable, hanging and TLS-broken targets: one readable message, a fast stop, no traceback."""

from __future__ import annotations

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
    assert result.ret == pytest.ExitCode.TESTS_FAILED
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
    assert result.ret == pytest.ExitCode.TESTS_FAILED
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
