"""Services checked by their own health URL (Keycloak, MinIO, Grafana, Prometheus …)."""

from __future__ import annotations

from pytest_deploycheck.config.schema import HttpDependency, TargetEnv
from pytest_deploycheck.deps.clients import dependency_reached, service_client
from pytest_deploycheck.errors import CheckFailed
from pytest_deploycheck.run.redaction import Redactor


def check_http_services(
    env: TargetEnv, services: tuple[HttpDependency, ...], redactor: Redactor
) -> list[str]:
    """Each answers one of its statuses (and holds ``contains``); every one is asked."""
    problems = []
    for service in services:
        shown = f"{service.name} ({redactor.url(service.url)})"
        try:
            with dependency_reached(shown), service_client(env, redactor, service.url) as client:
                response = client.get(service.url)
        except CheckFailed as exc:
            problems.append(str(exc))
            continue
        if response.status_code not in service.statuses:
            expected = " or ".join(map(str, service.statuses))
            problems.append(f"{shown} answered {response.status_code}, expected {expected}")
        elif service.contains and service.contains not in response.text:
            problems.append(f"{shown} answered without {service.contains!r} in its body")
    return problems
