"""The run owner: one object per run, registered at configure (as pytest-xdist's DSession
is), that holds the run's context and carries it through the session: the report header,
--wait-for-version, the journey started ahead, each check's report (its exchanges, its
recommendations, our bugs named as ours), cleanup, the passive checks and the verdict, and
the embedded deployment stopped at the end."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from pytest_deploycheck.errors import CheckFailed, DeployCheckError, TargetUnreachable
from pytest_deploycheck.evidence.finding import internal_error
from pytest_deploycheck.evidence.review import write_exchanges
from pytest_deploycheck.plugin.context import DeployContext
from pytest_deploycheck.plugin.fixtures import EXCHANGES_FROM, RECOMMENDATIONS
from pytest_deploycheck.plugin.reporting import RunReporting, redact_report
from pytest_deploycheck.plugin.verdict import write_facts
from pytest_deploycheck.properties import CAUSE, RECOMMENDATION, UNREACHABLE
from pytest_deploycheck.run.heap import freeze_what_is_loaded
from pytest_deploycheck.shipped import shipped


class DeployRun:
    """The run's hooks, over one :class:`DeployContext` (the controller's or a worker's)."""

    NAME = "deploycheck-run"

    def __init__(self, context: DeployContext) -> None:
        self.context = context

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        context = self.context
        resolution = context.resolution
        env = context.env
        if env is None:
            return [f"deploycheck: no target selected (config: {resolution.config_source})"]
        target = (
            "embedded reference deployment (started on first use)"
            if env.is_embedded
            else env.shown_base_url
        )
        expected = resolution.expected_version
        if expected.value:
            version = str(expected)
        elif env.is_embedded:
            version = "this package's version (the embedded deployment's)"
        else:
            version = "not checked (no expected_version)"
        allowed, why = context.destructive_allowed
        prefix = f", api_prefix={env.api_prefix}" if env.api_prefix else ", api_prefix=(none)"
        return [
            f"deploycheck: env={env.name} (from {resolution.env_name.origin}), "
            f"target={target} (from {resolution.base_url.origin}){prefix}",
            f"deploycheck: production={'yes' if env.production else 'no'}, "
            f"destructive checks={'allowed' if allowed else 'skipped'} ({why}), "
            f"expected version={version}, config={resolution.config_source}",
        ]

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """--wait-for-version, on the controller, before any worker or check starts."""
        config = session.config
        context = self.context
        seconds = config.getoption("deploycheck_wait_for_version", None)
        if context.is_worker or not seconds or context.env is None:
            return
        from pytest_deploycheck.run.rollout import wait_for_version

        try:
            target = context.reach()
            wait_for_version(target, context.redactor, seconds, on_progress=context.on_wait)
        except DeployCheckError as exc:
            context.failure = exc  # the first check fails with it; the run stops there

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        """Start ahead what the selected, runnable checks will wait for: the smoke subset's
        fuzzing (forked) and the journey's upload and job (a thread), in that order."""
        context = self.context
        if context.env is not None and not session.config.option.collectonly:
            passive = session.config.getoption("deploycheck_passive") == "on"
            context.passive_on = passive and not context.is_worker
            runnable = [item for item in session.items if not item.get_closest_marker("skip")]
            needs = frozenset(
                name for item in runnable for name in getattr(item, "fixturenames", ())
            )
            freeze_what_is_loaded()  # start-up's modules: no collection walks them again
            context.fuzz_ahead.start(session, runnable)  # a fork: before our threads start
            if "uploaded_job" in needs:
                context.journey_ahead.start(needs)
            if passive and not session.config.pluginmanager.has_plugin("dsession"):
                from pytest_deploycheck.evidence import ANALYSERS

                # The passive checks report at the end: the progress counts them from the
                # start (xdist counts its own).
                session.testscollected += len(ANALYSERS)
        return (yield)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Where this check's exchanges begin: a failing fixture's exchanges explain its error."""
        item.stash[EXCHANGES_FROM] = len(self.context.exchanges)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report: pytest.TestReport = yield
        context = self.context
        error = call.excinfo.value if call.excinfo is not None else None
        if report.failed and error is not None and _raised_by_the_plugin(call.excinfo, item):
            # A bug of ours (a KeyError in a fixture): a failure that names it, not the target.
            message = internal_error(f"{item.nodeid} ({report.when})", error)
            report.longrepr = message
            report.user_properties.append((CAUSE, message.split(";", 1)[0]))
        elif report.failed and isinstance(error, DeployCheckError):
            # Our messages say what happened; a traceback through the plugin would only hide it.
            report.longrepr = str(error)
            if isinstance(error, CheckFailed) and error.cause:
                report.user_properties.append((CAUSE, error.cause))
            if error is context.failure and not isinstance(error, TargetUnreachable):
                item.session.shouldfail = str(error)  # --wait-for-version: nothing else to judge
            if isinstance(error, TargetUnreachable):
                if not (context.watch and context.watch.get("started")):  # a round: judged there
                    item.session.shouldfail = f"target unreachable: {error.cause or error}"
                report.user_properties.append((UNREACHABLE, str(error)))
        recommendations: list[str] = item.stash.get(RECOMMENDATIONS, [])
        if report.when == "call" and recommendations:
            for message in recommendations:
                report.user_properties.append((RECOMMENDATION, message))
            report.sections.append(("deploycheck: recommendations", "\n".join(recommendations)))
        start = item.stash.get(EXCHANGES_FROM, None)
        if start is not None and (report.when == "call" or report.failed):
            exchanges = context.exchanges[start:]
            if exchanges:
                shown = exchanges[-30:]
                text = "\n".join(exchange.render() for exchange in shown)
                if len(exchanges) > len(shown):
                    text = f"({len(exchanges) - len(shown)} earlier exchanges not shown)\n" + text
                report.sections.append(("deploycheck: HTTP exchanges", text))
        redact_report(report, context.redactor)
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Before JUnit and HTML are written: clean up, then decide the verdict they carry."""
        config = session.config
        context = self.context
        context.stop_background()
        state_dir = context.state_dir if context.state_dir and context.state_dir.is_dir() else None
        if state_dir is not None:
            write_facts(state_dir, os.getpid(), context.run_facts())
        if context.is_worker:
            if state_dir is not None:
                write_exchanges(state_dir, context.exchanges)
            return
        try:
            context.notes.extend(context.cleanup())
        except DeployCheckError as exc:
            context.notes.append(f"cleanup failed: {exc}")
        reporting: RunReporting | None = config.pluginmanager.get_plugin(RunReporting.NAME)
        if reporting is None or context.env is None:
            return
        _review_every_answer(session, context, reporting)
        verdict = reporting.decide(session, context)
        session.exitstatus = verdict.exit_code
        reporting.publish(config, verdict, context.redactor)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        context = self.context
        if context.is_worker or context.state_dir is None:
            return
        from pytest_deploycheck.run import embedded

        embedded.stop(context.state_dir)
        embedded.keep_log(context.state_dir, context.run_id)
        shutil.rmtree(context.state_dir, ignore_errors=True)


