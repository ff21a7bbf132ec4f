"""Cleanup reports only what it verified: an item counts as deleted when asking for it again
finds it gone, an account when the documented endpoint answered 2xx; everything else is named
as left behind, and the ledger that can remove it later is kept."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Faults, Reference, SuiteProject, running_reference


@pytest.fixture(scope="module")
def no_account_deletion() -> Iterator[Reference]:
    """A deployment without an account-deletion endpoint, as some real services are."""
    with running_reference(account_deletion=False) as deployment:
        yield deployment


def staging(project: SuiteProject, reference: Reference) -> None:
    """A non-embedded env: the run keeps a ledger in .deploycheck/runs."""
    project.config(f'[envs.staging]\nbase_url = "{reference.url}"\n')


def ledgers(project: SuiteProject) -> list[Path]:
    return sorted((project.pytester.path / ".deploycheck" / "runs").glob("staging-*.json"))


def test_a_service_without_account_deletion_gets_an_honest_line_and_a_kept_ledger(
    suite_project: SuiteProject, no_account_deletion: Reference
) -> None:
    staging(suite_project, no_account_deletion)
    json_path = suite_project.pytester.path / "verdict.json"
    result = suite_project.run(
        "--env", "staging", "test_auth_flow.py", "-m", "smoke", f"--deploycheck-json={json_path}"
    )
    assert result.ret == 0, result.stdout.str()[-2000:]
    result.stdout.fnmatch_lines(
        [
            "cleanup: deleted nothing",
            "left behind: this service has no account deletion (DELETE http://127.0.0.1:*/api/v1/"
            "user/account -> 404 Not Found): 1 user left behind: deploycheck+*-smoke@example.com *",
            "what was left behind is recorded in *; remove it with: deploycheck cleanup --env staging",
        ]
    )
    assert "deleted 1 user" not in result.stdout.str()
    (ledger,) = ledgers(suite_project)
    recorded = json.loads(ledger.read_text())
    email = recorded["users"]["smoke"]["email"]
    assert no_account_deletion.rows(f"SELECT email FROM users WHERE email = '{email}'")
    assert any(
        "no account deletion" in line for line in json.loads(json_path.read_text())["cleanup"]
    )


def test_a_delete_that_deletes_nothing_is_not_counted(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    faults.set("delete-noop")
    result = suite_project.run_against(reference, "test_journey.py", "-m", "smoke")
    assert result.ret == 0, result.stdout.str()[-2000:]
    result.stdout.fnmatch_lines(
        [
            "cleanup: deleted 1 job, 2 users",
            "left behind: deck *: still there after its DELETE (GET http://127.0.0.1:*/api/v1/"
            "decks/* -> 200 OK)",
        ]
    )


def test_a_user_refused_at_cleanup_is_named_and_its_ledger_kept_until_removed(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    """Registered, but its sign-in answers 403 (the address is not verified): the user may
    exist, so it is named and the ledger kept; `deploycheck cleanup` removes it later."""
    faults.set("login-unverified")
    staging(suite_project, reference)
    result = suite_project.run("--env", "staging", "test_auth_flow.py::test_sign_up_and_sign_in")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "cleanup: deleted nothing",
            "left behind: throwaway smoke user deploycheck+*-smoke@example.com: it may exist, but "
            "signing in to delete it answered POST http://127.0.0.1:*/api/v1/auth/login -> 403 "
            "Forbidden: *not verified*",
        ]
    )
    (ledger,) = ledgers(suite_project)
    email = json.loads(ledger.read_text())["users"]["smoke"]["email"]
    assert reference.rows(f"SELECT email FROM users WHERE email = '{email}'")

    def cleanup() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pytest_deploycheck.cli", "cleanup", "--env", "staging"],
            cwd=suite_project.pytester.path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    still = cleanup()
    assert still.returncode == 1 and "it may exist" in still.stdout, still.stdout + still.stderr
    assert ledger.exists()
    faults.set()
    done = cleanup()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cleanup: deleted 1 user" in done.stdout
    assert not ledger.exists()
    assert not reference.rows(f"SELECT email FROM users WHERE email = '{email}'")


def test_a_registration_that_did_not_take_leaves_nothing_to_name(
    suite_project: SuiteProject, reference: Reference, faults: Faults
) -> None:
    """Register answered 500 and signing in at cleanup is refused (401): nothing exists, and
    nothing is claimed deleted."""
    faults.set("register-500")
    staging(suite_project, reference)
    result = suite_project.run("--env", "staging", "test_auth_flow.py::test_sign_up_and_sign_in")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["cleanup: deleted nothing"])
    assert "left behind" not in result.stdout.str()
    assert ledgers(suite_project) == []
