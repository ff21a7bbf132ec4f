"""The reference deployment's settings (``--set key=value`` or the env config's ``embedded.settings``)."""

from __future__ import annotations

import secrets
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def _version() -> str:
    from pytest_deploycheck._version import __version__

    return __version__


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    environment: Literal["development", "staging", "production"] = "development"
    version: str = Field(default_factory=_version)
    secret_key: str = Field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    access_token_minutes: float = Field(30, gt=0)  # 0.1: six seconds (the watch's tests)
    refresh_token_days: int = Field(7, gt=0)
    # Like the real service: 5 calls a minute per client IP on register/login/refresh.
    auth_rate_limit: int = Field(5, ge=0)
    auth_rate_window_s: float = Field(60.0, gt=0)
    # "down" answers Retry-After rounded down, as the real service does (slowapi): a client
    # that waits exactly that long arrives early and is refused again.
    retry_after_rounding: Literal["up", "down"] = "up"
    trust_forwarded_for: bool = False
    max_upload_mb: int = Field(100, gt=0)
    cards_limit_month: int = Field(30, ge=0)
    # Pace of the worker's steps, so pending -> processing -> completed is observable.
    job_step_delay_s: float = Field(0.05, ge=0)
    download_link_ttl_s: int = Field(3600, gt=0)
    cors_origins: list[str] = Field(default_factory=lambda: ["http://localhost:3000"])
    # The deployment guide's variants of the API (see the contract).
    register_style: Literal["username", "full_name"] = "username"
    # "redirect": the download answers 307 to object storage on another origin (the API at
    # 127.0.0.1, storage at localhost), which refuses a request that carries credentials of
    # its own (S3: only one auth mechanism), as real services hand out presigned links.
    # "path-signed": the link carries its expiry and signature as path segments
    # (/storage/signed/{expires}/{signature}/decks/{id}.apkg), as some CDNs sign.
    download_style: Literal["url", "file", "redirect", "path-signed"] = "url"
    # "integer": ids are numbers counted from 1 ("job_id": 42), as many real APIs have them.
    id_style: Literal["uuid", "integer"] = "uuid"
    download_by: Literal["deck", "job"] = "deck"
    # How the OpenAPI document declares sign-in: "oauth2-password" as the real service does
    # (FastAPI's OAuth2PasswordBearer: a password flow whose tokenUrl is the login path).
    openapi_auth: Literal["bearer", "oauth2-password"] = "bearer"
    # False: no account deletion endpoint (DELETE /user/account answers 404), as some real
    # services have none.
    account_deletion: bool = True
    # True: the login answer also sets a session cookie (fault insecure-login-cookie: unsafe).
    login_cookie: bool = False
    # 202: an upload is answered "Accepted" (an asynchronous API) instead of "Created".
    upload_status: Literal[201, 202] = 201
    # Enables PUT /_deploycheck/faults with this token in X-Fault-Token (tests only).
    control_token: str | None = Field(None, repr=False)
