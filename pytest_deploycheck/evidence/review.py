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


def read_exchanges(state_dir: Path) -> list[Exchange]:
    found: list[Exchange] = []
    for path in sorted(state_dir.glob(f"{EXCHANGES_PREFIX}*.jsonl")):
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
    """One result per analyser over the answers from the target."""
    answers = [e for e in exchanges if evidence.is_target(e)]
    results = []
    for analyser in analysers:
        why_not = analyser.prepare(evidence)
        if why_not is not None:
            results.append(AnalyserResult(analyser.name, analyser.title, skipped=why_not))
            continue
        findings: list[tuple[Exchange, Finding]] = []
        for exchange in answers:
            findings.extend((exchange, f) for f in analyser.examine(exchange, evidence))
        results.append(
            fold(analyser.name, analyser.title, findings, len(answers), evidence.env.base_url)
        )
    return results


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
