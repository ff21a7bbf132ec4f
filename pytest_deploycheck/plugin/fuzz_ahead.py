"""The smoke subset of schema fuzzing, started in the background as the run begins.

Fuzzing does not need the journey's job, and the job does not need fuzzing: run one after
the other, the smoke verdict took the job's time plus the fuzzing's. Started with the
journey (without pytest-xdist, where the process that will run the check is not known),
the fuzzing overlaps the job and the other checks; ``test_schema_fuzzing_smoke_subset``
then waits for its report, and what it said (recommendations, its section, what it
examined) is said in that check's report as if it had run there.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import Any

import pytest

from pytest_deploycheck.fuzz.fuzzer import Say, SchemaFuzzer
from pytest_deploycheck.fuzz.runner import FuzzReport
from pytest_deploycheck.plugin.context import DeployContext

_FIXTURE = "schema_fuzzer"


def wanted(item: pytest.Item) -> bool:
    """A smoke check that fuzzes: the one the background run is for."""
    return _FIXTURE in getattr(item, "fixturenames", ()) and bool(item.get_closest_marker("smoke"))


class FuzzAhead:
    def __init__(self, context: DeployContext, seed: int) -> None:
        self.context = context
        self.seed = seed
        self.said: list[tuple[str, str]] = []  # ("recommend" | "section" | "examined", text)
        self.report: FuzzReport | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def possible(context: DeployContext) -> bool:
        env = context.env
        if env is None or importlib.util.find_spec("schemathesis") is None:
            return False
        return bool(env.contract.openapi_path or env.contract.openapi_file)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="deploycheck-fuzz", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            fuzzer = SchemaFuzzer(
                self.context,
                self._sign_in,
                self.seed,
                lambda text: self.said.append(("recommend", text)),
                lambda text: self.said.append(("section", text)),
                lambda text: self.said.append(("examined", text)),
                stopping=self.stopping,
            )
            self.report = fuzzer.run("smoke")
        except BaseException as exc:  # raised again in the check that waits for it
            self.error = exc
        finally:
            self.done.set()

    def _sign_in(self) -> str:
        with self.context.client() as client:
            return self.context.run_user("smoke", client).access_token

    def __call__(self, recommend: Say, section: Say, examined: Say) -> FuzzReport:
        """The report, once the background run ends; what it said, said now."""
        env = self.context.env
        budget = env.fuzz.smoke_time_budget_s if env is not None else 10.0
        if not self.done.wait(budget + 120):
            raise TimeoutError("the background schema fuzzing did not end")
        say: dict[str, Any] = {"recommend": recommend, "section": section, "examined": examined}
        for kind, text in self.said:
            say[kind](text)
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report

    def stop(self, timeout: float = 10.0) -> None:
        """The run is ending: stop sending (the fuzzing checks between examples)."""
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
