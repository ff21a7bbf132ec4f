"""The Locust event listeners: options, setup, statistics, progress and the verdict.

Registered by :func:`pytest_deploycheck.load.locust.install` (never at import),
as bound methods of one :class:`LoadEvents` holding the run's :class:`LoadState`.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.config.resolve import Requested, Setting, resolve
from pytest_deploycheck.errors import DeployCheckError
from pytest_deploycheck.load import criteria as criteria_module
from pytest_deploycheck.load.criteria import Measured, check_load_settings
from pytest_deploycheck.load.locust.state import LoadState
from pytest_deploycheck.load.locust.users import DeployCheckUser, LoadSession
from pytest_deploycheck.load.options import LOCUST_FLAGS, OPTIONS
from pytest_deploycheck.load.profiles import select
from pytest_deploycheck.load.report import CriterionResult, EndpointErrors, LoadReport
from pytest_deploycheck.load.request import LoadRequest
from pytest_deploycheck.load.stats import Recorder, judge
from pytest_deploycheck.run.embedded import run_checks

log = logging.getLogger("deploycheck.load")

WIRE_KEY = "deploycheck"


class LoadEvents:
    """One run's listeners; ``register`` hooks them into Locust's events."""

    def __init__(self, state: LoadState) -> None:
        self.state = state

    def register(self) -> None:
        events.init_command_line_parser.add_listener(self.options)
        events.init.add_listener(self.init)
        events.request.add_listener(self.on_request)
        events.report_to_master.add_listener(self.to_master)
        events.worker_report.add_listener(self.from_worker)
        events.test_start.add_listener(self.test_start)
        events.test_stop.add_listener(self.test_stop)
        events.quitting.add_listener(self.quitting)

    # -- options and setup ------------------------------------------------------------------

    def options(self, parser: Any) -> None:
        group = parser.add_argument_group("pytest-deploycheck")
        for option in OPTIONS:
            if option.locust is None:
                continue
            if option.kind == "switch":
                group.add_argument(option.locust, action="store_true", help=option.help)
                continue
            kind = {"number": float, "seconds": float, "count": int}.get(option.kind, str)
            default = "smoke" if option.dest == "load_profile" else option.default
            group.add_argument(option.locust, type=kind, default=default, help=option.help)

    def init(self, environment: Environment, **_: Any) -> None:
        options = environment.parsed_options
        if options is None:  # library use without our options
            return
        state = self.state
        try:
            env, allowed = self._request(options, environment)
            state.profile = select(options.load_profile, env.load.profiles)
            state.criteria = criteria_module.parse_all(env.load.criteria)
            if state.endpoints:
                criteria_module.check_scopes(state.criteria, state.endpoints)
        except DeployCheckError as exc:
            sys.stderr.write(f"deploycheck: {exc}\n")
            sys.exit(2)
        state.env = env
        self._leave_out_creators_where_not_allowed(environment, allowed)
        if env.is_embedded and not isinstance(environment.runner, WorkerRunner):
            environment.host = self._start_embedded(env)
            state.env = env.with_overrides(base_url=environment.host)
        elif not environment.host and not env.is_embedded:
            environment.host = env.base_url
        # (a worker of an embedded env learns the URL from the master's spawn message)
        self._configure_users(environment)
        if not isinstance(environment.runner, WorkerRunner):
            log.info(
                "deploycheck: env %s at %s, profile %s (%s), criteria: %s",
                env.name,
                environment.host,
                state.profile.name,
                state.profile.description,
                "; ".join(str(c) for c in state.criteria),
            )
            gevent.spawn(self._progress, environment, options.progress_interval)

    def _request(self, options: Any, environment: Environment) -> tuple[TargetEnv, Setting[bool]]:
        """The env and whether creators may run: as pytest resolved them (--deploycheck-request),
        else resolved here, as a standalone ``locust -f`` does."""
        if getattr(options, "deploycheck_request", None):
            request = LoadRequest.read(Path(options.deploycheck_request))
            if not options.load_profile or options.load_profile == "smoke":
                options.load_profile = request.profile
            return request.env, Setting(request.destructive_allowed, request.destructive_why)
        resolution = resolve(
            Requested(
                env=options.deploycheck_env,
                base_url=environment.host or None,
                config_path=options.deploycheck_config,
                allow_destructive=options.allow_destructive,
                load_profile=options.load_profile,
                flags=LOCUST_FLAGS,
                checks=(*run_checks(), check_load_settings),
            ),
            rootdir=Path.cwd(),
        )
        if resolution.env is None:
            raise DeployCheckError("no target selected: pass --deploycheck-env NAME or --host URL")
        return resolution.env, resolution.destructive_allowed

    def _leave_out_creators_where_not_allowed(
        self, environment: Environment, allowed: Setting[bool]
    ) -> None:
        """The same production rule as pytest's: users that create data (``destructive``)
        run against an env marked production only with --allow-destructive."""
        if allowed.value:
            return
        creators = [c for c in environment.user_classes if getattr(c, "destructive", False)]
        if not creators:
            return
        environment.user_classes[:] = [c for c in environment.user_classes if c not in creators]
        names = ", ".join(c.__name__ for c in creators)
        if not environment.user_classes:
            sys.stderr.write(
                f"deploycheck: every user class creates data ({names}), and {allowed.origin}\n"
            )
            sys.exit(2)
        log.warning("deploycheck: left out %s (they create data): %s", names, allowed.origin)

    def _configure_users(self, environment: Environment) -> None:
        state = self.state
        assert state.env is not None
        classes = [c for c in environment.user_classes if issubclass(c, DeployCheckUser)]
        total = sum(
            int(getattr(state.env.load, f"{c.weight_key}_weight", c.weight))
            if c.weight_key
            else int(c.weight)
            for c in classes
        )
        peak = state.profile.peak_users if state.profile else 0
        for user_class in classes:
            user_class.configure(state.env, peak, total)

    def _start_embedded(self, env: TargetEnv) -> str:
        from pytest_deploycheck.run import embedded

        self.state.embedded_dir = Path(tempfile.mkdtemp(prefix="deploycheck-load-"))
        settings: dict[str, object] = {
            "auth_rate_limit": 0,
            "cards_limit_month": 1_000_000,
            **env.embedded.settings,
        }
        deployment = embedded.ensure_started(
            self.state.embedded_dir, faults=env.embedded.faults, settings=settings
        )
        log.info("deploycheck: started the embedded reference deployment at %s", deployment.url)
        return deployment.url

    # -- statistics -------------------------------------------------------------------------

    def on_request(
        self, request_type: str, name: str, response_time: float, exception: Any = None, **_: Any
    ) -> None:
        self.state.local.record(request_type, name, response_time or 0.0, exception is not None)

    def to_master(self, client_id: str, data: dict[str, Any]) -> None:
        data[WIRE_KEY] = self.state.local.take_wire()

    def from_worker(self, client_id: str, data: dict[str, Any]) -> None:
        self.state.merge(data.get(WIRE_KEY) or {})

    def test_start(self, environment: Environment, **_: Any) -> None:
        state = self.state
        state.started_at = time.monotonic()
        if state.env is None or isinstance(environment.runner, MasterRunner):
            return
        if environment.host and environment.host != state.env.base_url:
            state.env = state.env.with_overrides(base_url=environment.host)
            self._configure_users(environment)
        try:
            state.session = LoadSession.for_process(state.env)
        except DeployCheckError as exc:
            state.sign_in_error = str(exc)
            log.error("deploycheck: could not sign in, stopping: %s", exc)
            if environment.runner is not None:
                gevent.spawn(environment.runner.quit)

    def test_stop(self, environment: Environment, **_: Any) -> None:
        state = self.state
        state.stopped_at = time.monotonic()
        state.collect_local(environment)
        if state.session is not None:
            for line in state.session.cleanup():
                level = logging.WARNING if line.startswith("left behind") else logging.INFO
                log.log(level, "deploycheck: load %s", line)

    def _progress(self, environment: Environment, interval: float) -> None:
        state = self.state
        while True:
            gevent.sleep(interval)
            runner = environment.runner
            if runner is None or runner.state in ("stopped", "quitting"):
                continue
            state.collect_local(environment)
            window = state.window.overall()
            state.window = Recorder()
            p95 = f"{window.percentile_ms(95):.0f} ms" if window.timed else "-"
            total = state.total.overall()
            failures = total.failures / total.requests if total.requests else 0.0
            log.info(
                "deploycheck: users=%d rps=%.1f p95(last %ds)=%s failures=%.2f%% requests=%d",
                runner.user_count,
                window.requests / interval,
                interval,
                p95,
                failures * 100,
                total.requests,
            )
            self._maybe_abort(environment)

    def _maybe_abort(self, environment: Environment) -> None:
        state = self.state
        if state.env is None or not state.env.load.abort_on_breach or state.aborted:
            return
        if state.total.overall().requests < 100 or state.duration() < 10:
            return
        for verdict in judge(state.criteria, state.total, state.duration()):
            c = verdict.criterion
            if (
                verdict.ok
                or verdict.measured is None
                or c.metric in ("rps", "count")
                or c.op not in ("<", "<=")
            ):
                continue
            if verdict.measured >= 2 * c.limit:
                state.aborted = (
                    f"{c} measured {verdict.measured_text}, over twice the limit: stopped early"
                )
                log.error("deploycheck: %s", state.aborted)
                if environment.runner is not None:
                    gevent.spawn(environment.runner.quit)
                return

    # -- the verdict ------------------------------------------------------------------------

    def quitting(self, environment: Environment, **_: Any) -> None:
        state = self.state
        if isinstance(environment.runner, WorkerRunner) or state.env is None:
            return
        state.collect_local(environment)
        state.stopped_at = state.stopped_at or time.monotonic()
        recorder = (
            state.sustained if state.breaking_point and state.sustained.series else state.total
        )
        verdicts = judge(state.criteria, recorder, state.duration())
        report = self.report(verdicts, environment)
        print_report(report)
        options = environment.parsed_options
        if options is not None and options.deploycheck_results:
            report.write(Path(options.deploycheck_results))
        if not report.passed:
            environment.process_exit_code = 1
        if state.embedded_dir is not None:
            from pytest_deploycheck.run import embedded

            embedded.stop(state.embedded_dir)
            shutil.rmtree(state.embedded_dir, ignore_errors=True)

    def report(self, verdicts: list[Measured], environment: Environment) -> LoadReport:
        state = self.state
        locust_total = environment.runner.stats.total if environment.runner else None
        overall = state.total.overall()
        return LoadReport(
            profile=state.profile.name if state.profile else None,
            duration_s=state.duration(),
            requests=overall.requests,
            failures=overall.failures,
            verdicts=[CriterionResult.of(v) for v in verdicts],
            breaking_point=state.breaking_point,
            aborted=state.aborted,
            p95_ms_exact=overall.percentile_ms(95) if overall.timed else None,
            p95_ms_locust=locust_total.get_response_time_percentile(0.95)
            if locust_total and locust_total.num_requests
            else None,
            endpoints=state.total.names(),
            errors=endpoint_errors(state, environment),
        )


def endpoint_errors(state: LoadState, environment: Environment) -> list[EndpointErrors]:
    """Each failing endpoint with its failure count and Locust's most common reasons."""
    reasons: dict[str, list[tuple[int, str]]] = {}
    if environment.runner is not None:
        for error in environment.runner.stats.errors.values():
            key = f"{error.method} {error.name}"
            reasons.setdefault(key, []).append((error.occurrences, str(error.error)))
    found = []
    for key, series in sorted(state.total.series.items()):
        if not series.failures:
            continue
        top = sorted(reasons.get(key, []), reverse=True)[:3]
        found.append(
            EndpointErrors(
                name=key,
                requests=series.requests,
                failures=series.failures,
                reasons=[f"{count}× {text}"[:200] for count, text in top],
            )
        )
    return found


def print_report(report: LoadReport) -> None:
    """The verdict, one ``deploycheck:`` line per row (the pytest side forwards those lines)."""
    rows = [
        (v.scope, v.criterion, v.measured_text, v.limit_text, "pass" if v.ok else "FAIL")
        for v in report.verdicts
    ]
    header = ("scope", "criterion", "measured", "limit", "result")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    out = sys.stderr
    out.write(f"deploycheck: load verdict ({report.profile} profile, {report.duration_s:.0f} s)\n")
    for row in [header, *rows]:
        out.write(
            "deploycheck:   "
            + "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            + "\n"
        )
    for failing in report.errors:
        out.write(
            f"deploycheck: {failing.name}: {failing.failures} of {failing.requests} failed"
            + (f" ({'; '.join(failing.reasons)})" if failing.reasons else "")
            + "\n"
        )
    for extra in (report.breaking_point, report.aborted):
        if extra:
            out.write(f"deploycheck: {extra}\n")
    held = sum(v.ok for v in report.verdicts)
    out.write(
        f"deploycheck: {'PASSED' if report.passed else 'FAILED'}: "
        f"{held} of {len(report.verdicts)} criteria hold\n"
    )
