"""The ``schema_fuzzer`` fixture's object: the env's document, selection, seed and sign-in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pytest

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.errors import CheckFailed, DeployCheckError, TargetUnreachable
from pytest_deploycheck.fuzz.runner import FuzzReport, FuzzRun, is_protected, is_readable
from pytest_deploycheck.run.client import DeployClient
from pytest_deploycheck.run.heap import freeze_what_is_loaded
from pytest_deploycheck.run.store import RunStore


class FuzzContext(Protocol):
    """What fuzzing needs of the run (the plugin's DeployContext is one)."""

    @property
    def destructive_allowed(self) -> tuple[bool, str]: ...

    @property
    def store(self) -> RunStore: ...

    def reach(self) -> TargetEnv: ...

    def client(self) -> DeployClient: ...


@dataclass
class Fuzzed:
    """A fuzz run's report, and why the smoke user could not sign in (its protected
    operations then left out): what the checking process judges."""

    report: FuzzReport
    sign_in_failed: DeployCheckError | None = None
    ahead: bool = False  # fuzzed in a process of its own from the run's start (fuzz.ahead)


class SchemaFuzzer:
    """Runs schemathesis against the target through the run's client (see :mod:`.runner`)."""

    def __init__(
        self,
        context: FuzzContext,
        sign_in: Callable[[], str],
        seed: int,
        recommend: Callable[[str], None],
        section: Callable[[str], None],
        examined: Callable[[str], None] = lambda what: None,
        ahead: Callable[[str], Fuzzed | None] = lambda mode: None,
    ) -> None:
        self.context = context
        # The run in ``mode`` already done elsewhere (the smoke subset, in a process of its
        # own from the run's start), or None: it is done here.
        self.ahead = ahead
        self.env = context.reach()
        self.sign_in = sign_in  # the smoke user's token, asked for only when an operation needs one
        self.seed = seed
        self.recommend = recommend
        self.section = section
        self.examined = examined
        self._schema: Any = None

    def schema(self) -> Any:
        """The target's document as a schemathesis schema (one clear message when it cannot be)."""
        if self._schema is None:
            import schemathesis

            from pytest_deploycheck.evidence.openapi import (
                DocumentNotServed,
                DocumentUnavailable,
                load,
            )

            contract = self.env.contract
            with self.context.client() as client:
                try:
                    document = load(self.env, client)
                except DocumentNotServed as exc:
                    if "openapi_path" in contract.model_fields_set or contract.openapi_file:
                        raise CheckFailed(
                            f"schema fuzzing needs the OpenAPI document: {exc}"
                        ) from None
                    # The default place, and nothing there: this service serves no document.
                    pytest.skip(f"schema fuzzing: {exc}")
                except DocumentUnavailable as exc:
                    raise CheckFailed(f"schema fuzzing needs the OpenAPI document: {exc}") from None
            try:
                self._schema = schemathesis.openapi.from_dict(document.raw)
                freeze_what_is_loaded()  # schemathesis and hypothesis, imported just now
            except Exception as exc:  # schemathesis' own loader errors
                raise CheckFailed(
                    f"schemathesis cannot read the OpenAPI document from {document.source}: "
                    f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                ) from None
        return self._schema

    def run(self, mode: str) -> FuzzReport:
        """``mode`` "smoke" (a few examples per operation) or "full" (the env's fuzz budget)."""
        fuzzed = self.ahead(mode)
        return self.judge(fuzzed if fuzzed is not None else self.fuzz(mode))

    def run_stateful(self) -> FuzzReport:
        """The deeper run over the document's OpenAPI links (fuzz.stateful)."""
        from pytest_deploycheck.fuzz.stateful import run_stateful

        def stateful(run: FuzzRun) -> FuzzReport:
            run_stateful(run, self.env.fuzz.stateful_steps)
            return run.report

        return self.judge(self.fuzz("stateful", stateful))

    def fuzz(
        self, mode: str, how: Callable[[FuzzRun], FuzzReport] = lambda run: run.run()
    ) -> Fuzzed:
        """Fuzz the selected operations (``how``: the run's kind), not yet judged: whatever
        process does it, the check that asked judges it (:meth:`judge`)."""
        from pytest_deploycheck.fuzz.selection import select

        allowed, _ = self.context.destructive_allowed
        selection = select(self.schema(), self.env, allowed)
        needs_token = any(
            is_protected(result.ok())
            for result in selection.schema.get_all_operations()
            if is_readable(result)
        )
        token: str | None = None
        sign_in_failed: DeployCheckError | None = None
        if needs_token:
            try:
                token = self.sign_in()
            except TargetUnreachable:
                raise
            except DeployCheckError as exc:  # the public operations are fuzzed all the same
                sign_in_failed = exc
        with self.context.client() as client:
            run = FuzzRun(
                selection.schema,
                self.env,
                client,
                token,
                seed=self.seed,
                mode=mode,
                left_out=selection.left_out,
                on_created=lambda kind, item: self.context.store.record("smoke", kind, item),
                signed_out=None
                if sign_in_failed is None
                else str(sign_in_failed).splitlines()[0][:300],
            )
            return Fuzzed(how(run), sign_in_failed)

    def judge(self, fuzzed: Fuzzed) -> FuzzReport:
        """The check's verdict on a run: its section, recommendations and failures."""
        report, sign_in_failed = fuzzed.report, fuzzed.sign_in_failed
        for gap in report.gaps:
            self.recommend(gap)
        lines = [report.summary(), *(f"left out: {why}" for why in report.left_out)]
        if fuzzed.ahead:
            lines.append("fuzzed ahead: in a process of its own, from the run's start (fuzz.ahead)")
        self.section("\n".join(lines))
        self._judge_coverage(report, sign_in_failed)
        self.examined(f"{report.sent} requests to {len(report.reached)} operations")
        if report.failures:
            first = report.failures[0]
            cause = f"schema fuzzing: {first.operation}: {first.check}"
            # Led by the failing answer, it is one cause with the checks that answer broke.
            raise CheckFailed(
                report.message(), cause=f"{first.answer}: {cause}" if first.answer else cause
            )
        if sign_in_failed is not None:
            # What it fuzzed was fine, but the protected operations were not fuzzed at all.
            raise CheckFailed(
                f"{sign_in_failed}\n(so the protected operations were not fuzzed; "
                f"{report.summary()}, nothing wrong with those)",
                cause=getattr(sign_in_failed, "cause", None) or str(sign_in_failed).splitlines()[0],
            )
        return report

    def _judge_coverage(self, report: FuzzReport, sign_in_failed: DeployCheckError | None) -> None:
        """A run that fuzzed nothing never passes: a skip that says why, or a failure when the
        env asks for a minimum (fuzz.min_operations)."""
        fuzzed = len(report.reached)  # answered: an operation in scope is not one examined
        minimum = self.env.fuzz.min_operations
        why = "; ".join(report.left_out) or "the document declares no operation"
        if minimum and fuzzed < minimum:
            raise CheckFailed(
                f"schema fuzzing fuzzed {fuzzed} operations, fewer than fuzz.min_operations = "
                f"{minimum} ({report.summary()}; left out: {why})"
            )
        if fuzzed == 0 and not report.failures:
            if sign_in_failed is not None:
                raise sign_in_failed
            # reported at the check's own line, not ours
            raise pytest.skip.Exception(
                f"nothing to fuzz: {report.summary()}; left out: {why}", _use_item_location=True
            )
