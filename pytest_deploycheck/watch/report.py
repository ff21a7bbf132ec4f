"""What the watch says: one line per round, the window's summary for the verdict, and each
check of the window reported once (pure functions over :mod:`.policy`'s records)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from pytest_deploycheck.properties import CAUSE, EXAMINED, RECOMMENDATION
from pytest_deploycheck.run.client import Exchange
from pytest_deploycheck.watch.policy import CheckHistory, Decision, Round, WatchJudge

KEPT_ROUNDS = 720  # the timeline and latency series the report keeps (the latest rounds)


@dataclass
class CheckReport:
    nodeid: str
    outcome: Literal["passed", "failed", "skipped"]
    message: str = ""
    properties: list[tuple[str, object]] = field(default_factory=list)
    sections: list[tuple[str, str]] = field(default_factory=list)
    duration: float = 0.0


def progress_line(round_: Round, planned: int) -> str:
    """One line per round."""
    failed = round_.failed
    counts = f"{len(round_.passed)} passed"
    if failed:
        counts += f", {len(failed)} failed: " + ", ".join(short(run.check) for run in failed[:3])
        if len(failed) > 3:
            counts += f" and {len(failed) - 3} more"
    skipped = sum(1 for run in round_.runs if run.outcome == "skipped")
    if skipped:
        counts += f", {skipped} skipped"
    slowest = (
        f"; slowest {round_.worst_ms:.0f} ms ({round_.worst_endpoint})"
        if round_.worst_ms is not None
        else ""
    )
    no_data = " (no data)" if round_.outcome == "no data" else ""
    return (
        f"watch round {round_.number}/{planned} "
        f"{utc(round_.started_at)}: {counts}{slowest}{no_data}"
    )


def summary(
    judge: WatchJudge,
    decision: Decision,
    ended: str,
    begin: float,
    auth_calls: int,
    latency: dict[str, deque[tuple[int, float]]],
) -> dict[str, Any]:
    """The window in the verdict's JSON: what the terminal, HTML and JSON show of it."""
    start = time.time() - (time.monotonic() - begin)
    failures = []
    for history in sorted(judge.histories.values(), key=lambda h: h.first_failed_round or 0):
        first = history.first_failure
        if first is None:
            continue
        failures.append(
            {
                "check": history.check,
                "failed_rounds": history.failed_rounds,
                "rounds": history.ran,
                "first_round": history.first_failed_round,
                "first_failed_at": utc(history.first_failed_at),
                "first_failed_after_s": round((history.first_failed_at or start) - start, 1),
                "last_failed_at": utc(history.last_failed_at),
                "message": first.message,
                "evidence": first.evidence,
                "replay": first.replay,
            }
        )
    return {
        "verdict": decision.verdict,
        "reason": decision.reason,
        "ended": ended,
        "rounds": judge.rounds,
        "failed_rounds": judge.failed_rounds,
        "no_data_rounds": judge.no_data_rounds,
        "watched_s": round(time.monotonic() - begin, 1),
        "auth_calls": auth_calls,
        "failures": failures,
        "timeline": {h.check: h.rounds[-KEPT_ROUNDS:].decode() for h in judge.histories.values()},
        "latency": {name: list(series) for name, series in latency.items()},
    }


def history_report(history: CheckHistory, decision: Decision, rounds: int) -> CheckReport:
    """How one check of the window is reported once: failed (the window is red and it failed)
    with when it started, how often and the evidence; passed with how often; skipped when it
    judged nothing."""
    check = history.check
    nodeid = check if check.startswith("watch::") else f"watch::{check}"
    first = history.first_failure
    ran = history.ran
    if first is not None:
        when = (
            f"failed in {history.failed_rounds} of {ran} rounds, first in round "
            f"{history.first_failed_round} at {utc(history.first_failed_at)}, last at "
            f"{utc(history.last_failed_at)}"
        )
        if decision.verdict == "red":
            details = [first.message, when + f" (the watch: {decision.reason})"]
            if first.evidence:
                details.append(f"evidence (round {history.first_failed_round}):\n{first.evidence}")
            if first.replay:
                details.append(f"replay: {first.replay}")
            return CheckReport(
                nodeid,
                "failed",
                "\n".join(details),
                properties=[(CAUSE, first.message.splitlines()[0] if first.message else when)],
                duration=first.duration_s,
            )
        note = f"{when}, within the watch's limits: {first.message}"
        return CheckReport(
            nodeid,
            "passed",
            properties=[(RECOMMENDATION, note), (EXAMINED, f"{ran} rounds")],
        )
    if ran == 0:
        return CheckReport(
            nodeid,
            "skipped",
            f"judged nothing in {rounds} rounds: {history.last_message or 'no data'}",
        )
    return CheckReport(
        nodeid,
        "passed",
        properties=[(EXAMINED, f"passed in {history.passed_rounds} of {ran} rounds")],
        sections=[
            ("deploycheck: examined", f"passed in {ran} rounds; last: {history.last_message}")
        ],
    )


def failing_exchange(exchanges: list[Exchange]) -> Exchange | None:
    for exchange in reversed(exchanges):
        if exchange.status is None or exchange.status >= 400:
            return exchange
    return exchanges[-1] if exchanges else None


def short(check: str) -> str:
    return check.rsplit("/", 1)[-1]


def utc(at: float | None) -> str:
    if at is None:
        return "-"
    return datetime.fromtimestamp(at, timezone.utc).strftime("%H:%M:%S UTC")
