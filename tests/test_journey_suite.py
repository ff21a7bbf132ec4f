"""The auth and journey suites against the reference deployment: healthy passes, every fault is caught."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import (
    Faults,
    Reference,
    SuiteProject,
    assert_no_plugin_traceback,
    running_reference,
)

SUITES = ("test_auth_flow.py", "test_journey.py")
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}")


def run_suites(project: SuiteProject, reference: Reference, *args: str) -> pytest.RunResult:
    return project.run_against(reference, *SUITES, "-rfEs", *args)


def test_healthy_deployment_passes_and_leaves_nothing_behind(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    count = "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM jobs), (SELECT COUNT(*) FROM decks)"
    before = reference.rows(count)
    result = run_suites(suite_project, reference)
    result.assert_outcomes(passed=21, skipped=1)  # the opt-in rate-limit check
    result.stdout.fnmatch_lines(["*cleanup: deleted 1 deck, 1 job, 2 users*"])
    assert reference.rows(count) == before
    assert reference.rows("SELECT COUNT(*) FROM users WHERE email LIKE 'deploycheck+%'") == [(0,)]


@pytest.mark.parametrize(
    ("fault", "outcome", "message"),
    [
        (
            "upload-500",
            "ERROR test_journey.py::test_upload_creates_a_pending_job",
            "POST http://127.0.0.1:*/api/v1/upload/ -> 500 Internal Server Error, expected 200 or 201 or 202 (uploading a PDF)*",
        ),
        (
            "job-failed",
            "ERROR test_journey.py::test_job_completes_within_the_deadline",
            "job * ended 'failed' after * s: error_message='card generation failed: LLM provider unavailable (connection refused)'; states seen: pending*",
        ),
        (
            "job-no-deck",
            "FAILED test_journey.py::test_completed_job_names_its_deck",
            "job * is 'completed' but names no deck (result_deck_id=None): there is nothing to download",
        ),
        (
            "download-404",
            "ERROR test_journey.py::test_deck_is_an_anki_package",
            "GET http://127.0.0.1:*/storage/decks/*.apkg -> 404 Not Found, expected 200 (downloading the deck from its link)*",
        ),
        (
            "deck-corrupt",
            "FAILED test_journey.py::test_deck_is_an_anki_package",
            "the downloaded deck is not an Anki package: not a zip archive: got application/x-anki starting with b'PK*",
        ),
        (
            "download-html",
            "FAILED test_journey.py::test_deck_is_an_anki_package",
            "the downloaded deck is not an Anki package: not a zip archive: got an HTML page (text/html*",
        ),
        (
            "deck-empty",
            "FAILED test_journey.py::test_deck_has_notes_with_content",
            "the deck is not usable: the deck has 0 notes, expected at least 1*",
        ),
        (
            "deck-blank-notes",
            "FAILED test_journey.py::test_deck_has_notes_with_content",
            "the deck is not usable: 6 of 6 notes have only empty fields*",
        ),
        (
            "status-500",
            "FAILED test_journey.py::test_status_endpoint_agrees_with_the_job",
            "GET http://127.0.0.1:*/api/v1/jobs/*/status -> 500 Internal Server Error, expected 200*",
        ),
        (
            "public-bucket",
            "FAILED test_journey.py::test_download_needs_its_signature",
            "GET http://127.0.0.1:*/storage/decks/*.apkg -> 200 OK, expected 4xx (the deck link without its signature (or with it tampered with) must be refused*",
        ),
        (
            "auth-bypass",
            "FAILED test_auth_flow.py::test_no_token_is_refused",
            "GET http://127.0.0.1:*/api/v1/auth/me -> 200 OK, expected 401 (a protected endpoint without a token must refuse: is auth bypassed? (auth.missing_token_statuses))*",
        ),
        (
            "wrong-password-accepted",
            "FAILED test_auth_flow.py::test_wrong_password_is_refused",
            "POST http://127.0.0.1:*/api/v1/auth/login -> 200 OK, expected 401 or 403 (a wrong password must not sign in)*",
        ),
        (
            "cross-user-read",
            "FAILED test_journey.py::test_other_user_cannot_read_the_job",
            "GET http://127.0.0.1:*/api/v1/jobs/* -> 200 OK, expected 403 or 404 (another user must not read this user's job)*",
        ),
        (
            "cross-user-read",
            "FAILED test_journey.py::test_other_user_cannot_read_the_deck",
            "GET http://127.0.0.1:*/api/v1/decks/* -> 200 OK, expected 403 or 404 (another user must not read or download this user's deck)*",
        ),
        (
            "jwt-unverified",
            "FAILED test_auth_flow.py::test_tampered_token_is_refused",
            "GET http://127.0.0.1:*/api/v1/auth/me -> 200 OK, expected 401 or 403 (a token whose signature was changed must be refused)*",
        ),
        (
            "jwt-unverified",
            "FAILED test_auth_flow.py::test_expired_looking_token_is_refused",
            "GET http://127.0.0.1:*/api/v1/auth/me -> 200 OK, expected 401 or 403 (a token that expired an hour ago must be refused)*",
        ),
        (
            "refresh-accepts-access-token",
            "FAILED test_auth_flow.py::test_access_token_is_not_a_refresh_token",
            "POST http://127.0.0.1:*/api/v1/auth/refresh -> 200 OK, expected 400 or 401 or 403 or 422 (an access token must not work as a refresh token)*",
        ),
        (
            "refresh-broken",
            "ERROR test_auth_flow.py::test_refresh_gives_a_working_token",
            "POST http://127.0.0.1:*/api/v1/auth/refresh -> 500 Internal Server Error, expected 200 (refreshing the session)*",
        ),
        (
            "deck-unimportable",
            "FAILED test_journey.py::test_deck_imports_into_anki",
            "Anki's own import: failed: NotFoundError: *No such notetype*",
        ),
        (
            "accept-any-upload",
            "FAILED test_journey.py::test_non_pdf_upload_is_rejected",
            "POST http://127.0.0.1:*/api/v1/upload/ -> 201 Created, expected 4xx (a text file must be refused as a PDF upload)*",
        ),
        (
            "deck-empty",
            "FAILED test_journey.py::test_deck_record_matches_the_job",
            "GET http://127.0.0.1:*/api/v1/decks/* -> 200 OK: the deck record says card_count=0",
        ),
    ],
)
def test_fault_is_caught_by_the_right_check(
    suite_project: SuiteProject,
    reference: Reference,
    faults: Faults,
    fault: str,
    outcome: str,
    message: str,
) -> None:
    faults.set(fault)
    result = run_suites(suite_project, reference)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([f"{outcome} - *"])
    result.stdout.fnmatch_lines([f"*{message}"])
    assert_no_plugin_traceback(result)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("", "deck: 53* bytes; archive ok; *; Anki import: ok: * notes imported"),
        ("deck-unimportable", "*Anki's own import: failed: NotFoundError: *No such notetype*"),
        ("deck-corrupt", "FAILED test_journey.py::test_deck_is_an_anki_package - *"),
    ],
)
def test_the_deck_is_checked_in_a_process_of_its_own(
    suite_project: SuiteProject, reference: Reference, faults: Faults, fault: str, expected: str
) -> None:
    """Anki's engine never loads into a run started as CI starts one (its import and its
    teardown at exit cost the run 0.25 s): a forked copy, started with the run, checks the
    deck when it arrives, with the same verdicts."""
    if fault:
        faults.set(fault)
    suite_project.pytester.makeconftest(
        """
        import sys

        def pytest_unconfigure(config):
            with open("anki-loaded.txt", "w") as out:
                out.write(str("anki" in sys.modules))
        """
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEPLOYCHECK_AUTH_RATE_LIMIT", "off")
        result = suite_project.pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--base-url", reference.url, "test_journey.py", "-rfE"
        )
    assert result.ret == (1 if fault else 0), result.stdout.str()
    result.stdout.fnmatch_lines([expected])
    assert (suite_project.pytester.path / "anki-loaded.txt").read_text() == "False"
    assert_no_plugin_traceback(result)


def test_stuck_job_fails_at_the_deadline(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    faults.set("job-stuck")
    result = run_suites(suite_project, reference, "--job-deadline", "1.5", "-k", "job_completes")
    result.stdout.fnmatch_lines(
        [
            "*job * still 'pending'* after 1.* s (deadline 1.5 s: journey.job_deadline_s or --job-deadline): "
            "no worker picked it up: is the worker (or its queue) running? States seen: pending@0.0s*"
        ]
    )
    # The stuck job is still cleaned up (cancelled, then its user deleted).
    assert reference.rows("SELECT COUNT(*) FROM users WHERE email LIKE 'deploycheck+%'") == [(0,)]


def test_token_surviving_logout_is_a_recommendation(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    faults.set("token-survives-logout")
    result = run_suites(suite_project, reference, "-k", "logout")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*deploycheck: recommendations (not failures)*",
            "*test_logout_ends_the_session: the access token still works after logout (GET *auth/me -> 200 OK)*",
        ]
    )


def test_token_surviving_logout_fails_where_the_env_requires_it(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    faults.set("token-survives-logout")
    suite_project.config(
        f'[envs.strict]\nbase_url = "{reference.url}"\nauth.logout_revokes_token = "require"\n'
    )
    result = suite_project.run("--env", "strict", "test_auth_flow.py", "-k", "logout")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*the access token still works after logout*[[]auth.logout_revokes_token = 'require'[]]*"]
    )


def test_no_token_or_password_reaches_any_output(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    faults.set("status-500", "token-survives-logout")  # failures and warnings print the most
    junit = suite_project.pytester.path / "junit.xml"
    html = suite_project.pytester.path / "report.html"
    result = run_suites(
        suite_project,
        reference,
        "-rA",
        f"--junitxml={junit}",
        f"--html={html}",
        "--self-contained-html",
    )
    for text in (result.stdout.str(), result.stderr.str(), junit.read_text(), html.read_text()):
        assert not JWT.search(text), JWT.search(text)
        assert "aA1!" not in text  # the throwaway users' generated passwords end so


SIGNED = re.compile(r"signature=(?!\[redacted\]|%5Bredacted%5D)[^&\s\"'<>]+", re.IGNORECASE)


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_signed_links_reach_no_log_at_any_level(
    suite_project: SuiteProject, reference: Reference, faults: Faults, level: str
) -> None:
    """httpx logs every request's URL at INFO, the signed download link included."""
    faults.set("deck-corrupt")  # a failing deck check: its captured logs are reported
    junit = suite_project.pytester.path / "junit.xml"
    html = suite_project.pytester.path / "report.html"
    result = run_suites(
        suite_project,
        reference,
        "-rA",
        f"--log-cli-level={level}",
        f"--log-level={level}",
        f"--junitxml={junit}",
        f"--html={html}",
        "--self-contained-html",
    )
    output = result.stdout.str() + result.stderr.str()
    assert "HTTP Request: GET" in output  # httpx's own lines are there, live
    for text in (output, junit.read_text(), html.read_text()):
        assert not SIGNED.search(text), SIGNED.search(text)
        assert not JWT.search(text), JWT.search(text)


