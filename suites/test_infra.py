"""Infrastructure: the hosts behind the deployment, through pytest-testinfra.

Runs once per host of the env (``infra.hosts``, or testinfra's ``--hosts``); each check
applies the items of ``infra.checks`` and of the host's roles (``infra.roles.<role>``), and
skips where none are configured. ``-m infra`` runs it; ``infra.smoke = true`` adds it to
``-m smoke``. Nothing here prints a value read from a secret file.
"""

from __future__ import annotations

import pytest

from pytest_deploycheck import (
    DeployHost,
    TargetEnv,
    check_cert_file,
    check_disk,
    check_env_file,
    check_listening,
    check_memory,
    check_processes,
    check_secret_file,
    check_services,
    check_sshd_root_login,
    deploy_context,
    expect_no_problems,
    listening_beyond_internal,
    reachable_from_here,
)

pytestmark = [pytest.mark.infra]


def expect_none(host: DeployHost, what: str, problems: list[str]) -> None:
    expect_no_problems(f"host {host.label!r}: {what}", problems)


def configured(host: DeployHost, key: str, items: object) -> None:
    if not items:
        roles = ", ".join(host.spec.roles) or "none"
        pytest.skip(f"no infra {key} configured for host {host.label!r} (roles: {roles})")


def test_services_running(deploy_host: DeployHost) -> None:
    names = deploy_host.checks.services
    configured(deploy_host, "services", names)
    expect_none(deploy_host, "services not running", check_services(deploy_host, names))


def test_processes_running_not_as_root(deploy_host: DeployHost) -> None:
    checks = deploy_host.checks
    configured(deploy_host, "processes", checks.processes)
    expect_none(
        deploy_host,
        "processes",
        check_processes(deploy_host, checks.processes, checks.root_allowed),
    )


def test_ports_listening(deploy_host: DeployHost) -> None:
    specs = deploy_host.checks.listening
    configured(deploy_host, "listening", specs)
    expect_none(deploy_host, "ports not listening", check_listening(deploy_host, specs))


def test_internal_ports_not_exposed(
    deploy_host: DeployHost, deploy_env_unprobed: TargetEnv
) -> None:
    own = deploy_host.checks.not_exposed
    closed = own if own is not None else deploy_env_unprobed.infra.not_exposed
    if not closed:
        pytest.skip(f"no infra not_exposed ports for host {deploy_host.label!r}")
    address = deploy_host.spec.outside_address
    readable = deploy_host.has_command("ss", "netstat")
    if not readable and not address:
        pytest.skip(
            f"host {deploy_host.label!r} has neither ss nor netstat (its listening sockets "
            "cannot be read) and no outside address to probe (infra.hosts[].address)"
        )
    problems = listening_beyond_internal(deploy_host, closed) if readable else []
    if address:
        problems += reachable_from_here(address, closed)
    expect_none(deploy_host, "internal ports exposed", problems)


def test_secret_files_owner_and_mode(deploy_host: DeployHost) -> None:
    secrets = deploy_host.checks.secret_files
    configured(deploy_host, "secret_files", secrets)
    problems = [p for secret in secrets for p in check_secret_file(deploy_host, secret)]
    expect_none(deploy_host, "secret files", problems)


def test_deployed_settings(request: pytest.FixtureRequest, deploy_host: DeployHost) -> None:
    env_files = deploy_host.checks.env_files
    configured(deploy_host, "env_files", env_files)
    redactor = deploy_context(request.config).redactor
    problems = [
        p for env_file in env_files for p in check_env_file(deploy_host, env_file, redactor)
    ]
    expect_none(deploy_host, "deployed settings", problems)


def test_ssh_root_login_disabled(deploy_host: DeployHost) -> None:
    path = deploy_host.checks.sshd_config
    configured(deploy_host, "sshd_config", path)
    assert path is not None
    expect_none(deploy_host, "ssh root login", check_sshd_root_login(deploy_host, path))


def test_certificates_not_expiring(deploy_host: DeployHost, deploy_env_unprobed: TargetEnv) -> None:
    paths = deploy_host.checks.cert_files
    configured(deploy_host, "cert_files", paths)
    days = deploy_env_unprobed.infra.cert_min_days
    problems = [p for path in paths for p in check_cert_file(deploy_host, path, days)]
    expect_none(deploy_host, "certificates", problems)


def test_disk_space(deploy_host: DeployHost, deploy_env_unprobed: TargetEnv) -> None:
    infra = deploy_env_unprobed.infra
    configured(deploy_host, "disk_paths", infra.disk_paths)
    problems = check_disk(deploy_host, infra.disk_paths, infra.max_disk_used_percent)
    expect_none(deploy_host, "disk space", problems)


def test_memory(deploy_host: DeployHost, deploy_env_unprobed: TargetEnv) -> None:
    limit = deploy_env_unprobed.infra.max_memory_used_percent
    expect_none(deploy_host, "memory", check_memory(deploy_host, limit))
