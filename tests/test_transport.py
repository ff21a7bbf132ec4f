"""Transport checks against local TLS servers whose certificates the tests make (trustme)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.conftest import SuiteProject, assert_no_plugin_traceback
from tests.tls_servers import http_listener, https_server, issue

TRANSPORT = "certificate or tls or redirects"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def configure(
    project: SuiteProject, tls_port: int, ca_file: str, http_port: int | None = None
) -> None:
    http_url = f'security.http_url = "http://127.0.0.1:{http_port}"\n' if http_port else ""
    project.config(
        f'[envs.tls]\nbase_url = "https://127.0.0.1:{tls_port}"\nca_bundle = "{ca_file}"\n'
        "timeouts = { connect = 3, read = 3 }\n" + http_url
    )


def run_transport(project: SuiteProject) -> pytest.RunResult:
    return project.run("--env", "tls", "test_security.py", "-k", TRANSPORT, "-rfs")


@pytest.fixture
def valid_server(ca: trustme.CA) -> Iterator[int]:
    with https_server(issue(ca)) as port:
        yield port


def test_valid_certificate_and_redirect_pass(
    suite_project: SuiteProject, valid_server: int, ca_file: str
) -> None:
    with http_listener(f"https://127.0.0.1:{valid_server}") as http_port:
        configure(suite_project, valid_server, ca_file, http_port)
        result = run_transport(suite_project)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes["passed"] >= 2, result.stdout.str()


def test_expired_certificate(suite_project: SuiteProject, ca: trustme.CA, ca_file: str) -> None:
    with https_server(issue(ca, expired=True)) as port:
        configure(suite_project, port, ca_file)
        result = suite_project.run("--env", "tls", "test_security.py", "-k", "certificate")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*the certificate of 127.0.0.1:* is not valid: certificate has expired*"]
    )
    assert_no_plugin_traceback(result)


def test_soon_expiring_certificate(
    suite_project: SuiteProject, ca: trustme.CA, ca_file: str
) -> None:
    with https_server(issue(ca, days=3)) as port:
        configure(suite_project, port, ca_file)
        result = suite_project.run("--env", "tls", "test_security.py", "-k", "certificate")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*the certificate of 127.0.0.1:* expires in * days (*), under the 14-day minimum (security.cert_min_days): renew it*"
        ]
    )


def test_certificate_for_another_host(
    suite_project: SuiteProject, ca: trustme.CA, ca_file: str
) -> None:
    with https_server(issue(ca, "other.example.com")) as port:
        configure(suite_project, port, ca_file)
        result = suite_project.run("--env", "tls", "test_security.py", "-k", "certificate")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*the certificate of 127.0.0.1:* is not valid: IP address mismatch*"]
    )


def test_untrusted_certificate_without_ca_bundle(
    suite_project: SuiteProject, valid_server: int
) -> None:
    suite_project.config(f'[envs.tls]\nbase_url = "https://127.0.0.1:{valid_server}"\n')
    result = suite_project.run("--env", "tls", "test_security.py", "-k", "certificate")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*is not valid: unable to get local issuer certificate*"])


def test_http_that_does_not_redirect(
    suite_project: SuiteProject, valid_server: int, ca_file: str
) -> None:
    with http_listener(None) as http_port:
        configure(suite_project, valid_server, ca_file, http_port)
        result = suite_project.run("--env", "tls", "test_security.py", "-k", "redirects")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*GET http://127.0.0.1:*/api/v1/health -> 200 OK: expected 301 or 308 to https://127.0.0.1/api/v1/health (same host and path)*"
        ]
    )


def test_http_redirecting_elsewhere(
    suite_project: SuiteProject, valid_server: int, ca_file: str
) -> None:
    with http_listener("https://phishing.example") as http_port:
        configure(suite_project, valid_server, ca_file, http_port)
        result = suite_project.run("--env", "tls", "test_security.py", "-k", "redirects")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*-> 301 Moved Permanently to 'https://phishing.example/api/v1/health': expected 301 or 308 to https://127.0.0.1/api/v1/health*"
        ]
    )


def test_legacy_tls_is_refused_or_reported(
    suite_project: SuiteProject, ca: trustme.CA, ca_file: str
) -> None:
    with https_server(issue(ca), legacy_tls=True) as port:
        configure(suite_project, port, ca_file)
        result = suite_project.run("--env", "tls", "test_security.py", "-k", "tls_12", "-rs")
    outcomes = result.parseoutcomes()
    if outcomes.get("skipped"):
        pytest.skip(
            "this OpenSSL cannot offer TLS 1.0/1.1, so the check cannot be shown to fail here"
        )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*127.0.0.1:* accepts TLSv1*: disable TLS 1.0 and 1.1 (TLS 1.2+ only)*"]
    )


def test_modern_tls_passes(suite_project: SuiteProject, valid_server: int, ca_file: str) -> None:
    configure(suite_project, valid_server, ca_file)
    result = suite_project.run("--env", "tls", "test_security.py", "-k", "tls_12", "-rs")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()


def test_an_ipv6_target_is_checked_like_any_other(
    suite_project: SuiteProject, ca: trustme.CA, ca_file: str
) -> None:
    """``https://[::1]:port``: the certificate, TLS and the plain-http redirect are judged;
    the redirect probe writes the address in brackets (it raised InvalidURL)."""
    with https_server(issue(ca, "::1"), host="::1") as tls_port:
        with http_listener(f"https://[::1]:{tls_port}", host="::1") as http_port:
            base = f'[envs.tls]\nbase_url = "https://[::1]:{tls_port}"\nca_bundle = "{ca_file}"\n'
            suite_project.config(base + f'security.http_url = "http://[::1]:{http_port}"\n')
            redirected = run_transport(suite_project)
        suite_project.config(base + "timeouts = { connect = 2, read = 2, total = 3 }\n")
        nothing_on_80 = suite_project.run("--env", "tls", "test_security.py", "-k", "redirects")
    outcomes = redirected.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes["passed"] >= 3, redirected.stdout.str()
    nothing_on_80.assert_outcomes(failed=1)
    nothing_on_80.stdout.fnmatch_lines(["*plain http at http://[[]::1[]] does not answer*"])
    assert "InvalidURL" not in nothing_on_80.stdout.str()
    assert_no_plugin_traceback(nothing_on_80)
