"""How a run is reported: failures without our tracebacks, the summary, the grade, redaction.

:class:`RunReporting` is registered by the hooks module on every process; it
reads what the reports carry (under xdist: what the workers send the
controller) and writes the terminal summary and the HTML report's additions.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_deploycheck.checks.security.policy import REPORT_PROPERTY, ItemGrade, grade
from pytest_deploycheck.plugin.context import DeployContext
from pytest_deploycheck.plugin.fixtures import CONTEXT
from pytest_deploycheck.plugin.verdict import (
    EXIT_CHECKS_FAILED,
    EXIT_GREEN,
    EXIT_INCONCLUSIVE,
    EXIT_INTERRUPTED,
    EXIT_UNREACHABLE,
    Cause,
    Verdict,
    cause_key,
    group_causes,
    latency_rows,
    plugin_version,
    read_facts,
    summary_of,
)
from pytest_deploycheck.properties import CAUSE, EXAMINED, RECOMMENDATION, UNREACHABLE
from pytest_deploycheck.run.redaction import Redactor

STARTED = pytest.StashKey[float]()


def failure_message(report: pytest.TestReport) -> str:
    """The failure in a sentence: ours are whole messages; for a pytest traceback (also one
    flattened to text by redaction) its first ``E`` line, what the assertion said."""
    longrepr = report.longrepr
    if isinstance(longrepr, str):
        raised = [line[4:] for line in longrepr.splitlines() if line.startswith("E   ")]
        return raised[0] if raised else longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return str(crash.message)
    return str(longrepr)


def suite_of(nodeid: str) -> str:
    """``test_health.py::test_liveness`` -> ``health``; a team's own file keeps its name."""
    file = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    return file.removeprefix("test_").removesuffix(".py")


def suites_sha() -> str | None:
    """The git commit the shipped suites come from, when they are in a checkout."""
    import subprocess

    from pytest_deploycheck.shipped import shipped

    suites = shipped("suites")
    if suites is None:
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(suites), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


