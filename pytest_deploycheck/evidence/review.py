"""Run every analyser over every answer of the run, once, and fold what they found."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pytest_deploycheck.evidence.finding import (
    Analyser,
    AnalyserResult,
    Finding,
    RunEvidence,
    fold,
)
from pytest_deploycheck.run.client import Exchange

EXCHANGES_PREFIX = "exchanges-"


def write_exchanges(state_dir: Path, exchanges: Iterable[Exchange]) -> None:
    """This process's exchanges, for the controller's review (one file per process)."""
    path = state_dir / f"{EXCHANGES_PREFIX}{os.getpid()}.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        for exchange in exchanges:
            out.write(json.dumps(exchange.to_dict(), ensure_ascii=False) + "\n")


def read_exchanges(state_dir: Path, own: Iterable[Exchange] = ()) -> list[Exchange]:
    """The run's exchanges, in the order they started: the other processes' files (xdist
    workers') and ``own``, this process's, which it need not write to read back."""
    found: list[Exchange] = list(own)
    mine = f"{EXCHANGES_PREFIX}{os.getpid()}.jsonl"
    for path in sorted(state_dir.glob(f"{EXCHANGES_PREFIX}*.jsonl")):
        if path.name == mine:
            continue  # this process's are ``own``
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                found.append(Exchange.from_dict(json.loads(line)))
            except (ValueError, TypeError, KeyError):
                continue
    found.sort(key=lambda e: e.started_at)
    return found


def review(
    analysers: Iterable[Analyser], exchanges: list[Exchange], evidence: RunEvidence
) -> list[AnalyserResult]:
    """One result per analyser over the answers from the target: a bug in one analyser fails
    that analyser, naming the bug; one that had nothing to examine is skipped, saying why."""
    answers = [e for e in exchanges if evidence.is_target(e)]
    return [_one(analyser, exchanges, answers, evidence) for analyser in analysers]


def _one(
    analyser: Analyser, exchanges: list[Exchange], answers: list[Exchange], evidence: RunEvidence
) -> AnalyserResult:
    name, title = analyser.name, analyser.title
    try:
        why_not = analyser.prepare(evidence)
        if why_not is not None:
            return AnalyserResult(name, title, skipped=why_not)
        findings: list[tuple[Exchange, Finding]] = []
        examined = 0
        for exchange in answers:
            applies = getattr(analyser, "applies", None)
            if applies is not None and not applies(exchange, evidence):
                continue
            examined += 1
            findings.extend((exchange, f) for f in analyser.examine(exchange, evidence))
    except Exception as exc:  # noqa: BLE001  (a bug of ours is a failed check, never a gap)
        return AnalyserResult.internal_error(name, title, exc)
    if examined == 0:
        return AnalyserResult(
            name, title, skipped=_nothing_to_examine(analyser, exchanges, answers, evidence)
        )
    return fold(name, title, findings, examined, evidence.env.base_url)


def _nothing_to_examine(
    analyser: Analyser, exchanges: list[Exchange], answers: list[Exchange], evidence: RunEvidence
) -> str:
    received = sum(1 for e in exchanges if e.status is not None)
    if not answers:
        return (
            f"nothing to examine: none of the run's {received} answers came from the target "
            f"{evidence.env.base_url}"
        )
    return f"nothing to examine: none of the target's {len(answers)} answers {analyser.scope}"


def load_document(evidence: RunEvidence, client: Any) -> None:
    """Fill in the OpenAPI document, or why there is none."""
    from pytest_deploycheck.errors import DeployCheckError
    from pytest_deploycheck.evidence.openapi import load

    if not evidence.env.passive.contract:
        return
    try:
        evidence.document = load(evidence.env, client)
    except DeployCheckError as exc:
        evidence.document_problem = f"contract not checked: {exc}"
