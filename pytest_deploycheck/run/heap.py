"""The run's garbage collection, kept off what was loaded once.

A smoke run is short and spends much of its CPU on importing: pytest, the plugins,
httpx and pydantic at start-up; schemathesis and hypothesis when fuzzing starts. Every
full collection afterwards walks all of those modules' objects again, although they live
as long as the process (about 0.3 s in a smoke run, the two at pytest's end included).
``gc.freeze()`` moves what exists into the permanent generation, as CPython's
documentation describes for long-lived start-up state; what the checks create later is
collected as before, so pytest still sees unraisable exceptions from it.

Young collections run less often too: CPython starts one every 700 new containers, and a
run makes them by the hundred thousand (hypothesis' examples, httpx' answers), nearly all
short-lived; every 10,000 saves about 0.07 s of a smoke run's 1.7 s of CPU
(``benchmarks/bench_speed.py``). A threshold set higher by the user is kept.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000


def freeze_what_is_loaded() -> None:
    """Leave what exists now out of every later collection (it lives as long as the run),
    and collect the young generation less often."""
    gc.freeze()
    young, *older = gc.get_threshold()
    if 0 < young < YOUNG_THRESHOLD:  # 0: collection is off, and stays so
        gc.set_threshold(YOUNG_THRESHOLD, *older)
