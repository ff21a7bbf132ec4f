"""The exceptions pytest-deploycheck raises.

    DeployCheckError              base class; its message is all the user sees
    ├── ConfigError               the config file, an env or an option is wrong
    │                             (becomes a pytest UsageError)
    ├── TargetUnreachable         could not reach the target: DNS, refused
    │                             connection, TLS, timeout ("could not reach")
    └── CheckFailed               reached it, but it answered wrong
                                  ("reached, but wrong")

The plugin renders these without a traceback: the message names what happened,
what was expected and what to check, and our own frames would only hide that.
"""

from __future__ import annotations


class DeployCheckError(Exception):
    """Base class; ``str(error)`` is a complete, user-facing message."""


class ConfigError(DeployCheckError):
    """The configuration (file, env, option) is invalid."""


class TargetUnreachable(DeployCheckError):
    """The target could not be reached at the transport level."""

    def __init__(self, message: str, *, url: str = "", cause: str = "") -> None:
        super().__init__(message)
        self.url = url
        self.cause = cause


class CheckFailed(DeployCheckError, AssertionError):
    """The target answered, but not as a working deployment would.

    ``cause`` names what several failing checks may share (a policy item), so the verdict
    reports them as one cause; without it, failures with the same message are grouped.
    """

    def __init__(self, message: str, *, cause: str | None = None) -> None:
        super().__init__(message)
        self.cause = cause
