"""Security: headers on every kind of answer, CORS, exposure, transport, cookies.

The header policy (``pytest_deploycheck.checks.security.policy``) parses values rather than
testing presence, and is configured per env under ``[envs.NAME.security]``.
Required items fail; recommended ones are reported as recommendations (they
fail when the env is strict). Error answers matter: in the real service the
security headers come from a middleware that its 500 and 429 answers bypass.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from pytest_deploycheck import (
    SECURITY_PROPERTY,
    CheckFailed,
    DeployCheckError,
    DeployClient,
    TargetEnv,
    deploy_context,
    describe,
    evaluate_headers,
    follow_within,
    inspect_certificate,
    leaks,
    legacy_protocol_accepted,
    missing_protections,
    parse_set_cookie,
)

pytestmark = [pytest.mark.smoke, pytest.mark.security]


@dataclass(frozen=True)
class Answer:
    headers: dict[str, str]
    where: str


def _get(http: DeployClient, path: str, **kwargs: object) -> Answer:
    response = http.get(path, **kwargs)  # type: ignore[arg-type]
    return Answer(dict(response.headers), describe(response))


def _health(request: pytest.FixtureRequest, http: DeployClient, env: TargetEnv) -> Answer:
    return _get(http, env.health_url(env.health.liveness_path))


def _authenticated(request: pytest.FixtureRequest, http: DeployClient, env: TargetEnv) -> Answer:
    return _get(http, env.paths.me, headers=request.getfixturevalue("smoke_user").headers)


def _not_found(request: pytest.FixtureRequest, http: DeployClient, env: TargetEnv) -> Answer:
    return _get(http, f"/deploycheck-no-such-path-{uuid.uuid4().hex[:8]}")


def _unauthorized(request: pytest.FixtureRequest, http: DeployClient, env: TargetEnv) -> Answer:
    return _get(http, env.paths.me)


def _invalid_input(request: pytest.FixtureRequest, http: DeployClient, env: TargetEnv) -> Answer:
    return _get(
        http,
        env.security.invalid_input_path,
        params=env.security.invalid_input_params,
        headers=request.getfixturevalue("smoke_user").headers,
    )


def _server_error(request: pytest.FixtureRequest, http: DeployClient, env: TargetEnv) -> Answer:
    path = env.security.probe_5xx_path
    if not path:
        pytest.skip("no safe way to provoke a 5xx configured (security.probe_5xx_path)")
    signed_in = env.security.probe_5xx_signed_in
    headers = request.getfixturevalue("smoke_user").headers if signed_in else None
    response = http.get(path, headers=headers)
    if response.status_code < 500:
        pytest.skip(f"{describe(response)}: security.probe_5xx_path did not answer 5xx")
    return Answer(dict(response.headers), describe(response))


def _rate_limited(request: pytest.FixtureRequest, http: DeployClient, env: TargetEnv) -> Answer:

    if not deploy_context(request.config).check_rate_limit:
        pytest.skip(
            "a 429 is provoked only with --check-rate-limit (it spends this IP's auth budget)"
        )
    for _ in range(30):
        response = http.post(
            env.paths.login,
            json={
                "email": f"x-{uuid.uuid4().hex[:6]}@{env.auth.email_domain}",
                "password": "x" * 12,
            },
        )
        if response.status_code == 429:
            return Answer(dict(response.headers), describe(response))
    pytest.skip("no 429 after 30 failed logins (test_auth_rate_limit_exists reports that)")


def _journey_on(env: TargetEnv) -> None:
    if env.suites.get("journey") is False:
        pytest.skip(f"the journey is off for env {env.name!r} (suites.journey = false)")


def _upload(request: pytest.FixtureRequest, http: DeployClient, env: TargetEnv) -> Answer:
    _journey_on(env)
    uploaded = request.getfixturevalue("uploaded_job")
    return Answer(uploaded.headers, uploaded.where)


def _download(request: pytest.FixtureRequest, http: DeployClient, env: TargetEnv) -> Answer:
    _journey_on(env)
    deck = request.getfixturevalue("deck")
    if not deck.served_by_api:
        pytest.skip(
            "the deck is served by object storage, not the API (its headers are the bucket's)"
        )
    return Answer(deck.headers, deck.where)


ANSWERS: dict[str, Callable[[pytest.FixtureRequest, DeployClient, TargetEnv], Answer]] = {
    "health": _health,
    "authenticated-json": _authenticated,
    "404": _not_found,
    "401": _unauthorized,
    "422": _invalid_input,
    "5xx": _server_error,
    "429": _rate_limited,
    "upload": _upload,
    "download": _download,
}
CREATES_DATA = {"upload", "download"}


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(
            name,
            marks=[pytest.mark.destructive, pytest.mark.waits_for_job]
            if name in CREATES_DATA
            else [],
        )
        for name in ANSWERS
    ],
)
def test_security_headers(
    answer: str,
    request: pytest.FixtureRequest,
    http: DeployClient,
    deploy_env: TargetEnv,
    recommend: Callable[[str], None],
) -> None:
    got = ANSWERS[answer](request, http, deploy_env)
    https = urlsplit(deploy_env.base_url).scheme == "https"
    findings = evaluate_headers(got.headers, got.where, https=https, settings=deploy_env.security)
    request.node.user_properties.append(
        (SECURITY_PROPERTY, json.dumps([[f.item, f.level, f.ok] for f in findings]))
    )
    for finding in findings:
        if finding.warns:
            recommend(finding.message)
    failing = [f for f in findings if f.fails]
    if failing:
        raise CheckFailed(
            "; ".join(f.message for f in failing),
            cause="security header policy: " + ", ".join(sorted({f.item for f in failing})),
        )


# CORS --------------------------------------------------------------------------------------


def test_cors_does_not_reflect_untrusted_origins(http: DeployClient, deploy_env: TargetEnv) -> None:
    origin = deploy_env.security.untrusted_origin
    for path in (deploy_env.health_url(deploy_env.health.liveness_path), deploy_env.paths.me):
        response = http.get(path, headers={"Origin": origin})
        allowed = response.headers.get("access-control-allow-origin")
        credentials = response.headers.get("access-control-allow-credentials", "").lower() == "true"
        if allowed == "*" and credentials:
            raise CheckFailed(
                f"{describe(response)}: Access-Control-Allow-Origin '*' with credentials"
            )
        if allowed == origin:
            raise CheckFailed(
                f"{describe(response)}: CORS reflects the untrusted Origin {origin!r}"
                + (
                    " with Access-Control-Allow-Credentials: true — any site can read this API as the signed-in user"
                    if credentials
                    else ""
                )
                + " (expected only the origins in security.cors_allowed_origins)"
            )


def test_cors_preflight_refuses_untrusted_origins(
    http: DeployClient, deploy_env: TargetEnv
) -> None:
    origin = deploy_env.security.untrusted_origin
    response = http.options(
        deploy_env.paths.me,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    allowed = response.headers.get("access-control-allow-origin")
    if response.status_code < 400 and allowed in (origin, "*"):
        raise CheckFailed(
            f"{describe(response)}: the preflight from the untrusted Origin {origin!r} is allowed (Access-Control-Allow-Origin: {allowed!r})"
        )


def test_cors_allows_the_configured_origins(http: DeployClient, deploy_env: TargetEnv) -> None:
    origins = deploy_env.security.cors_allowed_origins
    if not origins:
        pytest.skip("no allowed origins configured (security.cors_allowed_origins)")
    for origin in origins:
        response = http.get(
            deploy_env.health_url(deploy_env.health.liveness_path), headers={"Origin": origin}
        )
        if response.headers.get("access-control-allow-origin") not in (origin, "*"):
            raise CheckFailed(
                f"{describe(response)}: the allowed origin {origin!r} is not accepted (Access-Control-Allow-Origin: {response.headers.get('access-control-allow-origin')!r})"
            )


# Exposure ----------------------------------------------------------------------------------


def test_consoles_are_not_served_on_production(
    http: DeployClient, deploy_env: TargetEnv, examined: Callable[[str], None]
) -> None:
    if not deploy_env.production:
        pytest.skip(
            f"env {deploy_env.name!r} is not production: consoles like /docs may be served there"
        )
    paths = deploy_env.security.consoles
    if not paths:
        pytest.skip("no consoles to probe (security.consoles is empty)")
    landings = [
        (path, follow_within(http, deploy_env.base_url + path, deploy_env.base_url))
        for path in paths
    ]
    served = [landing.describe(path) for path, landing in landings if landing.served]
    if served:
        raise CheckFailed(
            "consoles served on a production env: "
            + ", ".join(served)
            + " (expected 404 or 401/403; security.consoles lists what is checked)"
        )
    examined(f"{len(paths)} console paths probed, redirects on the target followed")


def test_error_answers_leak_nothing(
    request: pytest.FixtureRequest,
    http: DeployClient,
    deploy_env: TargetEnv,
    examined: Callable[[str], None],
) -> None:
    """Five error answers; the 422 probe needs the smoke user's token, the others none: where
    the smoke user could not sign in (its own check fails for that), four are judged."""
    try:
        token = request.getfixturevalue("smoke_user").headers
    except DeployCheckError:
        token = None
    probes = [
        ("404", lambda: http.get(f"/deploycheck-no-such-path-{uuid.uuid4().hex[:8]}")),
        ("405", lambda: http.delete(deploy_env.health_url(deploy_env.health.liveness_path))),
        ("401", lambda: http.get(deploy_env.paths.me)),
        (
            "422",
            lambda: http.get(
                deploy_env.security.invalid_input_path,
                params=deploy_env.security.invalid_input_params,
                headers=token,
            ),
        ),
        (
            "malformed JSON",
            lambda: http.post(
                deploy_env.paths.logout,
                content=b'{"refresh_token": ',
                headers={"Content-Type": "application/json"},
            ),
        ),
    ]
    if token is None:
        probes = [(name, probe) for name, probe in probes if name != "422"]
    if deploy_env.production:
        # Read-only on production: no DELETE, no POST, even one that must be refused.
        probes = [(name, probe) for name, probe in probes if name not in ("405", "malformed JSON")]
    found = []
    for name, probe in probes:
        response = probe()
        for leak in leaks(response.text):
            found.append(f"{name} answer ({describe(response)}) shows {leak}")
    if found:
        raise CheckFailed("error answers give away internals: " + "; ".join(found))
    judged = f"{len(probes)} error answers judged ({', '.join(name for name, _ in probes)})"
    if token is None:
        judged += "; the 422 probe needs a token, and the smoke user could not sign in"
    if deploy_env.production:
        judged += "; the DELETE and POST probes are not sent to a production env"
    examined(judged)


def test_debug_mode_is_off(
    http: DeployClient, deploy_env: TargetEnv, examined: Callable[[str], None]
) -> None:
    paths = deploy_env.security.debug_paths
    if not paths:
        pytest.skip("no debug endpoints to probe (security.debug_paths is empty)")
    served = []
    for path in paths:
        landing = follow_within(http, deploy_env.base_url + path, deploy_env.base_url)
        if landing.served:
            served.append(landing.describe(path))
    if served:
        raise CheckFailed("debug endpoints answer 200: " + ", ".join(served))
    examined(f"{len(paths)} debug paths probed, redirects on the target followed")


# Transport (https targets) -----------------------------------------------------------------


def _https_target(env: TargetEnv) -> tuple[str, int]:
    parts = urlsplit(env.base_url)
    if parts.scheme != "https":
        pytest.skip(
            f"{env.shown_base_url} is not an https target: transport checks apply to https only"
        )
    return parts.hostname or "", parts.port or 443


def test_plain_http_redirects_to_https(deploy_env_unprobed: TargetEnv) -> None:
    deploy_env = deploy_env_unprobed
    host, _ = _https_target(deploy_env)
    shown_host = f"[{host}]" if ":" in host else host  # an IPv6 address, as a URL writes it
    http_base = deploy_env.security.http_url or f"http://{shown_host}"
    path = ("" if deploy_env.health.from_root else deploy_env.api_prefix) + (
        deploy_env.health.liveness_path
    )
    # The run's client: the total deadline, the proxy, the record; redirects not followed.
    with DeployClient(deploy_env, base_url=http_base.rstrip("/")) as client:
        try:
            response = client.get(path)
        except DeployCheckError as exc:
            raise CheckFailed(
                f"plain http at {http_base} does not answer ({exc}): it should redirect to https "
                "(301/308)"
            ) from None
    location = response.headers.get("location", "")
    target = urlsplit(location)
    if (
        response.status_code not in (301, 308)
        or target.scheme != "https"
        or target.hostname != host
        or target.path != path
    ):
        raise CheckFailed(
            f"{describe(response)}"
            + (f" to {location!r}" if location else "")
            + f": expected 301 or 308 to https://{shown_host}{path} (same host and path)"
        )


def test_certificate_is_valid_and_not_expiring(deploy_env_unprobed: TargetEnv) -> None:
    deploy_env = deploy_env_unprobed
    host, port = _https_target(deploy_env)
    info = inspect_certificate(
        host, port, cafile=deploy_env.ca_bundle, timeout=deploy_env.timeouts.connect
    )
    minimum = deploy_env.security.cert_min_days
    if info.days_left < minimum:
        raise CheckFailed(
            f"the certificate of {host}:{port} expires in {info.days_left:.1f} days ({info.not_after}), "
            f"under the {minimum}-day minimum (security.cert_min_days): renew it"
        )


def test_only_tls_12_or_newer(deploy_env_unprobed: TargetEnv) -> None:
    deploy_env = deploy_env_unprobed
    host, port = _https_target(deploy_env)
    info = inspect_certificate(
        host, port, cafile=deploy_env.ca_bundle, timeout=deploy_env.timeouts.connect
    )
    if info.version not in ("TLSv1.2", "TLSv1.3"):
        raise CheckFailed(f"{host}:{port} negotiated {info.version}: expected TLS 1.2 or newer")
    try:
        legacy = legacy_protocol_accepted(host, port, timeout=deploy_env.timeouts.connect)
    except RuntimeError as exc:
        pytest.skip(str(exc))
    if legacy:
        raise CheckFailed(
            f"{host}:{port} accepts {legacy}: disable TLS 1.0 and 1.1 (TLS 1.2+ only)"
        )


# Cookies -----------------------------------------------------------------------------------


def test_cookies_are_safe(
    request: pytest.FixtureRequest,
    http: DeployClient,
    deploy_env: TargetEnv,
    examined: Callable[[str], None],
) -> None:
    """Every cookie the target sets, the login answer's included: Secure (https), HttpOnly
    (session-like names), SameSite."""
    user = request.getfixturevalue("smoke_user")
    https = urlsplit(deploy_env.base_url).scheme == "https"
    answers: list[tuple[str, list[str]]] = [
        (f"the login answer (POST {deploy_env.paths.login})", list(user.set_cookies))
    ]
    for response in (
        http.get(deploy_env.health_url(deploy_env.health.liveness_path)),
        http.get(deploy_env.paths.me, headers=user.headers),
        *(http.get(path, headers=user.headers) for path in deploy_env.security.cookie_paths),
    ):
        answers.append((describe(response), response.headers.get_list("set-cookie")))
    problems = []
    seen = 0
    for where, headers in answers:
        for header in headers:
            cookie = parse_set_cookie(header)
            if cookie is None:
                continue
            seen += 1
            missing = missing_protections(cookie, https=https)
            if missing:
                problems.append(f"cookie {cookie.name!r} from {where} lacks {', '.join(missing)}")
    if not seen:
        pytest.skip("no cookies are set")
    if problems:
        raise CheckFailed("; ".join(problems))
    examined(f"{seen} cookies judged")
