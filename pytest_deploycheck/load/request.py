"""What ``pytest -m load`` hands the Locust process: the request it resolved, in a file.

The env as pytest resolved it (its embedded deployment already started: the URL is
concrete), whether creators may run and why, and the profile. With it, the Locust process
resolves nothing again and starts nothing; ``locust -f`` on its own still resolves for
itself. The file holds the env's secrets: :func:`~pytest_deploycheck.load.run.run_locust`
writes it private (0600) in a directory of its own and removes it when Locust has ended.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from pytest_deploycheck.config import TargetEnv


@dataclass(frozen=True)
class LoadRequest:
    env: TargetEnv
    destructive_allowed: bool
    destructive_why: str
    profile: str

    def write(self, path: Path) -> Path:
        data = {
            "env": self.env.model_dump(mode="json", by_alias=True),
            "secrets": sorted(self.env.secrets),
            "destructive": {"allowed": self.destructive_allowed, "why": self.destructive_why},
            "profile": self.profile,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        return path

    @classmethod
    def read(cls, path: Path) -> LoadRequest:
        data = json.loads(path.read_text(encoding="utf-8"))
        env = TargetEnv.model_validate(data["env"])
        env._secrets = frozenset(data.get("secrets", ()))
        destructive = data.get("destructive", {})
        return cls(
            env,
            bool(destructive.get("allowed")),
            str(destructive.get("why", "")),
            str(data.get("profile") or "smoke"),
        )
