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
