"""Dependencies: the services behind the API, checked directly, so a broken one is named
instead of surfacing as a 500 somewhere downstream.

Each check runs when the env configures its dependency (``deps.postgres``, ``deps.redis``,
``deps.rabbitmq``, ``deps.s3``, ``deps.metrics``) and skips otherwise. ``-m deps`` runs them;
``deps.smoke = true`` adds them to ``-m smoke``. Connection secrets come from ``${VAR}``\\ s
and are redacted like every other secret.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_deploycheck import (
    CheckFailed,
    DeployHost,
    Redactor,
    TargetEnv,
    check_bucket_exists,
    check_bucket_not_public,
    check_bucket_write_read_delete,
    check_http_services,
    check_metrics,
    check_postgres_answers,
    check_postgres_migrated,
    check_rabbitmq_queues,
    check_redis,
    connect_host,
    deploy_context,
    expect_no_problems,
    parse_alembic_heads,
)

pytestmark = [pytest.mark.deps]


@pytest.fixture(scope="module")
def redactor(request: pytest.FixtureRequest) -> Redactor:
    return deploy_context(request.config).redactor


def expect_none(what: str, problems: list[str]) -> None:
    expect_no_problems(what, problems)


def needs(env: TargetEnv, name: str) -> Any:
    dep = getattr(env.deps, name)
    if dep is None:
        pytest.skip(f"env {env.name!r} configures no deps.{name}")
    return dep


def test_postgres_answers(deploy_env_unprobed: TargetEnv, redactor: Redactor) -> None:
    dep = needs(deploy_env_unprobed, "postgres")
    check_postgres_answers(dep, redactor)


def test_postgres_migrated_to_the_code_head(
    request: pytest.FixtureRequest, deploy_env_unprobed: TargetEnv, redactor: Redactor
) -> None:
    env = deploy_env_unprobed
    dep = needs(env, "postgres")
    if not dep.version_table:
        pytest.skip("deps.postgres.version_table is empty: migrations are not checked")
    heads, source = code_heads(request.config, env)
    check_postgres_migrated(dep, redactor, heads, source)


def code_host(config: pytest.Config, env: TargetEnv, key: str) -> DeployHost:
    """The host where the deployed code is: the first of infra.hosts with heads_role."""
    dep = env.deps.postgres
    assert dep is not None
    hosts = [spec for spec in env.infra.hosts if dep.heads_role in spec.roles]
    if not hosts:
        raise CheckFailed(
            f"deps.postgres.{key} runs on a host with role {dep.heads_role!r}, "
            "and infra.hosts lists none"
        )
    return connect_host(config, env, hosts[0])


def code_heads(config: pytest.Config, env: TargetEnv) -> tuple[list[str], str]:
    """The head the deployed code expects: configured, or ``heads_command`` on a host."""
    dep = env.deps.postgres
    assert dep is not None
    if dep.expected_head:
        return [dep.expected_head], "deps.postgres.expected_head"
    if not dep.heads_command:
        return [], ""
    host = code_host(config, env, "heads_command")
    result = host.run(dep.heads_command)
    heads = parse_alembic_heads(result.stdout)
    where = f"`{dep.heads_command}` on host {host.label!r}"
    if result.rc != 0 or not heads:
        reason = (result.stderr.strip().splitlines() or ["no '(head)' line in its output"])[-1]
        raise CheckFailed(f"cannot read the code's alembic head with {where}: {reason}")
    return heads, where


def test_postgres_schema_matches_the_code_models(
    request: pytest.FixtureRequest, deploy_env_unprobed: TargetEnv, redactor: Redactor
) -> None:
    """alembic's own comparison of the database with the deployed code's models."""
    dep = needs(deploy_env_unprobed, "postgres")
    if not dep.schema_check_command:
        pytest.skip("no deps.postgres.schema_check_command (e.g. 'cd /app && alembic check')")
    host = code_host(request.config, deploy_env_unprobed, "schema_check_command")
    result = host.run(dep.schema_check_command)
    if result.rc != 0:
        lines = [line.strip() for line in (result.stderr + "\n" + result.stdout).splitlines()]
        failed = [line for line in lines if line.startswith("FAILED")]  # alembic's verdict line
        reason = redactor.text((failed or [line for line in lines if line] or ["no output"])[-1])
        raise CheckFailed(
            f"the database schema does not match the deployed code's models "
            f"(`{redactor.text(dep.schema_check_command)}` on host {host.label!r} exited "
            f"{result.rc}): {reason[:1000]}; until a migration makes them match, requests "
            "that touch those tables fail with 500"
        )


def test_redis(deploy_env_unprobed: TargetEnv, redactor: Redactor) -> None:
    dep = needs(deploy_env_unprobed, "redis")
    expect_none("Redis", check_redis(dep, redactor))


def test_rabbitmq_queues_drain(deploy_env_unprobed: TargetEnv, redactor: Redactor) -> None:
    dep = needs(deploy_env_unprobed, "rabbitmq")
    problems = check_rabbitmq_queues(deploy_env_unprobed, dep, redactor)
    expect_none("RabbitMQ queues", problems)


def test_object_storage_bucket_exists(deploy_env_unprobed: TargetEnv, redactor: Redactor) -> None:
    dep = needs(deploy_env_unprobed, "s3")
    check_bucket_exists(dep, redactor)


@pytest.mark.destructive
def test_object_storage_write_read_delete(
    deploy_env_unprobed: TargetEnv, redactor: Redactor
) -> None:
    dep = needs(deploy_env_unprobed, "s3")
    if not dep.write_probe:
        pytest.skip("deps.s3.write_probe is off")
    check_bucket_write_read_delete(dep, redactor)


def test_object_storage_not_public(
    request: pytest.FixtureRequest, deploy_env_unprobed: TargetEnv, redactor: Redactor
) -> None:
    env = deploy_env_unprobed
    dep = needs(env, "s3")
    may_write = dep.write_probe and deploy_context(request.config).destructive_allowed[0]
    problems = check_bucket_not_public(env, dep, redactor, may_write=may_write)
    expect_none("object storage", problems)


def test_metrics_exposed(
    request: pytest.FixtureRequest, deploy_env_unprobed: TargetEnv, redactor: Redactor
) -> None:
    dep = needs(deploy_env_unprobed, "metrics")
    env: TargetEnv = request.getfixturevalue(
        "deploy_env"
    )  # the API's base URL, started if embedded
    expect_none("metrics", check_metrics(env, dep, redactor))


def test_services_answer_their_health_urls(
    deploy_env_unprobed: TargetEnv, redactor: Redactor
) -> None:
    services = deploy_env_unprobed.deps.http
    if not services:
        pytest.skip(f"env {deploy_env_unprobed.name!r} configures no deps.http")
    expect_none("services", check_http_services(deploy_env_unprobed, services, redactor))
