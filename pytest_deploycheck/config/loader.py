"""Reading a config file: TOML, ``${VAR}`` expansion, and errors that name file, env and key.

A config is ``deploycheck.toml`` (top-level keys) or ``[tool.deploycheck]`` in
``pyproject.toml``::

    default_env = "local"

    [envs.local]
    base_url = "embedded"              # the plugin starts the reference deployment

    [envs.prod]
    base_url = "https://api.example.com"
    production = true
    auth.mode = "account"
    auth.email = "${SMOKE_EMAIL}"      # secrets come from the environment

Every error names the file, the env and the key, and suggests the nearest
valid key when one is misspelt.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from pytest_deploycheck.config.schema import (
    ADHOC_ENV,
    BUILTIN_LOCAL_ENV,
    EMBEDDED,
    PUBLIC_KEYS,
    TargetEnv,
)
from pytest_deploycheck.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILENAME = "deploycheck.toml"

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class ConfigFile:
    """A loaded config: its path, default env and the raw (unexpanded) env tables."""

    path: Path | None
    default_env: str | None = None
    envs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    label: str = "(no config file)"  # how messages name it: "deploycheck.toml"

    def env_names(self) -> list[str]:
        names = list(self.envs)
        if BUILTIN_LOCAL_ENV not in names:
            names.append(BUILTIN_LOCAL_ENV)
        return names


def find_config(rootdir: Path, explicit: str | None) -> Path | None:
    """The config file to use: an explicit path, else ``deploycheck.toml``, else ``pyproject.toml``."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"config file {explicit!r} does not exist")
        return path
    candidate = rootdir / CONFIG_FILENAME
    if candidate.is_file():
        return candidate
    pyproject = rootdir / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError:
            return None  # not ours to report: pytest reads this file too
        if "deploycheck" in data.get("tool", {}):
            return pyproject
    return None


def load_config(path: Path | None, environ: Mapping[str, str] | None = None) -> ConfigFile:
    """Parse and validate a config file; every env is checked, missing variables aside."""
    if path is None:
        return ConfigFile(path=None)
    environ = os.environ if environ is None else environ
    label = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{label}: cannot be read: {exc}") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("deploycheck", {})
        label = f"{label} [tool.deploycheck]"

    unknown = set(data) - {"default_env", "envs"}
    for key in sorted(unknown):
        raise ConfigError(
            f"{label}: unknown key {key!r}{_did_you_mean(key, ['default_env', 'envs'])}"
        )
    envs = data.get("envs", {})
    if not isinstance(envs, dict) or not all(isinstance(v, dict) for v in envs.values()):
        raise ConfigError(f"{label}: 'envs' must be a table of tables, e.g. [envs.staging]")
    default_env = data.get("default_env")
    if default_env is not None and not isinstance(default_env, str):
        raise ConfigError(f"{label}: 'default_env' must be a string")
    config = ConfigFile(path=path, default_env=default_env, envs=envs, label=label)
    if default_env is not None and default_env not in config.env_names():
        raise ConfigError(
            f"{label}: default_env {default_env!r} is not defined"
            f"{_did_you_mean(default_env, config.env_names())}; known envs: "
            + ", ".join(config.env_names())
        )
    for name in envs:
        # Validate every env now so a typo in 'prod' shows up in a local run too;
        # missing variables only matter for the env actually selected.
        _build_env(config, name, environ, strict_vars=False)
    return config


def resolve_env(
    config: ConfigFile,
    name: str | None,
    *,
    base_url: str | None = None,
    expected_version: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> TargetEnv:
    """The env to target: by name (from the config), or ad hoc from a base URL alone."""
    environ = os.environ if environ is None else environ
    if name is None:
        if base_url is None:
            raise ConfigError(
                "no target selected: pass --env NAME (known: "
                + ", ".join(config.env_names())
                + ") or --base-url URL"
            )
        env = _validate_env(config, ADHOC_ENV, {"base_url": base_url}, frozenset())
    elif name in config.envs:
        env = _build_env(config, name, environ, strict_vars=True)
    elif name == BUILTIN_LOCAL_ENV:
        # A smoke run spends 7 auth calls; the demo allows 10 a minute so it never waits.
        builtin = {"base_url": EMBEDDED, "embedded": {"settings": {"auth_rate_limit": 10}}}
        env = _validate_env(config, name, builtin, frozenset())
    else:
        raise ConfigError(
            f"unknown env {name!r}{_did_you_mean(name, config.env_names())}; "
            f"known envs in {config.label}: " + ", ".join(config.env_names())
        )
    try:
        return env.with_overrides(base_url=base_url, expected_version=expected_version)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, "command line", env.name)) from None


