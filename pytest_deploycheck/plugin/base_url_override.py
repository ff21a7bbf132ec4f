"""Registered only when pytest-base-url is active (it owns ``--base-url``).

Its ``base_url`` fixture returns the raw option (``""`` without one), and its
autouse ``_verify_url`` fixture requests ``base_url`` in every test. So this
``base_url`` is registered after it and wins, and like pytest-base-url's it
resolves the URL without the reachability probe: tests that never touch the
target are not stopped by an unreachable one.
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
