"""PromQL queries against the team's Prometheus: "monitoring receives data", each query a
check of every round (as Argo Rollouts' Prometheus provider).

An instant query through ``/api/v1/query``. A query that returns no series fails: no data
is never good. Every value must meet the query's ``condition``; a value that is not a
number (NaN, as ``0/0`` gives) fails it.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

import httpx

from pytest_deploycheck.config.schema import PrometheusQuery, PrometheusServer, parse_condition
from pytest_deploycheck.errors import DeployCheckError
from pytest_deploycheck.watch.policy import CheckRun

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def check_name(query: PrometheusQuery) -> str:
    return f"watch::prometheus[{query.name}]"


def run_queries(client: httpx.Client, server: PrometheusServer) -> list[CheckRun]:
    return [_run(client, server, query) for query in server.queries]


def _run(client: httpx.Client, server: PrometheusServer, query: PrometheusQuery) -> CheckRun:
    name = check_name(query)
    url = server.url.rstrip("/") + "/api/v1/query"
    where = f"Prometheus at {server.url}, query {query.query!r}"
    try:
        response = client.get(url, params={"query": query.query}, headers=server.headers)
    except DeployCheckError as exc:
        return CheckRun(name, "failed", f"{where}: {exc}")
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or body.get("status") != "success":
        said = body.get("error") if isinstance(body, dict) else response.text[:200]
        return CheckRun(name, "failed", f"{where} -> {response.status_code}: {said}")
    values = _values(body.get("data") or {})
    if not values:
        return CheckRun(
            name,
            "failed",
            f"{where} returned no series: no data (is the target scraped, is the series fresh?)",
        )
    if query.fresh_within_s is not None:
        stale = _staleness(client, server, query)
        if isinstance(stale, str):
            return CheckRun(name, "failed", f"{where}: {stale}")
        if stale > query.fresh_within_s:
            return CheckRun(
                name,
                "failed",
                f"{where}: its newest sample is {stale:.1f} s old, older than "
                f"fresh_within_s = {query.fresh_within_s:g}: monitoring stopped receiving data",
            )
    if query.condition is None:
        return CheckRun(name, "passed", f"{where}: {len(values)} series")
    symbol, bound = parse_condition(query.condition)
    compare = _COMPARE[symbol]
    failing = [(labels, v) for labels, v in values if math.isnan(v) or not compare(v, bound)]
    if failing:
        labels, value = failing[0]
        shown = f"{{{labels}}} " if labels else ""
        more = f" (and {len(failing) - 1} more series)" if len(failing) > 1 else ""
        return CheckRun(
            name,
            "failed",
            f"{where}: {shown}{value:g} does not meet {query.condition}{more}",
        )
    return CheckRun(name, "passed", f"{where}: {len(values)} series, all {query.condition}")


def _staleness(
    client: httpx.Client, server: PrometheusServer, query: PrometheusQuery
) -> float | str:
    """Seconds since the query's newest sample (``time() - timestamp(...)``), or why unknown."""
    url = server.url.rstrip("/") + "/api/v1/query"
    promql = f"min(time() - timestamp({query.query}))"
    try:
        response = client.get(url, params={"query": promql}, headers=server.headers)
        body = response.json()
    except (DeployCheckError, ValueError) as exc:
        return f"its freshness could not be read ({promql!r}): {exc}"
    values = _values(body.get("data") or {}) if isinstance(body, dict) else []
    if response.status_code != 200 or not values:
        return f"its freshness could not be read ({promql!r} -> {response.status_code})"
    return values[0][1]


def _values(data: dict[str, object]) -> list[tuple[str, float]]:
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar" and isinstance(result, list) and len(result) == 2:
        return [("", float(result[1]))]
    found: list[tuple[str, float]] = []
    if kind == "vector" and isinstance(result, list):
        for series in result:
            if not isinstance(series, dict) or "value" not in series:
                continue
            metric = series.get("metric") or {}
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(dict(metric).items()))
            found.append((labels, float(series["value"][1])))
    return found
