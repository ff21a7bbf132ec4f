"""The load suite's pytest options, as a plugin of their own (entry point ``deploycheck-load``).

Only ``suites/test_load.py`` reads them; the main plugin resolves and
validates ``--load-profile`` at start with everything else, so an unknown
profile is a usage error even in a run that selects no load test.
"""

from __future__ import annotations

import pytest

from pytest_deploycheck.load.options import OPTIONS
from pytest_deploycheck.plugin.option_types import non_negative_int, positive_seconds


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("deploycheck-load", "load profiles (pytest-deploycheck, -m load)")
    for option in OPTIONS:
        if option.pytest is None:
            continue
        kinds = {"seconds": positive_seconds, "count": non_negative_int}
        extra = {"type": kinds[option.kind](option.pytest)} if option.kind in kinds else {}
        group.addoption(
            option.pytest,
            dest=f"deploycheck_{option.dest}",
            default=option.default,
            metavar=option.metavar,
            help=option.help,
            **extra,
        )
