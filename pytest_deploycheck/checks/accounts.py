"""Signing up and in as the run's users, within the target's auth rate limit.

The real Anki service allows 5 calls a minute per client IP on register,
login and refresh together, failed ones included. Every rate-limited call goes
through :class:`AuthApi`, which spends the run's :class:`AuthBudget`: paced to
stay within ``auth.rate_limit``, and after a 429 retried once the window has
surely reopened, within ``auth.rate_limit_wait_s`` in all.
"""

from __future__ import annotations

import email.utils
import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx

from pytest_deploycheck.checks.expect import describe, excerpt, expect_status, json_body, json_field
from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.errors import CheckFailed, ConfigError
from pytest_deploycheck.run.auth_budget import AuthBudget
from pytest_deploycheck.run.client import DeployClient
from pytest_deploycheck.run.redaction import Redactor
from pytest_deploycheck.run.store import RunUser

DISPLAY_NAME = "pytest-deploycheck smoke user"


class AuthApi:
    """The target's auth endpoints, for checks and for provisioning users."""

    def __init__(self, client: DeployClient, env: TargetEnv, budget: AuthBudget) -> None:
        self.client = client
        self.env = env
        self.budget = budget

    def limited(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A call that spends the auth rate limit: paced to fit it, retried after a 429."""
        what = f"{method} {path}"
        while True:
            self.budget.spend(what)
            response = self.client.request(method, path, **kwargs)
            if response.status_code != 429:
                return response
            wait = retry_after_seconds(response)
            if not self.budget.refused(wait, what):
                raise CheckFailed(
                    f"{describe(response)}: the auth rate limit refused the call (Retry-After: "
                    f"{'not given' if wait is None else f'{wait:g} s'}; auth.rate_limit = "
                    f"{self.env.auth.rate_limit!r}, this run made {self.budget.calls} auth calls and "
                    f"waited {self.budget.waited_s:.0f} s of at most auth.rate_limit_wait_s="
                    f"{self.env.auth.rate_limit_wait_s:g} s). Another client on this IP may share "
                    "the budget; see the README, 'Auth calls a run spends'"
                )

    def register(self, email: str, password: str, handle: str) -> httpx.Response:
        auth = self.env.auth
        if auth.register_body is not None:
            template = auth.register_body
        elif auth.register_style == "full_name":
            template = {"email": "{email}", "password": "{password}", "full_name": "{display_name}"}
        else:
            template = {
                "email": "{email}",
                "username": "{username}",
                "password": "{password}",
                "display_name": "{display_name}",
            }
        payload = fill(template, email=email, password=password, username=handle)
        return self.limited("POST", self.env.paths.register_, json=payload)

    def login(self, email: str, password: str, username: str | None = None) -> httpx.Response:
        template = self.env.auth.login_body or {"email": "{email}", "password": "{password}"}
        payload = fill(template, email=email, password=password, username=username or email)
        return self.limited("POST", self.env.paths.login, json=payload)

    def refresh(self, token: str) -> httpx.Response:
        """Refresh the session: ``token`` is the refresh token, or with ``auth.refresh_with =
        "access_token"`` the access token, sent as the Bearer."""
        auth = self.env.auth
        if auth.refresh_with == "access_token":
            return self.limited(
                "POST", self.env.paths.refresh, headers={"Authorization": f"Bearer {token}"}
            )
        return self.limited(
            "POST", self.env.paths.refresh, json=fill(auth.refresh_body, refresh_token=token)
        )


def throwaway_handle(run_id: str, label: str) -> str:
    """The username a throwaway user registers with (and signs in with, where asked)."""
    return f"deploycheck-{run_id}-{label}"[:50]


def fill(template: dict[str, str], **values: str) -> dict[str, str]:
    """A request body from a config template: ``{"username": "{email}"}`` -> the email."""
    known = {"display_name": DISPLAY_NAME, "email": "", "password": "", "username": ""}
    known.update(values)
    return {key: str(value).format_map(known) for key, value in template.items()}


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        try:
            body = response.json()
            value = (
                str(body.get("retry_after"))
                if isinstance(body, dict) and "retry_after" in body
                else None
            )
        except ValueError:
            value = None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def provision(
    api: AuthApi,
    label: str,
    run_id: str,
    redactor: Redactor,
    before_register: Callable[[str, str], None] | None = None,
) -> RunUser:
    """Log in as the run's user ``label``: a throwaway one, or a configured account.

    ``before_register(email, password)`` is told of a throwaway user before it exists, so
    a run killed right after can still be cleaned up (``deploycheck cleanup``).
    """
    env = api.env
    auth = env.auth
    if auth.mode == "account" or env.production:
        email, password = (
            (auth.email, auth.password)
            if label == "smoke"
            else (auth.second_email, auth.second_password)
        )
        if not email or not password:
            keys = (
                "auth.email / auth.password"
                if label == "smoke"
                else "auth.second_email / auth.second_password"
            )
            why = (
                "is production: no throwaway users are registered there"
                if env.production
                else "uses auth.mode = 'account'"
            )
            raise ConfigError(f"env {env.name!r} {why}; set {keys} (from ${{VAR}}s)")
        return _login(api, label, email, password, throwaway=False, register_status=None)
    password = secrets.token_urlsafe(18) + "aA1!"
    redactor.add(password)
    handle = throwaway_handle(run_id, label)
    email = f"deploycheck+{run_id}-{label}@{auth.email_domain}"
    if before_register is not None:
        before_register(email, password)
    response = api.register(email, password, handle)
    expect_status(response, (200, 201), f"registering the throwaway {label} user {email}")
    return _login(
        api,
        label,
        email,
        password,
        throwaway=True,
        register_status=response.status_code,
        username=handle,
    )


def _login(
    api: AuthApi,
    label: str,
    email: str,
    password: str,
    *,
    throwaway: bool,
    register_status: int | None,
    username: str | None = None,
) -> RunUser:
    auth = api.env.auth
    response = api.login(email, password, username)
    expect_status(response, 200, f"logging in as the {label} user {email}")
    body = json_body(response)
    token = str(json_field(response, body, auth.access_token_field, "auth.access_token_field"))
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    refresh = body.get(auth.refresh_token_field)
    return RunUser(
        label=label,
        email=email,
        user_id=str(user.get("id")) if user.get("id") else None,
        access_token=token,
        refresh_token=refresh if isinstance(refresh, str) else None,
        throwaway=throwaway,
        register_status=register_status,
        login_fields=sorted(body),
        username=username,
    )


def cleanup(client: DeployClient, env: TargetEnv, contents: dict[str, Any]) -> list[str]:
    """Delete what the run created, then its throwaway users; one line per outcome."""
    users: dict[str, dict[str, Any]] = {
        k: v for k, v in contents.get("users", {}).items() if "error" not in v
    }
    lines: list[str] = []
    deleted = {"deck": 0, "job": 0, "user": 0}
    paths = {"deck": env.paths.deck, "job": env.paths.job}
    # Decks before jobs: a deck may belong to a job.
    for item in sorted(contents.get("created", []), key=lambda c: c["kind"] != "deck"):
        owner = users.get(item["owner"])
        if owner is None:
            lines.append(f"left behind: {item['kind']} {item['id']} (its user never logged in)")
            continue
        path = paths[item["kind"]].format(job_id=item["id"], deck_id=item["id"])
        outcome = _delete(client, path, owner["access_token"])
        if outcome is None and item["kind"] == "job":
            outcome = _delete_cancelled(client, path, owner["access_token"])
        if outcome is None:
            deleted[item["kind"]] += 1
        else:
            lines.append(f"left behind: {item['kind']} {item['id']}: {outcome}")
    for label, user in users.items():
        if not user.get("throwaway"):
            continue
        outcome = _delete(
            client, env.paths.delete_account, user["access_token"], json={"confirmation": "DELETE"}
        )
        if outcome is None:
            deleted["user"] += 1
        else:
            lines.append(f"left behind: throwaway {label} user {user['email']}: {outcome}")
    done = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in deleted.items() if n)
    lines.insert(0, f"cleanup: deleted {done or 'nothing'}")
    return lines


def _delete_cancelled(client: DeployClient, path: str, token: str) -> str | None:
    """A job still pending or processing is only cancelled by its first DELETE (the contract:
    "cancels a pending/processing job, deletes a finished one"): delete it once more, then
    make sure it is gone."""
    for _ in range(3):
        try:
            response = client.get(path, headers={"Authorization": f"Bearer {token}"})
        except Exception as exc:  # cleanup must never hide the verdict
            return str(exc)
        if response.status_code in (403, 404, 410):
            return None
        if response.status_code != 200:
            return f"{describe(response)} after its DELETE"
        outcome = _delete(client, path, token)
        if outcome is not None:
            return outcome
        time.sleep(0.2)  # a cancelled job's worker lets go of it
    return "still there after being cancelled and deleted three times"


def _delete(client: DeployClient, path: str, token: str, **kwargs: Any) -> str | None:
    try:
        response = client.request(
            "DELETE", path, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )
    except Exception as exc:  # cleanup must never hide the verdict
        return str(exc)
    if response.status_code in (200, 202, 204, 404):
        return None
    return f"{describe(response)}: {excerpt(response, 120)}"
