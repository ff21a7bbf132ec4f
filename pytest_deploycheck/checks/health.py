"""Judging a health or readiness body: a 200 that says "unhealthy" is an outage."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx

from pytest_deploycheck.errors import CheckFailed
from pytest_deploycheck.run.expect import describe


def expect_status_value(
    response: httpx.Response,
    body: Any,
    field: str,
    good_values: Iterable[str],
    unhealthy_markers: Iterable[str],
    what: str,
) -> None:
    """Fail unless ``body[field]`` is a good value and no component reports a failure."""
    __tracebackhide__ = True
    good = [value.lower() for value in good_values]
    if not isinstance(body, dict):
        raise CheckFailed(
            f"{describe(response)}: expected a JSON object, got {type(body).__name__}"
        )
    if field not in body:
        raise CheckFailed(
            f"{describe(response)}: the body has no {field!r} field to say whether it is {what} "
            f"(fields: {', '.join(map(str, body)) or 'none'}); set health.status_field for this env"
        )
    status = str(body[field])
    failing = failing_components(body, field, unhealthy_markers)
    if status.lower() not in good:
        details = "; ".join(f"{name}={value!r}" for name, value in failing) or "no component named"
        raise CheckFailed(
            f"{describe(response)} but says it is not {what}: {field}={status!r} "
            f"(expected one of {', '.join(good)}); {details}"
            + (
                " — a check on the status code alone would have passed"
                if response.is_success
                else ""
            )
        )
    if failing:
        details = "; ".join(f"{name}={value!r}" for name, value in failing)
        raise CheckFailed(
            f"{describe(response)}: {field}={status!r}, but a component is failing: {details}"
        )


def failing_components(
    body: dict[str, Any], field: str, markers: Iterable[str]
) -> list[tuple[str, str]]:
    """``("database", "unhealthy: connection refused")`` for every component reporting a failure."""
    markers = tuple(marker.lower() for marker in markers)
    failing = []
    for name, value in _flatten(body):
        if name != field and isinstance(value, str) and value.lower().startswith(markers):
            failing.append((name, value))
    return failing


def _flatten(body: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in body.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            items.extend(_flatten(value, name + "."))
        else:
            items.append((name, value))
    return items
