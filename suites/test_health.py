"""Health: the deployment is alive, ready, fast enough, and the version that was meant to ship.

A 200 is not enough: the real Anki service answers 200 with
``{"status": "unhealthy"}`` when its database is down, so the body decides.
"""

from __future__ import annotations

import pytest

from pytest_deploycheck import (
    CheckFailed,
    DeployClient,
    TargetEnv,
    deploy_context,
    describe,
    expect_latency,
    expect_status,
    expect_status_value,
    json_body,
    json_field,
)

pytestmark = [pytest.mark.smoke, pytest.mark.health]

SUCCESS = range(200, 300)


def check_probe(
    http: DeployClient, env: TargetEnv, path: str, good_values: tuple[str, ...], what: str
) -> None:
    """2xx, within the health latency budget, with a body that says ``what`` (healthy / ready)."""
    health = env.health
    response = http.get(env.health_url(path))
    expect_status(response, SUCCESS, what)
    body = json_body(response)
    expect_status_value(
        response, body, health.status_field, good_values, health.unhealthy_markers, what
    )
    expect_latency(response, env.latency_ms.health, f"latency_ms.health of env {env.name!r}")


def test_liveness(http: DeployClient, deploy_env: TargetEnv) -> None:
    health = deploy_env.health
    check_probe(http, deploy_env, health.liveness_path, health.healthy_values, "healthy")


def test_readiness(http: DeployClient, deploy_env: TargetEnv) -> None:
    health = deploy_env.health
    if not health.readiness_path:
        pytest.skip(f"env {deploy_env.name!r} has no readiness endpoint (health.readiness_path)")
    check_probe(http, deploy_env, health.readiness_path, health.ready_values, "ready")


def test_deployed_version(
    request: pytest.FixtureRequest, http: DeployClient, deploy_env: TargetEnv
) -> None:
    expected = deploy_env.expected_version
    if not expected:
        pytest.skip("no expected version: set expected_version in the env or pass --expect-version")
    health = deploy_env.health
    if not health.info_path:
        pytest.skip(f"env {deploy_env.name!r} has no version endpoint (health.info_path)")
    response = http.get(deploy_env.health_url(health.info_path))
    expect_status(response, SUCCESS, "version info")
    deployed = json_field(
        response, json_body(response), health.version_field, "health.version_field"
    )
    deploy_context(request.config).facts["deployed_version"] = str(deployed)
    if str(deployed) != expected:
        raise CheckFailed(
            f"deployed version is {deployed!r} but {expected!r} was expected "
            f"({describe(response)}): the rollout did not happen, is still in progress, "
            "or went to another environment"
        )
