"""The smoke subset's schema fuzzing, started ahead in a process of its own.

Generating examples is Python work: in the run's own process it holds the one
interpreter lock the other checks and the journey's thread need, and a smoke run
whose job takes a second would wait on it. So when the run starts, and a selected
smoke check uses ``schema_fuzzer`` (the shipped ``test_schema_fuzzing_smoke_subset``),
the plugin forks (:mod:`pytest_deploycheck.run.forked`): the copy fuzzes on the
machine's other core while the checks run, signing in as the run's smoke user through
the run's store as an xdist worker does, recording what its uploads create for the
cleanup. The check itself runs just before those that wait for the job: it collects
the copy's report and judges it as if it had fuzzed (same seed, same findings),
with the copy's exchanges handed to the passive checks and the check's report.

Stays in the run's process (fuzzed when the check runs) where a fork is not safe (not
Linux, other threads: xdist workers), under ``--pdb``, or with ``fuzz.ahead = false``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

import pytest

from pytest_deploycheck.errors import DeployCheckError
from pytest_deploycheck.fuzz.fuzzer import Fuzzed, SchemaFuzzer
from pytest_deploycheck.plugin.collection import run_order
from pytest_deploycheck.plugin.context import DeployContext
from pytest_deploycheck.run.client import Exchange
from pytest_deploycheck.run.forked import Forked, portable, why_not_fork

MODE = "smoke"
# Beyond the smoke budget: importing schemathesis, the document, the sign-in's pacing.
_SLACK_S = 120.0
_STOP_GRACE_S = 4.0  # the fuzz run's own grace for requests on the way is 2 s


@dataclass
class _Answer:
    """What the copy sends back: the run, or what stopped it, and what it saw."""

    fuzzed: Fuzzed | None
    raised: BaseException | None = None
    exchanges: list[dict[str, object]] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # tokens it learned: redacted here too


class FuzzAhead:
    """At most one smoke fuzz run per process, forked when the run starts."""

    def __init__(self, context: DeployContext) -> None:
        self.context = context
        self._forked: Forked[_Answer] | None = None
        self._collected = False
        self._broken: Exception | None = None  # a bug of ours in start()

    def start(self, session: pytest.Session, runnable: list[pytest.Item]) -> None:
        """Fork when a runnable smoke check uses ``schema_fuzzer`` and it is safe; those
        checks then run after the others, before the ones that wait for the job. How it
        went is one of the run's facts (``fuzz_ahead`` in the JSON summary). A bug of ours
        here is the check's failure, naming it, not the run's crash."""
        try:
            self._start(session, runnable)
        except Exception as exc:  # noqa: BLE001  (raised in the check that asks: result())
            self._broken = exc

    def _start(self, session: pytest.Session, runnable: list[pytest.Item]) -> None:
        picked = [
            item
            for item in runnable
            if "schema_fuzzer" in getattr(item, "fixturenames", ())
            and item.get_closest_marker("smoke")
        ]
        if not picked or self.context.env is None:
            return
        stays = self._why_it_stays(session.config)
        if stays is None:
            from pytest_deploycheck.plugin.fixtures import fuzz_seed

            seed = fuzz_seed(session.config)
            # At the run's own priority: against a job of a second it is the critical path as
            # often as the checks are (a lower one measured no faster: 0.998x, paired).
            try:
                self._forked = Forked(
                    lambda: self._fuzz_here(seed), redact=self.context.redactor.text
                )
            except OSError as exc:  # no fork to be had (a process limit): fuzzed in the check
                stays = f"no fork ({exc})"
            else:
                last = {id(item) for item in picked}
                session.items.sort(key=lambda item: 1.5 if id(item) in last else run_order(item))
        self.context.facts["fuzz_ahead"] = (
            f"forked (pid {self._forked.pid})" if self._forked else f"in the check: {stays}"
        )

    def _why_it_stays(self, config: pytest.Config) -> str | None:
        """None: fork; else why the check fuzzes in the run's process."""
        context, env = self.context, self.context.env
        assert env is not None
        if context.is_worker:
            return "an xdist worker"
        if not env.fuzz.ahead:
            return "fuzz.ahead = false"
        if not (env.contract.openapi_path or env.contract.openapi_file):
            return "no OpenAPI document"  # the fixture skips, saying why
        if config.getoption("usepdb", False):
            return "--pdb"
        if importlib.util.find_spec("schemathesis") is None:
            return "schemathesis is not installed"  # the fixture skips, saying why
        why = why_not_fork()
        if why is not None:
            return why
        try:
            context.reach()  # here, once: the copy must not start the embedded deployment
        except DeployCheckError:
            return "the target could not be reached"  # the checks report it
        return why_not_fork()

    def result(self, mode: str) -> Fuzzed | None:
        """The copy's run for the first check that asks for ``mode``; None: fuzz in-process."""
        if self._broken is not None and mode == MODE:
            broken, self._broken = self._broken, None
            raise broken
        forked = self._forked
        if forked is None or mode != MODE or self._collected:
            return None
        self._collected = True
        env = self.context.env
        assert env is not None
        answer = forked.result(timeout=env.fuzz.smoke_time_budget_s + _SLACK_S)
        self._hand_over(answer)
        if answer.raised is not None:
            raise answer.raised
        assert answer.fuzzed is not None
        return answer.fuzzed

    def stop(self) -> None:
        """The run is ending: a copy still fuzzing is stopped; what it saw is kept."""
        forked = self._forked
        if forked is None:
            return
        answer = forked.stop(grace=_STOP_GRACE_S)
        if not self._collected and answer is not None:
            self._collected = True
            self._hand_over(answer)  # what no check judged still counts: the passive checks

    def _hand_over(self, answer: _Answer) -> None:
        self.context.redactor.add(*answer.secrets)
        self.context.exchanges.extend(Exchange.from_dict(data) for data in answer.exchanges)

    def _fuzz_here(self, seed: int) -> _Answer:
        """In the copy: fuzz as the check would have, and say what happened."""
        context = self.context
        first = len(context.exchanges)

        def sign_in() -> str:
            with context.client() as client:
                return context.run_user("smoke", client).access_token

        answer = _Answer(fuzzed=None)
        try:
            fuzzer = SchemaFuzzer(context, sign_in, seed, recommend=_unused, section=_unused)
            answer.fuzzed = fuzzer.fuzz(MODE)
            answer.fuzzed.ahead = True
        except KeyboardInterrupt:  # stopped (the run is ending); the parent decides
            answer.raised = DeployCheckError(
                "schema fuzzing was stopped (SIGTERM or Ctrl-C) before it finished"
            )
        except BaseException as exc:  # noqa: BLE001  (raised again in the check)
            answer.raised = portable(exc)
        answer.exchanges = [exchange.to_dict() for exchange in context.exchanges[first:]]
        answer.secrets = context.redactor.secrets()
        return answer


def _unused(text: str) -> None:
    raise AssertionError("judged by the check, in the run's process")  # pragma: no cover
