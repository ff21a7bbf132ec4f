"""The Locust side: options, the profile shape, auth tokens, exact statistics, and the verdict.

A locustfile imports this module and calls :func:`install` with the
endpoint names its users call; it also re-exports :class:`ProfileShape` so
Locust finds the shape. Then plain ``locust -f locustfiles/anki_compendium.py
--headless --deploycheck-env staging --load-profile baseline`` applies the
env's criteria, prints the verdict table and exits non-zero on a breach, on
one machine or as master/workers (criteria judged on the master's merged
statistics).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import shutil
import ssl
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import gevent
from gevent.lock import Semaphore
from locust import FastHttpUser, LoadTestShape, events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from pytest_deploycheck.config import TargetEnv, find_config, load_config, resolve_env
from pytest_deploycheck.errors import DeployCheckError
from pytest_deploycheck.load import criteria as criteria_module
from pytest_deploycheck.load.criteria import Criterion, Verdict
from pytest_deploycheck.load.profiles import Profile, select
from pytest_deploycheck.load.stats import Recorder, judge

log = logging.getLogger("deploycheck.load")
logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per sign-in request otherwise

WIRE_KEY = "deploycheck"
TOKEN_ENV = "DEPLOYCHECK_LOAD_ACCESS_TOKEN"
REFRESH_ENV = "DEPLOYCHECK_LOAD_REFRESH_TOKEN"


class _State:
    """Everything this process knows about the run."""

    def __init__(self) -> None:
        self.env: TargetEnv | None = None
        self.profile: Profile | None = None
        self.criteria: list[Criterion] = []
        self.endpoints: list[str] = []
        self.total = Recorder()  # master/local: the whole run
        self.window = Recorder()  # master/local: since the last progress line
        self.stage = Recorder()  # master/local: the current stress stage
        self.sustained = Recorder()  # master/local: stress stages that held
        self.local = Recorder()  # worker: deltas not yet sent
        self.started_at: float | None = None
        self.stopped_at: float | None = None
        self.breaking_point: str | None = None
        self.aborted: str | None = None
        self.tokens: Tokens | None = None
        self.sign_in_error: str | None = None
        self.embedded_dir: Path | None = None


STATE = _State()


def install(endpoints: Iterable[str]) -> None:
    """Declare the endpoint names (``"GET /jobs/[id]"``) the locustfile's users call."""
    STATE.endpoints = list(endpoints)


@functools.lru_cache(maxsize=256)
def route_name(method: str, path_template: str) -> str:
    """``GET /jobs/{job_id}`` -> ``GET /jobs/[id]``: one statistics row per route, not per id."""
    return f"{method} {re.sub(r'{[^}]+}', '[id]', path_template)}"


@functools.lru_cache(maxsize=256)
def _route(path_template: str) -> str:
    return re.sub(r"{[^}]+}", "[id]", path_template)


# -- options and setup ----------------------------------------------------------------------


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    group = parser.add_argument_group("pytest-deploycheck")
    group.add_argument(
        "--deploycheck-env",
        default=os.environ.get("DEPLOYCHECK_ENV"),
        help="target env from deploycheck.toml",
    )
    group.add_argument(
        "--deploycheck-config", default=os.environ.get("DEPLOYCHECK_CONFIG"), help="config file"
    )
    group.add_argument(
        "--load-profile", default="smoke", help="smoke, baseline, stress, spike or soak"
    )
    group.add_argument(
        "--deploycheck-results", default="", help="write the verdict as JSON to this file"
    )
    group.add_argument(
        "--progress-interval", type=float, default=10.0, help="seconds between progress lines"
    )


