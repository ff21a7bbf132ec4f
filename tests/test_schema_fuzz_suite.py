"""The schema fuzzing suite against the reference deployment: schemathesis generates, the
run's client sends; healthy passes, each contract fault fails with a replayable request,
and a production env receives nothing but reads and its sign-in."""

from __future__ import annotations

import json
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
from tests.linked_service import running_linked_service

SUITE = "test_schema_fuzz.py"


def run(project: SuiteProject, reference: Reference, *args: str) -> pytest.RunResult:
    return project.run_against(reference, SUITE, "-rfEs", *args)


def test_healthy_deployment_passes_and_prints_its_seed(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    result = run(
        suite_project, reference, "-m", "smoke", "--fuzz-seed", "1234", "-rA", "--passive-checks=on"
    )
    result.assert_outcomes(passed=4)  # the subset, and the three passive checks
    result.stdout.fnmatch_lines(
        [
            "deploycheck: schema fuzzing seed 1234 (replay with --fuzz-seed 1234)",
            "schema fuzzing (smoke, seed 1234): * requests to 16 of 16 operations in *",
        ]
    )


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            "wrong-content-type",
            "*GET /api/v1/jobs/: Undocumented Content-Type: Received: text/plain; charset=utf-8 "
            "Documented: application/json (answered 200)",
        ),
        (
            "unprotected-route",
            "*GET /api/v1/decks/: auth enforced: the document declares it protected, but it "
            "answered 200 to a request without a token",
        ),
        ("invalid-query-500", "*GET /api/v1/*: Server error: answered 500*"),
    ],
)
def test_contract_fault_fails_the_smoke_subset(
    suite_project: SuiteProject, reference: Reference, faults: Faults, fault: str, expected: str
) -> None:
    faults.set(fault)
    # A fixed seed: two examples per operation find invalid-query-500 under most seeds, not
    # all (15 of seeds 1-16; a plain smoke run is red anyway through the security suite's
    # 422 probe and passive::contract). The other faults are hit by every request.
    result = run(suite_project, reference, "-m", "smoke", "--fuzz-seed", "14")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*schema fuzzing found * problem* (seed *; replay with --fuzz-seed *):",
            expected,
            "*replay: curl -sS -i -X GET *http://127.0.0.1:*",
        ]
    )
    assert "Bearer ey" not in result.stdout.str()
    assert_no_plugin_traceback(result)


