"""Generality: the shipped suites pass on a service with other conventions, by config alone."""

from __future__ import annotations

import pytest

from tests.conftest import SuiteProject
from tests.second_shape import CONFIG, running_second_shape

SUITES = (
    "test_health.py",
    "test_auth_flow.py",
    "test_security.py",
    "test_journey.py",
    "test_schema_fuzz.py",
)


def test_shipped_suites_pass_on_another_service_by_configuration(
    suite_project: SuiteProject,
) -> None:
    with running_second_shape() as (url, users):
        suite_project.config(CONFIG.format(url=url))
        result = suite_project.run(
            "--env",
            "cards",
            *SUITES,
            "-m",
            "smoke",
            "-rs",
            "--passive-checks=on",
            auth_rate_limit=None,
        )
        remaining = dict(users)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-4000:]
    # health 2 (no readiness), auth 9 of 10 (the rate-limit check is opt-in), security 8,
    # passive headers and leaks; skipped: the journey, what needs https, production or an
    # opt-in, and what needs the OpenAPI document it does not serve (fuzzing, the contract).
    result.assert_outcomes(passed=22, skipped=26)  # the session cookie is checked too
    result.stdout.fnmatch_lines(
        [
            "*has no readiness endpoint (health.readiness_path)*",
            "*suite 'journey' is off for env 'cards' (suites.journey = false)*",
            "*schema fuzzing: the target serves no OpenAPI document: GET */openapi.json answered 404*",
            "*passive*: contract not checked: the target serves no OpenAPI document*",
        ]
    )
    assert "api_prefix=/api" in result.stdout.str()
    assert remaining == {}, remaining  # the throwaway users were deleted


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "missing_token_statuses = [401]",
            "*expected 401 (a protected endpoint without a token must refuse*",
        ),
        ("issues_refresh_token = true", "*the login answer has no 'refresh_token'*"),
    ],
)
def test_the_conventions_are_really_checked(
    suite_project: SuiteProject, setting: str, message: str
) -> None:
    """The same service with the Anki Compendium's expectations fails, naming the setting."""
    with running_second_shape() as (url, _):
        config = CONFIG.format(url=url).replace(
            setting.split(" = ")[0] + " = " + ("[403]" if "statuses" in setting else "false"),
            setting,
        )
        suite_project.config(config)
        result = suite_project.run("--env", "cards", "test_auth_flow.py", auth_rate_limit=None)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([message])


def test_the_session_cookie_where_the_service_sets_it_is_checked(
    suite_project: SuiteProject,
) -> None:
    with running_second_shape(loose_cookie=True) as (url, _):
        suite_project.config(CONFIG.format(url=url))
        result = suite_project.run(
            "--env", "cards", "test_security.py", "-k", "cookies", auth_rate_limit=None
        )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*cookie 'session' from GET */api/session -> 200 OK lacks HttpOnly, SameSite*"]
    )


def test_an_existing_account_signs_in_with_its_username() -> None:
    """``auth.username`` fills ``{username}`` in ``auth.login_body`` for a standing account."""
    from pytest_deploycheck.config import TargetEnv
    from pytest_deploycheck.target.accounts import login_payload

    env = TargetEnv.model_validate(
        {
            "name": "t",
            "base_url": "https://api.example.com",
            "auth": {
                "mode": "account",
                "email": "smoke@example.com",
                "password": "pw-123456",
                "username": "smoke-user",
                "login_body": {"username": "{username}", "password": "{password}"},
            },
        }
    )
    assert env.auth.username == "smoke-user"
    assert login_payload(env, "smoke@example.com", "pw-123456", env.auth.username) == {
        "username": "smoke-user",
        "password": "pw-123456",
    }
