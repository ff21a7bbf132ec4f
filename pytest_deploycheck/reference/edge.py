"""The outermost layer: security headers on every answer, CORS, timing, metrics, edge faults.

It wraps the whole FastAPI app, outside Starlette's error middleware, so that
500s and 429s carry the security headers too (the real service's middleware
sits inside and its error answers go without them: fault
``errors-bypass-headers`` brings that back).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import traceback
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pytest_deploycheck.reference.contract_faults import early_answer, rewrite_for, rewriting
from pytest_deploycheck.reference.faults import FaultState
from pytest_deploycheck.reference.id_shapes import integer_ids
from pytest_deploycheck.reference.settings import Settings

DOCS_PATHS = ("/docs", "/redoc")
log = logging.getLogger("reference.edge")

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
}
# Swagger UI and ReDoc load their script from a CDN and start it inline.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com; font-src https://fonts.gstatic.com; "
    "frame-ancestors 'none'"
)


def _control_character_in(path: str) -> bool:
    return any(ord(character) < 32 or ord(character) == 127 for character in path)


def _both(first: Any, then: Any) -> Any:
    """Two rewrites of one answer, in order."""

    def rewrite(status: int, headers: Any, body: bytes) -> Any:
        headers, body = first(status, headers, body)
        return then(status, headers, body)

    return rewrite


class ProcessMemory(Collector):
    """``process_resident_memory_bytes`` and ``process_start_time_seconds``, as prometheus_client's
    process collector names them; fault ``memory-leak`` adds VALUE MB a minute to the first."""

    def __init__(self, faults: FaultState) -> None:
        self.faults = faults
        self.started = time.time()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        resident = _resident_bytes()
        if self.faults.on("memory-leak"):
            resident += self.faults.value("memory-leak") * 1e6 * self.faults.active_for() / 60
        yield GaugeMetricFamily(
            "process_resident_memory_bytes", "Resident memory size in bytes.", value=resident
        )
        yield GaugeMetricFamily(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            value=self.started,
        )


def _resident_bytes() -> float:
    try:
        with open("/proc/self/statm") as statm:
            return float(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0.0


class Metrics:
    def __init__(self, faults: FaultState) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(ProcessMemory(faults))
        self.requests = Counter(
            "http_requests_total",
            "HTTP answers",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
        )


def route_template(scope: Scope, status: int) -> str:
    """``/api/v1/jobs/{job_id}`` for ``/api/v1/jobs/3f2…``: metrics must not have a series per id."""
    if scope.get("route") is None:
        return "<unmatched>" if status == 404 else scope["path"]
    path: str = scope["path"]
    for name, value in (scope.get("path_params") or {}).items():
        path = path.replace(f"/{value}", f"/{{{name}}}", 1)
    return path


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        faults: FaultState,
        metrics: Metrics,
        api_prefix: str,
    ) -> None:
        self.settings = settings
        self.faults = faults
        self.metrics = metrics
        self.api_prefix = api_prefix
        common: dict[str, Any] = {
            "allow_credentials": True,
            "allow_methods": ["*"],
            "allow_headers": ["*"],
        }
        self.cors = CORSMiddleware(app, allow_origins=settings.cors_origins, **common)
        self.cors_any = CORSMiddleware(app, allow_origin_regex=".*", **common)

    def _a_signed_in_read(self, scope: Scope) -> bool:
        """``GET`` of the signed-in user's own data: /auth/me, the job and deck lists and one
        job (what fault ``slow-reads`` slows: a release with a slower query)."""
        if scope["method"] != "GET":
            return False
        path = scope["path"].removeprefix(self.api_prefix)
        return path in ("/auth/me", "/jobs/", "/decks/") or (
            path.startswith("/jobs/") and path.count("/") == 2
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.cors(scope, receive, send)
            return
        path: str = scope["path"]
        control = path.startswith("/_deploycheck")
        start = time.perf_counter()
        if not control and self.faults.on("slow"):
            await asyncio.sleep(self.faults.value("slow") / 1000)
        elif self.faults.on("slow-reads") and self._a_signed_in_read(scope):
            await asyncio.sleep(self.faults.value("slow-reads") / 1000)
        status = 500
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                headers += self._headers(path, status, time.perf_counter() - start)
                message = {**message, "headers": headers}
            await send(message)

        early = None if control else early_answer(self.faults, scope, self.api_prefix)
        rewrite = None if control else rewrite_for(self.faults, scope, self.api_prefix)
        if not control and self.settings.id_style == "integer":
            rewrite = integer_ids if rewrite is None else _both(rewrite, integer_ids)
        try:
            if early is not None:
                status, headers, body, secured = early
                sender = send_with_headers if secured else send
                await sender({"type": "http.response.start", "status": status, "headers": headers})
                await sender({"type": "http.response.body", "body": body})
            elif not control and path.startswith(self.api_prefix) and self.faults.burst_hit():
                await self._error(send_with_headers, "Internal Server Error")
            elif self._docs_hidden(path) or _control_character_in(path):
                # A path ending in %0A would reach the list route: Starlette's route patterns
                # end in "$", which matches before a final newline ("/decks/\n" as "/decks/").
                await self._error(send_with_headers, "Not Found", status=404)
            else:
                app = self.cors_any if self.faults.on("cors-reflect-any") else self.cors
                sender = (
                    send_with_headers if rewrite is None else rewriting(send_with_headers, rewrite)
                )
                await app(scope, receive, sender)
        except Exception as exc:
            log.error("unhandled error on %s %s", scope["method"], path, exc_info=exc)
            # Starlette re-raises after it has answered; answer here only if it did not.
            if not started:
                await self._error(send_with_headers, "Internal Server Error", exc)
        finally:
            template = route_template(scope, status)
            self.metrics.requests.labels(scope["method"], template, str(status)).inc()
            self.metrics.latency.labels(scope["method"], template).observe(
                time.perf_counter() - start
            )

    def _docs_hidden(self, path: str) -> bool:
        return (
            self.settings.environment == "production"
            and (path in DOCS_PATHS or path.startswith("/docs/"))
            and not self.faults.on("docs-exposed")
        )

    def _headers(self, path: str, status: int, elapsed: float) -> list[tuple[bytes, bytes]]:
        f = self.faults
        chosen: dict[str, str] = {"x-process-time": f"{elapsed:.6f}"}
        bypass = f.on("errors-bypass-headers") and status in (429, 500)
        if not (f.on("no-security-headers") or bypass):
            chosen.update(HEADERS)
            if path in DOCS_PATHS or path.startswith("/docs/"):
                chosen["content-security-policy"] = DOCS_CSP
            if f.on("weak-security-headers"):
                chosen.update(
                    {"strict-transport-security": "max-age=300", "x-frame-options": "ALLOWALL"}
                )
                chosen["content-security-policy"] = "default-src 'none'"
                chosen.pop("x-content-type-options")
            if f.on("no-nosniff"):
                chosen.pop("x-content-type-options", None)
            if f.on("weak-hsts"):
                chosen["strict-transport-security"] = "max-age=300"
            if f.on("no-frame-protection"):
                chosen.pop("x-frame-options", None)
                chosen["content-security-policy"] = "default-src 'none'"
            if f.on("no-csp"):
                chosen.pop("content-security-policy", None)
            if f.on("no-referrer-policy"):
                chosen.pop("referrer-policy", None)
            if f.on("xss-protection-header"):
                chosen["x-xss-protection"] = "1; mode=block"
            if f.on("csp-unsafe-inline"):
                chosen["content-security-policy"] = (
                    "default-src 'self'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
                )
        if f.on("server-version"):
            chosen["server"] = "uvicorn/0.30.1 (Python/3.11.7)"
        if f.on("x-powered-by"):
            chosen["x-powered-by"] = "FastAPI/0.110.0"
        if f.on("insecure-cookie"):
            chosen["set-cookie"] = "session=0f3c9a7be1; Path=/"
        return [(k.encode(), v.encode()) for k, v in chosen.items()]

    async def _error(
        self, send: Send, detail: str, exc: BaseException | None = None, status: int = 500
    ) -> None:
        body: dict[str, Any] = {"detail": detail}
        if exc is not None and self.faults.on("traceback-in-errors"):
            body["traceback"] = "".join(traceback.format_exception(exc))
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
