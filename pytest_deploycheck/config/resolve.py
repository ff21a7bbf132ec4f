"""What a run targets, resolved once, with where each value came from.

One precedence for every caller (pytest and Locust alike), as pytest-django
does it: a command-line option, else an environment variable, else the
config file. :func:`resolve` returns each value with its origin, so the
report header can say ``env=prod (from --env)``. It also validates what only
matters for the selected env, so a wrong value is a usage error at start and
never a puzzling failure later: unset ``${VAR}``\\ s, fault names of the
embedded deployment, load criteria and the load profile.

    DEPLOYCHECK_ENV              --env
    DEPLOYCHECK_CONFIG           --deploycheck-config
    DEPLOYCHECK_EXPECT_VERSION   --expect-version
    DEPLOYCHECK_AUTH_RATE_LIMIT  --auth-rate-limit (the env's auth.rate_limit)
    DEPLOYCHECK_FAULTS           added to the env's embedded.faults
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from pydantic import ValidationError

from pytest_deploycheck.config.loader import ConfigFile, find_config, load_config, resolve_env
from pytest_deploycheck.config.schema import TargetEnv
from pytest_deploycheck.errors import ConfigError

T = TypeVar("T")

ENV_VAR = "DEPLOYCHECK_ENV"
CONFIG_VAR = "DEPLOYCHECK_CONFIG"
EXPECT_VERSION_VAR = "DEPLOYCHECK_EXPECT_VERSION"
FAULTS_VAR = "DEPLOYCHECK_FAULTS"
AUTH_RATE_LIMIT_VAR = "DEPLOYCHECK_AUTH_RATE_LIMIT"


@dataclass(frozen=True)
class Setting(Generic[T]):
    """A resolved value and where it came from (``"--env"``, ``"DEPLOYCHECK_ENV"``, ``"env 'prod'"``)."""

    value: T
    origin: str

    def __str__(self) -> str:
        return f"{self.value} (from {self.origin})" if self.origin else str(self.value)


class EnvCheck(Protocol):
    """Raises ConfigError when ``env`` (the selected one) cannot be used as configured."""

    def __call__(
        self, env: TargetEnv, load_profile: str | None, flags: Mapping[str, str]
    ) -> None: ...


@dataclass(frozen=True)
class Requested:
    """What the caller was given on its command line; ``None`` where nothing was given.

    ``flags`` names each option as the caller spells it, for messages and origins.
    """

    env: str | None = None
    base_url: str | None = None
    expected_version: str | None = None
    config_path: str | None = None
    allow_destructive: bool = False
    job_deadline_s: float | None = None
    load_profile: str | None = None
    auth_rate_limit: str | None = None
    # What only the selected env must satisfy, checked by the parts that own it (the TLS
    # bundle, fault names, load criteria and profiles): config/ imports none of them.
    checks: tuple[EnvCheck, ...] = ()
    flags: Mapping[str, str] = field(
        default_factory=lambda: {
            "env": "--env",
            "base_url": "--base-url",
            "expected_version": "--expect-version",
            "config_path": "--deploycheck-config",
            "allow_destructive": "--allow-destructive",
            "job_deadline_s": "--job-deadline",
            "load_profile": "--load-profile",
            "auth_rate_limit": "--auth-rate-limit",
        }
    )


@dataclass(frozen=True)
class Resolution:
    """The run's target and safety settings, each with its origin."""

    config: ConfigFile
    env: TargetEnv | None
    env_name: Setting[str | None]
    base_url: Setting[str | None]
    expected_version: Setting[str | None]
    destructive_allowed: Setting[bool]
    job_deadline_s: Setting[float | None]

    @property
    def config_source(self) -> str:
        return str(self.config.path) if self.config.path else "none"


