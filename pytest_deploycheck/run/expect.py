"""Check helpers for suites and users' own tests: each failure says what was
sent, what came back and what was expected, without a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx

from pytest_deploycheck.errors import CheckFailed

_EXCERPT = 300


def describe(response: httpx.Response) -> str:
    """``GET http://host/api/v1/health -> 503 Service Unavailable``, query redacted."""
    url = response.request.url.copy_with(query=None)
    return f"{response.request.method} {url} -> {response.status_code} {response.reason_phrase}"


def excerpt(response: httpx.Response, limit: int = _EXCERPT) -> str:
    content_type = response.headers.get("content-type", "")
    if content_type and not ("json" in content_type or content_type.startswith("text/")):
        return f"<{len(response.content)} bytes of {content_type}>"
    text = response.text.strip()
    return text if len(text) <= limit else text[:limit] + "…"


def expect_status(response: httpx.Response, expected: int | Iterable[int], why: str = "") -> None:
    """Fail unless the status is ``expected`` (a code, or a collection such as ``range(200, 300)``)."""
    __tracebackhide__ = True
    allowed = {expected} if isinstance(expected, int) else set(expected)
    if response.status_code in allowed:
        return
    wanted = _codes(allowed)
    body = excerpt(response)
    raise CheckFailed(
        f"{describe(response)}, expected {wanted}"
        + (f" ({why})" if why else "")
        + (f"; body: {body}" if body else "")
    )


def _codes(allowed: set[int]) -> str:
    """``{200..299}`` -> ``2xx``; ``{403, 404}`` -> ``403 or 404``."""
    classes = sorted({code // 100 for code in allowed})
    if all(set(range(c * 100, c * 100 + 100)) <= allowed for c in classes) and len(
        allowed
    ) == 100 * len(classes):
        return " or ".join(f"{c}xx" for c in classes)
    return " or ".join(str(code) for code in sorted(allowed))


def json_body(response: httpx.Response) -> Any:
    """The parsed JSON body, or a failure that shows what came instead."""
    __tracebackhide__ = True
    content_type = response.headers.get("content-type", "") or "no content type"
    try:
        return response.json()
    except ValueError:
        raise CheckFailed(
            f"{describe(response)} with a non-JSON body ({content_type}): {excerpt(response)!r}"
        ) from None


def expect_latency(response: httpx.Response, budget_ms: float, budget_name: str) -> None:
    """Fail when the answer took longer than the budget (``budget_name`` says where it is set)."""
    __tracebackhide__ = True
    took_ms = response.elapsed.total_seconds() * 1000
    if took_ms > budget_ms:
        raise CheckFailed(
            f"{describe(response)} took {took_ms:.0f} ms, over the {budget_ms:.0f} ms budget "
            f"({budget_name})"
        )


def json_field(response: httpx.Response, body: Any, name: str, setting: str) -> Any:
    """``body[name]`` (``name`` may be a dotted path, ``build.version``), non-empty; else a
    failure naming the fields there are and the setting to change."""
    __tracebackhide__ = True
    value: Any = body
    for part in name.split("."):
        if not isinstance(value, dict):
            break
        body, value = value, value.get(part)
    else:
        part = ""
    if part or value in (None, ""):
        fields = (
            ", ".join(map(str, body)) if isinstance(body, dict) else f"a JSON {type(body).__name__}"
        )
        raise CheckFailed(
            f"{describe(response)}: the answer has no {name!r} (it has: {fields or 'nothing'}); "
            f"if this deployment names it differently, set {setting} for this env"
        )
    return value


def expect_no_problems(what: str, problems: list[str], *, cause: str | None = None) -> None:
    """Fail once with every problem a check found. The first line names the first problem
    (the verdict shows first lines); with more than one, all follow, one per line."""
    if not problems:
        return
    if len(problems) == 1:
        raise CheckFailed(f"{what}: {problems[0]}", cause=cause)
    lines = "\n".join(f"  - {problem}" for problem in problems)
    more = f"(and {len(problems) - 1} more)"
    raise CheckFailed(f"{what}: {problems[0]} {more}\n{lines}", cause=cause)
