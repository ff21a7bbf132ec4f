"""Secrets never reach output, logs or reports."""

from __future__ import annotations

import pytest

from pytest_deploycheck.run.redaction import MASK, Redactor
from tests.conftest import Reference

SECRET = "hunter2-very-secret"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.payload.signature"


def test_redactor_masks_known_values_headers_keys_and_signed_links() -> None:
    redactor = Redactor([SECRET])
    assert redactor.text(f"password was {SECRET}!") == f"password was {MASK}!"
    assert redactor.headers([("Authorization", "Bearer abc"), ("Accept", "x")]) == {
        "authorization": MASK,
        "accept": "x",
    }
    assert redactor.json_value({"access_token": "abc", "user": {"password": "p", "name": "n"}}) == {
        "access_token": MASK,
        "user": {"password": MASK, "name": "n"},
    }
    url = redactor.url("https://s3.example.com/deck.apkg?X-Amz-Signature=abc&X-Amz-Expires=60")
    assert "abc" not in url and "X-Amz-Expires=60" in url


def test_redactor_learns_tokens_from_responses() -> None:
    redactor = Redactor()
    redactor.learn_from_json({"access_token": TOKEN, "user": {"id": 1}})
    assert redactor.text(f"Bearer {TOKEN} leaked") == f"Bearer {MASK} leaked"


def test_secret_from_variable_never_reaches_terminal_or_junit(
    pytester: pytest.Pytester, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMOKE_PASSWORD", SECRET)
    monkeypatch.setenv("API_KEY", "key-" + SECRET)
    (pytester.path / "deploycheck.toml").write_text(
        f'[envs.staging]\nbase_url = "{reference.url}"\n'
        'auth.password = "${SMOKE_PASSWORD}"\nheaders = { X-Api-Key = "${API_KEY}" }\n'
    )
    pytester.makepyfile(
        """
        import os, logging
        def test_leaky(http, deploy_env):
            secret = os.environ["SMOKE_PASSWORD"]
            print("stdout has", secret)
            logging.getLogger("x").warning("log has %s", secret)
            http.get("/health", params={"q": secret}, headers={"X-Debug": secret})
            assert deploy_env.auth.password == secret
            assert False, "the message has " + secret
        """
    )
    junit = pytester.path / "junit.xml"
    html = pytester.path / "report.html"
    summary = pytester.path / "verdict.json"
    result = pytester.runpytest(
        "--env",
        "staging",
        f"--junitxml={junit}",
        f"--html={html}",
        "--self-contained-html",
        f"--deploycheck-json={summary}",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(failed=1)
    output = result.stdout.str() + result.stderr.str()
    assert SECRET not in output
    assert SECRET not in junit.read_text()
    # The failure is the verdict's cause: the HTML banner and the JSON summary show it redacted.
    assert "the message has [redacted]" in summary.read_text()
    assert SECRET not in html.read_text() and SECRET not in summary.read_text()
    assert MASK in output
    result.stdout.fnmatch_lines(["*the message has [[]redacted[]]*"])


def test_short_secrets_are_masked_where_they_stand_alone() -> None:
    redactor = Redactor(["pw1", "ab"])
    assert redactor.text("https://smoke:pw1@host/ and 'pw1'") == (
        f"https://smoke:{MASK}@host/ and '{MASK}'"
    )
    assert redactor.text("upw12 stays") == "upw12 stays"  # never inside a word
    assert redactor.text("ab cd") == "ab cd"  # two characters would mask any text
    numbers = Redactor(["120", "8443"])  # a ${VAR} timeout or port: not a credential
    assert numbers.text("waited 120 s on port 8443") == "waited 120 s on port 8443"


def test_origins_compare_as_httpx_writes_them() -> None:
    """One comparison for the passive checks' target and for where a token may go."""
    from pytest_deploycheck.run.client import same_origin

    assert same_origin("https://api.example.com/x", "https://API.example.com:443")
    assert same_origin("http://[::1]:80/x", "http://[::1]")
    assert not same_origin("http://api.example.com/x", "https://api.example.com")
    assert not same_origin("https://storage.example.com/x", "https://api.example.com")
    assert not same_origin("not a url", "https://api.example.com")


def test_a_credential_in_any_response_header_is_masked_and_learnt() -> None:
    redactor = Redactor()
    shown = redactor.headers([("access-token", "tok-1234567890"), ("x-ratelimit-remaining", "4")])
    assert shown == {"access-token": MASK, "x-ratelimit-remaining": "4"}
    assert redactor.text("later: tok-1234567890") == f"later: {MASK}"


def test_a_password_in_the_base_url_is_a_secret_everywhere(
    pytester: pytest.Pytester, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``https://smoke:${PW}@staging…``: not in the header, the JUnit target, the JSON verdict,
    the HTML report; sent as Basic auth, as curl does."""
    import json
    import xml.etree.ElementTree as ET

    password = "pw-in-the-url-42"
    monkeypatch.setenv("URL_PW", password)
    host = reference.url.removeprefix("http://")
    (pytester.path / "deploycheck.toml").write_text(
        f'[envs.staging]\nbase_url = "http://smoke:${{URL_PW}}@{host}"\n'
    )
    pytester.makepyfile(
        test_target="""
        def test_reaches(http, deploy_env):
            assert http.get("/health").status_code == 200
        """
    )
    result = pytester.runpytest(
        "--env", "staging", "--junitxml=junit.xml", "--deploycheck-json=verdict.json",
        "--html=report.html", "--self-contained-html", "-p", "no:cacheprovider",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    output = result.stdout.str()
    assert password not in output
    assert f"target=http://smoke:{MASK}@{host}" in output
    verdict = json.loads((pytester.path / "verdict.json").read_text())
    assert verdict["target"] == f"http://smoke:{MASK}@{host}"
    junit = (pytester.path / "junit.xml").read_text()
    assert password not in junit
    target = [p.get("value") for p in ET.fromstring(junit).iter("property")
              if p.get("name") == "deploycheck_target"]  # fmt: skip
    assert target == [f"http://smoke:{MASK}@{host}"]
    assert password not in (pytester.path / "report.html").read_text()


def test_a_header_name_that_is_no_token_is_a_config_error(pytester: pytest.Pytester) -> None:
    (pytester.path / "deploycheck.toml").write_text(
        '[envs.staging]\nbase_url = "https://u:hidden-pw-9@api.example.com"\n'
        'headers = { "X Api Key" = "k" }\n'
    )
    result = pytester.runpytest("--env", "staging", "-p", "no:cacheprovider")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*'X Api Key' is not a header name*"])
    assert "hidden-pw-9" not in result.stderr.str() + result.stdout.str()
