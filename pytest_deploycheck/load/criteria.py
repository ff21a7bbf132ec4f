"""Success criteria in a compact, k6-like syntax, and their verdict.

    "p95 < 2000ms"     "p99.9 <= 5000ms"    "avg < 300"   (durations in ms)
    "error_rate < 1%"  "error_rate < 0.01"  "rps > 20"    "max < 10000ms"

Criteria are declared per scope: ``all`` (every request), an endpoint named by
method and route template (``"GET /jobs/[id]"``), or a custom metric
(``"time_to_deck"``). When an env declares none, the seeds' apply:
p95 < 2000 ms overall and an error rate under 1 %.
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.errors import ConfigError

ALL = "all"
DEFAULT_CRITERIA: dict[str, list[str]] = {ALL: ["p95 < 2000ms", "error_rate < 1%"]}

DURATION_METRICS = ("avg", "min", "max", "med")
OTHER_METRICS = ("error_rate", "rps", "count")
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_SYNTAX = re.compile(
    r"^\s*(?P<metric>[a-z_]+|p[\d.]+)\s*(?P<op><=|>=|<|>)\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>[a-z%]*)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Criterion:
    scope: str  # "all", "GET /jobs/[id]", "time_to_deck"
    metric: str  # "p95", "avg", "error_rate", "rps", ...
    op: str
    limit: float  # ms for durations, a fraction for error_rate
    text: str

    @property
    def percentile(self) -> float | None:
        return float(self.metric[1:]) if self.metric.startswith("p") else None

    @property
    def is_duration(self) -> bool:
        return self.percentile is not None or self.metric in DURATION_METRICS

    def holds(self, measured: float) -> bool:
        return _OPERATORS[self.op](measured, self.limit)

    def show(self, value: float) -> str:
        if self.is_duration:
            return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"
        if self.metric == "error_rate":
            return f"{value * 100:.2f} %"
        if self.metric == "rps":
            return f"{value:.1f}/s"
        return f"{value:g}"

    @property
    def id(self) -> str:
        """The criterion in canonical form, the same however it was written (``p95<2000`` and
        ``P95 < 2000ms`` on ``all``: ``all|p95<2000``): how the load run's result finds it."""
        return f"{self.scope}|{self.metric}{self.op}{self.limit:g}"

    def __str__(self) -> str:
        return f"{self.scope}: {self.text}"


def parse(text: str, scope: str = ALL) -> Criterion:
    """One criterion; a :class:`ConfigError` says what is wrong and how to write it."""
    match = _SYNTAX.match(text)
    if not match:
        raise ConfigError(
            f"criterion {text!r} ({scope}): expected METRIC OP VALUE, e.g. 'p95 < 2000ms', "
            "'error_rate < 1%', 'rps > 20'"
        )
    metric, op, raw, unit = (
        match["metric"].lower(),
        match["op"],
        float(match["value"]),
        match["unit"].lower(),
    )
    if metric.startswith("p"):
        try:
            pct = float(metric[1:])
        except ValueError:
            raise ConfigError(
                f"criterion {text!r} ({scope}): {metric!r} is not a percentile like p95 or p99.9"
            ) from None
        if not 0 < pct < 100:
            hint = "; use 'max' for the slowest request" if pct == 100 else ""
            raise ConfigError(
                f"criterion {text!r} ({scope}): a percentile must be between p0 and p100 (exclusive), got {metric}{hint}"
            )
    elif metric not in DURATION_METRICS + OTHER_METRICS:
        known = ["pNN", *DURATION_METRICS, *OTHER_METRICS]
        close = difflib.get_close_matches(metric, known, n=1)
        raise ConfigError(
            f"criterion {text!r} ({scope}): unknown metric {metric!r}"
            + (f" (did you mean {close[0]!r}?)" if close else "")
            + f"; known: {', '.join(known)}"
        )
    duration = metric.startswith("p") or metric in DURATION_METRICS
    if duration:
        if unit not in ("", "ms"):
            raise ConfigError(
                f"criterion {text!r} ({scope}): durations are written in milliseconds, "
                f"e.g. '{metric} {op} {_as_ms(raw, unit)}ms'"
            )
        limit = raw
    elif metric == "error_rate":
        if unit == "%":
            limit = raw / 100
        elif unit == "":
            if raw > 1:
                raise ConfigError(
                    f"criterion {text!r} ({scope}): an error rate is a fraction (0.01) or a percentage (1%)"
                )
            limit = raw
        else:
            raise ConfigError(
                f"criterion {text!r} ({scope}): an error rate takes '%' or no unit, not {unit!r}"
            )
    else:
        if unit:
            raise ConfigError(f"criterion {text!r} ({scope}): {metric} takes no unit, got {unit!r}")
        limit = raw
    return Criterion(scope=scope, metric=metric, op=op, limit=limit, text=" ".join(text.split()))


def _as_ms(value: float, unit: str) -> str:
    factor = {"s": 1000, "sec": 1000, "m": 60_000, "min": 60_000, "us": 0.001, "µs": 0.001}.get(
        unit
    )
    return f"{value * factor:g}" if factor else "N"


def parse_all(declared: Mapping[str, str | Iterable[str]] | None) -> list[Criterion]:
    """Every criterion of an env's ``load.criteria`` table (the seeds' when there are none)."""
    table = declared or DEFAULT_CRITERIA
    criteria = []
    for scope, texts in table.items():
        for text in [texts] if isinstance(texts, str) else texts:
            criteria.append(parse(text, scope))
    return criteria


def check_scopes(criteria: Iterable[Criterion], known: Iterable[str]) -> None:
    """Fail before the run when a criterion names an endpoint the load profile never calls."""
    names = list(known)
    for criterion in criteria:
        if criterion.scope == ALL or resolve_scope(criterion.scope, names):
            continue
        close = difflib.get_close_matches(criterion.scope, names, n=1, cutoff=0.5)
        raise ConfigError(
            f"criterion {criterion.text!r}: unknown endpoint {criterion.scope!r}"
            + (f" (did you mean {close[0]!r}?)" if close else "")
            + "; the profile's endpoints: "
            + ", ".join(sorted(names))
        )


def resolve_scope(scope: str, names: Iterable[str]) -> str | None:
    """``"time_to_deck"`` matches ``"JOURNEY time_to_deck"``; an exact name matches itself."""
    names = list(names)
    if scope in names:
        return scope
    suffix = [name for name in names if name.split(" ", 1)[-1] == scope]
    return suffix[0] if len(suffix) == 1 else None


@dataclass(frozen=True)
class Measured:
    """One criterion against what was measured (the load run's :class:`LoadReport` carries it)."""

    criterion: Criterion
    measured: float | None  # None: no samples
    ok: bool

    @property
    def measured_text(self) -> str:
        return "no samples" if self.measured is None else self.criterion.show(self.measured)

    @property
    def limit_text(self) -> str:
        return f"{self.criterion.op} {self.criterion.show(self.criterion.limit)}"


def check_load_settings(env: TargetEnv, load_profile: str | None, flags: Mapping[str, str]) -> None:
    """The env's load criteria parse, and the chosen profile exists (a config error at start)."""
    from pytest_deploycheck.load.profiles import select

    try:
        parse_all(env.load.criteria)
    except ConfigError as exc:
        raise ConfigError(f"env {env.name!r}, key 'load.criteria': {exc}") from None
    if load_profile is not None:
        try:
            select(load_profile, env.load.profiles)
        except ConfigError as exc:
            raise ConfigError(f"{flags['load_profile']}: {exc}") from None