def test_one_login_for_all_xdist_workers(pytester: pytest.Pytester) -> None:
    with running_reference() as deployment:
        from tests.conftest import SuiteProject

        project = SuiteProject(pytester)
        result = project.run_against(deployment, *SUITES, "-n", "2")
        result.assert_outcomes(passed=21, skipped=1)
        # smoke + other user sign in once each, plus the wrong-password check
        assert (
            deployment.metric("http_requests_total", method="POST", route="/api/v1/auth/login") == 3
        )
        assert (
            deployment.metric("http_requests_total", method="POST", route="/api/v1/auth/register")
            == 2
        )
        assert deployment.rows("SELECT COUNT(*) FROM users") == [(0,)]


@pytest.fixture(scope="module")
def real_service_limit() -> Iterator[Reference]:
    """The real service's auth limit, scaled down: 5 calls per 4 s window shared by register,
    login and refresh, and Retry-After rounded down."""
    with running_reference(
        auth_rate_limit=5, auth_rate_window_s=4, retry_after_rounding="down"
    ) as deployment:
        yield deployment


def test_full_run_within_a_shared_rounded_down_limit_meets_no_429(
    pytester: pytest.Pytester, real_service_limit: Reference
) -> None:
    project = SuiteProject(pytester)
    before = real_service_limit.metric("http_requests_total", status="429")
    result = project.run_against(real_service_limit, *SUITES, auth_rate_limit="5/4s")
    result.assert_outcomes(passed=21, skipped=1)
    # Paced, not refused: the run never met the limit.
    assert real_service_limit.metric("http_requests_total", status="429") == before
    result.stdout.fnmatch_lines(
        [
            "deploycheck: 7 auth calls planned within the target's limit of 5/4s: expected wait about 4 s"
        ]
    )


