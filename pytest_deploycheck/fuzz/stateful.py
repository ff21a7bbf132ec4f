"""The opt-in stateful run: schemathesis' state machine over the document's OpenAPI links,
each step sent through the run's client (see :class:`.runner.FuzzRun`)."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_deploycheck.fuzz.runner import ExceptionGroups, FuzzRun


def run_stateful(run: FuzzRun, steps: int) -> None:
    """Sequences of linked calls; failures land in ``run.report`` like any example's."""
    import time

    from hypothesis import HealthCheck, Phase, settings
    from hypothesis import seed as seed_of
    from schemathesis import Response
    from schemathesis.core.failures import Failure

    schema = run.schema
    if not schema.operations_with_incoming_links():
        pytest.skip("the OpenAPI document declares no links between operations: nothing to chain")
    machine = schema.as_state_machine()
    started = time.monotonic()
    run._deadline = started + run.budget_s

    class ThroughTheRunsClient(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": run.auth_headers}

        def call(self, case: Any, **kwargs: Any) -> Any:
            if run.auth_headers:
                case.headers = {**(case.headers or {}), **run.auth_headers}
            response = run._send(case)
            if response is None:
                raise _OutOfTime
            return Response.from_any(response)

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
        seed_of(run.seed)(ThroughTheRunsClient.TestCase)
        ThroughTheRunsClient.run(settings=configured)
    except _OutOfTime:
        run.report.out_of_time = True
    except (Failure, ExceptionGroups) as exc:  # one failure, or schemathesis' FailureGroup
        for failure in getattr(exc, "exceptions", [exc]):
            if isinstance(failure, Failure):
                run._add(
                    str(getattr(failure, "operation", "stateful")),
                    f"stateful: {failure.title}",
                    " ".join(str(failure.message).split())[:400],
                    None,
                )
            else:
                raise
    finally:
        run.report.seconds = time.monotonic() - started


class _OutOfTime(Exception):
    pass
