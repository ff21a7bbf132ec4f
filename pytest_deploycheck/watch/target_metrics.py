"""The target's own ``/metrics`` (Prometheus text), read once a round.

- **Resident memory** (``process_resident_memory_bytes`` per process, the name
  prometheus_client, the Go client and node exporters use): its growth per hour over the
  samples since the process last started (``process_start_time_seconds``: a restart starts
  a new trend instead of looking like a drop), as Coroot's memory-leak rule judges it. The
  slope is Theil-Sen's (scipy), which a garbage collector's saw-tooth does not tip. It is
  judged once the samples span ``watch.memory_judged_after_s``; before that the check says
  how long it has watched.
- **Errors**: the share of 5xx answers among those the requests counter
  (``watch.requests_counter``, ``http_requests_total``) counted since the last round,
  restart-aware (a counter that went down started again from zero).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import httpx

from pytest_deploycheck.config.schema import WatchSettings
from pytest_deploycheck.errors import DeployCheckError
from pytest_deploycheck.optional import need
from pytest_deploycheck.watch.policy import CheckRun

MEMORY = "watch::memory"
ERRORS = "watch::error_ratio"
RESIDENT = "process_resident_memory_bytes"
STARTED = "process_start_time_seconds"
_KEEP = 360  # samples per trend: six hours at a minute, six minutes at a second


@dataclass
class MemoryTrend:
    """One process's resident memory since it last started."""

    labels: str
    started: float | None
    samples: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=_KEEP))
    restarts: int = 0

    def add(self, at: float, resident: float, started: float | None) -> None:
        if started is not None and self.started is not None and started != self.started:
            self.samples.clear()  # a restart: a new process, a new trend
            self.restarts += 1
        self.started = started
        self.samples.append((at, resident))

    @property
    def span_s(self) -> float:
        return self.samples[-1][0] - self.samples[0][0] if len(self.samples) > 1 else 0.0

    def growth_mb_per_hour(self) -> float:
        stats = need("scipy.stats", "memory growth in a watch", "scipy", "watch")
        times = [at - self.samples[0][0] for at, _ in self.samples]
        values = [resident for _, resident in self.samples]
        slope = stats.theilslopes(values, times)[0]
        return float(slope) * 3600 / 1e6


class TargetMetrics:
    """Reads the metrics endpoint each round and judges memory and errors."""

    def __init__(self, url: str, shown_url: str, settings: WatchSettings) -> None:
        self.url = url
        self.shown_url = shown_url
        self.settings = settings
        self.trends: dict[str, MemoryTrend] = {}
        self._counted: tuple[float, float] | None = None  # (all answers, 5xx) at the last read

    def read(self, client: httpx.Client, at: float) -> list[CheckRun]:
        """This round's checks: memory and errors (failed both when the endpoint fails)."""
        try:
            response = client.get(self.url)
        except DeployCheckError as exc:
            return self._both_failed(f"GET {self.shown_url} failed: {exc}")
        if response.status_code != 200:
            return self._both_failed(
                f"GET {self.shown_url} -> {response.status_code}, expected 200 with metrics"
            )
        parser = need(
            "prometheus_client.parser", "a /metrics endpoint", "prometheus-client", "watch"
        )
        resident: dict[str, float] = {}
        started: dict[str, float] = {}
        requests = errors = 0.0
        counter = self.settings.requests_counter
        try:
            for family in parser.text_string_to_metric_families(response.text):
                for sample in family.samples:
                    labels = _labels(sample.labels)
                    if sample.name == RESIDENT:
                        resident[labels] = float(sample.value)
                    elif sample.name == STARTED:
                        started[labels] = float(sample.value)
                    elif sample.name == counter or sample.name == counter + "_total":
                        requests += sample.value
                        status = str(sample.labels.get(self.settings.status_label, ""))
                        if status.startswith("5"):
                            errors += sample.value
        except (ValueError, TypeError, IndexError) as exc:
            return self._both_failed(f"GET {self.shown_url}: not in Prometheus' text format: {exc}")
        return [self._memory(resident, started, at), self._errors(requests, errors)]

    def _both_failed(self, message: str) -> list[CheckRun]:
        return [CheckRun(MEMORY, "failed", message), CheckRun(ERRORS, "failed", message)]

    def _memory(self, resident: dict[str, float], started: dict[str, float], at: float) -> CheckRun:
        if not resident:
            return CheckRun(
                MEMORY, "skipped", f"{self.shown_url} exposes no {RESIDENT}: memory not judged"
            )
        single_start = next(iter(started.values())) if len(started) == 1 else None
        for labels, value in resident.items():
            trend = self.trends.setdefault(labels, MemoryTrend(labels, None))
            trend.add(at, value, started.get(labels, single_start))
        limit = self.settings.memory_growth_limit_mb_per_hour
        after = self.settings.memory_judged_after_s
        judged = [t for t in self.trends.values() if t.span_s >= after and len(t.samples) >= 3]
        if not judged:
            longest = max(t.span_s for t in self.trends.values())
            return CheckRun(
                MEMORY,
                "skipped",
                f"resident memory watched for {longest:.0f} s of the {after:.0f} s it is judged "
                "over (watch.memory_judged_after_s)",
            )
        worst = max(judged, key=lambda t: t.growth_mb_per_hour())
        growth = worst.growth_mb_per_hour()
        first, last = worst.samples[0][1] / 1e6, worst.samples[-1][1] / 1e6
        where = f" ({worst.labels})" if worst.labels else ""
        since = "since it restarted" if worst.restarts else "of watching"
        restarted = f"; {worst.restarts} restarts seen" if worst.restarts else ""
        said = (
            f"resident memory{where} grows {growth:,.0f} MB an hour: {first:,.0f} -> {last:,.0f} MB "
            f"over {worst.span_s:.0f} s {since}{restarted} "
            f"(limit {limit:g} MB/h, watch.memory_growth_limit_mb_per_hour)"
        )
        return CheckRun(MEMORY, "failed" if growth > limit else "passed", said)

    def _errors(self, requests: float, errors: float) -> CheckRun:
        before = self._counted
        self._counted = (requests, errors)
        counter = self.settings.requests_counter
        if requests == 0:
            return CheckRun(ERRORS, "skipped", f"{self.shown_url} exposes no {counter}")
        if before is None:
            return CheckRun(
                ERRORS,
                "skipped",
                f"{counter} read once: the share of 5xx starts with the next round",
            )
        counted, failed = requests - before[0], errors - before[1]
        if counted < 0 or failed < 0:  # the process restarted: its counters began again
            counted, failed = requests, errors
        if counted == 0:
            return CheckRun(ERRORS, "skipped", f"{counter} counted no answers since the last round")
        share = failed / counted
        limit = self.settings.error_ratio_limit
        said = (
            f"{failed:.0f} of {counted:.0f} answers counted by {counter} since the last round "
            f"were 5xx ({share:.1%}; limit {limit:.1%}, watch.error_ratio_limit)"
        )
        return CheckRun(ERRORS, "failed" if share > limit else "passed", said)


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f'{name}="{value}"' for name, value in sorted(labels.items()))
