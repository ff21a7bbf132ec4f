"""The selected load profile as a Locust shape; for ``stress``, it stops at the breaking point."""

from __future__ import annotations

from typing import ClassVar

from locust import LoadTestShape

from pytest_deploycheck.load.locust.state import LoadState
from pytest_deploycheck.load.stats import Recorder, judge


class ProfileShape(LoadTestShape):
    """Runs the profile's stages; with ``find_breaking_point``, stops at the first that breaks."""

    state: ClassVar[LoadState | None] = None  # set by install()
    _stage_index = -1

    def tick(self) -> tuple[int, float] | None:
        state = self.state
        profile = state.profile if state is not None else None
        if state is None or profile is None:
            return None
        remaining = self.get_run_time()
        for index, stage in enumerate(profile.stages):
            if remaining < stage.duration_s:
                if index != self._stage_index:
                    if profile.find_breaking_point and not self._stage_held(state):
                        return None
                    self._stage_index = index
                return stage.users, stage.spawn_rate
            remaining -= stage.duration_s
        if profile.find_breaking_point:
            self._stage_held(state)
            if not state.breaking_point:
                state.breaking_point = f"no breaking point up to {profile.peak_users} users"
        return None

    def _stage_held(self, state: LoadState) -> bool:
        """Judge the stage that just ended; False (and the breaking point noted) when it broke."""
        if self._stage_index < 0 or state.profile is None:
            return True
        if self.runner is not None:
            state.collect_local(self.runner.environment)
        ended = state.profile.stages[self._stage_index]
        stage, state.stage = state.stage, Recorder()
        broken = [v for v in judge(state.criteria, stage, ended.duration_s) if not v.ok]
        if broken:
            state.breaking_point = (
                f"breaking point: {ended.users} users ("
                + "; ".join(f"{v.criterion} measured {v.measured_text}" for v in broken)
                + "); the verdict below is for the stages before it"
            )
            return False
        for key, series in stage.series.items():
            state.sustained.series.setdefault(key, type(series)()).merge(series)
        return True