def test_a_429_is_retried_after_retry_after_rounded_up(
    pytester: pytest.Pytester, real_service_limit: Reference
) -> None:
    """The budget is not known (assumed unlimited): every 429 waits the window out, with a
    margin, so a rounded-down Retry-After never makes the retry arrive early."""
    project = SuiteProject(pytester)
    before = real_service_limit.metric("http_requests_total", status="429")
    result = project.run_against(real_service_limit, *SUITES, auth_rate_limit="off")
    result.assert_outcomes(passed=21, skipped=1)
    refused = real_service_limit.metric("http_requests_total", status="429") - before
    assert 1 <= refused <= 2, refused  # met once per window, never twice for one call


def test_rate_limit_beyond_the_allowed_wait_is_reported_plainly(
    pytester: pytest.Pytester,
) -> None:
    with running_reference(auth_rate_limit=5, auth_rate_window_s=60) as deployment:
        project = SuiteProject(pytester)
        project.config(f'[envs.tight]\nbase_url = "{deployment.url}"\nauth.rate_limit_wait_s = 5\n')
        result = project.run("--env", "tight", *SUITES, "-rfE", auth_rate_limit=None)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*waiting * s for the auth rate limit (5/60s) before POST /auth/* would take this run's "
            "auth waits past auth.rate_limit_wait_s=5 s*"
        ]
    )


@pytest.fixture(scope="module")
def guide_reference() -> Iterator[Reference]:
    """Deployed the guide's way: register with full_name, download by job id returning the file."""
    with running_reference(
        register_style="full_name", download_style="file", download_by="job"
    ) as deployment:
        yield deployment


def test_deployment_guide_variant_works_by_configuration(
    suite_project: SuiteProject, guide_reference: Reference
) -> None:
    suite_project.config(
        f'[envs.guide]\nbase_url = "{guide_reference.url}"\n'
        'auth.register_style = "full_name"\njourney.download_by = "job"\n'
    )
    result = suite_project.run("--env", "guide", *SUITES, "-rfE")
    result.assert_outcomes(passed=21, skipped=1)


def test_guide_variant_without_configuration_fails_clearly(
    suite_project: SuiteProject, guide_reference: Reference
) -> None:
    result = suite_project.run("--base-url", guide_reference.url, *SUITES, "-rfE")
    result.stdout.fnmatch_lines(
        [
            "*POST http://127.0.0.1:*/api/v1/auth/register -> 422 Unprocessable*registering the throwaway smoke user*"
        ]
    )


