"""What a run leaves for the next one, and which earlier run is its baseline."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RunRecord:
    env: str
    version: str | None  # as the info endpoint reported it
    verdict: str  # the run's: only a "green" record is ever a baseline
    recorded_at: str  # ISO 8601, UTC
    run_id: str
    plugin_version: str
    latency_ms: dict[str, list[float]] = field(default_factory=dict)  # endpoint -> samples
    answers: int = 0  # the sampled answers
    errors: int = 0  # of which 5xx
    document: dict[str, Any] = field(default_factory=dict)  # document.shape()
    document_fingerprint: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RunRecord:
        data = json.loads(text)
        known = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in known})

    @property
    def label(self) -> str:
        return f"{self.version or 'an unknown version'} ({self.recorded_at[:16].replace('T', ' ')})"


def baseline_for(records: list[RunRecord], version: str | None) -> tuple[RunRecord | None, str]:
    """The record this run is judged against, and why that one (oldest first in ``records``).

    A rollback (``version`` has a green record, and a later record is of another version) is
    judged against that version's own last green record; any other run against the last
    green record of a different version. A red record is never a baseline.
    """
    green = [r for r in records if r.verdict == "green"]
    own = [r for r in green if r.version == version]
    if version is not None and own and records and records[-1].version != version:
        return own[-1], f"a rollback to {version}: judged against its own last green record"
    others = [r for r in green if r.version != version]
    if others:
        return others[-1], "the last green record of another version"
    if not records:
        return None, "no record yet: this run is the first"
    return None, (
        f"no green record of a version other than {version or 'this one'} among "
        f"{len(records)} records"
    )
