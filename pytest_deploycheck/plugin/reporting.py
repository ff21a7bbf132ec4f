"""How a run is reported: failures without our tracebacks, the summary, the grade, redaction.

:class:`RunReporting` is registered by the hooks module on every process; it
reads what the reports carry (under xdist: what the workers send the
controller) and writes the terminal summary and the HTML report's additions.
"""

from __future__ import annotations

import html
import json
from typing import Any

import pytest

from pytest_deploycheck.checks.security.policy import REPORT_PROPERTY, ItemGrade, grade
from pytest_deploycheck.plugin.fixtures import CONTEXT, RECOMMENDATION
from pytest_deploycheck.run.context import DeployContext
from pytest_deploycheck.run.redaction import Redactor

UNREACHABLE = "deploycheck_unreachable"


class RunReporting:
    """On the reporting process (the controller under xdist): what the workers' reports carry.

    An unreachable target is a failed verdict (exit code 1) with or without xdist,
    which otherwise turns a worker's stop into "interrupted" (2); recommendations
    are collected for the terminal summary.
    """

    NAME = "deploycheck-reporting"

    def __init__(self) -> None:
        self.unreachable: list[str] = []
        self.recommendations: list[tuple[str, str]] = []
        self.security: list[tuple[str, str, bool]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == UNREACHABLE:
                self.unreachable.append(str(value))
            elif name == RECOMMENDATION:
                self.recommendations.append((report.nodeid, str(value)))
            elif name == REPORT_PROPERTY and report.when == "call":
                self.security.extend(
                    (item, level, ok) for item, level, ok in json.loads(str(value))
                )

    def security_grade(self) -> tuple[str, list[ItemGrade]] | None:
        return grade(self.security) if self.security else None

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str]
    ) -> None:
        """pytest-html: the security grade above the results table."""
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

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.unreachable and session.exitstatus == pytest.ExitCode.INTERRUPTED:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

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


def redact_report(report: pytest.TestReport, redactor: Redactor) -> None:
    """The last line of defence: no known secret leaves in a report (terminal, JUnit, HTML)."""
    if report.longrepr is not None:
        text = str(report.longrepr)
        if redactor.contains_secret(text):
            report.longrepr = redactor.text(text)
    report.sections = [(title, redactor.text(content)) for title, content in report.sections]