def test_production_uses_the_smoke_account_and_skips_destructive(
    suite_project: SuiteProject,
    reference: Reference,
    faults: Faults,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    email, password = "smoke-account@example.com", "account-password-123"
    httpx.post(
        reference.api_url + "/auth/register",
        json={"email": email, "username": "smokeaccount", "password": password},
    )
    monkeypatch.setenv("SMOKE_EMAIL", email)
    monkeypatch.setenv("SMOKE_PASSWORD", password)
    suite_project.config(
        f'[envs.prod]\nbase_url = "{reference.url}"\nproduction = true\n'
        'auth.mode = "account"\nauth.email = "${SMOKE_EMAIL}"\nauth.password = "${SMOKE_PASSWORD}"\n'
    )
    result = suite_project.run("--env", "prod", *SUITES, "-rs")
    result.assert_outcomes(passed=9, skipped=13)  # 12 destructive journey checks, the opt-in one
    result.stdout.fnmatch_lines(["*destructive: env 'prod' is marked production*"])
    assert password not in result.stdout.str()
    # The account is not a throwaway user: it is kept.
    assert reference.rows(f"SELECT COUNT(*) FROM users WHERE email = '{email}'") == [(1,)]


def test_user_supplied_sample_pdf(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    from pytest_deploycheck.target.sample_pdf import make_pdf

    own = suite_project.pytester.path / "lecture.pdf"
    own.write_bytes(
        make_pdf(
            [
                "Osmosis moves water across a semipermeable membrane toward higher solute concentration."
            ]
            * 3
        )
    )
    suite_project.config(
        f'[envs.own]\nbase_url = "{reference.url}"\njourney.sample_pdf = "{own}"\n'
    )
    result = suite_project.run("--env", "own", "test_journey.py", "-k", "notes_with_content")
    result.assert_outcomes(passed=1)
    suite_project.config(
        f'[envs.own]\nbase_url = "{reference.url}"\njourney.sample_pdf = "missing.pdf"\n'
    )
    result = suite_project.run("--env", "own", "test_journey.py", "-k", "notes_with_content")
    result.stdout.fnmatch_lines(["*env 'own', key 'journey.sample_pdf': no file at 'missing.pdf'*"])


def test_api_latency_budget(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    faults.set("slow=150")
    suite_project.config(
        f'[envs.fast]\nbase_url = "{reference.url}"\nlatency_ms = {{ default = 100 }}\n'
    )
    result = suite_project.run("--env", "fast", "test_auth_flow.py", "-k", "me_answers")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*GET */api/v1/auth/me -> 200 OK took * ms, over the 100 ms budget (latency_ms.default of env 'fast')*"
        ]
    )


@pytest.mark.parametrize(("fault", "outcome"), [("", "passed"), ("no-rate-limit", "failed")])
def test_opt_in_rate_limit_check(pytester: pytest.Pytester, fault: str, outcome: str) -> None:
    with running_reference(auth_rate_limit=5) as deployment:
        if fault:
            Faults(deployment).set(fault)
        project = SuiteProject(pytester)
        result = project.run_against(
            deployment, "test_auth_flow.py", "-k", "rate_limit_exists", "--check-rate-limit"
        )
    result.assert_outcomes(**{outcome: 1})
    if fault:
        result.stdout.fnmatch_lines(
            [
                "*30 failed logins in * s and no 429: /auth/login is not rate limited (brute force is possible)*"
            ]
        )


def test_misnamed_token_field_says_what_the_answer_has(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    suite_project.config(
        f'[envs.x]\nbase_url = "{reference.url}"\nauth.access_token_field = "token"\n'
    )
    result = suite_project.run("--env", "x", "test_auth_flow.py", "-k", "sign_up")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*POST */auth/login -> 200 OK: the answer has no 'token' (it has: access_token, refresh_token, "
            "token_type, expires_in, user); if this deployment names it differently, set "
            "auth.access_token_field for this env*"
        ]
    )
    assert_no_plugin_traceback(result)


def test_json_field_on_a_list_body_is_a_check_failure() -> None:
    import httpx

    from pytest_deploycheck.errors import CheckFailed
    from pytest_deploycheck.run.expect import json_field

    response = httpx.Response(
        200, json=[1, 2], request=httpx.Request("GET", "https://x.example/info")
    )
    with pytest.raises(CheckFailed, match=r"has no 'version' \(it has: a JSON list\)"):
        json_field(response, response.json(), "version", "health.version_field")


def test_login_without_refresh_token_fails_sign_in(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    suite_project.config(
        f'[envs.x]\nbase_url = "{reference.url}"\nauth.refresh_token_field = "rt"\n'
    )
    result = suite_project.run("--env", "x", "test_auth_flow.py", "-k", "sign_up")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*the login answer has no 'rt' (it has: access_token, *): sessions cannot be refreshed*"]
    )


def test_a_failing_shared_fixture_shows_the_exchanges_that_explain_it(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    faults.set("upload-500")
    result = run_suites(suite_project, reference, "-k", "upload_creates")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_upload_creates_a_pending_job*",
            "*deploycheck: HTTP exchanges*",
            "*POST http://127.0.0.1:*/api/v1/upload/ -> 500 Internal Server Error*",
        ]
    )


