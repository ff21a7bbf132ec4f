"""Register, login, refresh, logout, me, verify-token; and deleting one's account."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from pytest_deploycheck.reference import security
from pytest_deploycheck.reference.db import new_id, now, user_out
from pytest_deploycheck.reference.schemas import (
    DeleteAccount,
    LoggedIn,
    Login,
    LogoutRequest,
    Refreshed,
    RefreshRequest,
    RegisterByFullName,
    RegisterByUsername,
    Registered,
    TokenValid,
    User,
)
from pytest_deploycheck.reference.services import (
    UNAUTHORIZED,
    auth_rate_limit,
    current_user,
    decode_or_401,
    errors,
    services,
)

router = APIRouter()  # mounted under /auth by build()
account_router = APIRouter(prefix="/user", tags=["user"])


def _register_endpoint(model: type[RegisterByUsername] | type[RegisterByFullName]) -> Any:
    # The body model is the deployment's register style, so /openapi.json tells the truth.
    def register(request: Request, data: Any) -> dict[str, Any]:
        s = services(request)
        if s.faults.on("register-500"):
            raise RuntimeError(
                'column "settings" of relation "users" does not exist'
            )  # the real service, when its migrations did not run
        username = getattr(data, "username", None) or _username_from(data.email)
        display_name = getattr(data, "display_name", None) or getattr(data, "full_name", None)
        if s.db.one(
            "SELECT 1 AS x FROM users WHERE email = ? OR username = ?", data.email, username
        ):
            raise HTTPException(400, "Email or username already registered")
        user_id = new_id()
        s.db.insert(
            "users",
            {
                "id": user_id,
                "email": data.email,
                "username": username,
                "display_name": display_name,
                "password_hash": security.hash_password(data.password),
                "cards_limit_month": s.settings.cards_limit_month,
                "created_at": now(),
                "updated_at": now(),
            },
        )
        user = s.db.one("SELECT * FROM users WHERE id = ?", user_id)
        assert user is not None
        return {"user": user_out(user), "message": "User registered successfully"}

    register.__annotations__.update(request=Request, data=model, **{"return": dict[str, Any]})
    return register


def _username_from(email: str) -> str:
    local = "".join(c for c in email.split("@")[0] if c.isalnum() or c in "_-")[:40] or "user"
    return f"{local}-{new_id()[:8]}"


def build(register_style: str, account_deletion: bool = True) -> list[APIRouter]:
    """The auth and account routers for a deployment's register style (without the account
    router where the deployment has no account deletion)."""
    model = RegisterByUsername if register_style == "username" else RegisterByFullName
    auth = APIRouter(prefix="/auth", tags=["auth"])
    auth.add_api_route(
        "/register",
        _register_endpoint(model),
        methods=["POST"],
        status_code=201,
        response_model=Registered,
        dependencies=[Depends(auth_rate_limit)],
        responses=errors(400, 429),
    )
    auth.include_router(router)
    return [auth, account_router] if account_deletion else [auth]


@router.post(
    "/login",
    response_model=LoggedIn,
    dependencies=[Depends(auth_rate_limit)],
    responses=errors(401, 429),
)
def login(request: Request, payload: Login, response: Response) -> dict[str, Any]:
    s = services(request)
    user = s.db.one("SELECT * FROM users WHERE email = ?", payload.email)
    accepted = user is not None and (
        s.faults.on("wrong-password-accepted")
        or security.check_password(payload.password, user["password_hash"])
    )
    if not accepted or user is None:
        raise HTTPException(401, "Incorrect email or password", headers=UNAUTHORIZED)
    if s.faults.on("login-unverified"):
        raise HTTPException(403, "Email address not verified")
    s.db.update("users", user["id"], last_login_at=now())
    user = s.db.one("SELECT * FROM users WHERE id = ?", user["id"])
    assert user is not None
    if s.settings.login_cookie:
        # A browser session beside the tokens, as many services set at login; with the
        # attributes a browser reads and SimpleCookie does not (Partitioned, Priority).
        safe = "; HttpOnly; SameSite=Lax" if not s.faults.on("insecure-login-cookie") else ""
        response.headers.append(
            "set-cookie", f"session={new_id()}; Path=/; Partitioned; Priority=High{safe}"
        )
    return {
        "access_token": s.tokens.issue(user, "access"),
        "refresh_token": s.tokens.issue(user, "refresh"),
        "token_type": "bearer",
        "expires_in": s.tokens.access_seconds,
        "user": user_out(user),
    }


@router.post(
    "/refresh",
    response_model=Refreshed,
    dependencies=[Depends(auth_rate_limit)],
    responses=errors(401, 429),
)
def refresh(request: Request, payload: RefreshRequest) -> dict[str, Any]:
    s = services(request)
    if s.faults.on("refresh-broken"):
        raise RuntimeError("session store unavailable")
    claims = decode_or_401(s, payload.refresh_token, "refresh")
    user = s.db.one("SELECT * FROM users WHERE id = ?", claims["sub"])
    if user is None:
        raise HTTPException(
            401, "Could not validate credentials: unknown user", headers=UNAUTHORIZED
        )
    return {
        "access_token": s.tokens.issue(user, "access"),
        "token_type": "bearer",
        "expires_in": s.tokens.access_seconds,
    }


@router.post("/logout", status_code=204, responses=errors(401))
def logout(
    request: Request,
    payload: LogoutRequest | None = None,
    user: dict[str, Any] = Depends(current_user),
) -> Response:
    s = services(request)
    if not s.faults.on("token-survives-logout"):
        claims = request.state.token_claims if hasattr(request.state, "token_claims") else None
        revoke = [claims] if claims else []
        if payload and payload.refresh_token:
            with contextlib.suppress(security.TokenError):
                revoke.append(s.tokens.decode(payload.refresh_token, "refresh"))
        for item in revoke:
            s.db.execute(
                "INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)",
                item["jti"],
                float(item["exp"]),
            )
        s.db.execute("DELETE FROM revoked_tokens WHERE expires_at < ?", time.time())
    return Response(status_code=204)


@router.get("/me", response_model=User, responses=errors(401))
def me(user: dict[str, Any] = Depends(current_user)) -> dict[str, Any]:
    return user_out(user)


@router.post("/verify-token", response_model=TokenValid, responses=errors(401))
def verify_token(user: dict[str, Any] = Depends(current_user)) -> dict[str, Any]:
    return {"valid": True, "user_id": user["id"], "email": user["email"]}


@account_router.delete("/account", status_code=204, responses=errors(401))
def delete_account(
    request: Request, payload: DeleteAccount, user: dict[str, Any] = Depends(current_user)
) -> Response:
    s = services(request)
    for job in s.db.all("SELECT source_file_path FROM jobs WHERE user_id = ?", user["id"]):
        _unlink(job["source_file_path"])
    for deck in s.db.all("SELECT file_path FROM decks WHERE user_id = ?", user["id"]):
        _unlink(deck["file_path"])
    s.db.execute("DELETE FROM decks WHERE user_id = ?", user["id"])
    s.db.execute("DELETE FROM jobs WHERE user_id = ?", user["id"])
    s.db.execute("DELETE FROM users WHERE id = ?", user["id"])
    return Response(status_code=204)


def _unlink(path: str) -> None:
    from pathlib import Path

    Path(path).unlink(missing_ok=True)
