"""What a run created and could not delete, and ``deploycheck cleanup`` to delete it later.

Every run against a non-embedded env keeps a ledger in
``.deploycheck/runs/ENV-RUNID.json`` (mode 600) from its first sign-in on: what
it created, and its throwaway users' emails and passwords, never their tokens.
A run that ends (also by SIGTERM) cleans up and deletes its ledger; one that
is killed, or whose cleanup failed, leaves it for ``deploycheck cleanup``,
which signs in again and deletes what is recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.run.client import DeployClient
from pytest_deploycheck.run.pacing import AuthBudget
from pytest_deploycheck.target.accounts import AuthApi, cleanup, throwaway_handle

LEDGER_DIR = Path(".deploycheck") / "runs"


def ledger_path(rootdir: Path, env_name: str, run_id: str) -> Path:
    return rootdir / LEDGER_DIR / f"{env_name}-{run_id}.json"


@dataclass
class Leftovers:
    path: Path
    env: str
    base_url: str
    run_id: str
    users: dict[str, dict[str, Any]]
    created: list[dict[str, str]]

    @classmethod
    def read(cls, path: Path) -> Leftovers:
        data = json.loads(path.read_text())
        return cls(
            path=path,
            env=str(data.get("env", "")),
            base_url=str(data.get("base_url", "")),
            run_id=str(data.get("run_id", "")),
            users=dict(data.get("users", {})),
            created=list(data.get("created", [])),
        )


def find(rootdir: Path, env_name: str | None = None) -> list[Leftovers]:
    """The ledgers of runs that left something behind (all envs, or one)."""
    found = []
    for path in sorted((rootdir / LEDGER_DIR).glob("*.json")):
        try:
            leftovers = Leftovers.read(path)
        except (OSError, ValueError):
            continue
        if env_name is None or leftovers.env == env_name:
            found.append(leftovers)
    return found


def remove(leftovers: Leftovers, env: TargetEnv) -> list[str]:
    """Sign in as the run's users again and delete what it recorded; one line per outcome."""
    if env.base_url != leftovers.base_url:
        return [
            f"{leftovers.path.name}: skipped: recorded for {leftovers.base_url}, "
            f"but env {env.name!r} is now {env.base_url}"
        ]
    # Every recorded user signs in again (nothing of the run's tokens is kept): cleanup()
    # deletes what it can and verifies, and names the rest.
    pending: dict[str, dict[str, Any]] = {}
    lines: list[str] = []
    for label, user in leftovers.users.items():
        email, password = user.get("email"), user.get("password")
        username = user.get("username")
        if user.get("throwaway"):
            username = username or throwaway_handle(leftovers.run_id, label)
        else:
            auth = env.auth
            email, password = (
                (auth.email, auth.password)
                if label == "smoke"
                else (auth.second_email, auth.second_password)
            )
        if not email or not password:
            lines.append(f"left behind: {label} user: no credentials to sign in with")
            continue
        pending[label] = {
            "email": email,
            "password": password,
            "username": username,
            "throwaway": bool(user.get("throwaway")),
        }
    with DeployClient(env) as client:
        api = AuthApi(client, env, AuthBudget(env))
        contents = {"users": {}, "pending": pending, "created": leftovers.created}
        lines += cleanup(client, env, contents, sign_in=api.login)
    if not any(line.startswith("left behind") for line in lines):
        leftovers.path.unlink(missing_ok=True)
    return [f"{leftovers.path.name}: {line}" for line in lines]
