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
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest

# pytest's test protocol without logging: a round's reports are judged here and reported
# once at the end, not 240 times (pytest-rerunfailures re-runs items the same way).
from _pytest.runner import runtestprotocol

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.errors import DeployCheckError, TargetUnreachable
from pytest_deploycheck.evidence.finding import internal_error
from pytest_deploycheck.evidence.replay import curl_command
from pytest_deploycheck.plugin.context import DeployContext
from pytest_deploycheck.plugin.reporting import failure_message
from pytest_deploycheck.plugin.synthetic import report_check
from pytest_deploycheck.properties import CAUSE, EXAMINED, RECOMMENDATION, UNREACHABLE
from pytest_deploycheck.run.client import DeployClient, Exchange, endpoint_of
from pytest_deploycheck.watch.policy import (
    CheckHistory,
    CheckRun,
    Decision,
    Policy,
    Round,
    WatchJudge,
)
from pytest_deploycheck.watch.target_metrics import ERRORS, MEMORY
from pytest_deploycheck.watch.window import WatchWindow, shown_duration

# Fixtures whose checks are not repeated: they spend the auth rate limit, or judge the one
# job the run made.
_NOT_REPEATED_FIXTURES = frozenset(
    {"auth_api", "refreshed_token", "uploaded_job", "finished_job", "deck", "deck_report"}
)
_NOT_REPEATED_MARKERS = ("destructive", "load", "fuzz")
JOURNEY = "watch::journey"
_KEPT_ROUNDS = 720  # the timeline and latency series the report keeps (the latest rounds)


