"""The statistics of a comparison, after Kayenta's NetflixACAJudge: is *now* slower than the
baseline, by how much, and how sure.

- **Latency**: scipy's Mann-Whitney U test (two-sided) of now against the baseline; the
  Hodges-Lehmann shift (the median of every difference now_i - base_j) and its confidence
  interval, found by inverting scipy's test over those differences (the shifts the test
  would not reject at ``1 - confidence``), as R's ``wilcox.test(conf.int = TRUE)`` and
  Kayenta do. A regression is a shift whose interval lies above 0 *and* which exceeds the
  effect floor: ``allowed_increase_ms`` and ``allowed_increase_pct`` of the baseline's
  median. Fewer than ``min_samples`` finite samples on either side: inconclusive.
- **Errors**: scipy's Fisher exact test (one-sided) of the 5xx share now against the
  baseline's, with a floor in percentage points.

What no library does, written here: the effect floor, the inversion's search over the
sorted differences, and the sentences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pytest_deploycheck.config.schema import BaselineSettings
from pytest_deploycheck.optional import need

Outcome = Literal["regression", "pass", "inconclusive"]


@dataclass(frozen=True)
class LatencyComparison:
    outcome: Outcome
    base_median_ms: float | None = None
    now_median_ms: float | None = None
    shift_ms: float | None = None  # Hodges-Lehmann: now - baseline
    ci_low_ms: float | None = None
    ci_high_ms: float | None = None
    p_value: float | None = None
    base_n: int = 0
    now_n: int = 0
    why: str = ""


def compare_latency(
    base: list[float], now: list[float], floors: BaselineSettings
) -> LatencyComparison:
    np = need("numpy", "a baseline comparison", "scipy", "watch")
    stats = need("scipy.stats", "a baseline comparison", "scipy", "watch")
    base_ok = [v for v in base if isinstance(v, (int, float)) and math.isfinite(v)]
    now_ok = [v for v in now if isinstance(v, (int, float)) and math.isfinite(v)]
    n_base, n_now = len(base_ok), len(now_ok)
    if min(n_base, n_now) < floors.min_samples:
        dropped = (len(base) - n_base) + (len(now) - n_now)
        said = f"; {dropped} samples were not numbers" if dropped else ""
        return LatencyComparison(
            "inconclusive",
            base_n=n_base,
            now_n=n_now,
            why=f"too few samples to judge: {n_base} in the baseline, {n_now} now, "
            f"{floors.min_samples} needed on each side (baseline.min_samples){said}",
        )
    x, y = np.asarray(now_ok, dtype=float), np.asarray(base_ok, dtype=float)
    differences = np.sort(np.subtract.outer(x, y).ravel())
    shift = float(np.median(differences))
    p_value = float(stats.mannwhitneyu(x, y, alternative="two-sided").pvalue)
    alpha = 1 - floors.confidence
    low, high = _interval(stats, x, y, differences, alpha)
    base_median = float(np.median(y))
    floor = max(floors.allowed_increase_ms, base_median * floors.allowed_increase_pct / 100)
    regression = low > 0 and shift > floor
    return LatencyComparison(
        "regression" if regression else "pass",
        base_median_ms=base_median,
        now_median_ms=float(np.median(x)),
        shift_ms=shift,
        ci_low_ms=low,
        ci_high_ms=high,
        p_value=p_value,
        base_n=n_base,
        now_n=n_now,
        why="" if regression else _why_not(low, shift, floor),
    )


def _why_not(low: float, shift: float, floor: float) -> str:
    if low <= 0:
        return "no significant increase"
    return f"a significant increase of {shift:.1f} ms, under the {floor:.1f} ms floor"


def _interval(
    stats: object, x: object, y: object, differences: object, alpha: float
) -> tuple[float, float]:
    """The Hodges-Lehmann shift's confidence interval: the smallest and largest difference d
    for which scipy's test does not reject "now - d and the baseline are alike"."""
    import numpy as np

    diffs: np.ndarray = differences  # type: ignore[assignment]

    def accepted(shift: float) -> bool:
        test = stats.mannwhitneyu(np.asarray(x) - shift, y, alternative="two-sided")  # type: ignore[attr-defined]
        return bool(test.pvalue >= alpha)

    middle = len(diffs) // 2
    # The lowest accepted shift: p rises from the smallest difference to the median.
    lo, hi = 0, middle
    while lo < hi:
        mid = (lo + hi) // 2
        if accepted(float(diffs[mid])):
            hi = mid
        else:
            lo = mid + 1
    low = float(diffs[lo])
    # The highest accepted shift: p falls from the median to the largest difference.
    lo, hi = middle, len(diffs) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if accepted(float(diffs[mid])):
            lo = mid
        else:
            hi = mid - 1
    return low, float(diffs[lo])


@dataclass(frozen=True)
class ErrorComparison:
    outcome: Outcome
    base_errors: int
    base_answers: int
    now_errors: int
    now_answers: int
    p_value: float | None = None
    why: str = ""

    @property
    def base_share(self) -> float:
        return self.base_errors / self.base_answers if self.base_answers else 0.0

    @property
    def now_share(self) -> float:
        return self.now_errors / self.now_answers if self.now_answers else 0.0


def compare_errors(
    base_errors: int, base_answers: int, now_errors: int, now_answers: int, floors: BaselineSettings
) -> ErrorComparison:
    stats = need("scipy.stats", "a baseline comparison", "scipy", "watch")
    counts = (base_errors, base_answers, now_errors, now_answers)
    if min(base_answers, now_answers) < floors.min_samples:
        return ErrorComparison(
            "inconclusive",
            *counts,
            why=f"too few answers to judge: {base_answers} in the baseline, {now_answers} now",
        )
    table = [[now_errors, now_answers - now_errors], [base_errors, base_answers - base_errors]]
    p_value = float(stats.fisher_exact(table, alternative="greater").pvalue)
    result = ErrorComparison("pass", *counts, p_value=p_value)
    increase = (result.now_share - result.base_share) * 100
    if p_value < 1 - floors.confidence and increase > floors.allowed_error_increase_pct:
        return ErrorComparison("regression", *counts, p_value=p_value)
    return result


def p_text(p_value: float | None) -> str:
    if p_value is None:
        return "p n/a"
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"
