"""Which of the document's operations a fuzz run may send, and why the others are left out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pytest_deploycheck.config import TargetEnv

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class Selection:
    schema: Any  # the schemathesis schema, filtered
    left_out: list[str] = field(default_factory=list)  # why some operations are not fuzzed


def select(schema: Any, env: TargetEnv, destructive_allowed: bool) -> Selection:
    """Apply the env's include/exclude settings with schemathesis' own filters, then keep
    only read-only methods unless destructive checks are allowed, and leave the auth
    operations (rate limited, or ending the session) out unless included by name."""
    fuzz = env.fuzz
    left_out: list[str] = []
    for verb in ("include", "exclude"):
        chosen = getattr(fuzz, verb)
        if chosen.paths:
            schema = getattr(schema, verb)(path_regex="|".join(f"(?:{p})" for p in chosen.paths))
        if chosen.methods:
            schema = getattr(schema, verb)(method=[m.upper() for m in chosen.methods])
        if chosen.tags:
            schema = getattr(schema, verb)(tag=list(chosen.tags))
        if chosen.operation_ids:
            schema = getattr(schema, verb)(operation_id=list(chosen.operation_ids))
    if not destructive_allowed:
        before = labels(schema)
        schema = schema.include(method=sorted(READ_ONLY_METHODS))
        dropped = [label for label in before if label not in set(labels(schema))]
        if dropped:
            left_out.append(
                f"{len(dropped)} operation{'s' if len(dropped) != 1 else ''} that may change "
                f"data ({_listed(dropped)}): destructive checks are not allowed here, so only "
                "GET, HEAD and OPTIONS are fuzzed"
            )
    if fuzz.skip_auth_operations:
        paths = env.paths
        auth_paths = [
            env.api_prefix + p
            for p in (
                paths.register_,
                paths.login,
                paths.refresh,
                paths.logout,
                paths.delete_account,
            )
        ]
        named = set(fuzz.include.paths)
        skipped = [p for p in auth_paths if not any(re.search(n, p) for n in named)]
        if skipped:
            pattern = "|".join(f"^{re.escape(p)}$" for p in skipped)
            schema = schema.exclude(path_regex=pattern)
            left_out.append(
                "the auth operations (" + ", ".join(skipped) + "): they spend the auth rate limit "
                "or end the run's session (fuzz.skip_auth_operations)"
            )
    return Selection(schema, left_out)


def labels(schema: Any) -> list[str]:
    """The labels (``GET /api/v1/jobs/``) of the operations schemathesis can read."""
    found = []
    for result in schema.get_all_operations():
        try:
            found.append(result.ok().label)
        except Exception:  # noqa: BLE001  (unreadable: said by the run, not here)
            continue
    return found


def _listed(names: list[str], shown: int = 6) -> str:
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")
