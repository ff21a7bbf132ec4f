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
                # The cross-user reads, and the cleanup's check that the job is gone.
                "*SQL in the body of 4 answers (first: 'sqlalchemy.exc')",
                "*seen on: GET /api/v1/jobs/[[]id[]] -> 403, GET /api/v1/decks/[[]id[]] -> 403, "
                "GET /api/v1/decks/[[]id[]]/download -> 403, GET /api/v1/jobs/[[]id[]] -> 404",
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
