"""Checks that are not test functions, reported like any check: the passive analysers at the
end of a run (``passive::contract``) and the watch window's checks (``watch::…``).

Each is sent through ``pytest_runtest_logreport`` as its setup, call and teardown reports,
so the terminal (the summary line and short summary), JUnit, pytest-html, the verdict's
causes and the exit code count it as they count a test function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import pytest


def report_check(
    session: pytest.Session,
    nodeid: str,
    outcome: Literal["passed", "failed", "skipped"],
    message: str = "",
    *,
    properties: Sequence[tuple[str, object]] = (),
    sections: Sequence[tuple[str, str]] = (),
    duration: float = 0.0,
) -> None:
    """``nodeid`` (``suite::name``) as one check; ``message`` is the failure, or why it was
    skipped (already redacted)."""
    file, _, name = nodeid.partition("::")
    location = (file, None, name)
    longrepr: Any = None
    if outcome == "failed":
        longrepr = message
    elif outcome == "skipped":
        longrepr = (file, 0, f"Skipped: {message}")
    if outcome == "skipped":
        phases = [("setup", "skipped"), ("teardown", "passed")]
    else:
        phases = [("setup", "passed"), ("call", outcome), ("teardown", "passed")]
    for when, result in phases:
        report = pytest.TestReport(
            nodeid=nodeid,
            location=location,
            keywords={file: 1, name: 1},
            outcome=result,  # type: ignore[arg-type]
            longrepr=longrepr if result != "passed" else None,
            when=when,  # type: ignore[arg-type]
            sections=list(sections) if when == "call" else (),
            duration=duration if when == "call" else 0.0,
            user_properties=list(properties) if when == "call" else (),
        )
        session.config.hook.pytest_runtest_logreport(report=report)