def test_requests_in_flight_at_once_are_judged_as_if_sent_one_at_a_time(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    """fuzz.workers: the same seed finds the same problems, each cited with its own request
    (with four in flight, the client's last exchange is often another request's)."""
    faults.set("invalid-query-500")
    found: dict[int, list[str]] = {}
    for workers in (1, 4):
        suite_project.config(
            f'[envs.ref]\nbase_url = "{reference.url}"\nfuzz.workers = {workers}\n'
        )
        result = suite_project.run("--env", "ref", SUITE, "-m", "smoke", "--fuzz-seed", "14")
        assert result.ret == 1
        lines = result.stdout.lines
        found[workers] = [
            line.strip() for line in lines if "answered 500" in line or "replay: curl" in line
        ]
        # Every problem's replay is a request to the operation that failed.
        failing = [i for i, line in enumerate(lines) if "Server error: answered 500" in line]
        assert failing, result.stdout.str()
        for index in failing:
            operation = lines[index].split("- ", 1)[1].split(":", 1)[0]  # "GET /api/v1/jobs/"
            method, path = operation.split(" ")
            assert f"-X {method} '{reference.url}{path}?" in lines[index + 1], lines[index + 1]
    # One at a time, the cited exchange is the last one sent: in flight, the same one is cited.
    assert found[1] == found[4]


def run_in_own_process(project: SuiteProject, *args: str) -> pytest.RunResult:
    """A run in a process of its own, as CI starts one: one thread at its start, so the smoke
    subset is forked ahead (runs in this process, an xdist worker's, fuzz in-process)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEPLOYCHECK_AUTH_RATE_LIMIT", "off")
        return project.pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_the_smoke_subset_fuzzed_ahead_is_judged_as_if_the_check_had_fuzzed(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    """fuzz.ahead: the same seed finds the same problems, cited with the same requests, in a
    process of its own as in the check's; its requests are in the check's report."""
    faults.set("invalid-query-500")
    found: dict[bool, list[str]] = {}
    for ahead in (True, False):
        suite_project.config(
            f'[envs.ref]\nbase_url = "{reference.url}"\nfuzz.ahead = {str(ahead).lower()}\n'
        )
        result = run_in_own_process(
            suite_project, "--env", "ref", SUITE, "-m", "smoke", "--fuzz-seed", "14"
        )
        assert result.ret == 1, result.stdout.str()
        output = result.stdout.str()
        assert ("fuzzed ahead: in a process of its own" in output) is ahead, output[-3000:]
        assert "Bearer ey" not in output  # the token its process signed in with, too
        found[ahead] = [
            line.strip()
            for line in result.stdout.lines
            if "answered 500" in line or "replay: curl" in line
        ]
        assert found[ahead], output[-3000:]
        # The failing requests, recorded where they were sent, are in the check's report.
        result.stdout.fnmatch_lines(
            ["*deploycheck: HTTP exchanges*", "* GET http://127.0.0.1:*/api/v1/*-> 500 *"]
        )
        assert_no_plugin_traceback(result)
    assert found[True] == found[False]


def test_a_fuzz_process_that_dies_fails_the_check_naming_it(
    suite_project: SuiteProject, reference: Reference
) -> None:
    """Ended by the kernel or a bug before it answered: no pass, no vanished check."""
    suite_project.config(f'[envs.ref]\nbase_url = "{reference.url}"\n')
    suite_project.pytester.makeconftest(
        """
        import os

        from pytest_deploycheck.fuzz import runner

        RUN = os.getpid()

        def run(self):
            assert os.getpid() != RUN, "fuzzed in the run's own process, not ahead"
            os._exit(3)  # the fuzzing process ends mid-run

        runner.FuzzRun.run = run
        """
    )
    result = run_in_own_process(suite_project, "--env", "ref", SUITE, "-m", "smoke", "-rf")
    assert result.ret == 1, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*internal error in pytest-deploycheck *: test_schema_fuzz.py::"
            "test_schema_fuzzing_smoke_subset (call) raised RuntimeError: the forked process "
            "(pid *) ended (exit code 3) before it answered at pytest_deploycheck.run.forked:*"
        ]
    )


def test_a_bug_of_ours_starting_the_fuzzing_ahead_fails_the_check_not_the_run(
    suite_project: SuiteProject, reference: Reference
) -> None:
    """Raised as the run starts (before any check): the check that would have collected the
    run fails naming the bug; the run is not an INTERNALERROR, and nothing else vanishes."""
    suite_project.config(f'[envs.ref]\nbase_url = "{reference.url}"\n')
    suite_project.pytester.makeconftest(
        """
        from pytest_deploycheck.plugin import fuzz_ahead

        fuzz_ahead.why_not_fork = None  # a bug planted by the test
        """
    )
    result = run_in_own_process(suite_project, "--env", "ref", SUITE, "-m", "smoke", "-rf")
    assert result.ret == 1, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*internal error in pytest-deploycheck *: test_schema_fuzz.py::"
            "test_schema_fuzzing_smoke_subset (call) raised TypeError: 'NoneType' object is not "
            "callable at pytest_deploycheck.plugin.fuzz_ahead:*"
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str()


def test_warnings_raised_while_fuzzing_ahead_are_the_checks(
    suite_project: SuiteProject, reference: Reference
) -> None:
    """A library's warning in the fuzzing process is in pytest's warnings summary, under the
    check, as when the check fuzzed, and nowhere else on the terminal."""
    suite_project.config(f'[envs.ref]\nbase_url = "{reference.url}"\n')
    suite_project.pytester.makeconftest(
        """
        import warnings

        from pytest_deploycheck.fuzz import runner

        fuzz = runner.FuzzRun.run

        def run(self):
            warnings.warn("a library's warning, planted by the test", DeprecationWarning)
            return fuzz(self)

        runner.FuzzRun.run = run
        """
    )
    result = run_in_own_process(suite_project, "--env", "ref", SUITE, "-m", "smoke", "-rA")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*fuzzed ahead: in a process of its own*"])
    result.stdout.fnmatch_lines(
        [
            "*= warnings summary =*",
            "test_schema_fuzz.py::test_schema_fuzzing_smoke_subset",
            "*conftest.py:*: UserWarning: DeprecationWarning: a library's warning, planted by the "
            "test",
        ]
    )
    assert result.stdout.str().count("Warning: a library's warning, planted") == 1
    assert "planted by the test" not in result.stderr.str()


@pytest.mark.parametrize("workers", [1, 4])
def test_a_bug_of_ours_while_sending_fails_the_check_naming_it(
    suite_project: SuiteProject, reference: Reference, workers: int
) -> None:
    """Our own code raising on the way (not the target, not schemathesis) is no recommendation
    and no pass: the fuzzing stops and the check fails as the plugin's bug, from a worker
    thread too."""
    suite_project.config(f'[envs.ref]\nbase_url = "{reference.url}"\nfuzz.workers = {workers}\n')
    suite_project.pytester.makeconftest(
        """
        from pytest_deploycheck.fuzz import runner

        runner.EXCHANGE = "a bug planted by the test"  # the runner reads an answer's record
        """
    )
    result = suite_project.pytester.runpytest_subprocess(
        "--env", "ref", SUITE, "-m", "smoke", "-p", "no:cacheprovider", "-rf", "--fuzz-seed=3"
    )
    assert result.ret == 1, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*internal error in pytest-deploycheck *: test_schema_fuzz.py::"
            "test_schema_fuzzing_smoke_subset (call) raised KeyError: 'a bug planted by the test' "
            "at pytest_deploycheck.fuzz.runner:*; this is a bug of the plugin, not of the target*"
        ]
    )
    assert "could not be sent" not in result.stdout.str()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "/no-such-document.json",
            "*schema fuzzing needs the OpenAPI document: the target serves no OpenAPI document: "
            "GET http://127.0.0.1:*/no-such-document.json answered 404*",
        ),
        (
            "/api/v1/health",
            "*schema fuzzing needs the OpenAPI document: GET http://*/api/v1/health is not an "
            "OpenAPI 3 document (no 'openapi' field)*",
        ),
        (
            "/metrics",
            "*schema fuzzing needs the OpenAPI document: GET http://*/metrics did not answer JSON "
            "(text/plain*",
        ),
    ],
)
def test_a_missing_or_wrong_document_is_one_message(
    suite_project: SuiteProject, reference: Reference, faults: Faults, path: str, message: str
) -> None:
    suite_project.config(
        f'[envs.ref]\nbase_url = "{reference.url}"\ncontract.openapi_path = "{path}"\n'
    )
    result = suite_project.run("--env", "ref", SUITE, "-m", "smoke", "-rfEs")
    assert result.ret == 1
    result.stdout.fnmatch_lines([message])
    assert_no_plugin_traceback(result)


def test_operations_are_chosen_with_schemathesis_filters(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    """An excluded operation is not sent: its fault goes unseen; the others still are."""
    faults.set("unprotected-route", "wrong-content-type")
    suite_project.config(
        f'[envs.ref]\nbase_url = "{reference.url}"\n'
        'fuzz.exclude = { paths = ["^/api/v1/decks/$"], tags = ["jobs"] }\n'
    )
    result = suite_project.run("--env", "ref", SUITE, "-m", "smoke", "-rA", "--fuzz-seed=882779464")
    assert result.ret == 0, result.stdout.str()
    suite_project.config(
        f'[envs.ref]\nbase_url = "{reference.url}"\nfuzz.include = {{ tags = ["decks"] }}\n'
    )
    result = suite_project.run("--env", "ref", SUITE, "-m", "smoke", "-rfE")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*GET /api/v1/decks/: auth enforced*"])
    assert "GET /api/v1/jobs/" not in result.stdout.str()


def test_an_operation_schemathesis_cannot_serialise_is_a_recommendation(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    """Not a finding about the target, and not a crash: what could not be fuzzed, said once."""
    document = httpx.get(reference.url + "/openapi.json").json()
    upload = document["paths"]["/api/v1/upload/"]["post"]["requestBody"]["content"]
    upload["application/x-lecture"] = upload.pop("multipart/form-data")
    copy = suite_project.pytester.path / "custom-media.json"
    copy.write_text(json.dumps(document))
    suite_project.config(
        f'[envs.ref]\nbase_url = "{reference.url}"\ncontract.openapi_file = "{copy}"\n'
    )
    result = suite_project.run("--env", "ref", SUITE, "-m", "smoke", "-rA")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*POST /api/v1/upload/: schemathesis could not generate examples "
            "(SerializationNotPossible: No supported serializers for media types: "
            "application/x-lecture)*"
        ]
    )
    assert_no_plugin_traceback(result)


def test_no_document_skips_with_a_reason(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    suite_project.config(f'[envs.ref]\nbase_url = "{reference.url}"\ncontract.openapi_path = ""\n')
    result = suite_project.run("--env", "ref", SUITE, "-rs")
    result.stdout.fnmatch_lines(
        ["*env 'ref' has no OpenAPI document (contract.openapi_path is empty*"]
    )


def test_the_time_budget_bounds_the_run(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    suite_project.config(
        f'[envs.ref]\nbase_url = "{reference.url}"\nfuzz.smoke_time_budget_s = 0.000001\n'
    )
    result = suite_project.run("--env", "ref", SUITE, "-m", "smoke", "-rA")
    # Too short to send anything: said, and never a pass.
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["*nothing to fuzz: schema fuzzing (smoke, seed *): 0 requests *, time budget reached*"]
    )


def test_stateful_run_is_opt_in_and_says_when_there_are_no_links(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    result = run(suite_project, reference, "-k", "stateful")
    result.stdout.fnmatch_lines(["*stateful fuzzing is opt-in (fuzz.stateful = true*"])
    suite_project.config(
        f'[envs.ref]\nbase_url = "{reference.url}"\nfuzz.stateful = true\nfuzz.examples = 2\n'
    )
    result = suite_project.run("--env", "ref", SUITE, "-k", "stateful", "-rs")
    result.stdout.fnmatch_lines(
        ["*the OpenAPI document declares no links between operations: nothing to chain*"]
    )


LINKED = """
[envs.notes]
base_url = "{url}"
api_prefix = "/api"
fuzz = {{ stateful = true, examples = 4, stateful_steps = 4, negative = false, seed = 1 }}
"""


@pytest.mark.parametrize("broken_reads", [False, True], ids=["healthy", "broken-reads"])
def test_stateful_run_follows_links_and_finds_what_only_a_sequence_shows(
    suite_project: SuiteProject, broken_reads: bool
) -> None:
    """Reading a note that exists answers 500: random ids never reach it, POST -> GET does.
    A public API: nobody signs in."""
    with running_linked_service(broken_reads=broken_reads) as url:
        suite_project.config(LINKED.format(url=url))
        result = suite_project.run("--env", "notes", SUITE, "-k", "stateful", "-rfE")
        plain = suite_project.run("--env", "notes", SUITE, "-m", "smoke", "-rfE")
    assert plain.ret == 0  # the plain subset never reads a note that exists
    if not broken_reads:
        result.assert_outcomes(passed=1)
        return
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*GET /api/notes/{note_id}: stateful: Server error: answered 500 (steps: *POST "
            "http://127.0.0.1:*/api/notes 201 -> GET http://127.0.0.1:*/api/notes/* 500)",
            "*replay: curl -sS -i -X GET http://127.0.0.1:*/api/notes/*",
        ]
    )
    assert_no_plugin_traceback(result)


@pytest.mark.parametrize("ahead", [False, True], ids=["in-the-check", "forked-ahead"])
def test_jobs_a_fuzzed_upload_creates_are_cleaned_up(
    suite_project: SuiteProject,
    reference: Reference,
    faults: Faults,
    monkeypatch: pytest.MonkeyPatch,
    ahead: bool,
) -> None:
    """An account that stays (not a throwaway user whose deletion takes its jobs along): the
    jobs fuzzing created must go by themselves, also those the smoke subset's own process
    created (recorded in the run's store, deleted by the run)."""
    email, password = "fuzz-uploads@example.com", "account-password-123"
    httpx.post(
        reference.api_url + "/auth/register",
        json={"email": email, "username": "fuzzuploads", "password": password},
    )
    (user_id,) = reference.rows(f"SELECT id FROM users WHERE email = '{email}'")[0]
    faults.set("accept-any-upload")  # random bytes become jobs
    monkeypatch.setenv("SMOKE_EMAIL", email)
    monkeypatch.setenv("SMOKE_PASSWORD", password)
    suite_project.config(
        f'[envs.staging]\nbase_url = "{reference.url}"\n'
        'auth.mode = "account"\nauth.email = "${SMOKE_EMAIL}"\nauth.password = "${SMOKE_PASSWORD}"\n'
        "fuzz = { examples = 8, smoke_examples = 8, negative = false, "
        'include = { paths = ["/upload/"] } }\n'
    )
    # A fixed seed: with some seeds no generated upload is valid (an empty file, bad
    # custom_tags), so nothing is created and nothing cleaned (seed 3520444600 failed CI).
    if ahead:
        result = run_in_own_process(
            suite_project, "--env", "staging", SUITE, "-m", "smoke", "--fuzz-seed", "1", "-rA"
        )
        result.stdout.fnmatch_lines(["*fuzzed ahead: in a process of its own*"])
    else:
        result = suite_project.run(
            "--env", "staging", SUITE, "-m", "fuzz", "-k", "not stateful", "--fuzz-seed", "1"
        )
    result.stdout.fnmatch_lines(["cleanup: deleted * job*"])
    jobs = f"SELECT COUNT(*) FROM jobs WHERE user_id = '{user_id}'"
    assert reference.rows(jobs) == [(0,)]


@pytest.fixture
def production_reference() -> Iterator[Reference]:
    with running_reference(environment="production") as deployment:
        yield deployment


def test_production_receives_only_reads_and_its_sign_in(
    suite_project: SuiteProject, production_reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deployment's own request metrics: every method and route the full fuzz run sent."""
    from prometheus_client.parser import text_string_to_metric_families

    email, password = "fuzz-smoke@example.com", "account-password-123"
    httpx.post(
        production_reference.api_url + "/auth/register",
        json={"email": email, "username": "fuzzsmoke", "password": password},
    ).raise_for_status()

    def requests_seen() -> dict[tuple[str, str], float]:
        text = httpx.get(production_reference.url + "/metrics").text
        return {
            (s.labels["method"], s.labels["route"]): s.value
            for family in text_string_to_metric_families(text)
            if family.name == "http_requests"
            for s in family.samples
            if s.name == "http_requests_total"
        }

    before = requests_seen()
    monkeypatch.setenv("SMOKE_EMAIL", email)
    monkeypatch.setenv("SMOKE_PASSWORD", password)
    suite_project.config(
        f'[envs.prod]\nbase_url = "{production_reference.url}"\nproduction = true\n'
        'auth.mode = "account"\nauth.email = "${SMOKE_EMAIL}"\nauth.password = "${SMOKE_PASSWORD}"\n'
        "fuzz.examples = 5\n"
    )
    result = suite_project.run("--env", "prod", SUITE, "-m", "fuzz", "-rA")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*left out: 10 operations that may change data (POST /api/v1/auth/register, *): destructive "
            "checks are not allowed here, so only GET, HEAD and OPTIONS are fuzzed"
        ]
    )
    sent = {
        key: count - before.get(key, 0)
        for key, count in requests_seen().items()
        if count > before.get(key, 0)
    }
    writes = {key for key in sent if key[0] not in ("GET", "HEAD", "OPTIONS")}
    assert writes == {("POST", "/api/v1/auth/login")}, sent
    assert sum(n for (method, _), n in sent.items() if method == "GET") > 20


def test_a_service_whose_sign_in_fails_still_fuzzes_its_public_operations(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    """The second real service's register answered 500: the public operations are fuzzed
    all the same, the protected ones are named as left out, and the check fails with the
    sign-in's own answer (one cause with the checks that broke on it)."""
    faults.set("register-500")
    result = run(suite_project, reference, "-m", "smoke", "--fuzz-seed", "1", "-rA")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "POST http://127.0.0.1:*/api/v1/auth/register -> 500 Internal Server Error, expected "
            "200 or 201 (registering the throwaway smoke user *",
            "(so the protected operations were not fuzzed; schema fuzzing (smoke, seed 1): "
            "* requests to 4 of 4 operations in *, nothing wrong with those)",
            "left out: 12 protected operations (GET /api/v1/auth/me, *): the smoke user could not "
            "sign in (POST http://127.0.0.1:*/api/v1/auth/register -> 500*",
        ]
    )