def resolve(
    requested: Requested,
    *,
    rootdir: Path,
    invocation_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Resolution:
    """Resolve the run's target: options > environment variables > config; raises ConfigError.

    The config file is looked for in pytest's rootdir, then in the directory pytest was
    started in: pytest decides its rootdir before it knows this plugin's options, and
    takes the value of ``--baseline /var/cache/records`` for a test path, which can move the
    rootdir up to a common ancestor where no config file is."""
    environ = os.environ if environ is None else environ
    flags = requested.flags
    config_path = requested.config_path or environ.get(CONFIG_VAR) or None
    found = find_config(rootdir, config_path)
    if found is None and invocation_dir is not None and invocation_dir != rootdir:
        found = find_config(invocation_dir, None)
    config = load_config(found, environ)

    name: str | None
    if requested.env:
        name, name_origin = requested.env, flags["env"]
    elif environ.get(ENV_VAR):
        name, name_origin = environ[ENV_VAR], ENV_VAR
    elif requested.base_url:
        name, name_origin = None, f"{flags['base_url']} (ad hoc)"
    elif config.default_env:
        name, name_origin = config.default_env, f"default_env in {config.label}"
    else:
        name, name_origin = None, ""

    expected, expected_origin = requested.expected_version, flags["expected_version"]
    if not expected and environ.get(EXPECT_VERSION_VAR):
        expected, expected_origin = environ[EXPECT_VERSION_VAR], EXPECT_VERSION_VAR

    env: TargetEnv | None = None
    if name is not None or requested.base_url:
        env = resolve_env(
            config,
            name,
            base_url=requested.base_url,
            expected_version=expected or None,
            environ=environ,
        )
        extra_faults = tuple(
            part.strip() for part in environ.get(FAULTS_VAR, "").split(",") if part.strip()
        )
        if extra_faults and env.is_embedded:
            embedded = env.embedded.model_copy(
                update={"faults": (*env.embedded.faults, *extra_faults)}
            )
            env = env.with_overrides(embedded=embedded.model_dump())
        rate_limit = requested.auth_rate_limit or environ.get(AUTH_RATE_LIMIT_VAR)
        if rate_limit:
            try:
                env = env.with_overrides(auth={**env.auth.model_dump(), "rate_limit": rate_limit})
            except ValidationError as exc:
                where = (
                    flags["auth_rate_limit"] if requested.auth_rate_limit else AUTH_RATE_LIMIT_VAR
                )
                message = exc.errors()[0]["msg"].removeprefix("Value error, ")
                raise ConfigError(f"{where}: {message}") from None
        for check in requested.checks:
            check(env, requested.load_profile, flags)

    if env is None:
        base_url = Setting[str | None](None, "")
        expected_setting = Setting[str | None](None, "")
    else:
        base_url = Setting(
            env.base_url, flags["base_url"] if requested.base_url else f"env {env.name!r}"
        )
        if expected:
            expected_setting = Setting[str | None](expected, expected_origin)
        else:
            expected_setting = Setting(env.expected_version, f"env {env.name!r}")
    return Resolution(
        config=config,
        env=env,
        env_name=Setting(name, name_origin),
        base_url=base_url,
        expected_version=expected_setting,
        destructive_allowed=_destructive(env, requested.allow_destructive, flags),
        job_deadline_s=_job_deadline(env, requested.job_deadline_s, flags),
    )


def _destructive(env: TargetEnv | None, option: bool, flags: Mapping[str, str]) -> Setting[bool]:
    if env is None or not env.production:
        return Setting(True, "not a production env")
    if option:
        return Setting(True, flags["allow_destructive"])
    if env.allow_destructive:
        return Setting(True, f"allow_destructive = true in env {env.name!r}")
    return Setting(
        False,
        f"env {env.name!r} is marked production; destructive checks run only with "
        f"{flags['allow_destructive']} or allow_destructive = true in the env",
    )


def _job_deadline(
    env: TargetEnv | None, option: float | None, flags: Mapping[str, str]
) -> Setting[float | None]:
    if option:
        return Setting[float | None](option, flags["job_deadline_s"])
    if env is None:
        return Setting[float | None](None, "")
    return Setting[float | None](env.journey.job_deadline_s, f"env {env.name!r}")
