"""Auth: a user can sign up, sign in, use and refresh a token, and sign out; bad tokens are refused.

Auth calls are rate limited (the real service: 5 a minute per client IP, failed
ones included), so the checks share one sign-in (``smoke_user``) and spend the
rest carefully; see the docs, "Auth calls a run spends".
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable

import pytest

from pytest_deploycheck import (
    AuthApi,
    CheckFailed,
    DeployCheckError,
    DeployClient,
    RunUser,
    TargetEnv,
    deploy_context,
    describe,
    expect_latency,
    expect_status,
    json_body,
    json_field,
    login_payload,
)

pytestmark = [pytest.mark.smoke, pytest.mark.auth]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sign_up_and_sign_in(smoke_user: RunUser, deploy_env: TargetEnv) -> None:
    """``smoke_user`` signs up (non-production) and in; a failure there fails here with the answer.

    The login must also hand out a refresh token, or sessions cannot outlive the access token.
    """
    field = deploy_env.auth.refresh_token_field
    if deploy_env.auth.issues_refresh_token and not smoke_user.refresh_token:
        raise CheckFailed(
            f"the login answer has no {field!r} (it has: {', '.join(smoke_user.login_fields)}): "
            "sessions cannot be refreshed; if this deployment names it differently, set "
            "auth.refresh_token_field for this env (auth.issues_refresh_token = false if it "
            "hands out none)"
        )


def test_me_answers_for_the_signed_in_user(
    http: DeployClient, deploy_env: TargetEnv, smoke_user: RunUser
) -> None:
    response = http.get(deploy_env.paths.me, headers=smoke_user.headers)
    expect_status(response, 200, "the signed-in user's own profile")
    expect_latency(
        response, deploy_env.latency_ms.default, f"latency_ms.default of env {deploy_env.name!r}"
    )
    body = json_body(response)
    if isinstance(body, dict) and "email" in body and body["email"] != smoke_user.email:
        raise CheckFailed(
            f"{describe(response)}: answers for {body['email']!r}, not the signed-in user"
        )


def test_no_token_is_refused(http: DeployClient, deploy_env: TargetEnv) -> None:
    response = http.get(deploy_env.paths.me)
    expect_status(
        response,
        deploy_env.auth.missing_token_statuses,
        "a protected endpoint without a token must refuse: is auth bypassed? "
        "(auth.missing_token_statuses)",
    )


def test_tampered_token_is_refused(
    http: DeployClient, deploy_env: TargetEnv, smoke_user: RunUser
) -> None:
    response = http.get(deploy_env.paths.me, headers=bearer(tampered(smoke_user.access_token)))
    expect_status(
        response,
        deploy_env.auth.refused_statuses,
        "a token whose signature was changed must be refused",
    )


def test_expired_looking_token_is_refused(
    http: DeployClient, deploy_env: TargetEnv, smoke_user: RunUser
) -> None:
    response = http.get(deploy_env.paths.me, headers=bearer(expired(smoke_user.access_token)))
    expect_status(
        response,
        deploy_env.auth.refused_statuses,
        "a token that expired an hour ago must be refused",
    )


def test_wrong_password_is_refused(auth_api: AuthApi, request: pytest.FixtureRequest) -> None:
    """The smoke user's address with a wrong password; where the smoke user could not sign in
    (its own check fails for that), an address that has no account: this needs no token."""
    try:
        user: RunUser | None = request.getfixturevalue("smoke_user")
    except DeployCheckError:
        user = None
    wrong = "wrong-" + uuid.uuid4().hex
    if user is not None:
        response = auth_api.login(user.email, wrong, user.username)
        why = "a wrong password must not sign in"
    else:
        nobody = f"deploycheck-nobody-{uuid.uuid4().hex[:10]}@{auth_api.env.auth.email_domain}"
        response = auth_api.login(nobody, wrong)
        why = "a wrong password must not sign in (judged with an address that has no account: the smoke user could not sign in)"
    expect_status(response, auth_api.env.auth.refused_statuses, why)


def test_access_token_is_not_a_refresh_token(auth_api: AuthApi, smoke_user: RunUser) -> None:
    if auth_api.env.auth.refresh_with == "access_token":
        pytest.skip("this service refreshes with the access token (auth.refresh_with)")
    response = auth_api.refresh(smoke_user.access_token)
    expect_status(
        response, (400, 401, 403, 422), "an access token must not work as a refresh token"
    )


@pytest.fixture(scope="module")
def refreshed_token(
    request: pytest.FixtureRequest, smoke_user: RunUser, deploy_env: TargetEnv
) -> str:
    by_access_token = deploy_env.auth.refresh_with == "access_token"
    token = smoke_user.access_token if by_access_token else smoke_user.refresh_token
    if not token:
        pytest.skip("the login answer has no refresh token (auth.refresh_token_field)")
    context = deploy_context(request.config)
    with context.client() as client:
        response = AuthApi(client, deploy_env, context.auth_budget).refresh(token)
        expect_status(response, 200, "refreshing the session")
        body = json_body(response)
        token = str(
            json_field(
                response, body, deploy_env.auth.access_token_field, "auth.access_token_field"
            )
        )
    context.redactor.add(token)
    return token


def test_refresh_gives_a_working_token(
    http: DeployClient, deploy_env: TargetEnv, refreshed_token: str
) -> None:
    response = http.get(deploy_env.paths.me, headers=bearer(refreshed_token))
    expect_status(response, 200, "the refreshed access token must work")


def test_logout_ends_the_session(
    http: DeployClient,
    deploy_env: TargetEnv,
    refreshed_token: str,
    recommend: Callable[[str], None],
) -> None:
    response = http.post(deploy_env.paths.logout, headers=bearer(refreshed_token))
    expect_status(response, (200, 204), "signing out")
    policy = deploy_env.auth.logout_revokes_token
    if policy == "ignore":
        return
    after = http.get(deploy_env.paths.me, headers=bearer(refreshed_token))
    if after.status_code in deploy_env.auth.refused_statuses:
        return
    message = (
        f"the access token still works after logout ({describe(after)}): a stolen token stays "
        "valid until it expires; revoke tokens on logout (e.g. a deny-list of token ids)"
    )
    if policy == "require":
        raise CheckFailed(message + " [auth.logout_revokes_token = 'require']")
    recommend(message)


@pytest.mark.destructive
def test_auth_rate_limit_exists(
    request: pytest.FixtureRequest, http: DeployClient, deploy_env: TargetEnv
) -> None:
    """30 wrong-password logins, in the body the service takes (``auth.login_body``), sent
    without pacing: a 429 with Retry-After must come. An answer that refuses the body itself
    (400, 422) is no evidence either way: a failure naming the setting, never a conclusion."""
    if not deploy_context(request.config).check_rate_limit:
        pytest.skip(
            "opt-in: pass --check-rate-limit (it spends this IP's auth budget for a minute)"
        )
    email = f"deploycheck-ratelimit-{uuid.uuid4().hex[:8]}@{deploy_env.auth.email_domain}"
    payload = login_payload(deploy_env, email, "not-the-password")
    start = time.monotonic()
    for attempt in range(1, 31):
        response = http.post(deploy_env.paths.login, json=payload)
        if response.status_code == 429:
            if "retry-after" not in response.headers:
                raise CheckFailed(
                    f"{describe(response)} after {attempt} attempts, but without Retry-After"
                )
            return
        if response.status_code not in deploy_env.auth.refused_statuses:
            raise CheckFailed(
                f"{describe(response)} to a login with a wrong password (attempt {attempt}): "
                f"expected a refusal ({', '.join(map(str, deploy_env.auth.refused_statuses))}) "
                "or a 429; the probe is not a login this service takes, so it says nothing of "
                "its rate limit: set auth.login_body (and auth.refused_statuses)"
            )
    raise CheckFailed(
        f"30 failed logins in {time.monotonic() - start:.1f} s and no 429: "
        f"{deploy_env.paths.login} is not rate limited (brute force is possible)"
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def tampered(token: str) -> str:
    """The same token with one character of its signature changed."""
    head, _, signature = token.rpartition(".")
    if not head:
        return token[:-1] + ("A" if token[-1] != "A" else "B")
    middle = len(signature) // 2
    changed = "A" if signature[middle] != "A" else "B"
    return f"{head}.{signature[:middle]}{changed}{signature[middle + 1 :]}"


def expired(token: str) -> str:
    """The token's claims with ``exp`` an hour ago (its signature no longer matches)."""
    parts = token.split(".")
    if len(parts) != 3:
        return tampered(token)
    try:
        claims = json.loads(_unb64(parts[1]))
    except ValueError:
        return tampered(token)
    now = int(time.time())
    claims.update(exp=now - 3600, iat=now - 7200)
    return f"{parts[0]}.{_b64(json.dumps(claims).encode())}.{parts[2]}"
