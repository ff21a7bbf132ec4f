"""The security suite against the reference deployment: healthy passes, each fault fails precisely."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_deploycheck.checks.security.policy import evaluate, parse_csp, parse_hsts
from pytest_deploycheck.config import SecuritySettings
from tests.conftest import (
    Faults,
    Reference,
    SuiteProject,
    assert_no_plugin_traceback,
    running_reference,
)

SUITE = "test_security.py"


def run(project: SuiteProject, reference: Reference, *args: str) -> pytest.RunResult:
    return project.run_against(reference, SUITE, "-rfEs", *args)


def test_healthy_deployment_passes(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    html = suite_project.pytester.path / "report.html"
    result = run(suite_project, reference, f"--html={html}", "--self-contained-html")
    result.assert_outcomes(passed=11, skipped=8)
    result.stdout.fnmatch_lines(
        [
            "*deploycheck: security grade*",
            "required: 8 of 8 pass; recommended: 1 of 1; accepted gaps: 0",
        ]
    )
    report = html.read_text()
    assert "deploycheck: security grade" in report and "required: 8 of 8 pass" in report


@pytest.mark.parametrize(
    ("fault", "failing", "message"),
    [
        (
            "no-nosniff",
            "test_security_headers[[]health[]]",
            "X-Content-Type-Options is missing on GET http://127.0.0.1:*/api/v1/health -> 200 OK (expected 'nosniff')",
        ),
        (
            "weak-hsts",
            "test_security_headers[[]health[]]",
            "Strict-Transport-Security is 'max-age=300' on GET *health -> 200 OK (expected max-age of at least 15552000 s)",
        ),
        (
            "no-frame-protection",
            "test_security_headers[[]401[]]",
            "no frame protection on GET *auth/me -> 401 Unauthorized: neither X-Frame-Options (DENY or SAMEORIGIN) nor CSP frame-ancestors",
        ),
        (
            "csp-unsafe-inline",
            "test_security_headers[[]upload[]]",
            "Content-Security-Policy script-src allows 'unsafe-inline' on POST *upload/ -> 201 Created*",
        ),
        (
            "server-version",
            "test_security_headers[[]404[]]",
            "Server: 'uvicorn/0.30.1 (Python/3.11.7)' on GET *deploycheck-no-such-path-* -> 404 Not Found names software and its version*",
        ),
        (
            "x-powered-by",
            "test_security_headers[[]authenticated-json[]]",
            "X-Powered-By: 'FastAPI/0.110.0' on GET *auth/me -> 200 OK tells attackers what runs there (expected absent)",
        ),
        (
            "no-security-headers",
            "test_security_headers[[]422[]]",
            "X-Content-Type-Options is missing on GET *jobs/ -> 422 Unprocessable*",
        ),
        (
            "cors-reflect-any",
            "test_cors_does_not_reflect_untrusted_origins",
            "GET *health -> 200 OK: CORS reflects the untrusted Origin 'https://deploycheck-untrusted.example' with Access-Control-Allow-Credentials: true*",
        ),
        (
            "cors-reflect-any",
            "test_cors_preflight_refuses_untrusted_origins",
            "OPTIONS *auth/me -> 200 OK: the preflight from the untrusted Origin * is allowed*",
        ),
        (
            "traceback-in-errors",
            "test_error_answers_leak_nothing",
            "error answers give away internals: 404 answer (GET * -> 404 Not Found) shows a stack frame: 'File *",
        ),
        (
            "debug-endpoint",
            "test_debug_mode_is_off",
            "debug endpoints answer 200: /debug (GET http://127.0.0.1:*/debug -> 200 OK)",
        ),
        (
            "insecure-cookie",
            "test_cookies_are_safe",
            "cookie 'session' from GET *health -> 200 OK lacks HttpOnly, SameSite*",
        ),
    ],
)
def test_fault_fails_the_right_check(
    suite_project: SuiteProject,
    reference: Reference,
    faults: Faults,
    fault: str,
    failing: str,
    message: str,
) -> None:
    faults.set(fault)
    result = run(suite_project, reference)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([f"FAILED test_security.py::{failing} - *"])
    result.stdout.fnmatch_lines([f"*{message}*"])
    assert_no_plugin_traceback(result)


def test_error_answers_without_headers_are_caught(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    """The real service's 500s bypass its header middleware: every answer a 500 here."""
    faults.set("errors-bypass-headers", "5xx-burst=1")
    result = run(suite_project, reference, "-k", "health")
    result.stdout.fnmatch_lines(
        ["*X-Content-Type-Options is missing on GET *health -> 500 Internal Server Error*"]
    )


