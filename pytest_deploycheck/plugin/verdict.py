"""The verdict at a glance: one block at the end of every run, the same in HTML, JUnit and JSON.

What the run judged (env, target, versions), how each suite fared, the
journey's timeline, latency per endpoint, the security grade, what cleanup
did, and for a red run the **causes**: failures that share a cause (the same
failing answer, the same failed shared fixture, the same policy item) are one
cause with the checks it broke listed under it. Two messages are the same
cause when they are equal once the parts that vary per check are masked
(ids, numbers, durations).

Facts that only a worker saw (latencies, the timeline, the deployed version)
reach the controller through ``facts-<pid>.json`` files in the run's state
directory (:func:`write_facts`).
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pytest_deploycheck._version import __version__

# Exit codes (README, "In a CI post-deploy stage").
EXIT_GREEN = 0
EXIT_CHECKS_FAILED = 1
EXIT_INTERRUPTED = 2
EXIT_USAGE = 4
EXIT_UNREACHABLE = 6
EXIT_INCONCLUSIVE = 7  # a watch window that could not judge (no data, too few rounds)

_VARYING = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # uuids
    r"|\b[0-9a-f]{10,}\b"  # run ids, hashes
    r"|\d+(?:\.\d+)?"  # numbers: ports, times, counts
)


@dataclass
class Cause:
    """One reason the run is red, and the checks it broke."""

    summary: str
    kind: str  # "unreachable", "failed" (reached, but wrong), "error" (a fixture failed)
    checks: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    verdict: str  # "green", "red", "unreachable", "interrupted", "nothing ran", "inconclusive"
    exit_code: int
    env: str | None
    target: str | None
    production: bool
    expected_version: str | None
    deployed_version: str | None
    plugin_version: str
    counts: dict[str, dict[str, int]]
    causes: list[Cause]
    timeline: list[dict[str, Any]]
    latency: list[dict[str, Any]]
    grade: dict[str, Any] | None
    cleanup: list[str]
    recommendations: list[str]
    duration_s: float
    deck: str | None = None
    suites_sha: str | None = None
    examined: dict[str, str] = field(default_factory=dict)  # nodeid -> what a passing check saw
    watch: dict[str, Any] | None = None  # the watch window (--watch): rounds, failures, timeline
    baseline: dict[str, Any] | None = None  # the comparison with the last green release
    journey_broke: dict[str, str] | None = None  # the step where the journey broke, and why

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def headline(self) -> str:
        where = f"env {self.env} at {self.target}" if self.env else "no target"
        passed = sum(c.get("passed", 0) for c in self.counts.values())
        failed = sum(c.get("failed", 0) + c.get("error", 0) for c in self.counts.values())
        watch = self.watch if self.watch and self.watch.get("started") else None
        if self.verdict == "green" and watch:
            return (
                f"GREEN: the deployment works and held through the watch ({where}; "
                f"{watch['rounds']} rounds over {watch['watched_s']:.0f} s, {passed} checks passed)"
            )
        if self.verdict == "green":
            return f"GREEN: the deployment works ({where}; {passed} checks passed)"
        if self.verdict == "inconclusive":
            reason = (self.watch or {}).get("reason", "the watch could not judge")
            return f"INCONCLUSIVE: {reason} ({where})"
        if self.verdict == "unreachable":
            return f"RED: the target could not be reached ({where})"
        if self.verdict == "interrupted":
            return f"INTERRUPTED: the run was stopped before its verdict ({where})"
        if self.verdict == "nothing ran":
            return f"NO VERDICT: no check ran ({where})"
        causes = len(self.causes)
        return (
            f"RED: {failed} checks failed from {causes} cause{'s' if causes != 1 else ''} ({where})"
        )

    def render_lines(self) -> list[str]:
        """The terminal block."""
        lines = [self.headline()]
        version = self.deployed_version or "not read"
        expected = f", expected {self.expected_version}" if self.expected_version else ""
        lines.append(
            f"target: {self.target or '-'}  production: {'yes' if self.production else 'no'}  "
            f"version: {version}{expected}  pytest-deploycheck {self.plugin_version}"
        )
        for suite, counts in sorted(self.counts.items()):
            shown = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()) if n)
            lines.append(f"  {suite:<14} {shown}")
        for number, cause in enumerate(self.causes, 1):
            lines.append(f"cause {number}: {cause.summary}")
            for check in cause.checks[:8]:
                lines.append(f"    broke {check}")
            if len(cause.checks) > 8:
                lines.append(f"    … and {len(cause.checks) - 8} more")
        lines.extend(self._watch_lines())
        lines.extend(self._baseline_lines())
        if self.timeline:
            steps = " -> ".join(f"{t['status']} {t['at_s']:.1f}s" for t in self.timeline)
            lines.append(f"journey: upload -> {steps}")
        if self.deck:
            lines.append(f"deck: {self.deck}")
        if self.latency:
            shown = ", ".join(
                f"{row['endpoint']} {row['median_ms']:.0f} ms" for row in self.latency[:8]
            )
            lines.append(f"latency (median): {shown}")
        if self.grade:
            lines.append(f"security: {self.grade['headline']}")
        return lines

    def _watch_lines(self) -> list[str]:
        watch = self.watch
        if not watch:
            return []
        if not watch.get("started"):
            return [f"watch: not started: {watch.get('not_started', '')}"]
        lines = [
            f"watch ({watch['window']}): {watch['rounds']} of {watch['planned_rounds']} rounds "
            f"over {watch['watched_s']:.0f} s, {watch['failed_rounds']} failed, "
            f"{watch['no_data_rounds']} no data; {watch['verdict'].upper()}: {watch['reason']}"
        ]
        for failure in watch["failures"][:8]:
            lines.append(
                f"  {failure['check']}: failed in {failure['failed_rounds']} of "
                f"{failure['rounds']} rounds from round {failure['first_round']} "
                f"({failure['first_failed_at']}, {failure['first_failed_after_s']:.0f} s in)"
            )
            evidence = str(failure.get("evidence") or "").splitlines()
            if evidence and re.match(r"\d\d:\d\d:\d\d", evidence[0]):
                # the failing exchange's first line: method, URL, status, time
                lines.append(f"    evidence: {evidence[0].split(' ', 1)[-1]}")
            if failure.get("replay"):
                lines.append(f"    replay: {failure['replay']}")
        return lines

    def _baseline_lines(self) -> list[str]:
        baseline = self.baseline
        if not baseline or "why" not in baseline:
            return []
        against = baseline.get("against")
        if not against:
            return [f"baseline: {baseline['why']} ({baseline['store']})"]
        rows = baseline.get("endpoints", [])
        slower = [r["endpoint"] for r in rows if r["outcome"] == "regression"]
        unsure = sum(1 for r in rows if r["outcome"] == "inconclusive")
        said = f"{len(slower)} slower: {', '.join(slower)}" if slower else "none slower"
        extra = f", {unsure} inconclusive" if unsure else ""
        return [
            f"baseline: against {against} ({baseline['why']}): {len(rows)} endpoints, "
            f"{said}{extra}; sampling took {baseline.get('sampling_s', 0):.1f} s"
        ]

    def render_html(self, budgets: dict[str, float] | None = None) -> str:
        """The banner at the top of the pytest-html report (:mod:`.report_html`)."""
        from pytest_deploycheck.plugin.report_html import render

        return render(self, budgets)

    def title(self) -> str:
        """The HTML report's title: the verdict and the env, not the file's name."""
        word = {"green": "GREEN", "inconclusive": "INCONCLUSIVE", "interrupted": "INTERRUPTED"}
        return f"{word.get(self.verdict, 'RED')}: {self.env or 'no env'} — pytest-deploycheck"


_EXCHANGE = re.compile(r"^([A-Z]+) (\S+) -> (\d{3})\b")


def cause_key(message: str) -> str:
    """What stays the same when one cause breaks several checks: the failing exchange
    (``POST /api/v1/upload/ -> 500``: its path, ids masked, whatever the host or query) when
    the message starts with one, as an active check's, a fuzz finding's and the contract
    check's do; else the message with what varies per check masked."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    exchange = _EXCHANGE.match(first)
    if exchange:
        method, url, status = exchange.groups()
        path = urlsplit(url).path if "://" in url else url.split("?", 1)[0]
        return f"{method} {_VARYING.sub('#', path)} -> {status}"
    return _VARYING.sub("#", first)


