"""The passive analysers' results as checks of their own: ``passive::contract`` and so on.

They run on the controller at the end of the run, over the exchanges of every
process, and are reported like any check: in the terminal (the summary line and
short summary count them), as test cases in JUnit and pytest-html, in the
verdict's causes and in the exit code.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from pytest_deploycheck.evidence import ANALYSERS, AnalyserResult, RunEvidence
from pytest_deploycheck.evidence.review import load_document, read_exchanges, review
from pytest_deploycheck.plugin.fixtures import RECOMMENDATION
from pytest_deploycheck.plugin.reporting import CAUSE
from pytest_deploycheck.run.context import DeployContext

SUITE = "passive"  # the report entries' "file": passive::contract


def review_the_run(session: pytest.Session, context: DeployContext) -> list[AnalyserResult]:
    """Examine every answer of the run and report one check per analyser."""
    if context.state_dir is None or context.env is None or not context.state_dir.is_dir():
        return []
    exchanges = read_exchanges(context.state_dir)
    if not any(e.status is not None for e in exchanges):
        return []  # nothing was answered: nothing to judge (unreachable, nothing selected)
    started = time.perf_counter()
    target = context.reach()
    evidence = RunEvidence(env=target)
    with context.client() as client:
        load_document(evidence, client)
    results = review([cls() for cls in ANALYSERS], exchanges, evidence)
    duration = (time.perf_counter() - started) / max(len(results), 1)
    for result in results:
        _report(session, result, duration, context)
    return results


def _report(
    session: pytest.Session, result: AnalyserResult, duration: float, context: DeployContext
) -> None:
    config = session.config
    nodeid = f"{SUITE}::{result.name}"
    location = (SUITE, None, result.name)
    redact = context.redactor.text
    longrepr: Any = None
    if result.outcome == "failed":
        longrepr = redact(result.message())
    elif result.outcome == "skipped":
        longrepr = (SUITE, 0, f"Skipped: {redact(result.message())}")
    properties: list[tuple[str, object]] = [
        (RECOMMENDATION, redact(text)) for text in result.recommendations
    ]
    if result.failures:  # the verdict's cause: the first problem, not the count
        properties.append((CAUSE, redact(result.failures[0].splitlines()[0])))
    sections = []
    if result.recommendations:
        sections.append(("deploycheck: recommendations", redact("\n".join(result.recommendations))))
    if result.outcome == "passed":
        sections.append(("deploycheck: passive check", result.message()))
    if result.outcome == "skipped":
        phases = [("setup", "skipped"), ("teardown", "passed")]
    else:
        phases = [("setup", "passed"), ("call", result.outcome), ("teardown", "passed")]
    for when, outcome in phases:
        report = pytest.TestReport(
            nodeid=nodeid,
            location=location,
            keywords={SUITE: 1, result.name: 1},
            outcome=outcome,  # type: ignore[arg-type]
            longrepr=longrepr if outcome != "passed" else None,
            when=when,  # type: ignore[arg-type]
            sections=sections if when == "call" else (),
            duration=duration if when == "call" else 0.0,
            user_properties=properties if when == "call" else (),
        )
        config.hook.pytest_runtest_logreport(report=report)