def test_the_real_services_gaps_are_named_and_can_be_accepted(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    faults.set("no-csp", "no-referrer-policy", "xss-protection-header")
    result = run(suite_project, reference, "-k", "headers and health")
    result.stdout.fnmatch_lines(
        [
            "*Content-Security-Policy is missing on GET *health -> 200 OK (expected at least default-src or script-src*"
            "If this service deliberately sends none, accept the gap: set security.accepted.content-security-policy*"
        ]
    )
    result.stdout.fnmatch_lines(
        ["*Referrer-Policy is missing*accept the gap: set security.accepted.referrer-policy*"]
    )

    suite_project.config(
        f'[envs.api]\nbase_url = "{reference.url}"\n'
        "[envs.api.security.accepted]\n"
        'content-security-policy = "JSON API, no HTML served; SEC-142"\n'
        'referrer-policy = "no outbound links; SEC-143"\n'
    )
    result = suite_project.run("--env", "api", SUITE, "-k", "headers")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "required: 6 of 6 pass; recommended: 0 of 1; accepted gaps: 2",
            "*accepted*content-security-policy*",
        ]
    )
    # X-XSS-Protection: 1; mode=block is deprecated: a recommendation, not a failure...
    result.stdout.fnmatch_lines(
        [
            "*deploycheck: recommendations (not failures)*",
            "*X-XSS-Protection: '1; mode=block'*deprecated*",
        ]
    )


def test_strict_env_fails_recommended_items(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    faults.set("xss-protection-header")
    suite_project.config(f'[envs.strict]\nbase_url = "{reference.url}"\nsecurity.strict = true\n')
    result = suite_project.run("--env", "strict", SUITE, "-k", "headers and health")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*X-XSS-Protection: '1; mode=block' on GET *health* is deprecated*"]
    )


def test_configured_cors_origin_is_checked(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    suite_project.config(
        f'[envs.cors]\nbase_url = "{reference.url}"\n'
        'security.cors_allowed_origins = ["http://localhost:3000", "https://app.example.com"]\n'
    )
    result = suite_project.run("--env", "cors", SUITE, "-k", "configured_origins")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the allowed origin 'https://app.example.com' is not accepted*"])


@pytest.fixture(scope="module")
def production_reference() -> Iterator[Reference]:
    with running_reference(environment="production") as deployment:
        yield deployment


def test_docs_exposed_in_production_fail(
    suite_project: SuiteProject, production_reference: Reference
) -> None:
    suite_project.config(
        f'[envs.prod]\nbase_url = "{production_reference.url}"\nproduction = true\n'
    )
    result = suite_project.run("--env", "prod", SUITE, "-k", "consoles")
    result.assert_outcomes(passed=1)
    faults = Faults(production_reference)
    try:
        faults.set("docs-exposed")
        result = suite_project.run("--env", "prod", SUITE, "-k", "consoles")
    finally:
        faults.close()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*consoles served on a production env: /docs (GET http://127.0.0.1:*/docs -> 200 OK), /redoc*"
        ]
    )


def test_a_console_behind_a_redirect_is_judged_where_it_lands(
    suite_project: SuiteProject, production_reference: Reference
) -> None:
    """``/swagger-ui.html`` answers 302 to ``/docs``: the probe follows it on the target and
    judges the 200 (or 404) where it lands; no consoles to probe is a skip, never a pass."""
    base = f'[envs.prod]\nbase_url = "{production_reference.url}"\nproduction = true\n'
    suite_project.config(base + 'security.consoles = ["/swagger-ui.html"]\n')
    hidden = suite_project.run("--env", "prod", SUITE, "-k", "consoles", "-rA")
    hidden.assert_outcomes(passed=1)
    hidden.stdout.fnmatch_lines(["1 console paths probed, redirects on the target followed"])
    faults = Faults(production_reference)
    try:
        faults.set("docs-exposed")
        served = suite_project.run("--env", "prod", SUITE, "-k", "consoles")
    finally:
        faults.close()
    served.assert_outcomes(failed=1)
    served.stdout.fnmatch_lines(
        [
            "*consoles served on a production env: /swagger-ui.html -> 302 -> /docs "
            "(GET http://127.0.0.1:*/docs -> 200 OK)*"
        ]
    )
    suite_project.config(base + "security.consoles = []\n")
    nothing = suite_project.run("--env", "prod", SUITE, "-k", "consoles", "-rs")
    nothing.assert_outcomes(skipped=1)
    nothing.stdout.fnmatch_lines(["*no consoles to probe (security.consoles is empty)*"])


