"""What an analyser says about an answer, and how many answers fold into one result."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.errors import raised_at
from pytest_deploycheck.evidence.replay import curl_command
from pytest_deploycheck.run.client import Exchange, endpoint_of, path_under

Level = Literal["fail", "recommend"]
WHERE = "{where}"  # in a finding's message: replaced by the answers it was seen on
_SHOWN_PLACES = 6


@dataclass(frozen=True)
class Finding:
    """One thing wrong with one answer. Findings with the same ``key`` are one item."""

    key: str
    level: Level
    message: str  # may contain WHERE
    # What the verdict groups it by, when other checks may fail from the same thing: the
    # failing answer (``exchange_cause``) or a policy item.
    cause: str | None = None


@dataclass
class RunEvidence:
    """What the analysers know about the run besides the exchange in hand."""

    env: TargetEnv  # with the concrete base URL
    document: object | None = None  # the OpenAPI document, once loaded (evidence.openapi)
    document_problem: str | None = None  # why there is none

    def is_target(self, exchange: Exchange) -> bool:
        """An answer from the target: its origin and base path (normalised, as httpx sends)."""
        return (
            exchange.status is not None and path_under(exchange.url, self.env.base_url) is not None
        )

    def path_of(self, exchange: Exchange) -> str:
        """The exchange's path from the base URL, without its query."""
        path = path_under(exchange.url, self.env.base_url)
        return path if path is not None else exchange.url.split("?", 1)[0].split("#", 1)[0] or "/"


def switched_off(evidence: RunEvidence, name: str) -> str | None:
    """Why analyser ``name`` does not run in this env (``passive.<name> = false``), or None."""
    if getattr(evidence.env.passive, name):
        return None
    return f"the {name} check is off for env {evidence.env.name!r} (passive.{name})"


class Analyser(Protocol):
    name: str  # the report entry is passive::<name>
    title: str  # what it checks, in a few words
    # Which answers it examines, for "nothing to examine: none of the answers …"; an
    # analyser with an ``applies(exchange, evidence)`` method examines only those.
    scope: str

    def prepare(self, evidence: RunEvidence) -> str | None:
        """Why this analyser cannot run in this env (it is then reported skipped), or None."""

    def examine(self, exchange: Exchange, evidence: RunEvidence) -> Iterable[Finding]:
        """What is wrong with one answer (only answers from the target are given)."""


@dataclass
class _Item:
    finding: Finding
    seen_on: list[Exchange] = field(default_factory=list)

    def render(self, base_url: str) -> str:
        places: dict[str, int] = {}
        for exchange in self.seen_on:
            name = f"{endpoint_of(exchange.method, exchange.url, base_url)} -> {exchange.status}"
            places[name] = places.get(name, 0) + 1
        answers = len(self.seen_on)
        where = f"{answers} answer{'s' if answers != 1 else ''}"
        shown = [f"{name} (x{n})" if n > 1 else name for name, n in list(places.items())]
        more = len(shown) - _SHOWN_PLACES
        listed = ", ".join(shown[:_SHOWN_PLACES]) + (f", and {more} more" if more > 0 else "")
        first = self.seen_on[0]
        return (
            self.finding.message.replace(WHERE, where)
            + f"\n    seen on: {listed}"
            + f"\n    replay: {curl_command(first)}"
        )


@dataclass
class AnalyserResult:
    """One analyser's verdict over the run: its failures and recommendations, each once."""

    name: str
    title: str
    examined: int = 0
    skipped: str | None = None
    failures: list[str] = field(default_factory=list)
    recommendations: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)  # of the failures, in order, each once

    @classmethod
    def internal_error(cls, name: str, title: str, exc: BaseException) -> AnalyserResult:
        """A bug of the plugin's: a failed check that names it, never a vanished one."""
        return cls(name, title, failures=[internal_error(f"the {name} check", exc)])

    @property
    def outcome(self) -> str:
        if self.skipped is not None:
            return "skipped"
        return "failed" if self.failures else "passed"

    def message(self) -> str:
        if self.skipped is not None:
            return self.skipped
        if not self.failures:
            answers = f"{self.examined} answer{'s' if self.examined != 1 else ''}"
            return f"{self.title}: {answers} examined, nothing wrong"
        count = len(self.failures)
        head = (
            f"{self.title}: {count} problem{'s' if count != 1 else ''} in the "
            f"{self.examined} answers the run received"
        )
        return head + "\n" + "\n".join(f"  - {failure}" for failure in self.failures)


def internal_error(what: str, exc: BaseException) -> str:
    """The line that names a bug of ours: what failed, the exception, the plugin's version."""
    from pytest_deploycheck._version import __version__

    where = raised_at(exc)
    return (
        f"internal error in pytest-deploycheck {__version__}: {what} raised "
        f"{type(exc).__name__}: {exc}{f' at {where}' if where else ''}; this is a bug of the "
        "plugin, not of the target: please report it"
    )


def fold(
    name: str, title: str, findings: Iterable[tuple[Exchange, Finding]], examined: int, base: str
) -> AnalyserResult:
    """Findings -> one result: each item once, with the answers it was seen on."""
    items: dict[str, _Item] = {}
    for exchange, finding in findings:
        items.setdefault(finding.key, _Item(finding)).seen_on.append(exchange)
    result = AnalyserResult(name, title, examined)
    for item in items.values():
        target = result.failures if item.finding.level == "fail" else result.recommendations
        target.append(item.render(base))
        cause = item.finding.cause
        if item.finding.level == "fail" and cause and cause not in result.causes:
            result.causes.append(cause)
    return result


def exchange_cause(exchange: Exchange, what: str) -> str:
    """A cause that starts with the failing answer, as an active check's message does, so the
    verdict counts the checks that one answer broke as one cause."""
    return f"{exchange.method} {exchange.url} -> {exchange.status}: {what}"