def test_one_upload_for_all_xdist_workers(pytester: pytest.Pytester) -> None:
    """Every worker starts the journey ahead; the first uploads, the others share its job."""
    with running_reference() as deployment:
        project = SuiteProject(pytester)
        result = project.run_against(deployment, *SUITES, "-n", "2")
        result.assert_outcomes(passed=21, skipped=1)
        result.stdout.fnmatch_lines(["*cleanup: deleted 1 deck, 1 job, 2 users*"])
        assert deployment.metric("http_requests_total", method="POST", route="/api/v1/upload/") == 2


def test_the_rate_limit_probe_logs_in_as_the_service_takes_it(pytester: pytest.Pytester) -> None:
    """The probe sends auth.login_body; a body the service refuses as invalid (422) is no
    evidence about its rate limit: a failure naming the setting, not "not rate limited"."""
    with running_reference(auth_rate_limit=5) as deployment:
        project = SuiteProject(pytester)
        project.config(
            f'[envs.ref]\nbase_url = "{deployment.url}"\nauth.rate_limit = "off"\n'
            'auth.login_body = { user = "{email}", secret = "{password}" }\n'
        )
        result = project.run(
            "--env", "ref", "test_auth_flow.py", "-k", "rate_limit_exists", "--check-rate-limit"
        )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*POST */auth/login -> 422 * to a login with a wrong password (attempt 1)*set auth.login_body*"
        ]
    )
    assert "not rate limited" not in result.stdout.str()


