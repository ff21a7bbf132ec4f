"""Exact-enough latency statistics for judging criteria, mergeable across Locust workers.

Locust's own percentiles come from response times rounded into buckets
(exact below 100 ms, then 10 ms, 100 ms and 1 s steps: up to ~5 % off, so its
p95 can even exceed the max). Criteria are judged here instead, from an HDR
histogram per endpoint with 3 significant digits: every recorded value is
within 0.1 % of the true one, so a 2000 ms limit is judged to within 2 ms.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from pytest_deploycheck.load.criteria import ALL, Criterion, Measured, resolve_scope

_LOWEST_US = 1
_HIGHEST_US = 3_600_000_000  # one hour
_DIGITS = 3
# Custom metrics (request_type) that are not HTTP requests: kept out of "all".
CUSTOM_TYPES = frozenset({"JOURNEY"})


def _histogram() -> HdrHistogram:
    return HdrHistogram(_LOWEST_US, _HIGHEST_US, _DIGITS)


@dataclass
class Series:
    """One endpoint (or custom metric): latencies, requests, failures."""

    histogram: HdrHistogram = field(default_factory=_histogram)
    requests: int = 0
    failures: int = 0
    timed: int = 0  # samples with a latency
    total_ms: float = 0.0

    def record(self, response_time_ms: float, failed: bool, *, timed: bool = True) -> None:
        """Count one sample; ``timed=False`` counts it without a latency (a failed journey)."""
        self.requests += 1
        self.failures += failed
        if not timed:
            return
        self.timed += 1
        self.total_ms += response_time_ms
        micros = min(max(int(response_time_ms * 1000), _LOWEST_US), _HIGHEST_US)
        self.histogram.record_value(micros)

    def merge(self, other: Series) -> None:
        self.histogram.add(other.histogram)
        self.requests += other.requests
        self.failures += other.failures
        self.timed += other.timed
        self.total_ms += other.total_ms

    def percentile_ms(self, pct: float) -> float:
        return self.histogram.get_value_at_percentile(pct) / 1000

    def to_wire(self) -> dict[str, Any]:
        encoded = self.histogram.encode()
        return {
            "h": base64.b64encode(encoded).decode() if isinstance(encoded, bytes) else encoded,
            "n": self.requests,
            "f": self.failures,
            "c": self.timed,
            "t": self.total_ms,
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Series:
        series = cls(
            requests=data["n"],
            failures=data["f"],
            timed=data.get("c", data["n"]),
            total_ms=data["t"],
        )
        raw = data["h"]
        series.histogram.decode_and_add(
            base64.b64decode(raw) if isinstance(raw, str) and _is_b64(raw) else raw
        )
        return series


def _is_b64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
        return True
    except ValueError:
        return False


class Recorder:
    """Series by ``"METHOD name"``; a worker ships and resets its deltas, the master merges."""

    def __init__(self) -> None:
        self.series: dict[str, Series] = {}

    def record(self, request_type: str, name: str, response_time_ms: float, failed: bool) -> None:
        key = f"{request_type} {name}"
        # A failed journey's time says nothing about how long a deck takes: count it, don't time it.
        timed = not (failed and request_type in CUSTOM_TYPES)
        self.series.setdefault(key, Series()).record(response_time_ms, failed, timed=timed)

    def take_wire(self) -> dict[str, Any]:
        """The deltas since the last call, for ``report_to_master``; resets this recorder."""
        wire = {key: series.to_wire() for key, series in self.series.items() if series.requests}
        self.series = {}
        return wire

    def merge_wire(self, wire: Mapping[str, Any]) -> None:
        for key, data in wire.items():
            self.series.setdefault(key, Series()).merge(Series.from_wire(data))

    def names(self) -> list[str]:
        return sorted(self.series)

    def overall(self) -> Series:
        total = Series()
        for key, series in self.series.items():
            if key.split(" ", 1)[0] not in CUSTOM_TYPES:
                total.merge(series)
        return total

    def scope(self, scope: str) -> Series | None:
        if scope == ALL:
            return self.overall()
        key = resolve_scope(scope, self.series)
        return self.series.get(key) if key else None


def measure(criterion: Criterion, series: Series | None, duration_s: float) -> float | None:
    if series is None or series.requests == 0:
        return None
    metric = criterion.metric
    if metric not in ("error_rate", "rps", "count") and series.timed == 0:
        return None  # every sample failed: no latency was measured
    if criterion.percentile is not None:
        return series.percentile_ms(criterion.percentile)
    if metric == "avg":
        return series.total_ms / series.timed
    if metric == "med":
        return series.percentile_ms(50)
    if metric == "min":
        return series.histogram.get_min_value() / 1000
    if metric == "max":
        return series.histogram.get_max_value() / 1000
    if metric == "error_rate":
        return series.failures / series.requests
    if metric == "rps":
        return series.requests / duration_s if duration_s > 0 else 0.0
    if metric == "count":
        return float(series.requests)
    raise ValueError(metric)


def judge(criteria: Iterable[Criterion], recorder: Recorder, duration_s: float) -> list[Measured]:
    """Every criterion's verdict; a criterion without samples fails (nothing proves it holds)."""
    verdicts = []
    for criterion in criteria:
        measured = measure(criterion, recorder.scope(criterion.scope), duration_s)
        verdicts.append(
            Measured(criterion, measured, measured is not None and criterion.holds(measured))
        )
    return verdicts
