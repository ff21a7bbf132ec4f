"""What a watch round examines besides the run's own checks: the users' sessions renewed,
the journey again at its own interval, the passive checks over the round's answers, and a
source's errors turned into failed checks."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.errors import DeployCheckError, TargetUnreachable
from pytest_deploycheck.evidence.finding import internal_error
from pytest_deploycheck.evidence.replay import curl_command
from pytest_deploycheck.plugin.context import DeployContext
from pytest_deploycheck.plugin.reporting import failure_message
from pytest_deploycheck.properties import CAUSE, EXAMINED, UNREACHABLE
from pytest_deploycheck.run.client import DeployClient, Exchange
from pytest_deploycheck.watch.policy import CheckRun
from pytest_deploycheck.watch.report import failing_exchange
from pytest_deploycheck.watch.window import WatchWindow

JOURNEY = "watch::journey"


# Fixtures whose checks are not repeated: they spend the auth rate limit, or judge the one
# job the run made.
_NOT_REPEATED_FIXTURES = frozenset(
    {"auth_api", "refreshed_token", "uploaded_job", "finished_job", "deck", "deck_report"}
)
_NOT_REPEATED_MARKERS = ("destructive", "load", "fuzz")


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


def check_run(
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
        failing = failing_exchange(exchanges)
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
    seen = [str(v) for report in reports for name, v in report.user_properties if name == EXAMINED]
    said = seen[0] if seen else f"{len(exchanges)} exchanges"
    return CheckRun(item.nodeid, "passed", said, duration_s=duration)


class WatchSources:
    """The round's other sources, over the run's context."""

    def __init__(self, context: DeployContext, window: WatchWindow) -> None:
        self.context = context
        self.window = window
        self.auth_calls = 0  # refresh calls: the watch's whole spend of the auth budget
        self.journey_allowed = False  # destructive allowed and the run's journey passed
        self.last_journey: float | None = None

    def journey_due(self) -> bool:
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

    def journey(self, target: TargetEnv) -> CheckRun:
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
            failing = failing_exchange(context.exchanges[before:])
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

    def guarded(
        self,
        checks: list[str],
        read: Callable[[DeployClient], list[CheckRun]],
        url: str,
        auth: tuple[str, str] | None = None,
    ) -> list[CheckRun]:
        """A source's checks this round, read through a client of its own (the run's deadlines
        and redaction; its own credentials, none of the API's; its answers not the API's to
        judge); its error fails them (a bug of ours, named as such)."""
        from pytest_deploycheck.deps.clients import service_client

        env = self.context.reach()
        try:
            with service_client(env, self.context.redactor, url, auth) as client:
                return read(client)
        except DeployCheckError as exc:
            return [CheckRun(check, "failed", str(exc)) for check in checks]
        except Exception as exc:  # noqa: BLE001  (a bug of ours fails the checks, naming it)
            return [CheckRun(check, "failed", internal_error(check, exc)) for check in checks]

    def passive(self, exchanges: list[Exchange], evidence: Any) -> list[CheckRun]:
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

    def renew_sessions(self, target: TargetEnv) -> list[CheckRun]:
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