def _review_every_answer(
    session: pytest.Session, context: DeployContext, reporting: RunReporting
) -> None:
    """The passive analysers, once the checks and the cleanup are done (not for a cancelled
    or unreachable run: there is no verdict on the answers to give)."""
    if session.exitstatus == pytest.ExitCode.INTERRUPTED or reporting.unreachable:
        return
    if context.passive_reviewed:
        return  # before the watch window: the smoke run's answers are judged
    if context.failure is not None or session.config.option.collectonly:
        return
    if session.config.getoption("deploycheck_passive") == "off":
        return
    from pytest_deploycheck.plugin.passive import review_the_run

    review_the_run(session, context)  # a bug of ours there fails its checks, naming it


def _raised_by_the_plugin(
    excinfo: pytest.ExceptionInfo[BaseException] | None, item: pytest.Item
) -> bool:
    """An exception that is no verdict on the target (not an assertion, a check's failure or a
    skip) whose nearest frame of code written for the run, going outwards from where it was
    raised and past the libraries it went through, is the plugin's (its package or a shipped
    suite), not the check file's own."""
    if excinfo is None or isinstance(
        excinfo.value,
        (AssertionError, DeployCheckError, KeyboardInterrupt, pytest.skip.Exception),
    ):
        return False
    if isinstance(excinfo.value, (pytest.fail.Exception, pytest.exit.Exception)):
        return False
    ours = str(Path(__file__).resolve().parent.parent)
    suites = shipped("suites")
    frames = []
    tb: TracebackType | None = excinfo.tb
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    for filename in reversed(frames):
        resolved = str(Path(filename).resolve())
        if resolved.startswith(ours) or (suites is not None and resolved.startswith(str(suites))):
            return True
        if Path(resolved) == Path(str(item.path)).resolve() or "conftest" in resolved:
            return False  # the team's own check or fixture
    return False
