"""The opt-in stateful run: schemathesis' state machine over the document's OpenAPI links,
each step sent through the run's client (see :class:`.runner.FuzzRun`)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from pytest_deploycheck.fuzz.runner import ExceptionGroups, FuzzRun, is_readable


class _Stop(Exception):
    """The run's time budget ran out, or the target could not be reached."""


def run_stateful(run: FuzzRun, steps: int) -> None:
    """Sequences of linked calls; failures land in ``run.report`` like any example's."""
    from hypothesis import HealthCheck, Phase, seed, settings
    from schemathesis import Response
    from schemathesis.core.failures import Failure

    schema = run.schema
    if not schema.operations_with_incoming_links():
        pytest.skip("the OpenAPI document declares no links between operations: nothing to chain")
    run.report.operations = [r.ok().label for r in schema.get_all_operations() if is_readable(r)]
    started = time.monotonic()
    run._deadline = started + run.budget_s
    steps_sent: list[Any] = []  # the exchanges of the scenario being run

    class ThroughTheRunsClient(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            steps_sent.clear()

        def call(self, case: Any, **kwargs: Any) -> Any:
            if run._done():
                raise _Stop
            if run.auth_headers:
                case.headers = {**(case.headers or {}), **run.auth_headers}
            sent = run._send(case)
            if sent is None:
                raise _Stop
            steps_sent.append(sent[1])
            run.report.reached.add(case.operation.label)
            return Response.from_any(sent[0])

    configured = settings(
        max_examples=run.examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    try:
        seed(run.seed)(ThroughTheRunsClient)  # hypothesis reads the seed off the factory
        ThroughTheRunsClient.run(settings=configured)
    except _Stop:
        run.report.out_of_time = run._stopped is None
    except (Failure, ExceptionGroups) as exc:  # one failure, or schemathesis' FailureGroup
        failures = [f for f in getattr(exc, "exceptions", [exc]) if isinstance(f, Failure)]
        if not failures:
            raise
        scenario = " -> ".join(
            f"{e.method} {e.url.split('?', 1)[0]} {e.status}" for e in steps_sent
        )
        last = steps_sent[-1] if steps_sent else None
        for failure in failures:
            run._failed(
                f"{getattr(failure, 'operation', 'a step')}: stateful",
                failure,
                last.status if last is not None else None,
                last,
                after=f" (steps: {scenario})",
            )
    finally:
        run.report.seconds = time.monotonic() - started
    if run._stopped is not None:
        raise run._stopped