@events.init.add_listener
def _init(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if options is None:  # library use without our options
        return
    try:
        path = find_config(Path.cwd(), options.deploycheck_config)
        config = load_config(path)
        name = options.deploycheck_env or (None if environment.host else config.default_env)
        env = resolve_env(config, name, base_url=environment.host or None)
        STATE.env = env
        STATE.profile = select(options.load_profile, env.load.profiles)
        STATE.criteria = criteria_module.parse_all(env.load.criteria)
        if STATE.endpoints:
            criteria_module.check_scopes(STATE.criteria, STATE.endpoints)
    except DeployCheckError as exc:
        sys.stderr.write(f"deploycheck: {exc}\n")
        sys.exit(2)
    if env.is_embedded and not isinstance(environment.runner, WorkerRunner):
        environment.host = _start_embedded(env)
        STATE.env = env.with_overrides(base_url=environment.host)
    elif not environment.host and not env.is_embedded:
        environment.host = env.base_url
    # (a worker of an embedded env learns the URL from the master's spawn message)
    for user_class in environment.user_classes:
        if issubclass(user_class, DeployCheckUser):
            user_class.configure(STATE.env)
    if isinstance(environment.runner, MasterRunner) or not isinstance(
        environment.runner, WorkerRunner
    ):
        log.info(
            "deploycheck: env %s at %s, profile %s (%s), criteria: %s",
            STATE.env.name,
            environment.host,
            STATE.profile.name,
            STATE.profile.description,
            "; ".join(str(c) for c in STATE.criteria),
        )
        gevent.spawn(_progress, environment, options.progress_interval)


def _start_embedded(env: TargetEnv) -> str:
    from pytest_deploycheck import embedded

    STATE.embedded_dir = Path(tempfile.mkdtemp(prefix="deploycheck-load-"))
    settings = {"auth_rate_limit": 0, "cards_limit_month": 1_000_000, **env.embedded.settings}
    deployment = embedded.ensure_started(
        STATE.embedded_dir, faults=env.embedded.faults, settings=settings
    )
    log.info("deploycheck: started the embedded reference deployment at %s", deployment.url)
    return deployment.url


# -- statistics ---------------------------------------------------------------------------


@events.request.add_listener
def _on_request(
    request_type: str, name: str, response_time: float, exception: Any = None, **_: Any
) -> None:
    STATE.local.record(request_type, name, response_time or 0.0, exception is not None)


@events.report_to_master.add_listener
def _to_master(client_id: str, data: dict[str, Any]) -> None:
    data[WIRE_KEY] = STATE.local.take_wire()


@events.worker_report.add_listener
def _from_worker(client_id: str, data: dict[str, Any]) -> None:
    _merge(data.get(WIRE_KEY) or {})


def _merge(wire: dict[str, Any]) -> None:
    for recorder in (STATE.total, STATE.window, STATE.stage):
        recorder.merge_wire(wire)


def _collect_local(environment: Environment) -> None:
    """Without workers, this process's own samples are the run's."""
    if not isinstance(environment.runner, MasterRunner | WorkerRunner):
        _merge(STATE.local.take_wire())


@events.test_start.add_listener
def _test_start(environment: Environment, **_: Any) -> None:
    STATE.started_at = time.monotonic()
    if STATE.env is None or isinstance(environment.runner, MasterRunner):
        return
    if environment.host and environment.host != STATE.env.base_url:
        STATE.env = STATE.env.with_overrides(base_url=environment.host)
        for user_class in environment.user_classes:
            if issubclass(user_class, DeployCheckUser):
                user_class.configure(STATE.env)
    try:
        STATE.tokens = Tokens.for_process(STATE.env)
    except DeployCheckError as exc:
        STATE.sign_in_error = str(exc)
        log.error("deploycheck: could not sign in, stopping: %s", exc)
        gevent.spawn(environment.runner.quit)  # type: ignore[union-attr]


@events.test_stop.add_listener
def _test_stop(environment: Environment, **_: Any) -> None:
    STATE.stopped_at = time.monotonic()
    _collect_local(environment)
    if STATE.tokens is not None:
        STATE.tokens.cleanup()


def _duration() -> float:
    if STATE.started_at is None:
        return 0.0
    return (STATE.stopped_at or time.monotonic()) - STATE.started_at


def _progress(environment: Environment, interval: float) -> None:
    while True:
        gevent.sleep(interval)
        runner = environment.runner
        if runner is None or runner.state in ("stopped", "quitting"):
            continue
        _collect_local(environment)
        window = STATE.window.overall()
        STATE.window = Recorder()
        p95 = f"{window.percentile_ms(95):.0f} ms" if window.requests else "-"
        total = STATE.total.overall()
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
        _maybe_abort(environment)


def _maybe_abort(environment: Environment) -> None:
    env = STATE.env
    if env is None or not env.load.abort_on_breach or STATE.aborted:
        return
    if STATE.total.overall().requests < 100 or _duration() < 10:
        return
    for verdict in judge(STATE.criteria, STATE.total, _duration()):
        c = verdict.criterion
        if (
            verdict.ok
            or verdict.measured is None
            or c.metric in ("rps", "count")
            or c.op not in ("<", "<=")
        ):
            continue
        if verdict.measured >= 2 * c.limit:
            STATE.aborted = (
                f"{c} measured {verdict.measured_text}, over twice the limit: stopped early"
            )
            log.error("deploycheck: %s", STATE.aborted)
            gevent.spawn(environment.runner.quit)  # type: ignore[union-attr]
            return


# -- the verdict -------------------------------------------------------------------------


@events.quitting.add_listener
def _quitting(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner) or STATE.env is None:
        return
    _collect_local(environment)
    STATE.stopped_at = STATE.stopped_at or time.monotonic()
    recorder = STATE.sustained if STATE.breaking_point and STATE.sustained.series else STATE.total
    verdicts = judge(STATE.criteria, recorder, _duration())
    print_verdicts(verdicts, environment)
    failed = [v for v in verdicts if not v.ok] or ([True] if STATE.aborted else [])
    options = environment.parsed_options
    if options is not None and options.deploycheck_results:
        write_results(Path(options.deploycheck_results), verdicts, environment)
    if failed:
        environment.process_exit_code = 1
    if STATE.embedded_dir is not None:
        from pytest_deploycheck import embedded

        embedded.stop(STATE.embedded_dir)
        shutil.rmtree(STATE.embedded_dir, ignore_errors=True)


def print_verdicts(verdicts: list[Verdict], environment: Environment) -> None:
    rows = [
        (
            str(v.criterion.scope),
            v.criterion.text,
            v.measured_text,
            v.limit_text,
            "pass" if v.ok else "FAIL",
        )
        for v in verdicts
    ]
    header = ("scope", "criterion", "measured", "limit", "result")
    lines = [
        f"deploycheck: load verdict ({STATE.profile.name if STATE.profile else '?'} profile, {_duration():.0f} s)"
    ]
    try:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=lines[0])
        for column in header:
            table.add_column(column)
        for row in rows:
            table.add_row(*row, style=None if row[-1] == "pass" else "bold red")
        Console(file=sys.stderr, width=120).print(table)
    except ImportError:
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        sys.stderr.write(lines[0] + "\n")
        for row in [header, *rows]:
            sys.stderr.write(
                "  "
                + "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True))
                + "\n"
            )
    for extra in (STATE.breaking_point, STATE.aborted):
        if extra:
            sys.stderr.write(f"deploycheck: {extra}\n")
    passed = all(v.ok for v in verdicts) and not STATE.aborted
    sys.stderr.write(
        f"deploycheck: {'PASSED' if passed else 'FAILED'}: {sum(v.ok for v in verdicts)} of {len(verdicts)} criteria hold\n"
    )


