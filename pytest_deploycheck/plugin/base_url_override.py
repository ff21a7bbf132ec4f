"""Registered only when pytest-base-url is active (it owns ``--base-url``).

Its ``base_url`` fixture returns the raw option (``""`` without one). This
``base_url`` is registered after it and wins, and like pytest-base-url's it
resolves the URL without the reachability probe: tests that never touch the
target are not stopped by an unreachable one. Its autouse ``_verify_url``
requested ``base_url`` in every session; ours does only with ``--verify-base-url``.
"""

from __future__ import annotations

import pytest

from pytest_deploycheck.plugin.fixtures import deploy_context


@pytest.fixture(scope="session")
def base_url(request: pytest.FixtureRequest) -> str | None:
    """The target's base URL (without the API prefix); None when no target is selected."""
    context = deploy_context(request.config)
    if context.env is None:
        return None
    return context.started().base_url


@pytest.fixture(scope="session", autouse=True)
def _verify_url(request: pytest.FixtureRequest) -> None:
    """pytest-base-url's autouse check, only when ``--verify-base-url`` asks for it, and then
    as the run's own probe. Its own version requests ``base_url`` in every session, which
    started the embedded deployment for runs that never touch the target (infra, deps)."""
    if request.config.getoption("verify_base_url", False):
        context = deploy_context(request.config)
        if context.env is not None:
            context.reach()