def summary_of(message: str, limit: int = 300) -> str:
    """The cause in a line; a long one keeps its head and its tail, where a driver's error
    names what broke (``… column "settings" of relation "users" does not exist``)."""
    first = message.strip().splitlines()[0] if message.strip() else "(no message)"
    if len(first) <= limit:
        return first
    tail = limit // 3
    return first[: limit - tail - 3] + " … " + first[-tail:]


def group_causes(failures: list[tuple[str, str, str]]) -> list[Cause]:
    """``(nodeid, kind, message)`` -> causes, the ones that broke most checks first."""
    causes: dict[str, Cause] = {}
    for nodeid, kind, message in failures:
        key = cause_key(message)
        cause = causes.setdefault(key, Cause(summary_of(message), kind))
        if nodeid not in cause.checks:
            cause.checks.append(nodeid)
        if kind == "unreachable":
            cause.kind = kind
    return sorted(causes.values(), key=lambda c: (c.kind != "unreachable", -len(c.checks)))


def latency_rows(samples: dict[str, list[float]]) -> list[dict[str, Any]]:
    return sorted(
        (
            {
                "endpoint": name,
                "count": len(values),
                "median_ms": statistics.median(values),
                "max_ms": max(values),
            }
            for name, values in samples.items()
            if values
        ),
        key=lambda row: -row["median_ms"],
    )


def write_facts(state_dir: Path, pid: int, facts: dict[str, Any]) -> None:
    (state_dir / f"facts-{pid}.json").write_text(json.dumps(facts))


def read_facts(state_dir: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted(state_dir.glob("facts-*.json")):
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return found


def plugin_version() -> str:
    return __version__
