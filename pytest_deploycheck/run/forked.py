"""Work done in a forked copy of this process, its result handed back through a pipe.

For CPU-bound Python that would otherwise hold this process's one interpreter lock
while the rest of the run waits on the target: the smoke run's schema fuzzing
(``plugin/fuzz_ahead.py``) and the deck's check with Anki's engine
(``plugin/journey_ahead.py``). The copy starts with everything this process has loaded
and resolved, runs one function on the machine's other core, sends back what it
returned (or the exception it raised, with where in this package it was raised)
and exits without running anything of pytest's.

Forked only where that is safe: on Linux, and while this process runs one thread (a
fork copies only the thread that calls it; a lock another thread held stays held in
the copy). Written with ``os.fork`` rather than ``multiprocessing``: its child flushes
the standard streams and runs its finalizers on the way out, and inside a pytest run
those streams are pytest's capture, shared with this process.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pytest_deploycheck.errors import RAISED_AT, raised_at

T = TypeVar("T")
_STOPPING = {signal.SIGTERM, signal.SIGINT}
_ORPHAN_GRACE_S = 3.0  # a copy whose run is gone: time to stop its work before it is ended


def why_not_fork() -> str | None:
    """None when a fork is safe here; else why work stays in this process."""
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return f"work is forked on Linux only (this is {sys.platform})"
    for thread in threading.enumerate():
        # A timer cancelled a moment ago (the deadline of a request just answered) is ending.
        if isinstance(thread, threading.Timer) and thread.finished.is_set():
            thread.join(0.5)
    if threading.active_count() > 1:
        names = sorted(t.name for t in threading.enumerate() if t is not threading.main_thread())
        return f"this process runs other threads ({', '.join(names)})"
    return None


def portable(exc: BaseException) -> BaseException:
    """``exc`` as it can cross to another process: itself, carrying where it was raised,
    when it pickles; else a RuntimeError naming it."""
    where = raised_at(exc)
    try:
        setattr(exc, RAISED_AT, where)
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001  (any exception of a library's that does not pickle)
        carried = RuntimeError(f"{type(exc).__name__}: {exc}")
        setattr(carried, RAISED_AT, where)
        return carried


class Forked(Generic[T]):
    """``work()`` running in a forked copy of this process (see :func:`why_not_fork`); its
    answer is read by one thread (not safe to share between threads).

    With ``takes_input``, the copy first runs ``before()`` (what can be done ahead: an
    import, an engine's start), then waits for the one value :meth:`give` sends it and
    runs ``work(value)``. ``niceness``: how much lower its CPU priority is (``os.nice``):
    work ahead of time should not slow what the run waits for now. The warnings the copy
    raised are raised again here, with its answer (so pytest reports them with the check
    that reads it, not as stray lines on the terminal), their text passed through ``redact``
    in the copy (whose redactor knows the tokens it signed in with)."""

    def __init__(
        self,
        work: Callable[..., T],
        *,
        before: Callable[[], object] | None = None,
        takes_input: bool = False,
        niceness: int = 0,
        redact: Callable[[str], str] = lambda text: text,
    ) -> None:
        read_end, write_end = os.pipe()
        input_read, input_write = os.pipe() if takes_input else (-1, -1)
        parent = os.getpid()  # here: in the copy it may already be gone
        # A SIGTERM or Ctrl-C on the way would raise in the copy before it is in its own
        # code, and the copy would go on running the caller's (the whole pytest run, twice):
        # held until the copy is inside its try, and released here at once.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
        try:
            pid = os.fork()
        except OSError:  # no fork to be had: nothing was copied
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            for fd in (read_end, write_end, input_read, input_write):
                if fd >= 0:
                    os.close(fd)
            raise
        if pid == 0:  # the copy: never returns into the caller
            try:
                os.close(read_end)
                if takes_input:
                    os.close(input_write)
                with contextlib.suppress(OSError):
                    os.nice(niceness)
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
                _run_and_exit(work, write_end, before, input_read, redact, parent)
            finally:
                os._exit(1)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        os.close(write_end)
        if takes_input:
            os.close(input_read)
        self.pid = pid
        self._input = input_write
        self._read_end = read_end
        self._received = bytearray()
        self._eof = False
        self._status: int | None = None
        self._warned = False  # its warnings raised here once, when its answer is read

    def give(self, value: object, timeout: float) -> None:
        """Send the copy the value its work waits for (once), within ``timeout`` s: a copy
        stuck before reading it (in ``before()``) is a RuntimeError naming it, never a hang."""
        if self._input < 0:
            raise RuntimeError("this forked work takes no input, or was given it already")
        fd, self._input = self._input, -1
        data = memoryview(pickle.dumps(value))
        deadline = time.monotonic() + timeout
        os.set_blocking(fd, False)
        try:
            while data:
                _, ready, _ = select.select([], [fd], [], max(0.0, deadline - time.monotonic()))
                if not ready:
                    raise RuntimeError(
                        f"the forked process (pid {self.pid}) did not take its input within "
                        f"{timeout:g} s"
                    )
                with contextlib.suppress(BlockingIOError):
                    data = data[os.write(fd, data) :]
        except BrokenPipeError:  # the copy ended already: result() says how
            pass
        finally:
            os.close(fd)

    def result(self, timeout: float) -> T:
        """What ``work()`` returned, waiting up to ``timeout`` s; raises what it raised.
        A copy that ends without answering, or takes longer, is a RuntimeError naming it."""
        self._read(time.monotonic() + timeout)
        if not self._eof:
            self.stop(grace=0)
            raise RuntimeError(
                f"the forked process (pid {self.pid}) did not answer within {timeout:g} s"
            )
        return self._outcome()

    def stop(self, grace: float) -> T | None:
        """End the copy: what it sent when it had finished; else SIGTERM (its work is
        interrupted as by Ctrl-C), ``grace`` s to send what it has, then SIGKILL. Returns what
        it returned by then (None when it answered nothing or raised)."""
        if self._input >= 0:  # never given: the copy's wait ends
            os.close(self._input)
            self._input = -1
        if not self._eof:
            self._read(time.monotonic())  # already done and waiting to be read?
        if not self._eof and self._alive():
            os.kill(self.pid, signal.SIGTERM)
            self._read(time.monotonic() + grace)
        if not self._eof:
            if self._alive():
                os.kill(self.pid, signal.SIGKILL)
            self._eof = True
            os.close(self._read_end)
        self._reap(block=True)
        try:
            return self._outcome()
        except BaseException:  # noqa: BLE001  (stopping: what it raised is nobody's verdict)
            return None

    def _read(self, deadline: float) -> None:
        while not self._eof:
            remaining = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._read_end], [], [], remaining)
            if not ready:
                return
            chunk = os.read(self._read_end, 1 << 16)
            if not chunk:
                self._eof = True
                os.close(self._read_end)
                return
            self._received += chunk

    def _outcome(self) -> T:
        self._reap(block=True)
        if not self._received:
            raise RuntimeError(
                f"the forked process (pid {self.pid}) ended ({self._how_it_ended()}) "
                "before it answered"
            )
        try:
            kind, value, said = pickle.loads(bytes(self._received))
        except Exception as exc:  # noqa: BLE001  (cut short: killed while it wrote)
            raise RuntimeError(
                f"the forked process (pid {self.pid}) ended ({self._how_it_ended()}) with half "
                f"an answer ({type(exc).__name__}: {exc})"
            ) from None
        if not self._warned:
            self._warned = True
            for category, message, filename, lineno in said:
                # By name: its class could import a library here (hypothesis, for one).
                warnings.warn_explicit(f"{category}: {message}", UserWarning, filename, lineno)
        if kind == "raised":
            raise value
        return value

    def _alive(self) -> bool:
        self._reap(block=False)
        return self._status is None

    def _reap(self, block: bool) -> None:
        if self._status is not None:
            return
        try:
            pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere
            self._status = 0
            return
        if pid:
            self._status = status

    def _how_it_ended(self) -> str:
        status = self._status or 0
        if os.WIFSIGNALED(status):
            return f"killed by signal {os.WTERMSIG(status)}"
        return f"exit code {os.waitstatus_to_exitcode(status)}"


def _run_and_exit(
    work: Callable[..., Any],
    write_end: int,
    before: Callable[[], object] | None,
    input_fd: int,
    redact: Callable[[str], str],
    parent: int,
) -> None:
    """In the copy: run, send, and leave at once (no atexit, no flush, no pytest teardown)."""
    code = 0
    _end_with_the_parent(parent)
    try:
        with warnings.catch_warnings(record=True) as raised:
            warnings.simplefilter("default")  # once per place, as pytest shows them
            try:
                if before is not None:
                    before()
                if input_fd >= 0:
                    with os.fdopen(input_fd, "rb") as given:
                        message: tuple[str, Any] = ("returned", work(pickle.load(given)))
                else:
                    message = ("returned", work())
            except BaseException as exc:  # noqa: BLE001  (handed back, raised there)
                message = ("raised", portable(exc))
        said = [(w.category.__name__, redact(str(w.message)), w.filename, w.lineno) for w in raised]
        # Stopped from here on would leave half an answer: SIGTERM and Ctrl-C wait for the exit.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
        try:
            data = pickle.dumps((*message, said))
        except Exception as exc:  # noqa: BLE001  (a result that does not pickle: our bug)
            data = pickle.dumps(("raised", portable(exc), said))
        with os.fdopen(write_end, "wb") as out:
            out.write(data)
    except BaseException:  # noqa: BLE001  (nothing left to tell: the parent sees no answer)
        code = 1
    finally:
        os._exit(code)


def _end_with_the_parent(parent: int) -> None:
    """In the copy: a run killed outright (SIGKILL) cannot stop it; it stops itself, as if
    SIGTERMed, within half a second of its parent's end (Linux has PR_SET_PDEATHSIG for this,
    the standard library does not)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)  # its work stops as when the run is cancelled
        time.sleep(_ORPHAN_GRACE_S)
        os._exit(1)  # SIGTERM ignored (a disposition inherited from whoever started the run)

    threading.Thread(target=watch, name="deploycheck-orphan-watch", daemon=True).start()
