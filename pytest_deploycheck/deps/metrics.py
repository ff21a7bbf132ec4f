"""A Prometheus ``/metrics`` endpoint: answers, parses, and exposes the expected names."""

from __future__ import annotations

from pytest_deploycheck.config.schema import MetricsDependency, TargetEnv
from pytest_deploycheck.deps.clients import dependency_reached, service_client
from pytest_deploycheck.errors import CheckFailed
from pytest_deploycheck.optional import need
from pytest_deploycheck.run.redaction import Redactor


def metrics_url(env: TargetEnv, dep: MetricsDependency) -> str:
    return dep.url or f"{env.base_url}/metrics"


def check_metrics(env: TargetEnv, dep: MetricsDependency, redactor: Redactor) -> list[str]:
    parser = need("prometheus_client.parser", "a /metrics endpoint", "prometheus-client", "deps")
    url = metrics_url(env, dep)
    auth = (dep.username, dep.password) if dep.username and dep.password else None
    shown = redactor.url(url)
    with dependency_reached(shown), service_client(env, redactor, url, auth) as client:
        response = client.get(url)
    if response.status_code != 200:
        raise CheckFailed(f"GET {shown} answered {response.status_code}, expected 200 with metrics")
    names: set[str] = set()
    try:
        for family in parser.text_string_to_metric_families(response.text):
            names.add(family.name)
            names.update(sample.name for sample in family.samples)
    except (ValueError, TypeError, IndexError) as exc:
        raise CheckFailed(f"GET {shown}: not in Prometheus' text format: {exc}") from None
    if not names:
        return [f"{shown} exposes no metrics"]
    missing = [name for name in dep.expected if name not in names]
    if missing:
        return [
            f"{shown} does not expose {', '.join(missing)} (deps.metrics.expected); "
            f"it exposes {len(names)} names"
        ]
    return []
