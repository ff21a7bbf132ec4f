"""The Locust side of pytest-deploycheck: a locustfile's users, shape and listeners.

state    LoadState: what one Locust process knows about its run
events   the listeners (options, setup, statistics, progress, the verdict)
shape    ProfileShape: the selected profile's stages
users    DeployCheckUser and the process's shared sign-in
"""

from __future__ import annotations

from collections.abc import Iterable

from pytest_deploycheck.load.locust.events import LoadEvents
from pytest_deploycheck.load.locust.shape import ProfileShape
from pytest_deploycheck.load.locust.state import LoadState
from pytest_deploycheck.load.locust.users import DeployCheckUser, route_name


def install(endpoints: Iterable[str]) -> LoadState:
    """Hook the run into Locust; ``endpoints`` are the names (``"GET /jobs/[id]"``) users call."""
    state = LoadState(endpoints=list(endpoints))
    LoadEvents(state).register()
    ProfileShape.state = state
    DeployCheckUser.state = state
    return state


__all__ = ["DeployCheckUser", "LoadState", "ProfileShape", "install", "route_name"]
