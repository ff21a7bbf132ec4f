"""The passive analysers: every answer of a run held to the contract, the header policy and
the leak patterns; healthy passes, each fault fails naming the operation and a replay."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from pytest_deploycheck.evidence.openapi import DocumentUnavailable, OpenApiDocument
from tests.conftest import Faults, Reference, SuiteProject, assert_no_plugin_traceback

# The smoke suites without fuzzing: the passive checks must catch these faults on their own.
SMOKE = ("test_health.py", "test_auth_flow.py", "test_journey.py", "test_security.py")
PASSIVE = "--passive-checks=on"


def run(project: SuiteProject, reference: Reference, *args: str) -> pytest.RunResult:
    return project.run_against(
        reference, *SMOKE, "-m", "smoke", "-rfEs", "--passive-checks=on", *args
    )


def test_healthy_deployment_passes_every_passive_check(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    junit = suite_project.pytester.path / "junit.xml"
    html = suite_project.pytester.path / "report.html"
    result = run(suite_project, reference, f"--junitxml={junit}", f"--html={html}", "-v")
    result.stdout.fnmatch_lines(
        ["passive::contract PASSED*", "passive::headers PASSED*", "passive::leaks PASSED*"]
    )
    assert result.ret == 0
    cases = {(c.get("classname"), c.get("name")) for c in ET.parse(junit).iter("testcase")}
    assert {("passive", "contract"), ("passive", "headers"), ("passive", "leaks")} <= cases
    assert "passive::contract" in html.read_text()


@pytest.mark.parametrize(
    ("fault", "check", "expected"),
    [
        (
            "type-drift",
            "contract",
            [
                "*GET /api/v1/jobs/{job_id} (get_job_api_v1_jobs__job_id__get) answered 200 with a "
                "body that breaks its schema at $.progress_percent: the schema wants type "
                "'integer', got '*' (a string) on * answer*",
                "*replay: curl -sS -i -X GET http://127.0.0.1:*/api/v1/jobs/* "
                '-H "Authorization: Bearer $DEPLOYCHECK_TOKEN"',
            ],
        ),
        (
            "missing-field",
            "contract",
            [
                "*GET /api/v1/auth/me (me_api_v1_auth_me_get) answered 200 with a body that breaks "
                "its schema at $: the schema requires 'created_at', which is missing*",
                "*replay: curl -sS -i -X GET http://127.0.0.1:*/api/v1/auth/me*",
            ],
        ),
        (
            "invalid-query-500",
            "contract",
            [
                "*GET /api/v1/jobs/ (list_jobs_api_v1_jobs__get) answered 500, which its OpenAPI "
                "document does not declare (it declares 200, 401, 422)*",
                "*replay: curl -sS -i -X GET 'http://127.0.0.1:*/api/v1/jobs/?page=0'*",
            ],
        ),
        (
            "status-500-bare",
            "headers",
            [
                "*X-Content-Type-Options is missing on 1 answer (expected 'nosniff')",
                "*seen on: GET /api/v1/jobs/[[]id[]]/status -> 500",
                "*replay: curl -sS -i -X GET http://127.0.0.1:*/api/v1/jobs/*/status*",
            ],
        ),
        (
            "sql-in-errors",
            "leaks",
            [
                # The cross-user reads, and the cleanup's checks that the deck and job are gone.
                "*SQL in the body of 5 answers (first: 'sqlalchemy.exc')",
                "*seen on: GET /api/v1/jobs/[[]id[]] -> 403, GET /api/v1/decks/[[]id[]] -> 403, "
                "GET /api/v1/decks/[[]id[]]/download -> 403, GET /api/v1/decks/[[]id[]] -> 404, "
                "GET /api/v1/jobs/[[]id[]] -> 404",
            ],
        ),
    ],
)
def test_fault_fails_its_passive_check(
    suite_project: SuiteProject,
    reference: Reference,
    faults: Faults,
    fault: str,
    check: str,
    expected: list[str],
) -> None:
    faults.set(fault)
    result = run(suite_project, reference)
    assert result.ret == 1
    result.stdout.fnmatch_lines([f"FAILED passive::{check} - *"])
    result.stdout.fnmatch_lines(expected)
    assert_no_plugin_traceback(result)


def test_undeclared_errors_are_a_contract_gap(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    """FastAPI declares only 2xx and 422: a recommendation by default, a failure on request."""
    document = httpx.get(reference.url + "/openapi.json").json()
    for item in document["paths"].values():
        for operation in item.values():
            operation["responses"] = {
                code: answer
                for code, answer in operation["responses"].items()
                if code.startswith("2") or code == "422"
            }
    copy = suite_project.pytester.path / "fastapi-style.json"
    copy.write_text(json.dumps(document))
    suite_project.config(
        f'[envs.ref]\nbase_url = "{reference.url}"\ncontract.openapi_file = "{copy}"\n'
    )
    result = suite_project.run("--env", "ref", *SMOKE, "-m", "smoke", "-rfEs", PASSIVE)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*contract gap: GET /api/v1/auth/me (me_api_v1_auth_me_get) answered 401, which its "
            "OpenAPI document does not declare (it declares 200)*",
        ]
    )
    suite_project.config(
        f'[envs.ref]\nbase_url = "{reference.url}"\ncontract.openapi_file = "{copy}"\n'
        'contract.undeclared_errors = "require"\n'
    )
    result = suite_project.run("--env", "ref", *SMOKE, "-m", "smoke", "-rfEs", PASSIVE)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["FAILED passive::contract - *"])


def test_a_broken_schema_in_the_document_is_a_recommendation_not_a_crash(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    document = httpx.get(reference.url + "/openapi.json").json()
    health = document["paths"]["/api/v1/health"]["get"]["responses"]["200"]
    health["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/Nowhere"}
    copy = suite_project.pytester.path / "broken.json"
    copy.write_text(json.dumps(document))
    suite_project.config(
        f'[envs.ref]\nbase_url = "{reference.url}"\ncontract.openapi_file = "{copy}"\n'
    )
    result = suite_project.run("--env", "ref", "test_health.py", "-rs", PASSIVE)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*GET /api/v1/health (health_api_v1_health_get): the OpenAPI document's schema for "
            "its 200 answer cannot be used (*), so * answer* went unchecked; fix the document*"
        ]
    )
    assert_no_plugin_traceback(result)


def test_without_a_document_the_contract_check_says_why(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    suite_project.config(
        f'[envs.ref]\nbase_url = "{reference.url}"\ncontract.openapi_path = "/no-such-doc.json"\n'
    )
    result = suite_project.run("--env", "ref", "test_health.py", "-rs", PASSIVE)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "SKIPPED [[]1[]] passive*: contract not checked: the target serves no OpenAPI document: "
            "GET http://127.0.0.1:*/no-such-doc.json answered 404; set contract.openapi_path*"
        ]
    )


def test_secrets_stay_out_of_passive_findings(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    faults.set("type-drift")
    result = run(suite_project, reference)
    output = result.stdout.str()
    assert "Bearer ey" not in output and "$DEPLOYCHECK_TOKEN" in output


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"swagger": "2.0", "paths": {}}, "is not an OpenAPI 3 document (Swagger 2.0)"),
        ({"openapi": "3.1.0"}, "is not a valid OpenAPI document: no 'paths' object"),
        (["not", "an", "object"], "is not an OpenAPI document (not a JSON object)"),
    ],
)
def test_a_document_that_is_not_openapi_3_is_one_message(data: object, message: str) -> None:
    with pytest.raises(DocumentUnavailable, match=re.escape(message)):
        OpenApiDocument(data, "GET http://x/openapi.json")


def test_openapi_30_nullable_is_understood(tmp_path: Path) -> None:
    document = OpenApiDocument(
        {
            "openapi": "3.0.3",
            "paths": {
                "/items/{id}": {
                    "get": {
                        "responses": {
                            "200": {
                                "content": {
                                    "application/json": {
                                        "schema": {
                                            "type": "object",
                                            "properties": {
                                                "name": {"type": "string", "nullable": True}
                                            },
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            },
        },
        "a test",
    )
    operation = document.find("GET", "/items/42")
    assert operation is not None and operation.declared(200) == "200"
    validator = document.validator(operation, "200", "application/json")
    assert not list(validator.iter_errors({"name": None}))
    assert list(validator.iter_errors({"name": 3}))


def test_every_xdist_workers_answers_are_examined(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    """The answers come from the workers; the controller examines them all, once."""
    faults.set("status-500-bare")
    result = run(suite_project, reference, "-n", "2")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*X-Content-Type-Options is missing on 1 answer (expected 'nosniff')",
            "*seen on: GET /api/v1/jobs/[[]id[]]/status -> 500",
        ]
    )


def test_an_analyser_switched_off_says_so() -> None:
    from datetime import datetime, timezone

    from pytest_deploycheck.config import TargetEnv
    from pytest_deploycheck.evidence import ANALYSERS, RunEvidence
    from pytest_deploycheck.evidence.review import review
    from pytest_deploycheck.run.client import Exchange

    env = TargetEnv.model_validate(
        {"name": "t", "base_url": "https://api.example.com", "passive": {"leaks": False}}
    )
    leaky = Exchange(
        method="GET",
        url="https://api.example.com/api/v1/jobs/1",
        started_at=datetime.now(timezone.utc),
        elapsed_ms=1.0,
        request_headers={},
        request_body="",
        status=500,
        response_headers={"content-type": "text/plain"},
        response_text="Traceback (most recent call last):",
    )
    results = {r.name: r for r in review([a() for a in ANALYSERS], [leaky], RunEvidence(env))}
    assert results["leaks"].skipped == "the leaks check is off for env 't' (passive.leaks)"
    assert results["contract"].skipped == "no OpenAPI document"
    assert results["headers"].outcome == "failed"


def _answer(url: str, status: int = 200, text: str = "") -> object:
    from datetime import datetime, timezone

    from pytest_deploycheck.run.client import Exchange

    return Exchange(
        method="GET",
        url=url,
        started_at=datetime.now(timezone.utc),
        elapsed_ms=1.0,
        request_headers={},
        request_body="",
        status=status,
        response_headers={"content-type": "text/plain"},
        response_text=text,
    )


def _review(base_url: str, *exchanges: object, analysers: object = None) -> dict[str, object]:
    from pytest_deploycheck.config import TargetEnv
    from pytest_deploycheck.evidence import ANALYSERS, RunEvidence
    from pytest_deploycheck.evidence.review import review

    env = TargetEnv.model_validate({"name": "t", "base_url": base_url})
    chosen = analysers or [a() for a in ANALYSERS]
    return {r.name: r for r in review(chosen, list(exchanges), RunEvidence(env))}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "base_url",
    ["https://API.example.com:443", "https://api.example.com/", "https://Api.Example.com:443/"],
)
def test_the_target_is_matched_by_its_normalised_origin(base_url: str) -> None:
    """httpx sends ``https://api.example.com/…`` whatever way the base URL was written: the
    answers are still the target's, and examined."""
    results = _review(
        base_url,
        _answer(
            "https://api.example.com/api/v1/jobs/1",
            500,
            'Traceback (most recent call last):\n  File "/srv/app/main.py"',
        ),
    )
    assert results["headers"].outcome == "failed" and results["headers"].examined == 1
    assert results["leaks"].outcome == "failed" and results["leaks"].examined == 1


