"""Rate limits, spent without meeting them: one pacer and one Retry-After parser for the
auth calls, fuzzing and the load users' sign-ins.

Real services limit register, login and refresh together (the Anki
Compendium: 5 calls a minute per client IP, one bucket for all three), and
round ``Retry-After`` down. So the run knows the budget (``auth.rate_limit``,
e.g. ``"5/60s"``) and paces its own calls: before each, it waits until the
window has room, with a margin, rather than calling and being refused. The
calls are recorded in the run's state directory under a file lock, so xdist
workers share one budget, as they share one client IP.

A 429 can still come (another client on the same IP spends the bucket): then
the wait is ``Retry-After`` rounded up plus the margin, as often as needed
while the run's total wait stays within ``auth.rate_limit_wait_s``.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from filelock import FileLock

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.errors import CheckFailed

# The server starts its window when the call arrives, a little after we record it.
MARGIN_S = 0.5


def retry_after_seconds(response: httpx.Response) -> float | None:
    """How long a 429 (or 503) asks to wait: ``Retry-After`` in seconds or as an HTTP date, or
    a JSON body's ``retry_after``; None when it does not say, or says something unreadable
    (``Retry-After: soon``)."""
    value = response.headers.get("retry-after")
    if value is None:
        try:
            body = response.json()
        except ValueError:
            return None
        if not isinstance(body, dict) or "retry_after" not in body:
            return None
        value = str(body["retry_after"])
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return None
    return max(0.0, parsed.timestamp() - time.time())


class RateBudget:
    """At most ``limit`` calls in any ``window_s`` (a sliding window, as real limiters count),
    waited for before each call; after a 429, every call waits until the window has surely
    reopened. Shared by the run's processes through ``state_dir`` (a file), else in memory.
    Waits past ``allowed_wait_s`` in all fail, naming ``setting`` (where that is set)."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        allowed_wait_s: float,
        *,
        setting: str,
        kind: str,
        state_dir: Path | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.kind = kind  # "auth", "fuzz": what the calls are, in messages
        self.limit, self.window_s = limit, window_s
        self.allowed_wait_s = allowed_wait_s
        self.setting = setting
        self.on_wait = on_wait
        file = f"{kind}-calls.json"
        self._path = state_dir / file if state_dir else None
        self._file_lock = FileLock(str(state_dir / (file + ".lock"))) if state_dir else None
        self._lock = threading.Lock()
        self._memory: dict[str, object] = {"calls": [], "waited_s": 0.0}

    @property
    def description(self) -> str:
        return "unlimited" if not self.limit else f"{self.limit}/{self.window_s:g}s"

    @property
    def calls(self) -> int:
        return len(self._read()["calls"])  # type: ignore[arg-type]

    @property
    def waited_s(self) -> float:
        return float(self._read()["waited_s"])  # type: ignore[arg-type]

    def spend(self, what: str) -> None:
        """Wait until the window has room for one more call, then count it."""
        while True:
            with self._locked() as state:
                calls: list[float] = state["calls"]  # type: ignore[assignment]
                now = time.time()
                blocked = float(state.get("blocked_until", 0.0)) - now  # type: ignore[arg-type]
                recent = [t for t in calls if now - t < self.window_s + MARGIN_S]
                if blocked > 0:
                    wait = blocked  # a 429 said the window is full: everyone waits
                elif not self.limit or len(recent) < self.limit:
                    calls.append(now)
                    return
                else:
                    wait = recent[-self.limit] + self.window_s + MARGIN_S - now
            self._wait(wait, f"the {self.kind} rate limit ({self.description}) before {what}")

    def refused(self, retry_after_s: float | None, what: str) -> bool:
        """After a 429: hold every auth call until the window has surely reopened; False when
        that would take the run's waits past ``auth.rate_limit_wait_s``.

        ``Retry-After`` may have been rounded down (seconds left 3.9 -> "3"): wait one more
        second than it says, plus the margin.
        """
        if retry_after_s is None:
            wait = (self.window_s or 60.0) + MARGIN_S
        else:
            wait = math.floor(retry_after_s) + 1 + MARGIN_S
        if self.waited_s + wait > self.allowed_wait_s:
            return False
        with self._locked() as state:
            until = time.time() + wait
            state["blocked_until"] = max(until, float(state.get("blocked_until", 0.0)))  # type: ignore[arg-type]
        return True

    def _wait(self, seconds: float, why: str) -> None:
        if seconds <= 0:
            return
        if self.waited_s + seconds > self.allowed_wait_s:
            raise CheckFailed(
                f"waiting {seconds:.0f} s for {why} would take this run's {self.kind} waits past "
                f"{self.setting}={self.allowed_wait_s:g} s (waited {self.waited_s:.0f} s, "
                f"{self.calls} {self.kind} calls so far){self.advice}"
            )
        with self._locked() as state:
            state["waited_s"] = float(state["waited_s"]) + seconds  # type: ignore[arg-type]
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.on_wait is not None and seconds >= 3:
                self.on_wait(f"deploycheck: waiting {left:.0f} s for {why}")
            time.sleep(min(left, 10.0))

    advice = ""

    # -- state: a file shared by the run's processes, or memory -------------------------------

    def _read(self) -> dict[str, object]:
        with self._locked() as state:
            return dict(state)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, object]]:
        """The state, locked for this thread and (with a state dir) for the run's processes."""
        with self._lock:
            if self._file_lock is None or self._path is None:
                yield self._memory
                return
            with self._file_lock:
                try:
                    state = json.loads(self._path.read_text())
                except (OSError, ValueError):
                    state = {"calls": [], "waited_s": 0.0}
                yield state
                self._path.write_text(json.dumps(state))


class AuthBudget(RateBudget):
    """The target's auth rate limit (``auth.rate_limit``): register, login and refresh
    together; one per run (a file in the state directory) or per process (memory)."""

    advice = "; raise it, or see the docs, 'Auth calls a run spends'"

    def __init__(
        self,
        env: TargetEnv,
        state_dir: Path | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        limit, window_s = env.auth.rate_limit_parsed
        super().__init__(
            limit,
            window_s,
            env.auth.rate_limit_wait_s,
            setting="auth.rate_limit_wait_s",
            kind="auth",
            state_dir=state_dir,
            on_wait=on_wait,
        )
        self.env = env