def test_the_probes_that_need_no_token_run_when_sign_in_fails(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    faults.set("register-500")
    result = suite_project.run_against(
        reference,
        "test_auth_flow.py::test_wrong_password_is_refused",
        "test_security.py::test_error_answers_leak_nothing",
        "-rA",
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "4 error answers judged (404, 405, 401, malformed JSON); the 422 probe needs a token, "
            "and the smoke user could not sign in",
        ]
    )
    faults.set("register-500", "traceback-in-errors")
    result = suite_project.run_against(
        reference, "test_security.py::test_error_answers_leak_nothing", "-rfE"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*error answers give away internals: 404 answer *"])


def test_nothing_to_fuzz_is_a_skip_and_a_minimum_makes_it_a_failure(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    base = (
        f'[envs.ref]\nbase_url = "{reference.url}"\nfuzz.include = {{ paths = ["^/nowhere$"] }}\n'
    )
    suite_project.config(base)
    result = suite_project.run("--env", "ref", SUITE, "-m", "smoke", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["*nothing to fuzz: schema fuzzing (smoke, seed *): 0 requests to 0 of 0 operations in *"]
    )
    suite_project.config(base + "fuzz.min_operations = 1\n")
    result = suite_project.run("--env", "ref", SUITE, "-m", "smoke", "-rfE")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*schema fuzzing fuzzed 0 operations, fewer than fuzz.min_operations = 1 *"]
    )


def test_operations_schemathesis_cannot_read_are_named_never_dropped(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    """A document whose every operation is unreadable: a skip that says why, not "0 requests
    to 0 operations" and a pass."""
    document = {
        "openapi": "3.0.3",
        "info": {"title": "broken", "version": "1"},
        "paths": {
            "/api/v1/health": {
                "get": {
                    "parameters": [{"$ref": "#/components/parameters/Nope"}],
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    path = suite_project.pytester.path / "broken.json"
    path.write_text(json.dumps(document))
    suite_project.config(
        f'[envs.ref]\nbase_url = "{reference.url}"\ncontract.openapi_file = "{path}"\n'
    )
    result = suite_project.run("--env", "ref", SUITE, "-m", "smoke", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*nothing to fuzz: *; 1 operation schemathesis cannot read (Unresolvable "
            "reference in the schema; *#/components/parameters/Nope)*"
        ]
    )