def test_a_download_that_redirects_to_object_storage_is_followed_without_credentials(
    suite_project: SuiteProject,
) -> None:
    """The download answers 307 to storage on another origin, which refuses a request that
    carries a credential of its own (S3: one auth mechanism): the redirect is followed, and
    neither the token nor the env's own headers cross to it."""
    from tests.conftest import running_reference

    with running_reference(download_style="redirect") as shaped:
        suite_project.config(
            f'[envs.ref]\nbase_url = "{shaped.url}"\nauth.rate_limit = "off"\n'
            'headers = { X-Api-Key = "team-key-123" }\n'
        )
        result = suite_project.run("--env", "ref", "test_journey.py", "-m", "smoke", "-rA")
    assert result.ret == 0, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(["*GET http://localhost:*/storage/decks/*.apkg?* -> 200 OK*"])
    assert "Only one auth mechanism" not in result.stdout.str()


def test_an_upload_answered_202_accepted_passes_the_journey(suite_project: SuiteProject) -> None:
    """An asynchronous API answers the upload 202 Accepted (its document declares it): the
    journey, fuzzing and the contract check all pass."""
    from tests.conftest import running_reference

    with running_reference(upload_status=202) as shaped:
        result = suite_project.run_against(
            shaped, "test_journey.py", "-m", "smoke", "--passive-checks=on", "-rA"
        )
    assert result.ret == 0, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(["*POST */api/v1/upload/ -> 202 Accepted*"])


