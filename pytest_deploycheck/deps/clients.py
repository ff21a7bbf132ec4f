"""What the dependency checks share: their HTTP client, and unreachable meaning failed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from pytest_deploycheck.config.schema import TargetEnv
from pytest_deploycheck.errors import CheckFailed, TargetUnreachable
from pytest_deploycheck.run.client import DeployClient
from pytest_deploycheck.run.redaction import Redactor


@contextlib.contextmanager
def dependency_reached(what: str) -> Iterator[None]:
    """A dependency that cannot be reached fails its check; it does not stop the run as an
    unreachable API does."""
    try:
        yield
    except TargetUnreachable as exc:
        raise CheckFailed(f"{what}: {exc}") from None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].strip()


def service_client(
    env: TargetEnv, redactor: Redactor, base_url: str, auth: tuple[str, str] | None = None
) -> DeployClient:
    """The run's HTTP client (timeouts, total deadline, redaction) for a service that is not
    the API: the env's own headers are not sent to it, and its answers are not examined by
    the passive checks (they hold the API's answers to the API's contract)."""
    client = DeployClient(env, redactor, base_url=base_url.rstrip("/"), auth=auth)
    client.headers = {"User-Agent": client.headers["User-Agent"]}
    return client
