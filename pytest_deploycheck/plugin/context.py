"""The run's target: which env, where each setting came from, and reaching it once.

One :class:`DeployContext` per pytest process, kept in ``config.stash``. It
resolves the env at configure time (so a bad config is a usage error before
anything runs) and reaches the target lazily, the first time a test needs it:
starting the embedded deployment if the env says so, then probing it once so
that an unreachable target stops the run with one message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from pytest_deploycheck.config import ConfigFile, Resolution, TargetEnv
from pytest_deploycheck.errors import DeployCheckError, TargetUnreachable
from pytest_deploycheck.run.client import DeployClient, Exchange, endpoint_of
from pytest_deploycheck.run.pacing import AuthBudget
from pytest_deploycheck.run.redaction import Redactor
from pytest_deploycheck.run.store import RunStore, RunUser

if TYPE_CHECKING:
    from pytest_deploycheck.plugin.fuzz_ahead import FuzzAhead
    from pytest_deploycheck.plugin.journey_ahead import JourneyAhead


@dataclass
class DeployContext:
    """This process's view of the run: what it targets (resolved once) and what it has seen."""

    resolution: Resolution
    state_dir: Path | None  # shared with xdist workers: embedded deployment, users, created data
    owner_pid: int
    is_worker: bool
    run_id: str = "local"
    ledger: Path | None = None  # what the run created, kept until cleaned (not embedded envs)
    check_rate_limit: bool = False
    redactor: Redactor = field(default_factory=Redactor)
    target: TargetEnv | None = None  # the env with a concrete base_url, once reached
    failure: DeployCheckError | None = None  # why the target could not be reached
    notes: list[str] = field(default_factory=list)  # for the terminal summary
    facts: dict[str, object] = field(default_factory=dict)  # timeline, deployed version
    exchanges: list[Exchange] = field(default_factory=list)  # every request of this process
    _embedded_target: TargetEnv | None = None
    _reach_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _journey_ahead: JourneyAhead | None = None
    _fuzz_ahead: FuzzAhead | None = None
    _auth_budget: AuthBudget | None = None
    _store: RunStore | None = None
    on_wait: Callable[[str], None] | None = None  # progress of a long wait (terminal)
    passive_reviewed: bool = False  # the passive checks already ran (before a watch)
    passive_on: bool = False  # this process reviews every answer at the end (--passive-checks)
    # The passive review's OpenAPI document, loaded while the journey's job ran (a RunEvidence).
    prepared_evidence: object | None = None
    watch: dict[str, object] | None = None  # the watch window's summary, for the verdict
    baseline: dict[str, object] | None = None  # the comparison with the last green release
    # Settings the embedded deployment starts with besides the env's (a load run's: no auth
    # limit, no card quota, as the Locust process used to start a second one with).
    embedded_overrides: dict[str, object] = field(default_factory=dict)

    @property
    def auth_budget(self) -> AuthBudget:
        """The target's auth rate limit, shared by this run's processes."""
        if self._auth_budget is None:
            assert self.env is not None, "no env selected"
            self._auth_budget = AuthBudget(self.env, self.state_dir, on_wait=self.on_wait)
        return self._auth_budget

    @property
    def journey_ahead(self) -> JourneyAhead:
        """The journey's upload and job, followed in the background (started on first use)."""
        if self._journey_ahead is None:
            from pytest_deploycheck.plugin.journey_ahead import JourneyAhead

            self._journey_ahead = JourneyAhead(self)
        return self._journey_ahead

    @property
    def fuzz_ahead(self) -> FuzzAhead:
        """The smoke subset's fuzzing, forked when the run starts (where it is)."""
        if self._fuzz_ahead is None:
            from pytest_deploycheck.plugin.fuzz_ahead import FuzzAhead

            self._fuzz_ahead = FuzzAhead(self)
        return self._fuzz_ahead

    def run_facts(self) -> dict[str, object]:
        """What this process saw that the verdict reports: latencies, the timeline, the version."""
        target = self.target or self.env
        base = target.base_url if target is not None else ""
        latency: dict[str, list[float]] = {}
        for exchange in self.exchanges:
            # The target's own endpoints: a probe's 404 or 405 (GET /console) is no endpoint.
            if exchange.status is not None and exchange.status < 400:
                name = endpoint_of(exchange.method, exchange.url, base)
                latency.setdefault(name, []).append(round(exchange.elapsed_ms, 2))
        return {**self.facts, "latency": latency}

    def stop_background(self) -> None:
        """Stop what runs in the background (the fuzzing and journey ahead) before cleanup."""
        if self._fuzz_ahead is not None:
            self._fuzz_ahead.stop()
        if self._journey_ahead is not None:
            self._journey_ahead.stop()

    def run_user(self, label: str, client: DeployClient) -> RunUser:
        """This run's user ``label`` ("smoke", "other"), signed in once per run (xdist included)."""
        from pytest_deploycheck.target.accounts import AuthApi, provision, throwaway_handle

        assert client.env is not None
        api = AuthApi(client, client.env, self.auth_budget)
        store = self.store

        def sign_in() -> RunUser:
            return provision(
                api,
                label,
                self.run_id,
                self.redactor,
                before_register=lambda email, password: store.pending_user(
                    label, email, password, throwaway_handle(self.run_id, label)
                ),
            )

        user = store.user(label, sign_in)
        self.redactor.add(user.access_token, user.refresh_token)
        return user

    @property
    def env(self) -> TargetEnv | None:
        """The selected env as configured (``base_url`` may still be ``"embedded"``)."""
        return self.resolution.env

    @property
    def config_file(self) -> ConfigFile:
        return self.resolution.config

    def client(self) -> DeployClient:
        """A client for the reached target that records into this run's exchanges."""
        return DeployClient(self.reach(), self.redactor, on_exchange=self.exchanges.append)

    @property
    def store(self) -> RunStore:
        """The run's shared store: one per process, so its file lock is re-entrant for the
        thread holding it (a sign-in that records a pending user, an upload that records a job)."""
        if self._store is None:
            assert self.state_dir is not None
            env = self.env
            identity = (
                {"env": env.name, "base_url": env.base_url, "run_id": self.run_id} if env else {}
            )
            self._store = RunStore(self.state_dir, self.ledger, identity)
        return self._store

    @property
    def job_deadline_s(self) -> float:
        deadline = self.resolution.job_deadline_s.value
        assert deadline is not None, "no env selected"
        return deadline

    def cleanup(self) -> list[str]:
        """Delete what this run created (the controller, after all workers are done)."""
        if self.state_dir is None or self.env is None or not self.store.path.exists():
            return []
        contents = self.store.contents()
        if not contents["users"] and not contents["created"] and not contents.get("pending"):
            return []
        from pytest_deploycheck.target.accounts import AuthApi, cleanup

        target = self.target or self.env
        if target.is_embedded:
            from pytest_deploycheck.run import embedded

            deployment = embedded.read_state(self.state_dir)
            if deployment is None:
                return []
            target = target.with_overrides(base_url=deployment.url)
        with DeployClient(target, self.redactor, on_exchange=self.exchanges.append) as client:
            api = AuthApi(client, target, self.auth_budget)
            lines = cleanup(client, target, contents, sign_in=api.login)
        if self.ledger is not None:
            if any(line.startswith("left behind") for line in lines):
                lines.append(
                    f"what was left behind is recorded in {self.ledger}; remove it with: "
                    f"deploycheck cleanup --env {target.name}"
                )
            else:
                self.ledger.unlink(missing_ok=True)
        return lines

    def reach(self) -> TargetEnv:
        """The target, started (embedded) and probed; raises the same error every time it failed."""
        if self.target is not None:
            return self.target
        with self._reach_lock:  # the journey ahead reaches from its own thread
            return self._reach()

    def _reach(self) -> TargetEnv:
        if self.target is not None:
            return self.target
        if self.failure is not None:
            raise self.failure
        if self.env is None:
            raise DeployCheckError(
                "no target selected: pass --env NAME (known: "
                + ", ".join(self.config_file.env_names())
                + ") or --base-url URL"
            )
        try:
            target = self.started()
            probe(DeployClient(target, self.redactor, on_exchange=self.exchanges.append))
        except DeployCheckError as exc:
            self.failure = exc
            raise
        self.target = target
        return target

    def started(self) -> TargetEnv:
        """The env with a concrete base URL (the embedded deployment started), not probed."""
        assert self.env is not None
        if self.target is not None:
            return self.target
        if not self.env.is_embedded:
            return self.env
        if self._embedded_target is None:
            self._embedded_target = self._start()
        return self._embedded_target

    def _start(self) -> TargetEnv:
        from pytest_deploycheck.run import embedded

        assert self.env is not None and self.state_dir is not None
        deployment = embedded.ensure_started(
            self.state_dir,
            faults=self.env.embedded.faults,
            settings={**self.env.embedded.settings, **self.embedded_overrides},
            owner_pid=self.owner_pid,
            startup_timeout=self.env.embedded.startup_timeout,
        )
        target = self.env.with_overrides(base_url=deployment.url)
        if target.expected_version is None:
            from pytest_deploycheck._version import __version__

            # The embedded deployment is this package's: expect its version.
            target = target.with_overrides(expected_version=__version__)
        return target

    @property
    def destructive_allowed(self) -> tuple[bool, str]:
        """Whether destructive tests may run, and why (for the skip reason and the header)."""
        setting = self.resolution.destructive_allowed
        return setting.value, setting.origin


def probe(client: DeployClient) -> None:
    """One request to the liveness path: does anything answer at all?"""
    target = client.env
    with client:
        try:
            client.get(target.health_url(target.health.liveness_path or "/"))
        except TargetUnreachable as exc:
            raise TargetUnreachable(
                f"{exc} — stopping the run: every check needs the target "
                f"(env {target.name!r}, base_url {target.base_url}).",
                url=exc.url,
                cause=exc.cause,
            ) from None
        except httpx.HTTPError as exc:  # e.g. an invalid URL that validation let through
            raise TargetUnreachable(f"could not reach {target.base_url}: {exc}") from None