def test_a_link_signed_in_its_path_is_followed_checked_and_never_shown(
    suite_project: SuiteProject,
) -> None:
    """``/storage/signed/{expires}/{signature}/decks/{id}.apkg``: the journey downloads it, the
    signature check tampers with the path's signature (there is no query to drop), and the
    signature appears in no output; with a public bucket the check fails."""
    from tests.conftest import CONTROL_TOKEN, running_reference

    with running_reference(download_style="path-signed") as shaped:
        suite_project.config(f'[envs.ref]\nbase_url = "{shaped.url}"\nauth.rate_limit = "off"\n')
        out = suite_project.pytester.path / "junit.xml"
        result = suite_project.run(
            "--env", "ref", "test_journey.py", "-m", "smoke", "-rA", "-vv", f"--junitxml={out}"
        )  # fmt: skip
        output = result.stdout.str()
        assert result.ret == 0, output[-3000:]
        result.stdout.fnmatch_lines(["*test_download_needs_its_signature PASSED*"])
        result.stdout.fnmatch_lines(["*GET http://*/storage/signed/*/[[]redacted[]]/decks/*"])
        # The only signature shown is the tampered one the check sent: zeros, refused.
        assert not re.search(r"/signed/\d+/(?!0{64}/)[0-9a-f]{64}/", output + out.read_text())
        assert re.search(r"/signed/\d+/0{64}/decks/\S+ -> 403 Forbidden", output)

        import httpx

        httpx.put(
            shaped.url + "/_deploycheck/faults",
            json={"faults": ["public-bucket"]},
            headers={"X-Fault-Token": CONTROL_TOKEN},
        ).raise_for_status()
        result = suite_project.run("--env", "ref", "test_journey.py", "-m", "smoke", "-rf")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["FAILED test_journey.py::test_download_needs_its_signature - GET http*"]
    )


def test_a_signed_link_in_a_teams_own_assertion_is_masked(
    suite_project: SuiteProject, reference: Reference
) -> None:
    suite_project.pytester.makepyfile(
        test_own="""
        def test_download(http):
            link = "https://bucket.s3.amazonaws.com/deck.apkg?X-Amz-Signature=f00dfeedcafe1234"
            assert http.get("/health").status_code == 500, f"could not fetch {link}"
        """
    )
    out = suite_project.pytester.path / "junit.xml"
    result = suite_project.run_against(reference, "test_own.py", f"--junitxml={out}", "-rf")
    assert result.ret == 1
    shown = result.stdout.str() + out.read_text()
    assert "f00dfeedcafe1234" not in shown
    assert "X-Amz-Signature=[redacted]" in shown


def test_integer_ids_pass_every_smoke_check(suite_project: SuiteProject) -> None:
    """A service whose ids are numbers (``"job_id": 42``, declared ``integer`` in its
    document): the journey, auth, security, fuzzing and the passive checks all pass."""
    from tests.conftest import running_reference

    with running_reference(id_style="integer") as shaped:
        result = suite_project.run_against(
            shaped, "-m", "smoke", "--passive-checks=on", "-rA", "--fuzz-seed=1",
            "test_health.py", "test_auth_flow.py", "test_journey.py", "test_security.py",
            "test_schema_fuzz.py",
        )  # fmt: skip
        jobs = shaped.rows("SELECT id FROM jobs")
    output = result.stdout.str()
    assert result.ret == 0, output[-4000:]
    assert "passive::contract PASSED" in output or "PASSED passive::contract" in output
    result.stdout.fnmatch_lines(['*"id": *[0-9], "user_id": *[0-9]*'])  # numbers in answers
    assert jobs == []  # and cleaned up by its numeric id
