"""CI cancels with SIGTERM, or kills: the target keeps nothing, the disk keeps no token."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SUITES, Faults, Reference, running_reference


@pytest.fixture(scope="module")
def slow_jobs() -> Iterator[Reference]:
    """Jobs take ~9 s: a run is always mid-journey when it is stopped."""
    with running_reference(job_step_delay_s=3) as deployment:
        yield deployment


def start_run(project: Path, reference: Reference) -> subprocess.Popen[str]:
    for suite in SUITES.glob("test_*.py"):
        (project / suite.name).write_text(suite.read_text())
    (project / "deploycheck.toml").write_text(
        f'[envs.staging]\nbase_url = "{reference.url}"\nauth.rate_limit = "off"\n'
    )
    (project / "tmp").mkdir()
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "--env",
            "staging",
            "-m",
            "smoke",
            "-p",
            "no:cacheprovider",
        ],
        cwd=project,
        env={**os.environ, "TMPDIR": str(project / "tmp")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_upload(reference: Reference, before: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reference.rows("SELECT COUNT(*) FROM jobs")[0][0] > before:
            return
        time.sleep(0.1)
    raise AssertionError("the run never uploaded")


def wait_for_ledger_to_record_the_job(project: Path, timeout: float = 30) -> None:
    """The job exists on the server a moment before the run has its answer and records it:
    kill after that moment (a kill before it leaves the job to the user's deletion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ledger in (project / ".deploycheck" / "runs").glob("staging-*.json"):
            try:
                if json.loads(ledger.read_text()).get("created"):
                    return
            except (OSError, ValueError):
                pass
        time.sleep(0.05)
    raise AssertionError("the run never recorded its job")


def counts(reference: Reference) -> tuple[object, ...]:
    return tuple(reference.rows(f"SELECT COUNT(*) FROM {t}")[0][0] for t in ("users", "jobs"))


def test_sigterm_ends_the_run_like_ctrl_c_and_leaves_nothing(
    tmp_path: Path, slow_jobs: Reference
) -> None:
    # The job never finishes: the run cannot end before the signal, however loaded the
    # machine (with slow jobs alone it once did, and exited 0).
    faults = Faults(slow_jobs)
    faults.set("job-stuck")
    try:
        before = counts(slow_jobs)
        run = start_run(tmp_path, slow_jobs)
        wait_for_upload(slow_jobs, before[1])
        run.send_signal(signal.SIGTERM)
        output, _ = run.communicate(timeout=60)
    finally:
        faults.close()
    assert run.returncode == pytest.ExitCode.INTERRUPTED, output[-2000:]
    assert "cleanup: deleted 1 job," in output, output[-2000:]  # the summary
    assert "SIGTERM: the run was cancelled" in output
    assert counts(slow_jobs) == before
    # No token left on disk: the state directory is gone, the ledger too.
    assert not list((tmp_path / "tmp").rglob("run.json"))
    assert not list((tmp_path / ".deploycheck" / "runs").glob("*.json"))


def test_a_killed_run_is_cleaned_up_by_deploycheck_cleanup(
    tmp_path: Path, slow_jobs: Reference
) -> None:
    before = counts(slow_jobs)
    run = start_run(tmp_path, slow_jobs)
    wait_for_upload(slow_jobs, before[1])
    wait_for_ledger_to_record_the_job(tmp_path)
    run.kill()
    run.communicate(timeout=30)
    assert counts(slow_jobs) != before  # left behind, as a killed run does
    (ledger,) = (tmp_path / ".deploycheck" / "runs").glob("staging-*.json")
    assert oct(ledger.stat().st_mode & 0o777) == "0o600"
    recorded = json.loads(ledger.read_text())
    assert "access_token" not in ledger.read_text() and "refresh_token" not in ledger.read_text()
    assert recorded["created"] and recorded["users"]["smoke"]["throwaway"]

    cleaned = subprocess.run(
        [sys.executable, "-m", "pytest_deploycheck.cli", "cleanup", "--env", "staging"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert "cleanup: deleted" in cleaned.stdout
    assert counts(slow_jobs) == before
    assert not ledger.exists()
    again = subprocess.run(
        [sys.executable, "-m", "pytest_deploycheck.cli", "cleanup"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "no run left anything behind" in again.stdout


def test_a_cancelled_load_run_leaves_no_locust_behind(tmp_path: Path) -> None:
    """SIGTERM to `pytest -m load` (how CI cancels) ends Locust and its --processes workers,
    which run in their own process group where CI's signal does not reach."""
    import shutil

    suites = tmp_path / "suites"
    suites.mkdir()
    shutil.copy(SUITES / "test_load.py", suites / "test_load.py")
    locustfiles = tmp_path / "locustfiles"
    locustfiles.mkdir()
    shutil.copy(SUITES.parent / "locustfiles" / "anki_compendium.py", locustfiles)
    (tmp_path / "deploycheck.toml").write_text(
        '[envs.local]\nbase_url = "embedded"\n'
        "[envs.local.load.profiles.smoke]\n"
        "stages = [{ duration_s = 120, users = 4, spawn_rate = 4 }]\n"
    )
    marker = f"deploycheck-cancel-{os.getpid()}"
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--env", "local", "-m", "load", "suites",
         "--load-processes", "2", "-p", "no:cacheprovider", "--load-artifacts", marker],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip

    def locusts() -> list[str]:
        found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
        return [pid for pid in found.stdout.split() if int(pid) != run.pid]

    deadline = time.monotonic() + 60
    while len(locusts()) < 3 and time.monotonic() < deadline:  # the master and two workers
        time.sleep(0.2)
    assert len(locusts()) >= 3, "Locust never started its workers"
    run.send_signal(signal.SIGTERM)
    output, _ = run.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while locusts() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not locusts(), output[-2000:]
    assert run.returncode == 2, output[-2000:]  # interrupted, as Ctrl-C


@pytest.mark.parametrize("to", ["the run", "its process group"])
def test_sigterm_while_fuzz_requests_wait_on_the_target_ends_the_run_at_once(
    tmp_path: Path, to: str
) -> None:
    """The fuzzer's requests in flight (fuzz.workers) do not hold a cancelled run: the
    target answers signed-in reads after 30 s, the run ends well before, cleaned up. CI
    runners signal the job's whole process group: the fuzzing process forked ahead gets the
    SIGTERM too; either way no process of the run is left behind."""
    with running_reference() as reference:
        faults = Faults(reference)
        faults.set("slow-reads=30000")
        (tmp_path / "test_schema_fuzz.py").write_text((SUITES / "test_schema_fuzz.py").read_text())
        (tmp_path / "deploycheck.toml").write_text(
            f'[envs.staging]\nbase_url = "{reference.url}"\nauth.rate_limit = "off"\n'
            "timeouts.read = 60\n"
        )
        run = subprocess.Popen(
            [sys.executable, "-m", "pytest", "--env", "staging", "-m", "smoke", "-v",
             "-p", "no:cacheprovider", "test_schema_fuzz.py"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        assert run.stdout is not None
        seen = ""
        while "test_schema_fuzzing_smoke_subset" not in seen:  # -v: the test has started
            chunk = os.read(run.stdout.fileno(), 4096).decode()
            assert chunk, seen
            seen += chunk
        time.sleep(3)  # GET /auth/me, the fourth operation, is on its way and waits 30 s
        began = time.monotonic()
        if to == "the run":
            run.send_signal(signal.SIGTERM)
        else:
            os.killpg(run.pid, signal.SIGTERM)
        output, _ = run.communicate(timeout=60)
        took = time.monotonic() - began
        faults.close()
    output = seen + output
    assert run.returncode == pytest.ExitCode.INTERRUPTED, output[-2000:]
    assert "cleanup: deleted 1 user" in output, output[-2000:]
    assert took < 10, f"the cancelled run took {took:.0f} s to end:\n{output[-2000:]}"
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):  # nothing of the run's is left running
        os.killpg(run.pid, 0)
