"""pytest-deploycheck: tells a team, minutes after a deploy, whether it really works.

The pytest plugin lives in :mod:`pytest_deploycheck.plugin` (loaded through the
``pytest11`` entry point); this module re-exports what users' own tests and
tools may import.
"""

from pytest_deploycheck.client import DeployClient, Exchange
from pytest_deploycheck.config import ConfigFile, TargetEnv, load_config, resolve_env
from pytest_deploycheck.errors import (
    CheckFailed,
    ConfigError,
    DeployCheckError,
    TargetUnreachable,
)

__version__ = "0.1.0"

__all__ = [
    "CheckFailed",
    "ConfigError",
    "ConfigFile",
    "DeployCheckError",
    "DeployClient",
    "Exchange",
    "TargetEnv",
    "TargetUnreachable",
    "__version__",
    "load_config",
    "resolve_env",
]
