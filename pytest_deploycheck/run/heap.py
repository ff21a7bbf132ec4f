"""The run's garbage collection, kept off what was loaded once.

A smoke run is short and spends much of its CPU on importing: pytest, the plugins,
httpx and pydantic at start-up; schemathesis and hypothesis when fuzzing starts. Every
full collection afterwards walks all of those modules' objects again, although they live
as long as the process (about 0.3 s in a smoke run, the two at pytest's end included).
``gc.freeze()`` moves what exists into the permanent generation, as CPython's
documentation describes for long-lived start-up state; what the checks create later is
collected as before, so pytest still sees unraisable exceptions from it.
"""

from __future__ import annotations

import gc


def freeze_what_is_loaded() -> None:
    """Leave what exists now out of every later collection (it lives as long as the run)."""
    gc.freeze()