def left_out(item: pytest.Item, smoke_outcome: str | None) -> str | None:
    """Why ``item`` is not repeated by the watch, or None."""
    marker = item.get_closest_marker("watch")
    if marker is not None and marker.args and marker.args[0] is False:
        return "marked watch(False)"
    for name in _NOT_REPEATED_MARKERS:
        if item.get_closest_marker(name):
            return f"marked {name}"
    spends = sorted(_NOT_REPEATED_FIXTURES & set(getattr(item, "fixturenames", ())))
    if spends:
        return f"uses {spends[0]}"
    if smoke_outcome != "passed":
        return f"{smoke_outcome or 'did not run'} in the run"
    return None


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
        self.auth_calls = 0
        self.latency: dict[str, deque[tuple[int, float]]] = {}
        self.journey_allowed = False
        self.last_journey: float | None = None

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
            self.watch(session)
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
        self.journey_allowed = context.destructive_allowed[0] and any(
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
        policy = env.watch
        judge = WatchJudge(
            Policy(
                policy.failure_limit,
                policy.consecutive_failure_limit,
                policy.unreachable_limit,
                policy.min_rounds,
            )
        )
        exporter = self._exporter(env)
        summary.update(
            started=True,
            started_at=_utc(time.time()),
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
                self._progress(round_)
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
        summary.update(self._summary(judge, decision, ended, begin))
        self._report(session, judge, decision)

    def _run_is_green(self, session: pytest.Session) -> bool:
        """The run's own verdict first, its passive checks included (judged now, before the
        window, instead of after it)."""
        if session.testsfailed or session.shouldfail or session.shouldstop:
            return False
        context = self.context
        passive = session.config.getoption("deploycheck_passive") == "on"
        if passive and context.state_dir is not None and context.exchanges:
            from pytest_deploycheck.evidence.review import write_exchanges
            from pytest_deploycheck.plugin.passive import review_the_run

            write_exchanges(context.state_dir, context.exchanges)
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
        if self.journey_allowed and self.window.journey_every_s is not None:
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
        runs = self._renew_sessions(target)
        if self.journey_due(target):
            runs.append(self._journey(target))
        for index, item in enumerate(items):
            following = items[index + 1] if index + 1 < len(items) else None
            before = len(context.exchanges)
            clock = time.perf_counter()
            reports = runtestprotocol(item, log=False, nextitem=following)
            runs.append(
                self._check_run(
                    item, reports, context.exchanges[before:], time.perf_counter() - clock
                )
            )
        if reader is not None:
            runs.extend(
                self._guarded([MEMORY, ERRORS], lambda client: reader.read(client, time.time()))
            )
        queries = target.watch.prometheus
        if queries is not None and queries.queries:
            from pytest_deploycheck.watch.prometheus import check_name, run_queries

            names = [check_name(query) for query in queries.queries]
            runs.extend(self._guarded(names, lambda client: run_queries(client, queries)))
        runs.extend(self._passive(context.exchanges[mark:], evidence))
        redact = context.redactor.text
        for run in runs:
            run.message = redact(run.message)
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

    def journey_due(self, target: TargetEnv) -> bool:
        """The journey again, where it may run (destructive allowed, the run's journey passed),
        once every ``--watch-journey-every`` (the run itself has just made one)."""
        every = self.window.journey_every_s
        if not self.journey_allowed or every is None:
            return False
        now = time.monotonic()
        if self.last_journey is None:
            self.last_journey = now
            return False
        if now - self.last_journey < every:
            return False
        self.last_journey = now
        return True

    def _journey(self, target: TargetEnv) -> CheckRun:
        """Upload, follow the job, download and validate the deck: one check, its job and deck
        recorded for the cleanup at the end."""
        from pytest_deploycheck.checks.apkg import validate_apkg
        from pytest_deploycheck.plugin.journey_ahead import sample_pdf_for
        from pytest_deploycheck.target import journey

        context = self.context
        clock = time.perf_counter()
        before = len(context.exchanges)
        try:
            user = next(u for u in context.store.users() if u.label == "smoke")
            with context.client() as client:
                uploaded = journey.upload(client, target, user, sample_pdf_for(context))
                context.store.record("smoke", "job", uploaded.job_id)
                run = journey.wait_for_job(
                    client, target, user, uploaded.job_id, context.job_deadline_s
                )
                deck_id = run.job.get(target.journey.deck_id_field)
                if deck_id:
                    context.store.record("smoke", "deck", str(deck_id))
                deck = journey.download(client, target, user, run)
            report = validate_apkg(
                deck.content, min_notes=target.journey.min_notes, content_type=deck.content_type
            )
        except DeployCheckError as exc:
            failing = _failing_exchange(context.exchanges[before:])
            return CheckRun(
                JOURNEY,
                "failed",
                str(exc),
                evidence=failing.render() if failing else "",
                replay=curl_command(failing) if failing else "",
                unreachable=isinstance(exc, TargetUnreachable),
                duration_s=time.perf_counter() - clock,
            )
        except StopIteration:
            return CheckRun(JOURNEY, "skipped", "the run has no signed-in smoke user")
        took = time.perf_counter() - clock
        if not report.ok:
            said = f"the deck of job {run.job_id} is not a good deck: " + "; ".join(report.problems)
            return CheckRun(JOURNEY, "failed", said, duration_s=took)
        said = f"job {run.job_id} {run.history} in {run.waited_s:.1f} s; deck: {report.summary()}"
        return CheckRun(JOURNEY, "passed", said, duration_s=took)

    def _guarded(
        self, checks: list[str], read: Callable[[DeployClient], list[CheckRun]]
    ) -> list[CheckRun]:
        """A source's checks this round; its error fails them (a bug of ours, named as such)."""
        try:
            with self.context.client() as client:
                return read(client)
        except DeployCheckError as exc:
            return [CheckRun(check, "failed", str(exc)) for check in checks]
        except Exception as exc:  # noqa: BLE001  (a bug of ours fails the checks, naming it)
            return [CheckRun(check, "failed", internal_error(check, exc)) for check in checks]

    def _check_run(
        self,
        item: pytest.Item,
        reports: list[pytest.TestReport],
        exchanges: list[Exchange],
        duration: float,
    ) -> CheckRun:
        failed = [report for report in reports if report.failed]
        if failed:
            report = failed[0]
            named = [str(value) for name, value in report.user_properties if name == CAUSE]
            message = named[0] if named else failure_message(report)
            failing = _failing_exchange(exchanges)
            return CheckRun(
                item.nodeid,
                "failed",
                message,
                evidence=failing.render() if failing else "",
                replay=curl_command(failing) if failing else "",
                unreachable=any(name == UNREACHABLE for name, _ in report.user_properties),
                duration_s=duration,
            )
        skipped = [report for report in reports if report.skipped]
        if skipped:
            longrepr = skipped[0].longrepr
            reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
            return CheckRun(
                item.nodeid, "skipped", reason.removeprefix("Skipped: "), duration_s=duration
            )
        seen = [
            str(v) for report in reports for name, v in report.user_properties if name == EXAMINED
        ]
        said = seen[0] if seen else f"{len(exchanges)} exchanges"
        return CheckRun(item.nodeid, "passed", said, duration_s=duration)

    def _passive(self, exchanges: list[Exchange], evidence: Any) -> list[CheckRun]:
        if self.context.env is None or not self.context.passive_reviewed:
            return []
        from pytest_deploycheck.evidence import ANALYSERS
        from pytest_deploycheck.evidence.finding import AnalyserResult
        from pytest_deploycheck.evidence.review import review

        analysers = [cls() for cls in ANALYSERS]
        try:
            results = review(analysers, exchanges, evidence)
        except Exception as exc:  # noqa: BLE001  (a bug of ours fails the checks, naming it)
            results = [AnalyserResult.internal_error(a.name, a.title, exc) for a in analysers]
        runs = []
        for result in results:
            outcome = result.outcome
            if outcome == "failed":
                first = result.causes[0] if result.causes else result.failures[0].splitlines()[0]
                runs.append(
                    CheckRun(f"passive::{result.name}", "failed", first, evidence=result.message())
                )
            else:
                runs.append(CheckRun(f"passive::{result.name}", outcome, result.message()))  # type: ignore[arg-type]
        return runs

    def _renew_sessions(self, target: TargetEnv) -> list[CheckRun]:
        """The run's users' access tokens renewed through the refresh endpoint shortly before
        they expire (their JWT's ``exp``): one auth call each, never a new sign-in."""
        context = self.context
        if context.state_dir is None or not context.state_dir.is_dir():
            return []
        from pytest_deploycheck.target.accounts import AuthApi, renewed, token_times

        runs = []
        for user in context.store.users():
            issued, expires = token_times(user.access_token)
            if expires is None:
                continue
            margin = max(2 * self.window.every_s, 60.0)
            if issued is not None:
                margin = min(margin, (expires - issued) / 2)
            if expires - time.time() > margin:
                continue
            check = f"watch::session[{user.label}]"
            clock = time.perf_counter()
            try:
                with context.client() as client:
                    self.auth_calls += 1
                    new = renewed(AuthApi(client, target, context.auth_budget), user)
            except DeployCheckError as exc:
                runs.append(
                    CheckRun(check, "failed", str(exc), duration_s=time.perf_counter() - clock)
                )
                continue
            context.redactor.add(new.access_token, new.refresh_token)
            context.store.replace_user(new)
            said = f"the {user.label} user's access token renewed before it expired"
            runs.append(CheckRun(check, "passed", said, duration_s=time.perf_counter() - clock))
        return runs

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
            series = self.latency.setdefault(name, deque(maxlen=_KEPT_ROUNDS))
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

    def _progress(self, round_: Round) -> None:
        failed = round_.failed
        counts = f"{len(round_.passed)} passed"
        if failed:
            counts += f", {len(failed)} failed: " + ", ".join(
                _short(run.check) for run in failed[:3]
            )
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
        self._say(
            f"watch round {round_.number}/{self.window.planned_rounds} "
            f"{_utc(round_.started_at)}: {counts}{slowest}{no_data}",
            red=round_.outcome != "passed",
        )

    def _summary(
        self, judge: WatchJudge, decision: Decision, ended: str, begin: float
    ) -> dict[str, Any]:
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
                    "first_failed_at": _utc(history.first_failed_at),
                    "first_failed_after_s": round((history.first_failed_at or start) - start, 1),
                    "last_failed_at": _utc(history.last_failed_at),
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
            "auth_calls": self.auth_calls,
            "failures": failures,
            "timeline": {
                h.check: h.rounds[-_KEPT_ROUNDS:].decode() for h in judge.histories.values()
            },
            "latency": {name: list(series) for name, series in self.latency.items()},
        }

    def _report(self, session: pytest.Session, judge: WatchJudge, decision: Decision) -> None:
        """Every check of the window, once: failed when the window is red and it failed."""
        histories = list(judge.histories.values())
        session.testscollected += len(histories)  # the progress counts them
        for history in histories:
            _report_history(session, history, decision, judge.rounds)


def _report_history(
    session: pytest.Session, history: CheckHistory, decision: Decision, rounds: int
) -> None:
    check = history.check
    nodeid = check if check.startswith("watch::") else f"watch::{check}"
    first = history.first_failure
    ran = history.ran
    if first is not None:
        when = (
            f"failed in {history.failed_rounds} of {ran} rounds, first in round "
            f"{history.first_failed_round} at {_utc(history.first_failed_at)}, last at "
            f"{_utc(history.last_failed_at)}"
        )
        if decision.verdict == "red":
            details = [first.message, when + f" (the watch: {decision.reason})"]
            if first.evidence:
                details.append(f"evidence (round {history.first_failed_round}):\n{first.evidence}")
            if first.replay:
                details.append(f"replay: {first.replay}")
            report_check(
                session,
                nodeid,
                "failed",
                "\n".join(details),
                properties=[(CAUSE, first.message.splitlines()[0] if first.message else when)],
                duration=first.duration_s,
            )
            return
        note = f"{when}, within the watch's limits: {first.message}"
        report_check(
            session,
            nodeid,
            "passed",
            properties=[(RECOMMENDATION, note), (EXAMINED, f"{ran} rounds")],
        )
        return
    if ran == 0:
        report_check(
            session,
            nodeid,
            "skipped",
            f"judged nothing in {rounds} rounds: {history.last_message or 'no data'}",
        )
        return
    report_check(
        session,
        nodeid,
        "passed",
        properties=[(EXAMINED, f"passed in {history.passed_rounds} of {ran} rounds")],
        sections=[
            ("deploycheck: examined", f"passed in {ran} rounds; last: {history.last_message}")
        ],
    )


def _failing_exchange(exchanges: list[Exchange]) -> Exchange | None:
    for exchange in reversed(exchanges):
        if exchange.status is None or exchange.status >= 400:
            return exchange
    return exchanges[-1] if exchanges else None


def _short(check: str) -> str:
    return check.rsplit("/", 1)[-1]


def _utc(at: float | None) -> str:
    if at is None:
        return "-"
    return datetime.fromtimestamp(at, timezone.utc).strftime("%H:%M:%S UTC")


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
