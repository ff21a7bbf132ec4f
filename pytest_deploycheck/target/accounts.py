"""Signing up and in as the run's users, within the target's auth rate limit.

The real Anki service allows 5 calls a minute per client IP on register,
login and refresh together, failed ones included. Every rate-limited call goes
through :class:`AuthApi`, which spends the run's :class:`AuthBudget`: paced to
stay within ``auth.rate_limit``, and after a 429 retried once the window has
surely reopened, within ``auth.rate_limit_wait_s`` in all.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.errors import CheckFailed, ConfigError, DeployCheckError
from pytest_deploycheck.run.client import DeployClient
from pytest_deploycheck.run.expect import describe, excerpt, expect_status, json_body, json_field
from pytest_deploycheck.run.pacing import AuthBudget, retry_after_seconds
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
                    "the budget; see the docs, 'Auth calls a run spends'"
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
        payload = self.login_payload(email, password, username)
        return self.limited("POST", self.env.paths.login, json=payload)

    def login_payload(
        self, email: str, password: str, username: str | None = None
    ) -> dict[str, str]:
        """The login body the env's service takes (``auth.login_body``)."""
        template = self.env.auth.login_body or {"email": "{email}", "password": "{password}"}
        return fill(template, email=email, password=password, username=username or email)

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


def token_times(token: str) -> tuple[float | None, float | None]:
    """When a JWT access token was issued and expires (``iat``, ``exp``: epoch seconds), read
    without verifying it; ``None`` for what a token that is no JWT does not say."""
    parts = token.split(".")
    if len(parts) != 3:
        return None, None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, binascii.Error):
        return None, None
    if not isinstance(claims, dict):
        return None, None
    issued, expires = claims.get("iat"), claims.get("exp")
    number = (int, float)
    return (
        float(issued) if isinstance(issued, number) else None,
        float(expires) if isinstance(expires, number) else None,
    )


def renewed(api: AuthApi, user: RunUser) -> RunUser:
    """``user`` with a new access token from the refresh endpoint (one auth call; a watch keeps
    its users signed in this way instead of signing in again)."""
    by_access_token = api.env.auth.refresh_with == "access_token"
    token = user.access_token if by_access_token else user.refresh_token
    if not token:
        raise CheckFailed(
            f"the {user.label} user's session cannot be renewed: the login answer had no refresh "
            "token (auth.refresh_token_field)"
        )
    response = api.refresh(token)
    expect_status(response, 200, f"renewing the {user.label} user's session")
    body = json_body(response)
    auth = api.env.auth
    access = str(json_field(response, body, auth.access_token_field, "auth.access_token_field"))
    refresh = body.get(auth.refresh_token_field)
    return replace(
        user,
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) else user.refresh_token,
    )


def login_payload(
    env: TargetEnv, email: str, password: str, username: str | None = None
) -> dict[str, str]:
    """The login body the env's service takes (``auth.login_body``)."""
    template = env.auth.login_body or {"email": "{email}", "password": "{password}"}
    return fill(template, email=email, password=password, username=username or email)


def throwaway_handle(run_id: str, label: str) -> str:
    """The username a throwaway user registers with (and signs in with, where asked)."""
    return f"deploycheck-{run_id}-{label}"[:50]


def fill(template: dict[str, str], **values: str) -> dict[str, str]:
    """A request body from a config template: ``{"username": "{email}"}`` -> the email."""
    known = {"display_name": DISPLAY_NAME, "email": "", "password": "", "username": ""}
    known.update(values)
    return {key: str(value).format_map(known) for key, value in template.items()}


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
        username = auth.username if label == "smoke" else auth.second_username
        return _login(
            api, label, email, password, throwaway=False, register_status=None, username=username
        )
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
        set_cookies=response.headers.get_list("set-cookie"),
    )


SignIn = Callable[[str, str, "str | None"], httpx.Response]
# Answers to a sign-in with the credentials the run created the account with, that say no
# such account exists (a refused password: the run chose it).
_NO_SUCH_ACCOUNT = (401, 404)


