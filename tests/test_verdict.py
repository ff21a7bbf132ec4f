"""The verdict at a glance: terminal block, HTML banner, JUnit properties, JSON summary,
--wait-for-version, and exit codes that tell CI what happened."""

from __future__ import annotations

import json
import re
import threading
import xml.etree.ElementTree as ET

import pytest

from pytest_deploycheck._version import __version__
from tests.conftest import Faults, Reference, SuiteProject

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}")
ALL = ("test_health.py", "test_auth_flow.py", "test_journey.py", "test_security.py")


def artifacts_run(
    project: SuiteProject, reference: Reference, *args: str
) -> tuple[pytest.RunResult, dict, ET.Element, str]:
    path = project.pytester.path
    result = project.run_against(
        reference,
        *ALL,
        f"--deploycheck-json={path / 'verdict.json'}",
        f"--junitxml={path / 'junit.xml'}",
        f"--html={path / 'report.html'}",
        "--self-contained-html",
        *args,
    )
    verdict = json.loads((path / "verdict.json").read_text())
    junit = ET.parse(path / "junit.xml").getroot()
    return result, verdict, junit, (path / "report.html").read_text()


def properties(junit: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in junit.iter("property")}


def test_green_run_says_green_everywhere(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    result, verdict, junit, html = artifacts_run(suite_project, reference)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*deploycheck: verdict*",
            "GREEN: the deployment works (env adhoc at http://127.0.0.1:*; * checks passed)",
            f"target: http://127.0.0.1:*  production: no  version: {__version__}, expected {__version__}*",
            "  journey*passed*",
            "journey: upload -> pending 0.0s -> *completed *s",
            "latency (median): *",
        ]
    )
    assert verdict["verdict"] == "green" and verdict["exit_code"] == 0 and not verdict["causes"]
    assert verdict["deployed_version"] == __version__
    assert [step["status"] for step in verdict["timeline"]][-1] == "completed"
    assert any(row["endpoint"] == "POST /api/v1/upload/" for row in verdict["latency"])
    assert verdict["cleanup"] == ["cleanup: deleted 1 deck, 1 job, 2 users"]
    props = properties(junit)
    assert props["deploycheck_verdict"] == "green" and props["deploycheck_env"] == "adhoc"
    assert props["deploycheck_deployed_version"] == __version__
    assert 'id="deploycheck-verdict"' in html and "GREEN: the deployment works" in html
    assert "skipped: " in html and "('/" not in html  # skips show their reason, not a tuple
    # The verdict is the last thing the run prints: after pytest's summary and counts.
    lines = [line for line in result.stdout.lines if line.strip()]
    verdict_at = max(i for i, line in enumerate(lines) if "deploycheck: verdict" in line)
    counts_at = max(
        i for i, line in enumerate(lines) if " passed" in line and " in " in line and "=" in line
    )
    assert counts_at < verdict_at and lines[verdict_at + 1].startswith("GREEN"), lines[-20:]
    # A green must have looked: what a passing check examined, in JSON, JUnit and HTML.
    leaks = "test_security.py::test_error_answers_leak_nothing"
    assert verdict["examined"][leaks].startswith("5 error answers judged (404, 405, 401, 422")
    examined = [
        p.get("value", "")
        for p in junit.iter("property")
        if p.get("name") == "deploycheck_examined"
    ]
    assert any(value.startswith("5 error answers judged") for value in examined), examined
    assert "5 error answers judged" in html


