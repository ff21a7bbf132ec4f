"""The run's target: which env, where each setting came from, and reaching it once.

One :class:`DeployContext` per pytest process, kept in ``config.stash``. It
resolves the env at configure time (so a bad config is a usage error before
anything runs) and reaches the target lazily, the first time a test needs it:
starting the embedded deployment if the env says so, then probing it once so
that an unreachable target stops the run with one message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx

from pytest_deploycheck.checks.accounts import RateLimitBudget
from pytest_deploycheck.config import ConfigFile, Resolution, TargetEnv
from pytest_deploycheck.errors import DeployCheckError, TargetUnreachable
from pytest_deploycheck.run.client import DeployClient, Exchange
from pytest_deploycheck.run.redaction import Redactor
from pytest_deploycheck.run.store import RunStore


@dataclass
class DeployContext:
    """This process's view of the run: what it targets (resolved once) and what it has seen."""

    resolution: Resolution
    state_dir: Path | None  # shared with xdist workers: embedded deployment, users, created data
    owner_pid: int
    is_worker: bool
    run_id: str = "local"
    check_rate_limit: bool = False
    rate_limit_budget: RateLimitBudget = field(default_factory=RateLimitBudget)
    redactor: Redactor = field(default_factory=Redactor)
    target: TargetEnv | None = None  # the env with a concrete base_url, once reached
    failure: DeployCheckError | None = None  # why the target could not be reached
    notes: list[str] = field(default_factory=list)  # for the terminal summary
    exchanges: list[Exchange] = field(default_factory=list)  # every request of this process
    _embedded_target: TargetEnv | None = None

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
        assert self.state_dir is not None
        return RunStore(self.state_dir)

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
        if not contents["users"] and not contents["created"]:
            return []
        from pytest_deploycheck.checks.accounts import cleanup

        target = self.target or self.env
        if target.is_embedded:
            from pytest_deploycheck.run import embedded

            deployment = embedded.read_state(self.state_dir)
            if deployment is None:
                return []
            target = target.with_overrides(base_url=deployment.url)
        with DeployClient(target, self.redactor, on_exchange=self.exchanges.append) as client:
            return cleanup(client, target, contents)

    def reach(self) -> TargetEnv:
        """The target, started (embedded) and probed; raises the same error every time it failed."""
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
            settings=dict(self.env.embedded.settings),
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
            client.get(target.health.liveness_path)
        except TargetUnreachable as exc:
            raise TargetUnreachable(
                f"{exc} — stopping the run: every check needs the target "
                f"(env {target.name!r}, base_url {target.base_url}).",
                url=exc.url,
                cause=exc.cause,
            ) from None
        except httpx.HTTPError as exc:  # e.g. an invalid URL that validation let through
            raise TargetUnreachable(f"could not reach {target.base_url}: {exc}") from None
