"""The passive analysers' results as checks of their own: ``passive::contract`` and so on.

They run on the controller at the end of the run, over the exchanges of every
process, and are reported like any check: in the terminal (the summary line and
short summary count them), as test cases in JUnit and pytest-html, in the
verdict's causes and in the exit code.
"""

from __future__ import annotations

import time

import pytest

from pytest_deploycheck.errors import DeployCheckError
from pytest_deploycheck.evidence import ANALYSERS, Analyser, AnalyserResult, RunEvidence
from pytest_deploycheck.evidence.review import load_document, read_exchanges, review
from pytest_deploycheck.plugin.context import DeployContext
from pytest_deploycheck.plugin.synthetic import report_check
from pytest_deploycheck.properties import CAUSE, EXAMINED, HEADER_POLICY_CAUSE, RECOMMENDATION
from pytest_deploycheck.run.client import DeployClient, Exchange

SUITE = "passive"  # the report entries' "file": passive::contract


def review_the_run(session: pytest.Session, context: DeployContext) -> list[AnalyserResult]:
    """Examine every answer of the run and report one check per analyser."""
    if context.state_dir is None or context.env is None or not context.state_dir.is_dir():
        return []
    started = time.perf_counter()
    analysers = [cls() for cls in ANALYSERS]
    exchanges = read_exchanges(context.state_dir, own=context.exchanges)
    if not exchanges:
        return []  # no check asked the API (an infra run, the project's own tests): not judged
    try:
        results = _review(context, analysers, exchanges)
    except DeployCheckError as exc:
        results = [AnalyserResult(a.name, a.title, failures=[str(exc)]) for a in analysers]
    except Exception as exc:  # noqa: BLE001  (a bug of ours fails the checks, naming it)
        results = [AnalyserResult.internal_error(a.name, a.title, exc) for a in analysers]
    duration = (time.perf_counter() - started) / max(len(results), 1)
    for result in results:
        _report(session, result, duration, context)
    return results


def prepare_evidence(context: DeployContext, client: DeployClient) -> RunEvidence:
    """What the review needs besides the answers (the OpenAPI document, the validator
    library), had while the run waits on the target's job: the review only reviews."""
    import jsonschema  # noqa: F401  (the contract's body validators)

    evidence = RunEvidence(env=context.reach())
    load_document(evidence, client)
    return evidence


def _review(
    context: DeployContext, analysers: list[Analyser], exchanges: list[Exchange]
) -> list[AnalyserResult]:
    if not any(e.status is not None for e in exchanges):
        why = f"nothing to examine: none of the run's {len(exchanges)} requests was answered"
        return [AnalyserResult(a.name, a.title, skipped=why) for a in analysers]
    evidence = context.prepared_evidence
    if not isinstance(evidence, RunEvidence):
        with context.client() as client:
            evidence = prepare_evidence(context, client)
    return review(analysers, exchanges, evidence)


def _cause(result: AnalyserResult) -> str:
    """What the verdict groups this check's failure with: the header policy's items as the
    security suite names them, the first failing answer, or the first problem."""
    if result.name == "headers" and result.causes:
        return HEADER_POLICY_CAUSE + ", ".join(sorted(result.causes))
    if result.causes:
        return result.causes[0]
    return result.failures[0].splitlines()[0]


def _report(
    session: pytest.Session, result: AnalyserResult, duration: float, context: DeployContext
) -> None:
    redact = context.redactor.text
    properties: list[tuple[str, object]] = [
        (RECOMMENDATION, redact(text)) for text in result.recommendations
    ]
    if result.failures:  # the verdict's cause: the first problem, not the count
        properties.append((CAUSE, redact(_cause(result))))
    sections = []
    if result.recommendations:
        sections.append(("deploycheck: recommendations", redact("\n".join(result.recommendations))))
    if result.outcome == "passed":
        sections.append(("deploycheck: examined", result.message()))
        properties.append((EXAMINED, f"{result.examined} answers"))
    report_check(
        session,
        f"{SUITE}::{result.name}",
        result.outcome,  # type: ignore[arg-type]
        redact(result.message()) if result.outcome != "passed" else "",
        properties=properties,
        sections=sections,
        duration=duration,
    )