def write_results(path: Path, verdicts: list[Verdict], environment: Environment) -> None:
    locust_total = environment.runner.stats.total if environment.runner else None
    overall = STATE.total.overall()
    data = {
        "profile": STATE.profile.name if STATE.profile else None,
        "duration_s": _duration(),
        "breaking_point": STATE.breaking_point,
        "aborted": STATE.aborted,
        "requests": overall.requests,
        "failures": overall.failures,
        "p95_ms_exact": overall.percentile_ms(95) if overall.requests else None,
        "p95_ms_locust": locust_total.get_response_time_percentile(0.95)
        if locust_total and locust_total.num_requests
        else None,
        "endpoints": STATE.total.names(),
        "verdicts": [
            {
                "scope": v.criterion.scope,
                "criterion": v.criterion.text,
                "measured": v.measured,
                "measured_text": v.measured_text,
                "limit_text": v.limit_text,
                "ok": v.ok,
            }
            for v in verdicts
        ],
    }
    path.write_text(json.dumps(data, indent=2))


# -- the profile as a shape ------------------------------------------------------------------


class ProfileShape(LoadTestShape):
    """Runs the selected profile's stages; for ``stress``, stops at the first stage that breaks."""

    _stage_index = -1

    def tick(self) -> tuple[int, float] | None:
        profile = STATE.profile
        if profile is None:
            return None
        elapsed = self.get_run_time()
        remaining = elapsed
        for index, stage in enumerate(profile.stages):
            if remaining < stage.duration_s:
                if index != self._stage_index:
                    if profile.find_breaking_point and not self._stage_held():
                        return None
                    self._stage_index = index
                return stage.users, stage.spawn_rate
            remaining -= stage.duration_s
        if profile.find_breaking_point:
            self._stage_held()
            if not STATE.breaking_point:
                STATE.breaking_point = f"no breaking point up to {profile.peak_users} users"
        return None

    def _stage_held(self) -> bool:
        """Judge the stage that just ended; False (and the breaking point noted) when it broke."""
        if self._stage_index < 0 or STATE.profile is None:
            return True
        if self.runner is not None:
            _collect_local(self.runner.environment)
        users = STATE.profile.stages[self._stage_index].users
        stage, STATE.stage = STATE.stage, Recorder()
        broken = [
            v
            for v in judge(
                STATE.criteria, stage, STATE.profile.stages[self._stage_index].duration_s
            )
            if not v.ok
        ]
        if broken:
            STATE.breaking_point = (
                f"breaking point: {users} users ("
                + "; ".join(f"{v.criterion} measured {v.measured_text}" for v in broken)
                + "); the verdict below is for the stages before it"
            )
            return False
        for key, series in stage.series.items():
            STATE.sustained.series.setdefault(key, type(series)()).merge(series)
        return True