def test_no_answer_from_the_target_is_a_skip_that_says_why_never_a_pass() -> None:
    results = _review(
        "https://api.example.com",
        _answer("https://storage.example.com/decks/1"),
        _answer("http://api.example.com/health"),  # plain http: another origin
    )
    for name in ("headers", "leaks"):
        assert results[name].outcome == "skipped"
        assert results[name].skipped == (
            "nothing to examine: none of the run's 2 answers came from the target "
            "https://api.example.com"
        )


def test_leaks_with_no_body_to_read_is_a_skip() -> None:
    results = _review("https://api.example.com", _answer("https://api.example.com/x", 204))
    assert results["headers"].examined == 1
    assert results["leaks"].outcome == "skipped"
    assert "none of the target's 1 answers had a body to read" in str(results["leaks"].skipped)


def test_a_bug_in_an_analyser_fails_its_check_naming_the_bug_and_the_version() -> None:
    from pytest_deploycheck._version import __version__
    from pytest_deploycheck.evidence.headers import HeadersAnalyser

    class Broken(HeadersAnalyser):
        def examine(self, exchange: object, evidence: object) -> object:  # type: ignore[override]
            raise ValueError("'redacted' does not appear to be an IPv4 or IPv6 address")

    results = _review(
        "https://api.example.com", _answer("https://api.example.com/x"), analysers=[Broken()]
    )
    result = results["headers"]
    assert result.outcome == "failed"  # type: ignore[attr-defined]
    assert result.failures[0].startswith(  # type: ignore[attr-defined]
        f"internal error in pytest-deploycheck {__version__}: the headers check raised "
        "ValueError: 'redacted' does not appear to be an IPv4 or IPv6 address"
    )