def _build_env(
    config: ConfigFile, name: str, environ: Mapping[str, str], *, strict_vars: bool
) -> TargetEnv:
    secrets: set[str] = set()
    raw = _expand(config.envs[name], environ, config.label, name, (), secrets, strict_vars)
    return _validate_env(config, name, raw, frozenset(secrets))


def _validate_env(
    config: ConfigFile, name: str, raw: Mapping[str, Any], secrets: frozenset[str]
) -> TargetEnv:
    try:
        env = TargetEnv.model_validate({**raw, "name": name})
        explicit_budget = "rate_limit" in env.auth.model_fields_set
        if env.is_embedded and "auth_rate_limit" not in env.embedded.settings:
            # A smoke run spends 7 auth calls: an embedded deployment allows 10 a minute
            # unless told otherwise, so a demo never waits (real_service mode: set 5).
            embedded = {
                **env.embedded.model_dump(),
                "settings": {**env.embedded.settings, "auth_rate_limit": 10},
            }
            env = env.with_overrides(embedded=embedded)
        if env.is_embedded and not explicit_budget:
            # The plugin starts this deployment: its auth budget is known, not assumed.
            settings = env.embedded.settings
            calls = int(settings.get("auth_rate_limit", 10))  # type: ignore[arg-type]
            window = float(settings.get("auth_rate_window_s", 60))  # type: ignore[arg-type]
            budget = f"{calls}/{window:g}s" if calls > 0 else "off"
            env = env.with_overrides(auth={**env.auth.model_dump(), "rate_limit": budget})
        if env.is_embedded and "rate_limit" not in env.fuzz.model_fields_set:
            # It limits no other requests: fuzzing it need not be paced.
            env = env.with_overrides(fuzz={**env.fuzz.model_dump(), "rate_limit": "off"})
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, config.label, name)) from None
    env._secrets = secrets
    return env


def _expand(
    value: Any,
    environ: Mapping[str, str],
    label: str,
    env_name: str,
    key: tuple[str, ...],
    secrets: set[str],
    strict: bool,
) -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string, recording the secrets."""
    if isinstance(value, dict):
        return {
            k: _expand(v, environ, label, env_name, (*key, k), secrets, strict)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _expand(v, environ, label, env_name, (*key, str(i)), secrets, strict)
            for i, v in enumerate(value)
        ]
    if not isinstance(value, str) or "${" not in value:
        return value

    def substitute(match: re.Match[str]) -> str:
        var, default = match.group(1), match.group(2)
        if var in environ:
            if any(c in environ[var] for c in "\r\n\0"):
                # Never echo it: it is most likely a secret read from a file.
                raise ConfigError(
                    f"{label}: env {env_name!r}, key {'.'.join(key)!r}: environment variable "
                    f"{var} contains a line break (often a trailing newline from a file or "
                    f'`echo`); remove it, e.g. {var}="$(printf %s "${var}")"'
                )
            if environ[var] and key[0] not in PUBLIC_KEYS:
                secrets.add(environ[var])
            return environ[var]
        if default is not None:
            return default
        if strict:
            raise ConfigError(
                f"{label}: env {env_name!r}, key {'.'.join(key)!r}: environment variable "
                f"{var} is not set (export it, or give a default with ${{{var}:-value}})"
            )
        return match.group(0)

    return _VAR.sub(substitute, value)


def _format_validation_error(exc: ValidationError, label: str, env_name: str) -> str:
    lines = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        key = ".".join(loc) or "(env)"
        if error["type"] == "extra_forbidden":
            known = _known_keys(loc[:-1])
            message = f"unknown key{_did_you_mean(loc[-1], known)}"
        elif error["type"] == "missing":
            message = "is required"
        else:
            message = error["msg"].removeprefix("Value error, ")
            if "input" in error and not isinstance(error["input"], dict | list):
                message += f" (got {error['input']!r})"
        lines.append(f"{label}: env {env_name!r}, key {key!r}: {message}")
    return "\n".join(lines)


def _known_keys(loc: list[str]) -> list[str]:
    model: type[BaseModel] = TargetEnv
    for part in loc:
        field_info = model.model_fields.get(part)
        annotation = field_info.annotation if field_info else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [info.alias or name for name, info in model.model_fields.items() if name != "name"]


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
