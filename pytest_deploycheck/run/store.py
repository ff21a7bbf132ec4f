"""What a run shares between its processes: its users and what it created.

A JSON file in the run's state directory, under a file lock: the first
process (xdist worker) that needs the smoke user logs in and writes it there;
the others read it, so a run logs in once whatever ``-n`` is. Everything a
check creates is recorded here too, so the controller can delete it at the
end, after all workers are done. The file is readable by its owner only and
is deleted with the state directory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock

from pytest_deploycheck.errors import DeployCheckError

STORE_FILE = "run.json"
# How often a waiter looks at the lock (filelock's default is 50 ms): the smoke user's
# sign-in ends a few milliseconds after its answer, and the first check waits for it.
_POLL_S = 0.005


@dataclass
class RunUser:
    """An authenticated user of this run."""

    label: str  # "smoke" or "other"
    email: str
    user_id: str | None
    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    throwaway: bool = False
    register_status: int | None = None
    login_fields: list[str] = field(default_factory=list)
    username: str | None = None  # a throwaway user's handle (for services that sign in with it)
    set_cookies: list[str] = field(default_factory=list, repr=False)  # the login answer's

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class RunStore:
    """The run's shared state (tokens included) in its temporary state directory.

    With a ``ledger`` path, every change is mirrored there without tokens: what the run
    created and its throwaway users' credentials, so ``deploycheck cleanup`` can remove
    what a killed run left behind. The ledger is deleted once cleanup leaves nothing.
    """

    def __init__(
        self, state_dir: Path, ledger: Path | None = None, identity: dict[str, str] | None = None
    ) -> None:
        self.path = state_dir / STORE_FILE
        self.ledger = ledger
        self.identity = identity or {}
        self._lock = FileLock(str(state_dir / (STORE_FILE + ".lock")), timeout=600)

    def _locked(self) -> AbstractContextManager[object]:
        return self._lock.acquire(poll_interval=_POLL_S)

    def pending_user(
        self, label: str, email: str, password: str, username: str | None = None
    ) -> None:
        """A throwaway user about to be registered: known to the ledger before it exists."""
        with self._locked():
            data = self._read()
            pending = {"email": email, "password": password, "username": username}
            data.setdefault("pending", {})[label] = pending
            self._write(data)

    def user(self, label: str, create: Callable[[], RunUser]) -> RunUser:
        """This run's user ``label``, created by whichever process asks first."""
        return RunUser(**self.once("users", label, lambda: asdict(create())))

    def once(self, section: str, key: str, create: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``create()``'s result, made once per run by whichever process asks first and read
        by the others (a sign-in, the journey's upload); a failure is remembered too, so the
        others neither repeat nor spend rate limits on it."""
        with self._locked():
            saved = self._read().get(section, {}).get(key)
            if saved is None:
                try:
                    made = create()
                except DeployCheckError as exc:
                    saved = {"error": str(exc), "kind": type(exc).__name__}
                    self._save(section, key, saved)
                    raise
                self._save(section, key, made)
                return made
        if "error" in saved:
            raise DeployCheckError(saved["error"])
        return dict(saved)

    def replace_user(self, user: RunUser) -> None:
        """A user whose session was renewed (a watch keeps its users signed in)."""
        with self._locked():
            self._save("users", user.label, asdict(user))

    def users(self) -> list[RunUser]:
        """This run's signed-in users (not the ones whose sign-in failed)."""
        saved = self.contents().get("users", {})
        return [RunUser(**data) for data in saved.values() if "error" not in data]

    def _save(self, section: str, key: str, value: dict[str, Any]) -> None:
        data = self._read()  # create() may have written meanwhile (a pending user)
        data.setdefault(section, {})[key] = value
        self._write(data)

    def record(self, owner: str, kind: str, resource_id: str) -> None:
        """Remember a resource (``job``, ``deck``) a check created, for the cleanup."""
        item = {"owner": owner, "kind": kind, "id": resource_id}
        with self._locked():
            data = self._read()
            if item not in data["created"]:  # every xdist worker sees the shared job's deck
                data["created"].append(item)
                self._write(data)

    def forget(self, kind: str, resource_id: str) -> None:
        with self._locked():
            data = self._read()
            data["created"] = [
                c for c in data["created"] if not (c["kind"] == kind and c["id"] == resource_id)
            ]
            self._write(data)

    def contents(self) -> dict[str, Any]:
        with self._locked():
            return self._read()

    def _read(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text())
            return data
        except (OSError, ValueError):
            return {"users": {}, "created": []}

    def _write(self, data: dict[str, Any]) -> None:
        _write_private(self.path, data)
        if self.ledger is not None:
            self.ledger.parent.mkdir(parents=True, exist_ok=True)
            _write_private(self.ledger, self._ledger_view(data))

    def _ledger_view(self, data: dict[str, Any]) -> dict[str, Any]:
        users: dict[str, dict[str, Any]] = {}
        for label, pending in data.get("pending", {}).items():
            users[label] = {**pending, "throwaway": True}
        for label, user in data.get("users", {}).items():
            if "error" in user:
                continue  # never signed in: the pending record above is what cleanup needs
            users[label] = {
                "email": user["email"],
                "throwaway": user.get("throwaway", False),
                "password": user.get("password") or users.get(label, {}).get("password"),
                "username": user.get("username") or users.get(label, {}).get("username"),
            }
        return {**self.identity, "users": users, "created": data.get("created", [])}


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Readable by its owner only; replaced whole, never seen half-written."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out)
    tmp.replace(path)
