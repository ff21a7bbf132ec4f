"""Liveness, readiness, version."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from pytest_deploycheck.reference.schemas import Health, Info, Ready
from pytest_deploycheck.reference.services import services

router = APIRouter(tags=["health"])

PREVIOUS_VERSION = "0.0.9"


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(request: Request) -> object:
    s = services(request)
    if s.faults.on("health-html"):
        return HTMLResponse("<html><body><h1>Welcome to nginx!</h1></body></html>")
    database = _database_state(request, "healthy")
    worker = (
        "healthy"
        if s.worker.alive() and not s.faults.on("job-stuck")
        else "unhealthy: worker is not running"
    )
    status = "healthy" if database == "healthy" else "unhealthy"
    body = {"status": status, "database": database, "worker": worker}
    if s.faults.on("health-503"):
        return JSONResponse({**body, "status": "unhealthy"}, status_code=503)
    # Like the real service: 200 even when unhealthy. The body is what tells.
    return body


@router.get("/ready", response_model=Ready)
def ready(request: Request) -> dict[str, str]:
    database = _database_state(request, "ready")
    if services(request).faults.on("not-ready"):
        database = "not ready: migrations pending"
    return {"status": "ready" if database == "ready" else "not ready", "database": database}


@router.get("/info", response_model=Info)
def info(request: Request) -> dict[str, str]:
    s = services(request)
    version = PREVIOUS_VERSION if s.faults.on("wrong-version") else s.settings.version
    return {
        "name": "Anki Compendium API",
        "version": version,
        "environment": s.settings.environment,
    }


def _database_state(request: Request, good: str) -> str:
    s = services(request)
    try:
        if s.faults.on("health-unhealthy"):
            raise ConnectionError("could not connect to server: Connection refused")
        s.db.ping()
    except Exception as exc:
        return ("unhealthy: " if good == "healthy" else "not ready: ") + str(exc)
    return good
