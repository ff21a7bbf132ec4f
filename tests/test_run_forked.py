"""Work in a forked copy of the process (run.forked): what it returns or raises comes back,
where it was raised is named, and a copy that hangs or dies is ended and said so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest

from pytest_deploycheck.errors import raised_at
from pytest_deploycheck.evidence.finding import internal_error
from pytest_deploycheck.run.forked import Forked, why_not_fork

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forking needs os.fork")


def test_the_work_runs_in_another_process_and_its_result_comes_back() -> None:
    forked = Forked(lambda: (os.getpid(), {"examples": 44}))
    pid, value = forked.result(timeout=30)
    assert pid == forked.pid != os.getpid()
    assert value == {"examples": 44}


def test_what_the_work_raised_is_raised_here_naming_where_it_was_raised() -> None:
    forked = Forked(lambda: raised_at(None))  # type: ignore[arg-type]  (a bug in our code)
    with pytest.raises(AttributeError) as caught:
        forked.result(timeout=30)
    assert raised_at(caught.value).startswith("pytest_deploycheck.errors:")
    message = internal_error("the smoke subset", caught.value)
    assert " raised AttributeError: " in message
    assert " at pytest_deploycheck.errors:" in message


def test_an_exception_that_does_not_pickle_comes_back_as_its_name_and_message() -> None:
    class LocalError(Exception):  # not importable: pickle cannot send it
        pass

    def work() -> None:
        raise LocalError("drawn from a strategy that broke")

    with pytest.raises(RuntimeError, match="^LocalError: drawn from a strategy that broke$"):
        Forked(work).result(timeout=30)


def test_a_copy_that_ends_without_answering_is_said_so() -> None:
    forked = Forked(lambda: os._exit(3))
    with pytest.raises(RuntimeError, match=r"ended \(exit code 3\) before it answered"):
        forked.result(timeout=30)


def test_a_copy_that_does_not_answer_in_time_is_stopped() -> None:
    forked = Forked(lambda: time.sleep(60))
    began = time.monotonic()
    with pytest.raises(RuntimeError, match=r"did not answer within 0.5 s"):
        forked.result(timeout=0.5)
    assert time.monotonic() - began < 10
    with pytest.raises(ChildProcessError):  # stopped and reaped: nothing left behind
        os.waitpid(forked.pid, os.WNOHANG)


def _stops_at_once_and_leaves_nothing(forked: Forked[object]) -> None:
    """stop() of a copy still working: no answer, well within its grace, the copy reaped."""
    began = time.monotonic()
    assert forked.stop(grace=2) is None
    assert time.monotonic() - began < 10
    with pytest.raises(ChildProcessError):
        os.waitpid(forked.pid, os.WNOHANG)


def test_stopping_keeps_what_a_finished_copy_sent_and_ends_one_still_working() -> None:
    finished = Forked(lambda: 7)
    time.sleep(0.5)
    assert finished.stop(grace=2) == 7
    working = Forked(lambda: time.sleep(60))
    _stops_at_once_and_leaves_nothing(working)


def test_no_fork_while_another_thread_runs() -> None:
    release = threading.Event()
    thread = threading.Thread(target=release.wait, name="held-open", daemon=True)
    thread.start()
    try:
        why = why_not_fork()
    finally:
        release.set()
        thread.join()
    assert why is not None
    assert "held-open" in why or "linux" in why.lower()


def test_a_timer_cancelled_a_moment_ago_is_no_reason_to_stay() -> None:
    """A request's deadline timer, cancelled as its answer arrived, is still ending when the
    run forks: waited for, not counted (it kept the smoke subset in-process under load)."""
    timer = threading.Timer(60, lambda: None)
    timer.name = "deadline-of-the-probe"
    timer.start()
    timer.cancel()
    why = why_not_fork()
    assert why is None or "deadline-of-the-probe" not in why
    assert not timer.is_alive()


def test_work_that_takes_input_prepares_first_then_waits_for_it() -> None:
    """The deck checker's shape: Anki's engine started ahead, the deck given when it arrives."""
    prepared: list[str] = []
    forked = Forked(
        lambda deck: (deck, prepared),
        before=lambda: prepared.append("engine started"),
        takes_input=True,
        niceness=10,
    )
    forked.give(b"PK\x03\x04 a deck", timeout=30)
    assert forked.result(timeout=30) == (b"PK\x03\x04 a deck", ["engine started"])
    assert prepared == []  # it was the copy's list that changed


def test_work_never_given_its_input_ends_when_stopped() -> None:
    _stops_at_once_and_leaves_nothing(Forked(lambda deck: deck, takes_input=True))


def test_warnings_the_copy_raised_are_raised_here_with_its_answer() -> None:
    def work() -> int:
        warnings.warn("raised in the copy", DeprecationWarning, stacklevel=1)
        return 1

    forked = Forked(work)
    with pytest.warns(UserWarning, match="^DeprecationWarning: raised in the copy$") as seen:
        assert forked.result(timeout=30) == 1
    assert seen[0].filename == __file__


def _ended(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status  # ended, waiting for a reaper that is not us


@pytest.mark.parametrize("sigterm", ["SIG_DFL", "SIG_IGN"])
def test_a_copy_whose_run_was_killed_outright_ends_itself(tmp_path: Path, sigterm: str) -> None:
    """SIGKILL gives the run no chance to stop its forked work: the work stops by itself, also
    where SIGTERM is ignored (a disposition inherited from whatever started the run)."""
    script = tmp_path / "run.py"
    script.write_text(
        "import os, signal, sys, time\n"
        "from pytest_deploycheck.run.forked import Forked\n"
        f"signal.signal(signal.SIGTERM, signal.{sigterm})\n"
        "forked = Forked(lambda: time.sleep(60))\n"
        "print(forked.pid, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    copy = int(run.stdout.split()[0])
    deadline = time.monotonic() + 10
    while not _ended(copy) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _ended(copy), f"the forked copy {copy} outlived its killed run"


def test_the_copys_warnings_are_redacted_there_with_what_it_learned() -> None:
    """A library's warning quoting a token the copy signed in with: redacted by the copy's
    redactor, which knows the token this process may never have seen."""
    learned: list[str] = []

    def work() -> int:
        learned.append("tok-123")  # signed in, in the copy
        warnings.warn("retrying with Bearer tok-123", UserWarning, stacklevel=1)
        return 1

    forked = Forked(
        work, redact=lambda text: "".join(text.replace(t, "[redacted]") for t in learned)
    )
    with pytest.warns(UserWarning, match=r"^UserWarning: retrying with Bearer \[redacted\]$"):
        assert forked.result(timeout=30) == 1


def test_a_sigterm_at_once_never_lets_the_copy_run_the_callers_code(tmp_path: Path) -> None:
    """CI's SIGTERM landing just as the copy starts: the copy must not raise back into the
    caller and go on running it (it went on running a whole xdist worker: 2 runs in 5)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # as the plugin's SIGTERM handler does

    me = os.getpid()
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        for _ in range(20):
            try:
                forked = Forked(lambda: time.sleep(60))
            finally:
                if os.getpid() != me:  # only a copy that escaped gets here
                    (tmp_path / "escaped").write_text("the copy ran the caller's code")
                    os._exit(0)
            os.kill(forked.pid, signal.SIGTERM)
            forked.stop(grace=2)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert not (tmp_path / "escaped").exists()


def test_a_copy_that_never_takes_its_input_is_no_hang() -> None:
    """Stuck before it reads (Anki's engine starting forever): giving it a deck larger than
    the pipe holds gives up at its deadline, naming it."""
    forked = Forked(lambda deck: len(deck), before=lambda: time.sleep(60), takes_input=True)
    began = time.monotonic()
    with pytest.raises(RuntimeError, match=r"did not take its input within 0.5 s"):
        forked.give(b"x" * (1 << 20), timeout=0.5)
    assert time.monotonic() - began < 5
    forked.stop(grace=0)
