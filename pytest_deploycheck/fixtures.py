"""The fixtures users' tests and the shipped suites build on.

    deploy_env   the target environment, resolved and reachable (session)
    base_url     its base URL, e.g. https://api.example.com (session)
    http         an HTTP client bound to the env's API prefix, recorded (per test)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_deploycheck.client import DeployClient
from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.context import DeployContext

CONTEXT = pytest.StashKey[DeployContext]()
EXCHANGES_FROM = pytest.StashKey[int]()


def deploy_context(config: pytest.Config) -> DeployContext:
    """This run's :class:`DeployContext` (for plugins and fixtures built on this one)."""
    return config.stash[CONTEXT]


@pytest.fixture(scope="session")
def deploy_env(request: pytest.FixtureRequest) -> TargetEnv:
    """The target environment: resolved, read-only, reachable (starts the embedded deployment)."""
    return deploy_context(request.config).reach()


@pytest.fixture(scope="session")
def base_url(deploy_env: TargetEnv) -> str:
    """The target's base URL (without the API prefix)."""
    return deploy_env.base_url


@pytest.fixture
def http(request: pytest.FixtureRequest, deploy_env: TargetEnv) -> Iterator[DeployClient]:
    """An httpx client for the target's API (base URL + api_prefix), with timeouts and a redacted record."""
    context = deploy_context(request.config)
    request.node.stash[EXCHANGES_FROM] = len(context.exchanges)
    with context.client() as client:
        yield client
