"""The load run's verdict as it crosses from the Locust process to pytest: one class, both ways."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pytest_deploycheck.errors import DeployCheckError
from pytest_deploycheck.load.criteria import Measured


@dataclass(frozen=True)
class CriterionResult:
    """One criterion as judged: ``p95 < 500ms`` on ``GET /jobs/[id]``, measured 312 ms, ok."""

    scope: str
    criterion: str
    measured: float | None
    measured_text: str
    limit_text: str
    ok: bool
    id: str = ""  # Criterion.id: what pytest matches its criterion by

    @classmethod
    def of(cls, verdict: Measured) -> CriterionResult:
        return cls(
            id=verdict.criterion.id,
            scope=verdict.criterion.scope,
            criterion=verdict.criterion.text,
            measured=verdict.measured,
            measured_text=verdict.measured_text,
            limit_text=verdict.limit_text,
            ok=verdict.ok,
        )


@dataclass(frozen=True)
class EndpointErrors:
    """How one endpoint failed: its failure count and the most common reasons."""

    name: str
    requests: int
    failures: int
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LoadReport:
    """What a load run measured and how its criteria were judged."""

    profile: str | None
    duration_s: float
    requests: int
    failures: int
    verdicts: list[CriterionResult]
    breaking_point: str | None = None
    aborted: str | None = None
    p95_ms_exact: float | None = None
    p95_ms_locust: float | None = None
    endpoints: list[str] = field(default_factory=list)
    errors: list[EndpointErrors] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(v.ok for v in self.verdicts) and not self.aborted

    def verdict_for(self, criterion_id: str) -> CriterionResult | None:
        """The result of the criterion whose :attr:`Criterion.id` this is."""
        for verdict in self.verdicts:
            if verdict.id == criterion_id:
                return verdict
        return None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def write(self, path: Path) -> None:
        path.write_text(self.to_json())

    @classmethod
    def from_json(cls, text: str) -> LoadReport:
        try:
            data: dict[str, Any] = json.loads(text)
            data["verdicts"] = [CriterionResult(**v) for v in data.get("verdicts", [])]
            data["errors"] = [EndpointErrors(**e) for e in data.get("errors", [])]
            return cls(**data)
        except (ValueError, TypeError, KeyError) as exc:
            raise DeployCheckError(f"the load run's verdict is not readable: {exc}") from None

    @classmethod
    def read(cls, path: Path) -> LoadReport:
        return cls.from_json(path.read_text())
