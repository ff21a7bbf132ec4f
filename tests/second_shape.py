"""A second reference shape, for the plugin's own tests only (not shipped).

Another public FastAPI flashcards service's conventions, none of them the
Anki Compendium's: /health at the root with the version nested in it, the
API under /api, sign-in with ``{username, password}``, no refresh token (a
refresh takes the access token as its Bearer), 403 for a missing token, no
readiness or info endpoint, cards instead of a PDF → deck pipeline, and its
own invalid-input probe (``GET /api/cards?limit=-1``). The shipped suites
must pass on it by configuration alone: see ``CONFIG``.
"""

# No "from __future__ import annotations": FastAPI reads these annotations at run time.

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

VERSION = "2.3.1"

CONFIG = """
[envs.cards]
base_url = "{url}"
api_prefix = "/api"
expected_version = "2.3.1"
suites = {{ journey = false }}
health = {{ from_root = true, readiness_path = "", info_path = "/health", version_field = "build.version" }}
paths = {{ register = "/auth/signup", login = "/auth/token", refresh = "/auth/refresh", logout = "/auth/logout", me = "/users/me", delete_account = "/users/me" }}
security.invalid_input_path = "/cards"
security.invalid_input_params = {{ limit = "-1" }}
security.cookie_paths = ["/session"]              # where it sets its session cookie

[envs.cards.auth]
rate_limit = "off"
register_body = {{ username = "{{username}}", email = "{{email}}", password = "{{password}}" }}
login_body = {{ username = "{{username}}", password = "{{password}}" }}
refresh_with = "access_token"
issues_refresh_token = false
missing_token_statuses = [403]
"""

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
}


def create_app() -> Any:
    from fastapi import Depends, FastAPI, HTTPException, Query, Request
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    users: dict[str, dict[str, str]] = {}
    tokens: dict[str, str] = {}  # token -> username

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.exception_handler(HTTPException)
    async def error(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    class Signup(BaseModel):
        username: str
        email: str
        password: str

    class Login(BaseModel):
        username: str
        password: str

    def issue(username: str) -> dict[str, str]:
        token = secrets.token_urlsafe(24)
        tokens[token] = username
        return {"access_token": token, "token_type": "bearer"}

    def current(request: Request) -> str:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            raise HTTPException(403, "Not authenticated")  # FastAPI's HTTPBearer answers so
        username = tokens.get(header.removeprefix("Bearer "))
        if username is None:
            raise HTTPException(401, "Invalid token")
        return username

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "build": {"version": VERSION, "commit": "abc1234"}}

    @app.post("/api/auth/signup", status_code=201)
    def signup(body: Signup) -> dict[str, str]:
        if body.username in users:
            raise HTTPException(409, "taken")
        users[body.username] = {"email": body.email, "password": body.password}
        return {"username": body.username}

    @app.post("/api/auth/token")
    def token(body: Login) -> dict[str, str]:
        user = users.get(body.username)
        if user is None or user["password"] != body.password:
            raise HTTPException(401, "Incorrect username or password")
        return issue(body.username)

    @app.post("/api/auth/refresh")
    def refresh(username: str = Depends(current)) -> dict[str, str]:
        return issue(username)

    @app.post("/api/auth/logout")
    def logout(request: Request, username: str = Depends(current)) -> dict[str, str]:
        tokens.pop(request.headers["authorization"].removeprefix("Bearer "), None)
        return {"detail": "signed out"}

    @app.get("/api/users/me")
    def me(username: str = Depends(current)) -> dict[str, str]:
        return {"username": username, "email": users[username]["email"]}

    @app.delete("/api/users/me", status_code=204)
    def delete_me(username: str = Depends(current)) -> None:
        users.pop(username, None)

    @app.get("/api/session")
    def session(username: str = Depends(current)) -> JSONResponse:
        response = JSONResponse({"username": username})
        flags = "" if app.state.loose_cookie else "; HttpOnly; SameSite=Lax"
        response.headers["set-cookie"] = f"session={secrets.token_hex(8)}; Path=/{flags}"
        return response

    @app.get("/api/cards")
    def cards(limit: int = Query(20, ge=1), username: str = Depends(current)) -> dict[str, Any]:
        return {"items": [], "limit": limit}

    app.state.users = users
    app.state.loose_cookie = False
    return app


@contextmanager
def running_second_shape(
    loose_cookie: bool = False,
) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    """Serve it on a free loopback port; yields its URL and its users (to prove cleanup)."""
    from tests.servers import serving

    app = create_app()
    app.state.loose_cookie = loose_cookie
    with serving(app) as url:
        yield url, app.state.users
