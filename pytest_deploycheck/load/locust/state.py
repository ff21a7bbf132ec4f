"""What one Locust process knows about its run, in one object (no module globals)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.load.criteria import Criterion
from pytest_deploycheck.load.profiles import Profile
from pytest_deploycheck.load.stats import Recorder

if TYPE_CHECKING:
    from pytest_deploycheck.load.locust.users import LoadSession


@dataclass
class LoadState:
    """The run as this process sees it: target, profile, criteria, statistics, sign-in."""

    endpoints: list[str]
    env: TargetEnv | None = None
    profile: Profile | None = None
    criteria: list[Criterion] = field(default_factory=list)
    total: Recorder = field(default_factory=Recorder)  # master/local: the whole run
    window: Recorder = field(default_factory=Recorder)  # since the last progress line
    stage: Recorder = field(default_factory=Recorder)  # the current stress stage
    sustained: Recorder = field(default_factory=Recorder)  # stress stages that held
    local: Recorder = field(default_factory=Recorder)  # worker: deltas not yet sent
    started_at: float | None = None
    stopped_at: float | None = None
    breaking_point: str | None = None
    aborted: str | None = None
    session: LoadSession | None = None
    sign_in_error: str | None = None
    embedded_dir: Path | None = None

    def duration(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.stopped_at or time.monotonic()) - self.started_at

    def merge(self, wire: dict[str, object]) -> None:
        for recorder in (self.total, self.window, self.stage):
            recorder.merge_wire(wire)

    def collect_local(self, environment: Environment) -> None:
        """Without workers, this process's own samples are the run's."""
        if not isinstance(environment.runner, MasterRunner | WorkerRunner):
            self.merge(self.local.take_wire())
