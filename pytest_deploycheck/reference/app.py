"""Assembling the reference deployment: storage, worker, routes, error handling, edge."""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from prometheus_client import generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from pytest_deploycheck.reference.db import Database, use_integer_ids
from pytest_deploycheck.reference.edge import Edge, Metrics
from pytest_deploycheck.reference.faults import FaultState
from pytest_deploycheck.reference.routes import auth, control, decks, health, jobs
from pytest_deploycheck.reference.schemas import Root
from pytest_deploycheck.reference.security import LinkSigner, RateLimiter, Tokens
from pytest_deploycheck.reference.services import RateLimitExceeded, Services
from pytest_deploycheck.reference.settings import Settings
from pytest_deploycheck.reference.worker import Worker

API_PREFIX = "/api/v1"


def create_app(settings: Settings, faults: FaultState, data_dir: Path) -> tuple[ASGIApp, Services]:
    """The ASGI app to serve, and its services (for tests and the server's shutdown)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(data_dir / "reference.sqlite3")
    if settings.id_style == "integer":
        highest = [
            db.one(f"SELECT MAX(CAST(id AS INTEGER)) AS n FROM {table}")  # noqa: S608
            for table in ("users", "jobs", "decks")
        ]
        use_integer_ids(max((row or {}).get("n") or 0 for row in highest))
    services = Services(
        settings=settings,
        db=db,
        faults=faults,
        tokens=Tokens(
            settings.secret_key, settings.access_token_minutes, settings.refresh_token_days
        ),
        limiter=RateLimiter(
            settings.auth_rate_limit, settings.auth_rate_window_s, settings.retry_after_rounding
        ),
        signer=LinkSigner(settings.secret_key),
        worker=Worker(db, faults, settings, data_dir),
        data_dir=data_dir,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        services.worker.start()
        yield
        services.worker.stop()
        db.close()

    app = FastAPI(
        title="Anki Compendium API (pytest-deploycheck reference deployment)",
        version=settings.version,
        description="PDF -> flashcards -> .apkg. The embedded reference deployment of pytest-deploycheck.",
        lifespan=lifespan,
    )
    app.state.services = services
    metrics = Metrics(faults)

    for router in (
        health.router,
        *auth.build(settings.register_style, settings.account_deletion),
        jobs.upload_router,
        jobs.router,
        decks.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(decks.storage_router)
    app.include_router(control.router)

    @app.get("/", response_model=Root, tags=["health"])
    def root() -> dict[str, Any]:
        production = settings.environment == "production"
        return {
            "message": "Anki Compendium API",
            "version": settings.version,
            "docs": None if production else "/docs",
            "health": f"{API_PREFIX}/health",
        }

    @app.get("/debug", include_in_schema=False)
    def debug_page() -> Any:
        if not faults.on("debug-endpoint"):
            raise StarletteHTTPException(404, "Not Found")
        return {
            "debug": True,
            "settings": settings.model_dump(exclude={"secret_key", "control_token"}),
        }

    # Old console paths that redirect to the current ones, as frameworks keep them: a probe
    # that stops at the 302 judges nothing.
    @app.get("/swagger-ui.html", include_in_schema=False)
    def swagger_ui_redirect() -> RedirectResponse:
        return RedirectResponse("/docs", status_code=302)

    @app.get("/console", include_in_schema=False)
    def console_redirect() -> RedirectResponse:
        return RedirectResponse("/debug", status_code=302)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> PlainTextResponse:
        return PlainTextResponse(
            generate_latest(metrics.registry), media_type="text/plain; version=0.0.4"
        )

    if settings.openapi_auth == "oauth2-password":
        _declare_oauth2_password_flow(app)
    _add_error_handlers(app, faults)
    return Edge(app, settings, faults, metrics, API_PREFIX), services


def _declare_oauth2_password_flow(app: FastAPI) -> None:
    """The document declares the bearer scheme as an OAuth2 password flow, as the real
    service's ``OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login")`` does."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        schemes = document.get("components", {}).get("securitySchemes", {})
        for name in schemes:
            schemes[name] = {
                "type": "oauth2",
                "flows": {"password": {"tokenUrl": f"{API_PREFIX}/auth/login", "scopes": {}}},
            }
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _add_error_handlers(app: FastAPI, faults: FaultState) -> None:
    def debug(body: dict[str, Any], exc: BaseException | None = None) -> dict[str, Any]:
        # The fault a debug-mode deployment shows: stack, file paths, framework.
        if faults.on("traceback-in-errors"):
            stack = traceback.format_exception(exc) if exc else traceback.format_stack()
            body["traceback"] = "".join(stack)
        return body

    @app.exception_handler(RateLimitExceeded)
    async def rate_limited(_: Request, exc: RateLimitExceeded) -> JSONResponse:
        return JSONResponse(
            {
                "detail": f"Rate limit exceeded: {exc.limit} per 1 minute",
                "retry_after": exc.retry_after,
            },
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            debug({"detail": exc.detail}), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        if faults.on("invalid-query-500") and any(
            e.get("loc", ("",))[0] == "query" for e in exc.errors()
        ):
            return JSONResponse(debug({"detail": "Internal Server Error"}, exc), status_code=500)
        errors = [{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in exc.errors()]
        return JSONResponse(debug({"detail": errors}), status_code=422)

    @app.exception_handler(Exception)
    async def crashed(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(debug({"detail": "Internal Server Error"}, exc), status_code=500)
