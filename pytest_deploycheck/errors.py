"""The exceptions pytest-deploycheck raises.

    DeployCheckError              base class; its message is all the user sees
    ├── ConfigError               the config file, an env or an option is wrong
    │                             (becomes a pytest UsageError)
    ├── ClientMissing             a library a check needs is not installed (names the extra)
    ├── DocumentUnavailable       the target's OpenAPI document could not be had
    │   └── DocumentNotServed     nothing at contract.openapi_path (a skip, not a failure)
    ├── TargetUnreachable         could not reach the target: DNS, refused
    │                             connection, TLS, timeout ("could not reach")
    └── CheckFailed               reached it, but it answered wrong
        │                         ("reached, but wrong")
        ├── HostUnavailable       a host behind it could not be reached, or its command hung
        └── VersionNotDeployed    the expected version did not appear in --wait-for-version

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


class HostUnavailable(CheckFailed):
    """A host could not be reached, or a command on it did not finish in time: a failure of
    that host's checks, not of the run (the API itself may answer well)."""


class VersionNotDeployed(CheckFailed):
    """The expected version did not appear within ``--wait-for-version``."""


class DocumentUnavailable(DeployCheckError):
    """The target's OpenAPI document could not be had (the message says why and what to set)."""


class DocumentNotServed(DocumentUnavailable):
    """Nothing at ``contract.openapi_path``: many services serve no document in production."""


class ClientMissing(DeployCheckError):
    """A library a check needs is not installed."""


# Set on an exception raised in a forked process and handed back (run.forked): where in this
# package it was raised, since its traceback stayed in the process that ended.
RAISED_AT = "deploycheck_raised_at"


def raised_at(exc: BaseException) -> str:
    """Where in this package ``exc`` was raised ("pytest_deploycheck.fuzz.runner:120"), the
    innermost of its frames that is ours; "" when none is."""
    carried = getattr(exc, RAISED_AT, None)
    if isinstance(carried, str):
        return carried
    where = ""
    tb = exc.__traceback__
    while tb is not None:
        if "pytest_deploycheck" in tb.tb_frame.f_code.co_filename:
            module = tb.tb_frame.f_globals.get("__name__", "?")
            where = f"{module}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where
