"""How long the watch lasts and how often it looks: durations as people write them."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?", re.IGNORECASE)
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """``"2h"``, ``"30s"``, ``"1h30m"``, ``"500ms"``, ``"90"`` (seconds) -> seconds."""
    cleaned = text.strip().lower().replace(" ", "")
    position, total = 0, 0.0
    while position < len(cleaned):
        found = _PART.match(cleaned, position)
        if not found or found.end() == position:
            break
        total += float(found.group(1)) * _UNIT_S[found.group(2) or "s"]
        position = found.end()
    if not cleaned or position != len(cleaned):
        raise ValueError(f"must be a duration like 30s, 10m, 2h or 1h30m, got {text!r}")
    if total <= 0:
        raise ValueError(f"must be longer than 0, got {text!r}")
    return total


def shown_duration(seconds: float) -> str:
    """``7200`` -> ``"2h"``, ``90`` -> ``"1m30s"``, ``0.5`` -> ``"0.5s"``."""
    if seconds < 60:
        return f"{seconds:g}s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts)


@dataclass(frozen=True)
class WatchWindow:
    """``--watch`` and ``--watch-every``: the window's length and the time between rounds."""

    length_s: float
    every_s: float
    journey_every_s: float | None = None  # the journey again this often (None: not at all)

    @property
    def planned_rounds(self) -> int:
        return max(1, math.ceil(self.length_s / self.every_s - 1e-9))

    def describe(self) -> str:
        """``"2h every 30s"``."""
        return f"{shown_duration(self.length_s)} every {shown_duration(self.every_s)}"
