"""The health suite against the reference deployment: healthy passes, each fault fails precisely."""

from __future__ import annotations

import pytest

from tests.conftest import Faults, Reference, SuiteProject, assert_no_plugin_traceback


def test_healthy_deployment_passes(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    result = suite_project.run_against(reference, "test_health.py")
    result.assert_outcomes(passed=3)


@pytest.mark.parametrize(
    ("fault", "failing", "message"),
    [
        pytest.param(
            "health-unhealthy",
            ["test_liveness", "test_readiness"],
            "says it is not healthy: status='unhealthy'",
            id="200-but-unhealthy",
        ),
        pytest.param(
            "health-503",
            ["test_liveness"],
            "/api/v1/health -> 503 Service Unavailable, expected 2xx",
            id="503",
        ),
        pytest.param(
            "not-ready",
            ["test_readiness"],
            "says it is not ready: status='not ready'",
            id="not-ready",
        ),
        pytest.param(
            "health-html",
            ["test_liveness"],
            "with a non-JSON body (text/html",
            id="html-body",
        ),
        pytest.param(
            "slow=1100",
            ["test_liveness", "test_readiness"],
            "over the 1000 ms budget (latency_ms.health of env 'adhoc')",
            id="slow",
        ),
        pytest.param(
            "wrong-version",
            ["test_deployed_version"],
            "deployed version is '0.0.9' but",
            id="wrong-version",
        ),
        pytest.param(
            "5xx-burst=1",
            ["test_liveness", "test_readiness", "test_deployed_version"],
            "500 Internal Server Error, expected 2xx",
            id="5xx-burst",
        ),
    ],
)
def test_fault_fails_the_right_check(
    suite_project: SuiteProject,
    reference: Reference,
    faults: Faults,
    fault: str,
    failing: list[str],
    message: str,
) -> None:
    faults.set(fault)
    result = suite_project.run_against(reference, "test_health.py", "-rf")
    result.assert_outcomes(failed=len(failing), passed=3 - len(failing))
    for name in failing:
        result.stdout.fnmatch_lines([f"FAILED test_health.py::{name} - *"])
    result.stdout.fnmatch_lines([f"*{message}*"])
    # The message is the whole story: no traceback through the plugin.
    assert_no_plugin_traceback(result)


def test_unhealthy_component_is_named(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    faults.set("health-unhealthy")
    result = suite_project.run_against(reference, "test_health.py", "-k", "liveness")
    result.stdout.fnmatch_lines(["*database='unhealthy: could not connect to server*"])
    result.stdout.fnmatch_lines(["*a check on the status code alone would have passed*"])


def test_failure_shows_the_exchange(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    faults.set("health-503")
    result = suite_project.run_against(reference, "test_health.py", "-k", "liveness")
    result.stdout.fnmatch_lines(
        [
            "*deploycheck: HTTP exchanges*",
            "*GET http://127.0.0.1:*/api/v1/health -> 503 Service Unavailable in * ms",
            "*user-agent*pytest-deploycheck/*",
        ]
    )


def test_version_check_skips_without_expected_version(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    result = suite_project.run("--base-url", reference.url, "test_health.py", "-rs")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(
        ["*no expected version: set expected_version in the env or pass --expect-version*"]
    )


def test_expect_version_option_overrides_env(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    suite_project.config(
        f'[envs.staging]\nbase_url = "{reference.url}"\nexpected_version = "9.9.9"\n'
    )
    result = suite_project.run("--env", "staging", "test_health.py", "-k", "version")
    result.stdout.fnmatch_lines(["*deployed version is * but '9.9.9' was expected*"])
    result = suite_project.run(
        "--env", "staging", "--expect-version", "9.9.8", "test_health.py", "-k", "version"
    )
    result.stdout.fnmatch_lines(["*but '9.9.8' was expected*"])


def test_misnamed_version_field(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    suite_project.config(
        f'[envs.x]\nbase_url = "{reference.url}"\nexpected_version = "1.0"\nhealth.version_field = "release"\n'
    )
    result = suite_project.run("--env", "x", "test_health.py", "-k", "version")
    result.stdout.fnmatch_lines(
        [
            "*the answer has no 'release' (it has: name, version, environment)*set health.version_field*"
        ]
    )
