"""The threads that send the fuzzer's requests while hypothesis draws the next example.

concurrent.futures' ThreadPoolExecutor would do the sending, but the interpreter joins
its threads before it exits, and waiting for them is the only way to shut it down: a run
cancelled (SIGTERM) while a request waits on a hung target would not end until that
request's total deadline (``timeouts.total``, 60 s by default). These threads are daemon
threads: a cancelled run waits a moment for what is on the way (an upload's answer, so
its job is recorded for the cleanup) and then goes on to its cleanup and verdict.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, wait
from typing import Any, TypeVar

T = TypeVar("T")

_Task = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class Senders:
    """``workers`` daemon threads that run what is submitted, each call's Future its own."""

    def __init__(self, workers: int, name: str = "deploycheck-fuzz") -> None:
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{index}", daemon=True)
            for index in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, call: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        self._tasks.put((future, call, args))
        return future

    def _work(self) -> None:
        while (task := self._tasks.get()) is not None:
            future, call, args = task
            if not future.set_running_or_notify_cancel():
                continue  # cancelled before it was sent
            try:
                future.set_result(call(*args))
            except BaseException as exc:  # noqa: BLE001  (the Future carries it to the judge)
                future.set_exception(exc)

    def close(self, pending: Iterable[Future[Any]] = (), grace_s: float = 0.0) -> None:
        """Stop: what has not been sent is cancelled, what is on the way gets ``grace_s``
        seconds to be answered (the threads end with it or with the process)."""
        pending = list(pending)
        for future in pending:
            future.cancel()
        for _ in self._threads:
            self._tasks.put(None)
        if grace_s > 0:
            wait([future for future in pending if not future.cancelled()], timeout=grace_s)