def cleanup(
    client: DeployClient,
    env: TargetEnv,
    contents: dict[str, Any],
    sign_in: SignIn | None = None,
) -> list[str]:
    """Delete what the run created, then its throwaway users; one line per outcome.

    Only what was verified counts as deleted: an item when asking for it again finds it gone,
    an account when the documented endpoint answered 2xx. Everything else is a "left behind"
    line naming it (the caller then keeps the ledger). ``sign_in(email, password, username)``
    signs in a user that has no token (it was registered, but its sign-in failed) so it can
    be deleted too.
    """
    users: dict[str, dict[str, Any]] = {
        k: v for k, v in contents.get("users", {}).items() if "error" not in v
    }
    lines: list[str] = []
    for label, pending in contents.get("pending", {}).items():
        if label not in users:
            signed_in, line = _sign_in_again(label, pending, env, sign_in)
            if signed_in is not None:
                users[label] = signed_in
            if line:
                lines.append(line)
    deleted = {"deck": 0, "job": 0, "user": 0}
    paths = {"deck": env.paths.deck, "job": env.paths.job}
    # Decks before jobs: a deck may belong to a job.
    for item in sorted(contents.get("created", []), key=lambda c: c["kind"] != "deck"):
        owner = users.get(item["owner"])
        if owner is None:
            lines.append(f"left behind: {item['kind']} {item['id']} (its user never signed in)")
            continue
        path = paths[item["kind"]].format(job_id=item["id"], deck_id=item["id"])
        outcome = _remove(client, path, owner["access_token"], again=item["kind"] == "job")
        if outcome is None:
            deleted[item["kind"]] += 1
        else:
            lines.append(f"left behind: {item['kind']} {item['id']}: {outcome}")
    no_deletion: list[str] = []
    refused_with: httpx.Response | None = None
    for label, user in users.items():
        if not user.get("throwaway"):
            continue
        response, outcome = _delete_account(client, env, user["access_token"])
        if outcome is None:
            deleted["user"] += 1
        elif response is not None and response.status_code in (404, 405):
            no_deletion.append(user["email"])
            refused_with = response
        else:
            lines.append(f"left behind: throwaway {label} user {user['email']}: {outcome}")
    if no_deletion and refused_with is not None:
        count = len(no_deletion)
        lines.append(
            f"left behind: this service has no account deletion ({describe(refused_with)}): "
            f"{count} user{'s' if count != 1 else ''} left behind: {', '.join(no_deletion)} "
            "(set paths.delete_account, or auth.mode = 'account' to sign in as a standing account)"
        )
    done = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in deleted.items() if n)
    lines.insert(0, f"cleanup: deleted {done or 'nothing'}")
    return lines


def _sign_in_again(
    label: str, pending: dict[str, Any], env: TargetEnv, sign_in: SignIn | None
) -> tuple[dict[str, Any] | None, str | None]:
    """A throwaway user that was (perhaps) registered but never signed in: sign in now so it can
    be deleted; a refusal that proves nothing is a user left behind."""
    email, password = pending.get("email", "?"), pending.get("password", "")
    if sign_in is None:
        return None, f"left behind: throwaway {label} user {email}: it never signed in"
    try:
        response = sign_in(email, password, pending.get("username"))
    except DeployCheckError as exc:
        return None, f"left behind: throwaway {label} user {email}: signing in to delete it: {exc}"
    if response.status_code == 200:
        try:
            token = response.json().get(env.auth.access_token_field)
        except ValueError:
            token = None
        if isinstance(token, str):
            throwaway = pending.get("throwaway", True)
            return {**pending, "throwaway": throwaway, "access_token": token}, None
    if response.status_code in _NO_SUCH_ACCOUNT:
        return None, None  # its registration did not take: there is nothing to delete
    return None, (
        f"left behind: throwaway {label} user {email}: it may exist, but signing in to delete "
        f"it answered {describe(response)}: {excerpt(response, 120)}"
    )


def _delete_account(
    client: DeployClient, env: TargetEnv, token: str
) -> tuple[httpx.Response | None, str | None]:
    try:
        response = client.request(
            "DELETE",
            env.paths.delete_account,
            headers={"Authorization": f"Bearer {token}"},
            json={"confirmation": "DELETE"},
        )
    except Exception as exc:  # cleanup must never hide the verdict
        return None, str(exc)
    if 200 <= response.status_code < 300:
        return response, None
    return response, f"{describe(response)}: {excerpt(response, 120)}"


def _remove(client: DeployClient, path: str, token: str, *, again: bool) -> str | None:
    """DELETE ``path``, then ask for it: None once it is verified gone, else what is left.

    A job still pending or processing is only cancelled by its first DELETE (the contract:
    "cancels a pending/processing job, deletes a finished one"): ``again`` deletes it once
    more while it is still there."""
    headers = {"Authorization": f"Bearer {token}"}
    for attempt in range(3 if again else 1):
        try:
            response = client.request("DELETE", path, headers=headers)
        except Exception as exc:  # cleanup must never hide the verdict
            return str(exc)
        if not (200 <= response.status_code < 300 or response.status_code in (404, 410)):
            return f"{describe(response)}: {excerpt(response, 120)}"
        try:
            check = client.get(path, headers=headers)
        except Exception as exc:  # noqa: BLE001
            return f"its DELETE answered {response.status_code}, and asking for it again: {exc}"
        if check.status_code in (404, 410):
            return None
        if check.status_code != 200:
            return (
                f"its DELETE answered {response.status_code}, but it could not be verified "
                f"gone: {describe(check)}"
            )
        if attempt + 1 < (3 if again else 1):
            time.sleep(0.2)  # a cancelled job's worker lets go of it
    return f"still there after its DELETE ({describe(check)})"