def test_a_document_that_declares_an_oauth2_token_url_keeps_every_passive_check(
    suite_project: SuiteProject,
) -> None:
    """The real service's document declares ``tokenUrl: /api/v1/auth/login``: a path, not a
    secret. All three passive checks run and examine answers; a fault is still found."""
    from tests.conftest import running_reference

    with running_reference(openapi_auth="oauth2-password") as shaped:
        document = httpx.get(shaped.url + "/openapi.json", timeout=10).json()
        schemes = document["components"]["securitySchemes"].values()
        assert any(s.get("flows", {}).get("password", {}).get("tokenUrl") for s in schemes)
        # with fuzzing, as a smoke run is: the document is read early, and with it the tokenUrl
        healthy = run(suite_project, shaped, "test_schema_fuzz.py", "-rA")
        Faults(shaped).set("status-500-bare")
        broken = run(suite_project, shaped, "test_schema_fuzz.py", "-rfEs")
    assert healthy.ret == 0, healthy.stdout.str()[-3000:]
    healthy.stdout.fnmatch_lines(
        [
            "*answers match the OpenAPI document: * answers examined, nothing wrong*",
            "*security headers on every answer: * answers examined, nothing wrong*",
            "*no answer leaks internals: * answers examined, nothing wrong*",
        ]
    )
    assert "could not run" not in healthy.stdout.str()
    assert not re.search(r"\d\[redacted\]|/\[redacted\]", healthy.stdout.str())  # no URL mangled
    assert broken.ret == 1
    broken.stdout.fnmatch_lines(["FAILED passive::headers*"])
