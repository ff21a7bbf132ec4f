"""Faults that break the API's own contract: answers its OpenAPI document does not describe.

Each one is a way a real deployment drifts from its document: a field whose type
changed, a required field gone, a wrong content type, a route that forgot its
auth dependency, a route whose 500s skip the security middleware, SQL in error
bodies. They are applied at the edge, on the answer as sent (FastAPI's response
models would otherwise coerce the drift away).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import Message, Scope, Send

from pytest_deploycheck.reference.faults import FaultState

Headers = list[tuple[bytes, bytes]]
Rewrite = Callable[[int, Headers, bytes], tuple[Headers, bytes]]

SQL_DETAIL = (
    "(sqlalchemy.exc.NoResultFound) SELECT jobs.id, jobs.user_id, jobs.status FROM jobs "
    "WHERE jobs.id = %(id_1)s"
)


def early_answer(
    faults: FaultState, scope: Scope, api: str
) -> tuple[int, Headers, bytes, bool] | None:
    """An answer the fault gives before the app runs: (status, headers, body, with security
    headers?), or None."""
    method, path = scope["method"], scope["path"]
    if (
        faults.on("unprotected-route")
        and method == "GET"
        and path == f"{api}/decks/"
        and not _has_header(scope, b"authorization")
    ):
        body = {"total": 0, "page": 1, "page_size": 20, "pages": 0, "items": []}
        return 200, [(b"content-type", b"application/json")], json.dumps(body).encode(), True
    if (
        faults.on("status-500-bare")
        and method == "GET"
        and re.fullmatch(rf"{re.escape(api)}/jobs/[^/]+/status", path)
    ):
        return (
            500,
            [(b"content-type", b"text/plain; charset=utf-8")],
            b"Internal Server Error",
            False,
        )
    return None


def rewrite_for(faults: FaultState, scope: Scope, api: str) -> Rewrite | None:
    """How the fault changes the app's answer to this request, or None."""
    method, path = scope["method"], scope["path"]
    if method != "GET":
        return None
    if faults.on("type-drift") and re.fullmatch(rf"{re.escape(api)}/jobs/[^/]+", path):
        return _json_rewrite(200, _progress_as_text)
    if faults.on("missing-field") and path == f"{api}/auth/me":
        return _json_rewrite(200, lambda body: {k: v for k, v in body.items() if k != "created_at"})
    if faults.on("wrong-content-type") and path == f"{api}/jobs/":
        return _content_type(200, b"text/plain; charset=utf-8")
    if faults.on("sql-in-errors") and re.match(rf"{re.escape(api)}/(jobs|decks)/", path):
        return _sql_in_errors
    return None


def rewriting(send: Send, rewrite: Rewrite) -> Callable[[Message], Awaitable[None]]:
    """``send``, with the whole answer buffered and rewritten before it goes out."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
            return
        if message["type"] != "http.response.body" or start is None:
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        headers, body = rewrite(start["status"], list(start.get("headers", [])), b"".join(chunks))
        headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return wrapped


def _json_rewrite(status: int, change: Callable[[dict[str, Any]], dict[str, Any]]) -> Rewrite:
    def rewrite(sent: int, headers: Headers, body: bytes) -> tuple[Headers, bytes]:
        if sent != status:
            return headers, body
        try:
            data = json.loads(body)
        except ValueError:
            return headers, body
        return headers, json.dumps(change(data)).encode() if isinstance(data, dict) else body

    return rewrite


def _progress_as_text(body: dict[str, Any]) -> dict[str, Any]:
    if "progress_percent" in body:
        body["progress_percent"] = str(body["progress_percent"])
    return body


def _content_type(status: int, value: bytes) -> Rewrite:
    def rewrite(sent: int, headers: Headers, body: bytes) -> tuple[Headers, bytes]:
        if sent != status:
            return headers, body
        return [(k, v) for k, v in headers if k.lower() != b"content-type"] + [
            (b"content-type", value)
        ], body

    return rewrite


def _sql_in_errors(sent: int, headers: Headers, body: bytes) -> tuple[Headers, bytes]:
    if sent not in (403, 404):
        return headers, body
    try:
        data = json.loads(body)
    except ValueError:
        return headers, body
    if isinstance(data, dict):
        data["detail"] = f"{data.get('detail', '')}: {SQL_DETAIL}"
    return headers, json.dumps(data).encode()


def _has_header(scope: Scope, name: bytes) -> bool:
    return any(key.lower() == name for key, _ in scope.get("headers", []))