# -- users and their tokens ------------------------------------------------------------------


class Tokens:
    """This process's sign-in: from the runner (environment variables) or made here once."""

    def __init__(
        self, env: TargetEnv, access: str, refresh: str | None, throwaway: dict[str, str] | None
    ) -> None:
        self.env = env
        self.access = access
        self.refresh_token = refresh
        self.throwaway = throwaway
        self._lock = Semaphore()
        self._refreshed_at = 0.0

    @classmethod
    def for_process(cls, env: TargetEnv) -> Tokens:
        if os.environ.get(TOKEN_ENV):
            return cls(env, os.environ[TOKEN_ENV], os.environ.get(REFRESH_ENV), None)
        from pytest_deploycheck.accounts import AuthApi, RateLimitBudget, provision
        from pytest_deploycheck.client import DeployClient

        run_id = f"load{os.getpid()}"
        with DeployClient(env) as client:
            try:
                user = provision(
                    AuthApi(client, env, RateLimitBudget()), "smoke", run_id, client.redactor
                )
            except DeployCheckError as exc:
                # An answer's excerpt may echo what was sent (the generated password).
                raise DeployCheckError(client.redactor.text(str(exc))) from None
        throwaway = {"email": user.email} if user.throwaway else None
        return cls(env, user.access_token, user.refresh_token, throwaway)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}

    def refresh(self, rejected: str) -> None:
        """After a 401: one refresh per expiry, whichever user notices first."""
        with self._lock:
            if (
                self.access != rejected
                or not self.refresh_token
                or time.monotonic() - self._refreshed_at < 5
            ):
                return
            from pytest_deploycheck.client import DeployClient

            with DeployClient(self.env) as client:
                response = client.post(
                    self.env.paths.refresh, json={"refresh_token": self.refresh_token}
                )
            if response.status_code == 200:
                self.access = response.json()[self.env.auth.access_token_field]
            self._refreshed_at = time.monotonic()

    def cleanup(self) -> None:
        if self.throwaway is None:
            return
        from pytest_deploycheck.client import DeployClient

        with DeployClient(self.env) as client:
            client.request(
                "DELETE",
                self.env.paths.delete_account,
                headers=self.headers,
                json={"confirmation": "DELETE"},
            )
        self.throwaway = None


class DeployCheckUser(FastHttpUser):
    """A FastHttpUser bound to the env: API prefix, bearer token, route-template names, TLS verified."""

    abstract = True
    env: TargetEnv | None = None

    @classmethod
    def configure(cls, env: TargetEnv) -> None:
        cls.env = env
        # FastHttpUser does not verify certificates unless told to.
        cls.insecure = not env.verify_tls
        if env.verify_tls and env.ca_bundle:
            bundle = env.ca_bundle
            cls.ssl_context_factory = staticmethod(
                lambda: ssl.create_default_context(cafile=bundle)
            )  # type: ignore[assignment]
        weights = {"BrowsingUser": env.load.browser_weight, "CreatorUser": env.load.creator_weight}
        for sub in cls.__subclasses__():
            if sub.__name__ in weights:
                sub.weight = weights[sub.__name__]

    @property
    def tokens(self) -> Tokens:
        while STATE.tokens is None:  # test_start signs in before users start; wait if not yet
            if STATE.sign_in_error:
                raise gevent.GreenletExit(STATE.sign_in_error)
            gevent.sleep(0.05)
        return STATE.tokens

    def api(
        self,
        method: str,
        path_template: str,
        *,
        expect: tuple[int, ...] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call ``path_template`` (from env.paths) named by its route.

        Without ``expect``, Locust's own rule applies (an error status is a
        failure) on the fast path; with it, only those codes are successes.
        """
        assert self.env is not None
        params = kwargs.pop("params_path", None)
        url = self.env.api_prefix + (path_template.format(**params) if params else path_template)
        token = self.tokens.access
        headers = kwargs.pop("headers", None)
        headers = (
            {**headers, "Authorization": f"Bearer {token}"}
            if headers
            else {"Authorization": f"Bearer {token}"}
        )
        if expect is None:
            response = self.client.request(
                method, url, name=_route(path_template), headers=headers, **kwargs
            )
            if response.status_code == 401:
                self.tokens.refresh(token)
            return response
        with self.client.request(
            method, url, name=_route(path_template), headers=headers, catch_response=True, **kwargs
        ) as response:
            if response.status_code == 401:
                self.tokens.refresh(token)
            if response.status_code in expect:
                response.success()
            else:
                response.failure(
                    f"{response.status_code}: expected {' or '.join(map(str, expect))}"
                )
            return response
