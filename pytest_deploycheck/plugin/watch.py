"""The watch window (``--watch 2h --watch-every 30s``): after a green run, the same checks
again, round after round, judged as Argo Rollouts judges an AnalysisRun.

Each round re-runs the run's read-only checks that passed (through pytest's own test
protocol, so fixtures, markers and a team's own checks behave as in the run), the passive
checks over the round's new answers, the target's ``/metrics`` (``deps.metrics``) and the
env's Prometheus queries (``watch.prometheus``). A round prints one line. The window ends
when its time is up, when it is decided early (red, or no data for too long), or when the
run is cancelled (Ctrl-C, CI's SIGTERM): its verdict is then that of what it saw.

At the end every check of the window is reported once, as ``watch::<check>``: failed with
when it started, how often, the first failing exchange and a curl replay; the verdict,
JUnit, HTML and JSON carry them as they carry the run's checks.

Not repeated: checks that create or change data or spend the auth rate limit
(``destructive``, ``auth_api``, ``refreshed_token``), the load and fuzz suites, the
checks of the journey's job (they judge one job), and ``@pytest.mark.watch(False)``.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections import deque
from typing import Any

import pytest

# pytest's test protocol without logging: a round's reports are judged here and reported
# once at the end, not 240 times (pytest-rerunfailures re-runs items the same way).
from _pytest.runner import runtestprotocol

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.evidence.finding import internal_error
from pytest_deploycheck.plugin.context import DeployContext
from pytest_deploycheck.plugin.synthetic import report_check
from pytest_deploycheck.plugin.watch_sources import WatchSources, check_run, left_out
from pytest_deploycheck.properties import CAUSE
from pytest_deploycheck.run.client import Exchange, endpoint_of
from pytest_deploycheck.watch.policy import (
    CheckRun,
    Decision,
    Round,
    WatchJudge,
)
from pytest_deploycheck.watch.report import (
    KEPT_ROUNDS,
    history_report,
    progress_line,
    utc,
)
from pytest_deploycheck.watch.report import summary as watch_summary
from pytest_deploycheck.watch.target_metrics import ERRORS, MEMORY
from pytest_deploycheck.watch.window import WatchWindow, shown_duration


class WatchLoop:
    """The watch's hooks: the run's outcomes first, then the rounds."""

    NAME = "deploycheck-watch"

    def __init__(
        self,
        context: DeployContext,
        config: pytest.Config,
        window: WatchWindow,
        listen: tuple[str, int] | None,
    ) -> None:
        self.context = context
        self.config = config
        self.window = window
        self.listen = listen
        self.outcomes: dict[str, str] = {}  # nodeid -> the run's outcome
        self.watching = False
        self.sources = WatchSources(context, window)
        self.latency: dict[str, deque[tuple[int, float]]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.watching:
            return
        if report.when == "call" or report.outcome != "passed":
            outcome = "skipped" if report.skipped else report.outcome
            if self.outcomes.get(report.nodeid) != "failed":
                self.outcomes[report.nodeid] = outcome

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        result = yield
        if not session.config.option.collectonly and self.context.env is not None:
            try:
                self.watch(session)
            except Exception as exc:  # noqa: BLE001  (a bug of ours: a failed check naming it)
                message = internal_error("the watch window", exc)
                watched = self.context.watch
                if watched is not None and not watched.get("started"):
                    watched["not_started"] = "a bug of the plugin stopped it (watch::window)"
                session.testscollected += 1
                report_check(
                    session, "watch::window", "failed", message, properties=[(CAUSE, message)]
                )
        return result

    # -- the window ----------------------------------------------------------------------

    def watch(self, session: pytest.Session) -> None:
        context = self.context
        env = context.env
        assert env is not None
        summary: dict[str, Any] = {
            "window": self.window.describe(),
            "length_s": self.window.length_s,
            "every_s": self.window.every_s,
            "planned_rounds": self.window.planned_rounds,
            "started": False,
        }
        context.watch = summary
        if not self._run_is_green(session):
            summary["not_started"] = "the run is not green: there is nothing to watch"
            self._say(f"watch: not started ({summary['not_started']})", red=True)
            return
        items, skipped = self._repeatable(session)
        summary["left_out"] = skipped
        self.sources.journey_allowed = context.destructive_allowed[0] and any(
            self.outcomes.get(item.nodeid) == "passed" and item.get_closest_marker("journey")
            for item in session.items
        )
        target = context.reach()
        sources = self._sources(target)
        if not items and not sources:
            summary["not_started"] = (
                f"none of the run's checks can be repeated ({len(skipped)} left out: "
                "destructive, load, fuzz or the journey's) and no metrics are configured"
            )
            summary["verdict"] = "inconclusive"
            summary["reason"] = summary["not_started"]
            self._say(f"watch: not started ({summary['not_started']})", red=True)
            return
        judge = WatchJudge(env.watch)
        exporter = self._exporter(env)
        summary.update(
            started=True,
            started_at=utc(time.time()),
            checks_per_round=len(items) + len(sources),
            metrics_port=exporter.port if exporter else None,
        )
        self._say(
            f"watch: {self.window.describe()} (up to {self.window.planned_rounds} rounds): "
            f"{len(items)} checks a round"
            + (f" and {', '.join(sources)}" if sources else "")
            + (f"; {len(skipped)} not repeated" if skipped else "")
            + (
                f"; metrics at http://{exporter.address}:{exporter.port}/metrics"
                if exporter
                else ""
            )
        )
        evidence = self._evidence(target)
        reader = self._metrics_reader(target)
        ended = "the window ended"
        self.watching = True
        begin = time.monotonic()
        number = 0
        try:
            while True:
                scheduled = begin + number * self.window.every_s
                if scheduled >= begin + self.window.length_s - 1e-6:
                    break
                pause = scheduled - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                number += 1
                round_ = self._round(session, number, items, target, evidence, reader)
                decision = judge.add(round_)
                if exporter is not None:
                    exporter.record(round_)
                self._say(
                    progress_line(round_, self.window.planned_rounds),
                    red=round_.outcome != "passed",
                )
                if decision is not None:
                    ended = f"decided in round {number}"
                    break
        except KeyboardInterrupt:
            ended = f"cancelled (Ctrl-C or SIGTERM) in round {number}"
        except Exception as exc:  # noqa: BLE001  (a bug of ours ends the window, named)
            ended = f"ended by a bug in round {number}"
            judge.add(
                Round(
                    number,
                    time.time(),
                    [CheckRun("watch::window", "failed", internal_error("the watch window", exc))],
                )
            )
        finally:
            self.watching = False
            if exporter is not None:
                exporter.close()
        decision = judge.finish(ended)
        summary.update(
            watch_summary(judge, decision, ended, begin, self.sources.auth_calls, self.latency)
        )
        self._report(session, judge, decision)

    def _run_is_green(self, session: pytest.Session) -> bool:
        """The run's own verdict first, its passive checks included (judged now, before the
        window, instead of after it)."""
        if session.testsfailed or session.shouldfail or session.shouldstop:
            return False
        context = self.context
        passive = session.config.getoption("deploycheck_passive") == "on"
        if passive and context.state_dir is not None and context.exchanges:
            from pytest_deploycheck.plugin.passive import review_the_run

            review_the_run(session, context)
            context.passive_reviewed = True
        return not session.testsfailed

    def _repeatable(self, session: pytest.Session) -> tuple[list[pytest.Item], dict[str, str]]:
        items, skipped = [], {}
        for item in session.items:
            why = left_out(item, self.outcomes.get(item.nodeid))
            if why is None:
                items.append(item)
            else:
                skipped[item.nodeid] = why
        return items, skipped

    def _sources(self, target: TargetEnv) -> list[str]:
        sources = []
        if self.sources.journey_allowed and self.window.journey_every_s is not None:
            sources.append(f"the journey every {shown_duration(self.window.journey_every_s)}")
        if target.deps.metrics is not None:
            sources.append("the target's metrics")
        if target.watch.prometheus is not None and target.watch.prometheus.queries:
            sources.append(f"{len(target.watch.prometheus.queries)} Prometheus queries")
        return sources

    def _exporter(self, env: TargetEnv) -> Any:
        if self.listen is None:
            return None
        from pytest_deploycheck.watch.exporter import WatchExporter

        address, port = self.listen
        try:
            return WatchExporter(address, port, env.name)
        except OSError as exc:
            raise pytest.UsageError(
                f"--watch-metrics-port: cannot listen on {address}:{port}: {exc.strerror or exc}"
            ) from None

    def _evidence(self, target: TargetEnv) -> Any:
        from pytest_deploycheck.evidence import RunEvidence
        from pytest_deploycheck.evidence.review import load_document

        evidence = RunEvidence(env=target)
        with self.context.client() as client:
            load_document(evidence, client)
        return evidence

    def _metrics_reader(self, target: TargetEnv) -> Any:
        dep = target.deps.metrics
        if dep is None:
            return None
        from pytest_deploycheck.deps.metrics import metrics_url
        from pytest_deploycheck.watch.target_metrics import TargetMetrics

        url = metrics_url(target, dep)
        return TargetMetrics(url, self.context.redactor.url(url), target.watch)

    # -- one round -----------------------------------------------------------------------

    def _round(
        self,
        session: pytest.Session,
        number: int,
        items: list[pytest.Item],
        target: TargetEnv,
        evidence: Any,
        reader: Any,
    ) -> Round:
        context = self.context
        started_at = time.time()
        began = time.perf_counter()
        mark = len(context.exchanges)
        sources = self.sources
        runs = sources.renew_sessions(target)
        if sources.journey_due():
            runs.append(sources.journey(target))
        for index, item in enumerate(items):
            following = items[index + 1] if index + 1 < len(items) else None
            before = len(context.exchanges)
            clock = time.perf_counter()
            reports = runtestprotocol(item, log=False, nextitem=following)
            runs.append(
                check_run(item, reports, context.exchanges[before:], time.perf_counter() - clock)
            )
        if reader is not None:
            dep = target.deps.metrics
            auth = (dep.username, dep.password) if dep and dep.username and dep.password else None
            read_metrics = lambda client: reader.read(client, time.time())  # noqa: E731
            runs.extend(sources.guarded([MEMORY, ERRORS], read_metrics, reader.url, auth))
        queries = target.watch.prometheus
        if queries is not None and queries.queries:
            from pytest_deploycheck.watch.prometheus import check_name, run_queries

            names = [check_name(query) for query in queries.queries]
            read_queries = lambda client: run_queries(client, queries)  # noqa: E731
            runs.extend(sources.guarded(names, read_queries, queries.url))
        runs.extend(sources.passive(context.exchanges[mark:], evidence))
        redact = context.redactor.text
        for run in runs:
            run.message = redact(run.message)
            run.evidence, run.replay = redact(run.evidence), redact(run.replay)
        worst_ms, worst_endpoint = self._latency(number, context.exchanges[mark:], target)
        del context.exchanges[mark:]  # judged: a watch of a day keeps no day of answers
        return Round(
            number,
            started_at,
            runs,
            duration_s=time.perf_counter() - began,
            worst_ms=worst_ms,
            worst_endpoint=worst_endpoint,
        )

    def _latency(
        self, number: int, exchanges: list[Exchange], target: TargetEnv
    ) -> tuple[float | None, str | None]:
        per_endpoint: dict[str, list[float]] = {}
        worst: tuple[float, str] | None = None
        for exchange in exchanges:
            if exchange.status is None or not exchange.url.startswith(target.base_url):
                continue
            name = endpoint_of(exchange.method, exchange.url, target.base_url)
            per_endpoint.setdefault(name, []).append(exchange.elapsed_ms)
            if worst is None or exchange.elapsed_ms > worst[0]:
                worst = (exchange.elapsed_ms, name)
        for name, values in per_endpoint.items():
            series = self.latency.setdefault(name, deque(maxlen=KEPT_ROUNDS))
            series.append((number, round(statistics.median(values), 1)))
        return (worst[0], worst[1]) if worst else (None, None)

    # -- what a person sees --------------------------------------------------------------

    def _say(self, line: str, *, red: bool = False, green: bool = False) -> None:
        plugins = self.config.pluginmanager
        reporter = plugins.get_plugin("terminalreporter")
        if reporter is None:
            return
        capture = plugins.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.ensure_newline()
            reporter.write_line(self.context.redactor.text(line), red=red, green=green)

    def _report(self, session: pytest.Session, judge: WatchJudge, decision: Decision) -> None:
        """Every check of the window, once: failed when the window is red and it failed."""
        histories = list(judge.histories.values())
        session.testscollected += len(histories)  # the progress counts them
        for history in histories:
            said = history_report(history, decision, judge.rounds)
            report_check(
                session,
                said.nodeid,
                said.outcome,
                said.message,
                properties=said.properties,
                sections=said.sections,
                duration=said.duration,
            )


def watch_window(config: pytest.Config, env: TargetEnv | None) -> WatchWindow | None:
    """The window the options ask for, or None (a usage error where it cannot run)."""
    length = config.getoption("deploycheck_watch", None)
    every = config.getoption("deploycheck_watch_every", None)
    journey_every = config.getoption("deploycheck_watch_journey_every", None)
    if length is None:
        for flag in ("every", "metrics", "journey_every"):
            if config.getoption(f"deploycheck_watch_{flag}", None) is not None:
                shown = "--watch-" + {"metrics": "metrics-port"}.get(flag, flag.replace("_", "-"))
                raise pytest.UsageError(f"{shown} needs --watch DURATION (how long to watch)")
        return None
    if config.getoption("numprocesses", None) or config.getoption("dist", "no") != "no":
        raise pytest.UsageError(
            "--watch runs its rounds in one process: drop -n/--dist (pytest-xdist)"
        )
    flag = "--watch-every"
    if every is None:
        every, flag = (env.watch.every_s if env is not None else 30.0), "watch.every_s"
    if every > length:
        raise pytest.UsageError(
            f"{flag} {shown_duration(every)} is longer than the window "
            f"(--watch {shown_duration(length)}): not one round would follow the first"
        )
    if journey_every is None and env is not None:
        journey_every = env.watch.journey_every_s
    return WatchWindow(length, every, journey_every)
