"""Target environments: the config's shape, reading it, and resolving what a run targets.

schema    the keys an env may have (pydantic models)
loader    the file, ``${VAR}`` expansion, error wording
resolve   one precedence for every caller: option > environment variable > config
"""

from pytest_deploycheck.config.loader import (
    CONFIG_FILENAME,
    ConfigFile,
    find_config,
    load_config,
    resolve_env,
)
from pytest_deploycheck.config.resolve import Requested, Resolution, Setting, resolve
from pytest_deploycheck.config.schema import (
    ADHOC_ENV,
    BUILTIN_LOCAL_ENV,
    EMBEDDED,
    PUBLIC_KEYS,
    AuthSettings,
    ContractSettings,
    EmbeddedSettings,
    FuzzSettings,
    HealthSettings,
    JourneySettings,
    LatencyBudgets,
    LoadProfileOverride,
    LoadSettings,
    LoadStage,
    OperationFilter,
    PassiveSettings,
    Paths,
    SecuritySettings,
    TargetEnv,
    Timeouts,
)
from pytest_deploycheck.errors import ConfigError

__all__ = [
    "ADHOC_ENV",
    "BUILTIN_LOCAL_ENV",
    "CONFIG_FILENAME",
    "EMBEDDED",
    "PUBLIC_KEYS",
    "AuthSettings",
    "ConfigError",
    "ConfigFile",
    "ContractSettings",
    "EmbeddedSettings",
    "FuzzSettings",
    "HealthSettings",
    "JourneySettings",
    "LatencyBudgets",
    "LoadProfileOverride",
    "LoadSettings",
    "LoadStage",
    "OperationFilter",
    "PassiveSettings",
    "Paths",
    "Requested",
    "Resolution",
    "SecuritySettings",
    "Setting",
    "TargetEnv",
    "Timeouts",
    "find_config",
    "load_config",
    "resolve",
    "resolve_env",
]
