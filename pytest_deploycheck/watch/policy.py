"""Rounds of checks and the judge of the window, after Argo Rollouts' AnalysisRun.

A round fails when any of its checks failed; a round where the target could not be
reached, or where no check passed or failed (nothing examined), is *no data*, never
good. The window is

- **red** once more than ``failure_limit`` rounds failed in total, or more than
  ``consecutive_failure_limit`` in a row (it stops there: Argo's early abort);
- **inconclusive** once more than ``unreachable_limit`` rounds in a row had no data, or
  when it ends with fewer than ``min_rounds`` rounds that judged something;
- **green** otherwise: failed rounds within the limits are reported, not hidden.

Each check keeps its own history: when it first failed, how often, the evidence of its
first failure (the message, the exchange, a curl replay) and one letter per round for
the report's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pytest_deploycheck.config.schema import WatchSettings

Outcome = Literal["passed", "failed", "skipped"]
# One letter per round in a check's history: the report's timeline.
LETTER = {"passed": "P", "failed": "F", "skipped": "S"}
NOT_RUN = "-"


@dataclass
class CheckRun:
    """One check in one round."""

    check: str  # the check's node id, or ``watch::memory`` and the like
    outcome: Outcome
    message: str = ""  # why it failed, or what it examined / why it was skipped
    evidence: str = ""  # the failing exchange, rendered (redacted)
    replay: str = ""  # a curl command that replays it
    unreachable: bool = False  # failed because the target could not be reached
    duration_s: float = 0.0


@dataclass
class Round:
    number: int  # from 1
    started_at: float  # epoch seconds
    runs: list[CheckRun]
    duration_s: float = 0.0
    worst_ms: float | None = None  # the slowest answer of the round
    worst_endpoint: str | None = None

    @property
    def failed(self) -> list[CheckRun]:
        return [run for run in self.runs if run.outcome == "failed"]

    @property
    def passed(self) -> list[CheckRun]:
        return [run for run in self.runs if run.outcome == "passed"]

    @property
    def outcome(self) -> Literal["passed", "failed", "no data"]:
        failed = self.failed
        if failed and not (all(run.unreachable for run in failed) and not self.passed):
            return "failed"
        if not self.passed:
            return "no data"  # unreachable, or nothing examined: never good
        return "passed"


@dataclass
class CheckHistory:
    """What one check did over the window."""

    check: str
    rounds: bytearray = field(default_factory=bytearray)  # one LETTER per round
    failed_rounds: int = 0
    first_failed_round: int | None = None
    first_failed_at: float | None = None
    last_failed_at: float | None = None
    first_failure: CheckRun | None = None
    last_message: str = ""  # the last thing it said (why it skipped, what it examined)

    def add(self, number: int, started_at: float, run: CheckRun | None) -> None:
        if len(self.rounds) < number - 1:
            self.rounds.extend(NOT_RUN.encode() * (number - 1 - len(self.rounds)))
        if run is None:
            self.rounds.extend(NOT_RUN.encode())
            return
        self.rounds.extend(LETTER[run.outcome].encode())
        self.last_message = run.message
        if run.outcome == "failed":
            self.failed_rounds += 1
            self.last_failed_at = started_at
            if self.first_failure is None:
                self.first_failure = run
                self.first_failed_round = number
                self.first_failed_at = started_at

    @property
    def ran(self) -> int:
        return sum(1 for letter in self.rounds if chr(letter) in "PF")

    @property
    def passed_rounds(self) -> int:
        return self.rounds.count(b"P")


@dataclass
class Decision:
    verdict: Literal["green", "red", "inconclusive"]
    reason: str


class WatchJudge:
    """Takes the rounds as they come; says when the window is decided before its end."""

    def __init__(self, policy: WatchSettings) -> None:
        """``policy``: the env's ``watch`` settings (its limits)."""
        self.policy = policy
        self.rounds = 0
        self.failed_rounds = 0
        self.no_data_rounds = 0
        self.judged_rounds = 0  # rounds that passed or failed
        self.consecutive_failed = 0
        self.consecutive_no_data = 0
        self.histories: dict[str, CheckHistory] = {}
        self.decided: Decision | None = None
        self.last_round: Round | None = None

    def add(self, round_: Round) -> Decision | None:
        """Record a round; the decision when it ends the window early (red, or no data for
        too long)."""
        self.rounds += 1
        self.last_round = round_
        seen = {run.check: run for run in round_.runs}
        for check in seen.keys() - self.histories.keys():
            self.histories[check] = CheckHistory(check)
        for check, history in self.histories.items():
            history.add(round_.number, round_.started_at, seen.get(check))
        outcome = round_.outcome
        if outcome == "no data":
            self.no_data_rounds += 1
            self.consecutive_no_data += 1
            self.consecutive_failed = 0
        else:
            self.judged_rounds += 1
            self.consecutive_no_data = 0
            if outcome == "failed":
                self.failed_rounds += 1
                self.consecutive_failed += 1
            else:
                self.consecutive_failed = 0
        policy = self.policy
        if self.failed_rounds > policy.failure_limit:
            self.decided = Decision(
                "red",
                f"{self.failed_rounds} rounds failed, more than the {policy.failure_limit} "
                "allowed (watch.failure_limit)",
            )
        elif self.consecutive_failed > policy.consecutive_failure_limit:
            self.decided = Decision(
                "red",
                f"{self.consecutive_failed} rounds in a row failed, more than the "
                f"{policy.consecutive_failure_limit} allowed (watch.consecutive_failure_limit)",
            )
        elif self.consecutive_no_data > policy.unreachable_limit:
            self.decided = Decision(
                "inconclusive",
                f"{self.consecutive_no_data} rounds in a row gave no data (the target "
                f"unreachable, or nothing examined), more than the {policy.unreachable_limit} "
                "allowed (watch.unreachable_limit)",
            )
        return self.decided

    def finish(self, ended: str) -> Decision:
        """The window's verdict once it ends (its time is up, or it was stopped: ``ended``)."""
        if self.decided is not None:
            return self.decided
        policy = self.policy
        if self.judged_rounds < policy.min_rounds:
            return Decision(
                "inconclusive",
                f"{ended} after {self.judged_rounds} rounds that judged the target, fewer than "
                f"the {policy.min_rounds} needed (watch.min_rounds)",
            )
        within = f"; {self.failed_rounds} failed, within the limits" if self.failed_rounds else ""
        no_data = f"; {self.no_data_rounds} gave no data" if self.no_data_rounds else ""
        return Decision("green", f"{ended}: {self.judged_rounds} rounds judged{within}{no_data}")
