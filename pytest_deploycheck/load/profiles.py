"""Load profiles, each defined once as stages, selectable by name, overridable per env.

smoke     a few users for ~30 s: does the load setup itself work?
baseline  the expected concurrent users, steady
stress    ramp in steps until the criteria break; reports the breaking point
spike     quiet, a sudden burst, quiet again
soak      the baseline for a long time (leaks, pool exhaustion, disk)
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_deploycheck.config import LoadProfileOverride, LoadStage
from pytest_deploycheck.errors import ConfigError


@dataclass(frozen=True)
class Profile:
    name: str
    stages: tuple[LoadStage, ...]
    description: str
    find_breaking_point: bool = False

    @property
    def duration_s(self) -> float:
        return sum(stage.duration_s for stage in self.stages)

    @property
    def peak_users(self) -> int:
        return max(stage.users for stage in self.stages)

    def stage_at(self, elapsed_s: float) -> LoadStage | None:
        for stage in self.stages:
            if elapsed_s < stage.duration_s:
                return stage
            elapsed_s -= stage.duration_s
        return None


def _stage(duration_s: float, users: int, spawn_rate: float = 10) -> LoadStage:
    return LoadStage(duration_s=duration_s, users=users, spawn_rate=spawn_rate)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("smoke", (_stage(30, 3, 3),), "3 users for 30 s"),
        Profile("baseline", (_stage(300, 20, 5),), "20 users for 5 min (the expected concurrency)"),
        Profile(
            "stress",
            tuple(_stage(30, users, 10) for users in range(10, 210, 10)),
            "10 more users every 30 s up to 200, until the criteria break",
            find_breaking_point=True,
        ),
        Profile(
            "spike",
            (_stage(60, 5, 5), _stage(30, 100, 100), _stage(60, 5, 100)),
            "5 users, a burst of 100, 5 again",
        ),
        Profile("soak", (_stage(2 * 3600, 20, 5),), "20 users for 2 hours"),
    )
}


def select(name: str, overrides: dict[str, LoadProfileOverride] | None = None) -> Profile:
    """The named profile with the env's overrides applied."""
    base = PROFILES.get(name)
    if base is None:
        raise ConfigError(f"unknown load profile {name!r}; known: {', '.join(PROFILES)}")
    override = (overrides or {}).get(name)
    if override is None:
        return base
    if override.stages:
        return Profile(
            base.name, tuple(override.stages), "stages from the env", base.find_breaking_point
        )
    stages = list(base.stages)
    if override.users is not None:
        scale = override.users / base.peak_users if base.peak_users else 1
        stages = [
            _stage(s.duration_s, max(1, round(s.users * scale)) if s.users else 0, s.spawn_rate)
            for s in stages
        ]
    if override.spawn_rate is not None:
        stages = [_stage(s.duration_s, s.users, override.spawn_rate) for s in stages]
    if override.duration_s is not None:
        stretch = override.duration_s / base.duration_s
        stages = [_stage(s.duration_s * stretch, s.users, s.spawn_rate) for s in stages]
    return Profile(
        base.name,
        tuple(stages),
        base.description + " (adjusted by the env)",
        base.find_breaking_point,
    )