class RunReporting:
    """On the reporting process (the controller under xdist): what the workers' reports carry.

    An unreachable target is a failed verdict (exit code 1) with or without xdist,
    which otherwise turns a worker's stop into "interrupted" (2); recommendations
    are collected for the terminal summary.
    """

    NAME = "deploycheck-reporting"

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        session.config.stash[STARTED] = time.time()

    def __init__(self) -> None:
        self.unreachable: list[str] = []
        self.recommendations: list[tuple[str, str]] = []
        self.security: list[tuple[str, str, bool]] = []
        self.outcomes: dict[str, str] = {}  # nodeid -> passed / failed / error / skipped
        self.failures: list[tuple[str, str, str]] = []  # (nodeid, kind, message)
        self.examined: dict[str, str] = {}  # nodeid -> what a passing check examined
        self.verdict: Verdict | None = None
        self.judged = False  # a check judged the deployment without asking the API (infra, deps)
        self.budgets: dict[str, float] = {}  # endpoint -> its latency budget (ms), for the chart
        self._html_report: Any = None  # pytest-html's report, to title it with the verdict
        self._html_causes: dict[str, str] = {}  # cause -> the first check it broke

    def _record_outcome(self, report: pytest.TestReport) -> None:
        nodeid = report.nodeid
        if report.when == "call":
            outcome = "skipped" if report.skipped else report.outcome
            self.outcomes[nodeid] = outcome
        elif report.failed:
            self.outcomes[nodeid] = "error"
        elif report.skipped:
            self.outcomes.setdefault(nodeid, "skipped")
        if report.failed:
            kind = (
                "unreachable"
                if any(name == UNREACHABLE for name, _ in report.user_properties)
                else "failed"
                if report.when == "call"
                else "error"
            )
            named = [str(value) for name, value in report.user_properties if name == CAUSE]
            self.failures.append((nodeid, kind, named[0] if named else failure_message(report)))

    def counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for nodeid, outcome in self.outcomes.items():
            suite = suite_of(nodeid)
            counts.setdefault(suite, {}).setdefault(outcome, 0)
            counts[suite][outcome] += 1
        return counts

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record_outcome(report)
        for name, value in report.user_properties:
            if name == UNREACHABLE:
                self.unreachable.append(str(value))
            elif name == RECOMMENDATION:
                self.recommendations.append((report.nodeid, str(value)))
            elif name == EXAMINED and report.when == "call":
                self.examined[report.nodeid] = str(value)
            elif name == REPORT_PROPERTY and report.when == "call":
                self.security.extend(
                    (item, level, ok) for item, level, ok in json.loads(str(value))
                )

    def security_grade(self) -> tuple[str, list[ItemGrade]] | None:
        return grade(self.security) if self.security else None

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_html(self, report: pytest.TestReport, data: list[str]) -> None:
        """pytest-html: a skipped check shows its reason, not a Python tuple; a failure with the
        same cause as an earlier one says so in a line and folds its log."""
        if report.skipped and isinstance(report.longrepr, tuple):
            reason = str(report.longrepr[2]).removeprefix("Skipped: ")
            data[:] = [f'<div class="log">skipped: {html.escape(reason)}</div>']
        elif report.failed:
            named = [str(value) for name, value in report.user_properties if name == CAUSE]
            message = named[0] if named else failure_message(report)
            first = self._html_causes.setdefault(cause_key(message), report.nodeid)
            if first != report.nodeid:
                data[:] = [
                    f'<div class="log">The same cause as {html.escape(first)}: '
                    f"{html.escape(summary_of(message))}</div>",
                    "<details><summary>this check's own log</summary>",
                    *data,
                    "</details>",
                ]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        """pytest-html asks for the title at the start; it is set once the verdict is known
        (:meth:`pytest_html_results_summary`, just before the page is written)."""
        self._html_report = report

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str]
    ) -> None:
        """pytest-html: the verdict as a banner, and the security grade, above the results."""
        if self.verdict is not None:
            prefix.append(self.verdict.render_html(self.budgets))
            if self._html_report is not None:
                self._html_report.title = self.verdict.title()
        result = self.security_grade()
        if result is None:
            return
        headline, rows = result
        cells = "".join(
            f"<tr><td>{html.escape(r.status)}</td><td>{html.escape(r.item)}</td><td>{r.level}</td>"
            f"<td>{r.answers - r.failed} of {r.answers} checks pass</td></tr>"
            for r in rows
        )
        prefix.append(
            f"<h3>deploycheck: security grade</h3><p>{html.escape(headline)}</p><table>{cells}</table>"
        )

    def decide(self, session: pytest.Session, context: DeployContext) -> Verdict:
        """The run's verdict and its exit code, from what the reports carried."""
        status = int(session.exitstatus)
        if self.unreachable:
            verdict, code = "unreachable", EXIT_UNREACHABLE
        elif status == pytest.ExitCode.INTERRUPTED:
            verdict, code = "interrupted", EXIT_INTERRUPTED
        elif self.failures or status == pytest.ExitCode.TESTS_FAILED:
            verdict, code = "red", EXIT_CHECKS_FAILED
        elif context.watch and context.watch.get("verdict") == "inconclusive":
            verdict, code = "inconclusive", EXIT_INCONCLUSIVE
        elif not any(o == "passed" for o in self.outcomes.values()):
            verdict, code = "nothing ran", status
        else:
            verdict, code = "green", EXIT_GREEN
        redact = context.redactor.text
        env = context.target or context.env
        facts = read_facts(context.state_dir) if context.state_dir else []
        samples: dict[str, list[float]] = {}
        timeline: list[dict[str, Any]] = []
        broke: dict[str, str] | None = None
        deployed = None
        deck = None
        self.judged = any(fact.get("judged") for fact in facts)
        for fact in facts:
            deck = deck or fact.get("deck")
            for name, values in fact.get("latency", {}).items():
                samples.setdefault(name, []).extend(values)
            timeline = timeline or fact.get("timeline", [])
            broke = broke or fact.get("journey_broke")
            deployed = deployed or fact.get("deployed_version")
        graded = self.security_grade()
        rows = latency_rows(samples)
        if env is not None:
            health = env.health
            quick = tuple(
                p for p in (health.liveness_path, health.readiness_path, health.info_path) if p
            )
            self.budgets = {
                row["endpoint"]: float(
                    env.latency_ms.health
                    if row["endpoint"].split(" ", 1)[-1].endswith(quick)
                    else env.latency_ms.default
                )
                for row in rows
            }
        expected = context.resolution.expected_version.value or (
            env.expected_version if env else None
        )
        self.verdict = Verdict(
            verdict=verdict,
            exit_code=code,
            env=env.name if env else None,
            target=env.shown_base_url if env else None,
            production=bool(env and env.production),
            expected_version=expected,
            deployed_version=deployed,
            plugin_version=plugin_version(),
            counts=self.counts(),
            examined={
                nodeid: redact(what)
                for nodeid, what in self.examined.items()
                if self.outcomes.get(nodeid) == "passed"
            },
            # Redacted once here, so the terminal, HTML, JUnit and JSON all show the same.
            causes=[
                Cause(redact(c.summary), c.kind, c.checks) for c in group_causes(self.failures)
            ],
            timeline=timeline,
            latency=rows,
            grade={
                "headline": graded[0],
                "items": [
                    {"item": r.item, "status": r.status, "level": r.level, "answers": r.answers}
                    for r in graded[1]
                ],
            }
            if graded
            else None,
            cleanup=[
                redact(line) for line in context.notes if "cleanup" in line or "left behind" in line
            ],
            recommendations=[
                redact(f"{nodeid}: {message}") for nodeid, message in self.recommendations
            ],
            duration_s=round(time.time() - session.config.stash.get(STARTED, time.time()), 2),
            deck=deck,
            suites_sha=suites_sha(),
            watch=_redacted(context.watch, redact) if context.watch else None,
            baseline=_redacted(context.baseline, redact) if context.baseline else None,
            journey_broke=_redacted(broke, redact) if broke else None,
        )
        return self.verdict

    def pytest_terminal_summary(
        self, terminalreporter: Any, exitstatus: int, config: pytest.Config
    ) -> None:
        context: DeployContext | None = config.stash.get(CONTEXT, None)
        if context is None or context.is_worker:
            return
        from pytest_deploycheck.run import embedded

        graded = self.security_grade()
        if graded is not None:
            headline, rows = graded
            terminalreporter.section("deploycheck: security grade")
            terminalreporter.write_line(headline)
            for row in rows:
                terminalreporter.write_line(
                    f"  {row.status:<8} {row.item:<26} {row.level:<12} "
                    f"{row.answers - row.failed} of {row.answers} checks pass",
                    red=row.status == "FAIL",
                    yellow=row.status == "warn",
                )
        if self.recommendations:
            terminalreporter.section("deploycheck: recommendations (not failures)", yellow=True)
            for nodeid, message in self.recommendations:
                terminalreporter.write_line(
                    context.redactor.text(f"{nodeid}: {message}"), yellow=True
                )
        lines = list(context.notes)
        if context.state_dir is not None:
            deployment = embedded.read_state(context.state_dir)
            if deployment is not None:
                # The state directory goes at the end of the run; the log is kept.
                lines.append(
                    f"embedded reference deployment ran at {deployment.url} "
                    f"(log: {embedded.kept_log_path(context.run_id)})"
                )
        if context.failure is not None:
            lines.append(str(context.failure))
        if lines:
            terminalreporter.section("deploycheck")
            for line in lines:
                terminalreporter.write_line(context.redactor.text(line))

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """The verdict block, the last thing a run prints (after pytest's short summary and its
        counts), so it is what a CI log ends with."""
        context: DeployContext | None = config.stash.get(CONTEXT, None)
        terminalreporter = config.pluginmanager.get_plugin("terminalreporter")
        if context is None or context.is_worker or terminalreporter is None:
            return
        touched = context.target is not None or context.failure is not None or self.judged
        if self.verdict is not None and self.verdict.verdict != "nothing ran" and touched:
            green = self.verdict.verdict == "green"
            terminalreporter.section("deploycheck: verdict", green=green, red=not green)
            for line in self.verdict.render_lines():
                terminalreporter.write_line(context.redactor.text(line))

    def publish(self, config: pytest.Config, verdict: Verdict, redactor: Redactor) -> None:
        """JUnit's run properties and the JSON summary: the verdict where machines read it."""
        redact = redactor.text
        xml = _junit_xml(config)
        if xml is not None:
            properties = {
                "deploycheck_verdict": verdict.verdict,
                "deploycheck_env": verdict.env,
                "deploycheck_target": verdict.target,
                "deploycheck_production": "yes" if verdict.production else "no",
                "deploycheck_expected_version": verdict.expected_version,
                "deploycheck_deployed_version": verdict.deployed_version,
                "deploycheck_plugin_version": verdict.plugin_version,
            }
            for name, value in properties.items():
                if value is not None:
                    xml.add_global_property(name, redact(str(value)))
            for number, cause in enumerate(verdict.causes, 1):
                xml.add_global_property(
                    f"deploycheck_cause_{number}",
                    redact(f"{cause.summary} ({len(cause.checks)} checks)"),
                )
            for recommendation in verdict.recommendations:
                xml.add_global_property("deploycheck_recommendation", redact(recommendation))
        path = config.getoption("deploycheck_json")
        if path:
            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(redact(verdict.to_json()))


def _redacted(value: Any, redact: Any) -> Any:
    """Every text in the watch's summary redacted (its evidence and replays included)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item, redact) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item, redact) for item in value]
    return value


def redact_report(report: pytest.TestReport, redactor: Redactor) -> None:
    """The last line of defence: no known secret leaves in a report (terminal, JUnit, HTML)."""
    if report.longrepr is not None:
        text = str(report.longrepr)
        if redactor.contains_secret(text):
            report.longrepr = redactor.text(text)
    report.sections = [(title, redactor.text(content)) for title, content in report.sections]


def _junit_xml(config: pytest.Config) -> Any:
    """pytest's JUnit writer when --junitxml is on: the registered plugin that takes global
    properties (what the ``record_testsuite_property`` fixture writes through)."""
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__name__ == "LogXML" and hasattr(plugin, "add_global_property"):
            return plugin
    return None
