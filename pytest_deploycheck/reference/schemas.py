"""Request and response bodies, so the OpenAPI document matches what is returned."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

JobStatus = Literal["pending", "processing", "completed", "failed", "cancelled"]


class ErrorBody(BaseModel):
    detail: str


class RateLimited(BaseModel):
    detail: str
    retry_after: int


class Health(BaseModel):
    status: str = Field(examples=["healthy"])
    database: str = Field(examples=["healthy"])
    worker: str = Field(examples=["healthy"])


class Ready(BaseModel):
    status: str = Field(examples=["ready"])
    database: str = Field(examples=["ready"])


class Info(BaseModel):
    name: str
    version: str
    environment: str


class Root(BaseModel):
    message: str
    version: str
    docs: str | None
    health: str


class User(BaseModel):
    id: str
    email: str
    username: str
    display_name: str | None
    keycloak_id: str | None
    subscription_tier: str
    cards_generated_month: int
    cards_limit_month: int
    is_active: bool
    is_admin: bool
    created_at: str
    updated_at: str
    last_login_at: str | None


class RegisterByUsername(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    username: str = Field(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_-]+$")
    password: str = Field(min_length=8, max_length=128)
    display_name: str | None = Field(None, max_length=100)


class RegisterByFullName(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    password: str = Field(min_length=8, max_length=128)
    full_name: str = Field(min_length=1, max_length=100)


class Registered(BaseModel):
    user: User
    message: str


class Login(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=128)


class LoggedIn(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    user: User


class RefreshRequest(BaseModel):
    refresh_token: str


class Refreshed(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class LogoutRequest(BaseModel):
    refresh_token: str | None = None


class TokenValid(BaseModel):
    valid: bool
    user_id: str
    email: str


class Job(BaseModel):
    id: str
    user_id: str
    status: JobStatus
    progress_percent: int
    source_filename: str
    source_file_path: str
    page_start: int | None
    page_end: int | None
    card_density: str
    subject: str | None
    chapter: str | None
    custom_tags: list[str]
    result_deck_id: str | None
    error_message: str | None
    retry_count: int
    max_retries: int
    completed_at: str | None
    created_at: str
    updated_at: str


class JobStatusOut(BaseModel):
    id: str
    status: JobStatus
    progress: int
    error_message: str | None
    result_deck_id: str | None


class Page(BaseModel):
    total: int
    page: int
    page_size: int
    pages: int


class JobPage(Page):
    items: list[Job]


class Deck(BaseModel):
    id: str
    user_id: str
    job_id: str
    name: str
    card_count: int
    file_path: str
    file_size_bytes: int
    created_at: str
    updated_at: str


class DeckPage(Page):
    items: list[Deck]


class DownloadLink(BaseModel):
    download_url: str
    expires_in: int


class DeleteAccount(BaseModel):
    confirmation: Literal["DELETE"]
