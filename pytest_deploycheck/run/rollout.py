"""``--wait-for-version``: a smoke stage started during a rollout judges the new release.

Before any check, poll the info endpoint until it reports the expected version,
within a bound, showing progress; if it never does, the run's first check fails
naming the last version seen (and every other check is skipped with it).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.errors import CheckFailed, DeployCheckError, VersionNotDeployed
from pytest_deploycheck.run.client import DeployClient
from pytest_deploycheck.run.redaction import Redactor


def wait_for_version(
    env: TargetEnv,
    redactor: Redactor,
    seconds: float,
    on_progress: Callable[[str], None] | None = None,
    interval_s: float = 2.0,
) -> str:
    """Return the deployed version once it is the expected one; raise VersionNotDeployed."""
    expected = env.expected_version
    if not expected:
        raise CheckFailed(
            "--wait-for-version needs an expected version: pass --expect-version or set "
            f"expected_version in env {env.name!r}"
        )
    health = env.health
    path = env.health_url(health.info_path)
    start = time.monotonic()
    last_seen = "no answer yet"
    last_said = -5.0  # say it at the first miss, then every 5 s
    with DeployClient(env, redactor) as client:
        while True:
            try:
                response = client.get(path)
                last_seen = _version_in(response, health.version_field)
            except DeployCheckError as exc:
                last_seen = f"no answer ({exc})"
            if last_seen == expected:
                return last_seen
            waited = time.monotonic() - start
            if waited >= seconds:
                raise VersionNotDeployed(
                    f"version {expected!r} did not appear within {seconds:g} s "
                    f"(--wait-for-version); the last version {path} reported: {last_seen}"
                )
            if on_progress is not None and waited - last_said >= 5:
                on_progress(
                    f"deploycheck: waiting for version {expected} ({waited:.0f} of {seconds:g} s; "
                    f"now {last_seen})"
                )
                last_said = waited
            time.sleep(min(interval_s, max(0.0, seconds - waited)))


def deployed_version(client: DeployClient, env: TargetEnv) -> str | None:
    """The version the info endpoint reports now, or None when it says none."""
    try:
        response = client.get(env.health_url(env.health.info_path))
    except DeployCheckError:
        return None
    if response.status_code >= 400:
        return None
    seen = _version_in(response, env.health.version_field)
    return None if seen.startswith(("no ", "a non-JSON")) else seen


def _version_in(response: httpx.Response, field: str) -> str:
    if response.status_code >= 400:
        return f"{response.status_code} {response.reason_phrase}"
    try:
        value: object = response.json()
    except ValueError:
        return "a non-JSON answer"
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return str(value) if value not in (None, "") else f"no {field!r} in the answer"
