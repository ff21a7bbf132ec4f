"""What the routes share: settings, storage, faults, tokens; and the auth dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pytest_deploycheck.reference.db import Database
from pytest_deploycheck.reference.faults import FaultState
from pytest_deploycheck.reference.security import LinkSigner, RateLimiter, TokenError, Tokens
from pytest_deploycheck.reference.settings import Settings
from pytest_deploycheck.reference.worker import Worker


@dataclass
class Services:
    settings: Settings
    db: Database
    faults: FaultState
    tokens: Tokens
    limiter: RateLimiter
    signer: LinkSigner
    worker: Worker
    data_dir: Path


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


class RateLimitExceeded(Exception):
    def __init__(self, retry_after: int, limit: int) -> None:
        self.retry_after = retry_after
        self.limit = limit


def client_ip(request: Request, trust_forwarded_for: bool) -> str:
    forwarded = request.headers.get("x-forwarded-for")
    if trust_forwarded_for and forwarded:
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


def auth_rate_limit(request: Request) -> None:
    """One budget per client IP shared by register, login and refresh, as in the real service."""
    s = services(request)
    if s.faults.on("no-rate-limit"):
        return
    wait = s.limiter.hit(client_ip(request, s.settings.trust_forwarded_for))
    if wait is not None:
        raise RateLimitExceeded(wait, s.limiter.limit)


_bearer = HTTPBearer(auto_error=False)

UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def current_user(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> dict[str, Any]:
    s = services(request)
    if credentials is None:
        if s.faults.on("auth-bypass"):
            user = s.db.one("SELECT * FROM users ORDER BY created_at DESC LIMIT 1")
            if user is not None:
                return user
        raise HTTPException(401, "Not authenticated", headers=UNAUTHORIZED)
    claims = decode_or_401(s, credentials.credentials, "access")
    user = s.db.one("SELECT * FROM users WHERE id = ?", claims["sub"])
    if user is None or not user["is_active"]:
        raise HTTPException(
            401, "Could not validate credentials: unknown user", headers=UNAUTHORIZED
        )
    request.state.token_claims = claims
    return user


def decode_or_401(s: Services, token: str, kind: str) -> dict[str, Any]:
    if kind == "refresh" and s.faults.on("refresh-accepts-access-token"):
        kind = "any"
    try:
        claims = s.tokens.decode(token, kind, verify=not s.faults.on("jwt-unverified"))
    except TokenError as exc:
        raise HTTPException(
            401, f"Could not validate credentials: {exc}", headers=UNAUTHORIZED
        ) from None
    revoked = s.db.one("SELECT 1 AS r FROM revoked_tokens WHERE jti = ?", claims["jti"])
    if revoked and not s.faults.on("token-survives-logout"):
        raise HTTPException(
            401, "Could not validate credentials: token has been revoked", headers=UNAUTHORIZED
        )
    return claims


def require_owner(s: Services, row: dict[str, Any], user: dict[str, Any], what: str) -> None:
    if row["user_id"] != user["id"] and not s.faults.on("cross-user-read"):
        raise HTTPException(403, f"Not authorized to access this {what}")


_ERROR_TEXT = {
    400: "Invalid input",
    401: "Missing, invalid or expired token",
    403: "Not allowed",
    404: "Not found",
    413: "Upload too large",
    429: "Rate limit exceeded",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route gives, so the document tells the truth."""
    from pytest_deploycheck.reference.schemas import ErrorBody, RateLimited

    return {
        code: {"model": RateLimited if code == 429 else ErrorBody, "description": _ERROR_TEXT[code]}
        for code in codes
    }


def page_of(
    s: Services, table: str, where: str, params: list[Any], page: int, page_size: int
) -> dict[str, Any]:
    """One page of ``table`` rows (newest first) in the contract's paginated shape."""
    import math

    total = s.db.one(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}", *params)["n"]  # type: ignore[index]
    rows = s.db.all(
        f"SELECT * FROM {table} WHERE {where} ORDER BY created_at DESC LIMIT ? OFFSET ?",
        *params,
        page_size,
        (page - 1) * page_size,
    )
    return {
        "total": total,
        "page": page,
        "page_size": page_size,
        "pages": math.ceil(total / page_size),
        "items": rows,
    }