def test_a_debug_page_behind_a_redirect_is_found(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    suite_project.config(
        f'[envs.ref]\nbase_url = "{reference.url}"\nsecurity.debug_paths = ["/console"]\n'
    )
    clean = suite_project.run("--env", "ref", SUITE, "-k", "debug_mode")
    clean.assert_outcomes(passed=1)
    faults.set("debug-endpoint")
    found = suite_project.run("--env", "ref", SUITE, "-k", "debug_mode")
    found.assert_outcomes(failed=1)
    found.stdout.fnmatch_lines(
        [
            "*debug endpoints answer 200: /console -> 302 -> /debug (GET http://127.0.0.1:*/debug -> 200 OK)*"
        ]
    )


def test_security_adds_little_to_a_smoke_run(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    """The suite shares the session's user and job: it adds requests, not sign-ins or uploads."""
    logins = reference.metric("http_requests_total", method="POST", route="/api/v1/auth/login")
    uploads = reference.metric("http_requests_total", method="POST", route="/api/v1/upload/")
    result = suite_project.run_against(reference, "test_journey.py", SUITE)
    assert result.ret == 0
    assert (
        reference.metric("http_requests_total", method="POST", route="/api/v1/auth/login") - logins
        == 2
    )
    assert (
        reference.metric("http_requests_total", method="POST", route="/api/v1/upload/") - uploads
        == 2
    )


# The policy itself ----------------------------------------------------------------------


def test_parse_csp_and_hsts() -> None:
    assert parse_csp(
        "default-src 'self'; script-src 'self' 'nonce-abc'; frame-ancestors 'none'"
    ) == {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'nonce-abc'"],
        "frame-ancestors": ["'none'"],
    }
    assert parse_hsts("max-age=31536000; includeSubDomains; preload") == (31536000, True, True)
    assert parse_hsts('max-age="600"') == (600, False, False)
    assert parse_hsts("includeSubDomains") == (None, True, False)


@pytest.mark.parametrize(
    ("csp", "ok"),
    [
        ("default-src 'none'", True),
        ("script-src 'self' 'unsafe-inline' 'nonce-r4nd0m'", True),  # CSP2+ ignores unsafe-inline
        ("script-src 'self' 'unsafe-eval'", False),
        ("default-src *", False),
        ("script-src https:", False),
        ("img-src 'self'", False),  # no script-src nor default-src: scripts unrestricted
        # Google's recommended strict policy: CSP3 ignores https: and 'unsafe-inline' here.
        ("script-src 'nonce-abc' 'strict-dynamic' https: 'unsafe-inline'; object-src 'none'", True),
        ("script-src 'strict-dynamic' https:", False),  # no nonce or hash: https: holds
        ("script-src 'nonce-abc' 'strict-dynamic' 'unsafe-eval'", False),
        # A proxy's policy and the app's, joined with a comma by httpx: both are enforced.
        ("frame-ancestors 'none', default-src 'self'", True),
        ("default-src 'self', script-src *", True),  # the first already restricts scripts
        ("frame-ancestors 'none', img-src *", False),  # neither restricts scripts
    ],
)
def test_csp_script_sources(csp: str, ok: bool) -> None:
    findings = evaluate(
        {"content-security-policy": csp}, "GET /", https=False, settings=SecuritySettings()
    )
    assert [f.ok for f in findings if f.item == "content-security-policy"] == [ok]


def test_hsts_required_on_https_only() -> None:
    settings = SecuritySettings()
    assert not [
        f
        for f in evaluate({}, "GET /", https=False, settings=settings)
        if f.item == "strict-transport-security"
    ]
    missing = [
        f
        for f in evaluate({}, "GET /", https=True, settings=settings)
        if f.item == "strict-transport-security"
    ]
    assert missing and missing[0].fails


def test_referrer_policy_last_known_value_wins() -> None:
    findings = evaluate(
        {"referrer-policy": "unsafe-url, no-referrer"},
        "GET /",
        https=False,
        settings=SecuritySettings(),
    )
    assert [f.ok for f in findings if f.item == "referrer-policy"] == [True]


def test_5xx_answers_are_checked_where_configured(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    suite_project.config(
        f'[envs.x]\nbase_url = "{reference.url}"\nsecurity.probe_5xx_path = "/health"\n'
    )
    faults.set("5xx-burst=1")  # a 500 with the headers: passes
    result = suite_project.run("--env", "x", SUITE, "-k", "headers and 5xx")
    result.assert_outcomes(passed=1)
    faults.set("5xx-burst=1", "errors-bypass-headers")  # the real service's 500s
    result = suite_project.run("--env", "x", SUITE, "-k", "headers and 5xx")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*X-Content-Type-Options is missing on GET *health -> 500 Internal Server Error*"]
    )


def test_a_5xx_behind_sign_in_is_probed_with_the_token(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    """The real service's 500 is behind sign-in (GET /auth/me here, with every answer a
    500): ``probe_5xx_signed_in`` sends the smoke user's token, and the token is not shown."""
    suite_project.config(
        f'[envs.x]\nbase_url = "{reference.url}"\nauth.rate_limit = "off"\n'
        'security.probe_5xx_path = "/auth/me"\nsecurity.probe_5xx_signed_in = true\n'
    )
    result = suite_project.run("--env", "x", SUITE, "-k", "headers and 5xx", "-rs")
    result.assert_outcomes(skipped=1)  # signed in, /auth/me answers 200: nothing to judge
    result.stdout.fnmatch_lines(["*GET */auth/me -> 200 OK*did not answer 5xx*"])
    faults.set("missing-field", "errors-bypass-headers", "status-500-bare")
    suite_project.config(
        f'[envs.x]\nbase_url = "{reference.url}"\nauth.rate_limit = "off"\n'
        'security.probe_5xx_path = "/jobs/1/status"\nsecurity.probe_5xx_signed_in = true\n'
    )
    result = suite_project.run("--env", "x", SUITE, "-k", "headers and 5xx", "-rf")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*missing on GET */jobs/1/status -> 500 Internal Server Error*"])
    assert "Bearer ey" not in result.stdout.str()


@pytest.mark.parametrize(
    ("fault", "outcome"), [("", "passed"), ("errors-bypass-headers", "failed")]
)
def test_429_answers_are_checked_with_check_rate_limit(
    pytester: pytest.Pytester, fault: str, outcome: str
) -> None:
    with running_reference(auth_rate_limit=3) as deployment:
        if fault:
            Faults(deployment).set(fault)
        project = SuiteProject(pytester)
        result = project.run_against(
            deployment, SUITE, "-k", "headers and 429", "--check-rate-limit"
        )
    result.assert_outcomes(**{outcome: 1})
    if fault:
        result.stdout.fnmatch_lines(
            ["*X-Content-Type-Options is missing on POST *auth/login -> 429 Too Many Requests*"]
        )


def test_the_leak_probes_send_nothing_but_reads_to_production(
    suite_project: SuiteProject, production_reference: Reference
) -> None:
    suite_project.config(
        f'[envs.prod]\nbase_url = "{production_reference.url}"\nproduction = true\n'
    )

    def writes() -> float:
        return sum(
            production_reference.metric("http_requests_total", method=method)
            for method in ("POST", "DELETE", "PUT", "PATCH")
        )

    before = writes()
    result = suite_project.run("--env", "prod", SUITE, "-k", "leak_nothing", "-rA")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*error answers judged (404, 401)*; the DELETE and POST probes are not sent to a "
         "production env"]
    )  # fmt: skip
    assert writes() == before


def test_the_login_answers_cookie_is_judged_as_browsers_read_it(
    suite_project: SuiteProject,
) -> None:
    """A session cookie set at login, with ``Partitioned; Priority=High`` (which the standard
    library's parser drops or takes for a cookie): judged, passed when safe, failed when not."""
    from pytest_deploycheck import missing_protections, parse_set_cookie
    from tests.conftest import running_reference

    cookie = parse_set_cookie(
        "session=abc; Path=/; Partitioned; Priority=High; HttpOnly; SameSite=Lax"
    )
    assert cookie is not None and cookie.name == "session"
    assert missing_protections(cookie, https=True) == ["Secure"]
    with running_reference(login_cookie=True) as shaped:
        safe = suite_project.run_against(shaped, SUITE, "-k", "cookies", "-rA")
        Faults(shaped).set("insecure-login-cookie")
        unsafe = suite_project.run_against(shaped, SUITE, "-k", "cookies", "-rf")
    safe.assert_outcomes(passed=1)
    safe.stdout.fnmatch_lines(["1 cookies judged"])
    unsafe.assert_outcomes(failed=1)
    unsafe.stdout.fnmatch_lines(
        ["*cookie 'session' from the login answer (POST /auth/login) lacks HttpOnly, SameSite*"]
    )