def test_red_run_groups_failures_by_cause_and_leaks_nothing(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    # Two causes: sign-up broken (every check that needs a user), and a missing header.
    faults.set("upload-500", "no-referrer-policy")
    result, verdict, junit, html = artifacts_run(suite_project, reference)
    assert result.ret == 1
    causes = verdict["causes"]
    broken = sum(n.get("failed", 0) + n.get("error", 0) for n in verdict["counts"].values())
    assert broken >= 10 and len(causes) == 2, causes
    upload = next(c for c in causes if "upload" in c["summary"])
    assert len(upload["checks"]) >= 8, upload  # one 500 broke the whole journey: one cause
    policy = next(c for c in causes if c["summary"].startswith("security header policy"))
    assert policy["summary"] == "security header policy: referrer-policy", policy
    assert len(policy["checks"]) >= 4, policy
    result.stdout.fnmatch_lines(
        ["RED: * checks failed from * causes (env adhoc at *)", "cause 1: *", "    broke *"]
    )
    props = properties(junit)
    assert props["deploycheck_verdict"] == "red" and "deploycheck_cause_1" in props
    assert "RED: " in html and "Causes" in html
    for text in (result.stdout.str(), json.dumps(verdict), ET.tostring(junit).decode(), html):
        assert not JWT.search(text)
        assert "aA1!" not in text


def test_unreachable_has_its_own_exit_code(suite_project: SuiteProject) -> None:
    from tests.servers import free_port

    result = suite_project.run("--base-url", f"http://127.0.0.1:{free_port()}", "test_health.py")
    assert result.ret == 6
    result.stdout.fnmatch_lines(["RED: the target could not be reached (env adhoc at *)"])


def test_wait_for_version_judges_the_new_release(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    faults.set("wrong-version")  # the old release answers, then the rollout completes
    threading.Timer(3.0, faults.set).start()
    result = suite_project.run_against(reference, "test_health.py", "--wait-for-version=30")
    assert result.ret == 0, result.stdout.str()[-3000:]
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([f"deploycheck: waiting for version {__version__} (*; now *)"])


def test_a_version_that_never_appears_is_one_failure_naming_the_last_seen(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    faults.set("wrong-version")
    result = suite_project.run_against(reference, "test_health.py", "--wait-for-version=2")
    assert result.ret == 1
    outcomes = result.parseoutcomes()
    assert outcomes.get("error", 0) + outcomes.get("failed", 0) == 1, outcomes
    result.stdout.fnmatch_lines(
        [
            f"*version '{__version__}' did not appear within 2 s (--wait-for-version); "
            "the last version /info reported: *"
        ]
    )


def test_three_faults_are_three_causes_with_every_check_they_broke(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    """An upload that answers 500, a missing header and the old version: the fuzz finding and
    the contract check join the upload's cause, the passive header check the policy's."""
    faults.set("upload-500", "no-referrer-policy", "wrong-version")
    path = suite_project.pytester.path
    result = suite_project.run_against(
        reference,
        *ALL,
        "test_schema_fuzz.py",
        "-m",
        "smoke",
        "--passive-checks=on",
        "--fuzz-seed=1",
        f"--deploycheck-json={path / 'verdict.json'}",
    )
    assert result.ret == 1
    causes = json.loads((path / "verdict.json").read_text())["causes"]
    assert [c["summary"].split(" (")[0][:40] for c in causes] == [
        f"POST {reference.url}/api/v1/upload/ -> 500"[:40],
        "security header policy: referrer-policy",
        "deployed version is '0.0.9' but '0.1.0' was expected"[:40],
    ], [c["summary"] for c in causes]
    upload, headers, version = (set(c["checks"]) for c in causes)
    assert {"passive::contract", "test_schema_fuzz.py::test_schema_fuzzing_smoke_subset"} <= upload
    assert "test_journey.py::test_upload_creates_a_pending_job" in upload
    assert (
        "passive::headers" in headers
        and "test_security.py::test_security_headers[health]" in headers
    )
    assert version == {"test_health.py::test_deployed_version"}
    result.stdout.fnmatch_lines(["RED: * checks failed from 3 causes *"])


def test_a_long_cause_keeps_its_key_words() -> None:
    from pytest_deploycheck.plugin.verdict import summary_of

    message = (
        "POST https://api.example.com/api/v1/auth/register -> 500 Internal Server Error, "
        "expected 200 or 201; body: " + "x" * 400 + ' column "settings" of relation "users" '
        "does not exist"
    )
    shown = summary_of(message)
    assert len(shown) <= 300
    assert shown.startswith("POST https://api.example.com/api/v1/auth/register -> 500")
    assert shown.endswith('column "settings" of relation "users" does not exist')
