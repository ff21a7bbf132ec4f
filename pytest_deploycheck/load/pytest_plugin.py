"""The load suite's pytest options, as a plugin of their own (entry point ``deploycheck-load``).

Only ``suites/test_load.py`` reads them; the main plugin resolves and
validates ``--load-profile`` at start with everything else, so an unknown
profile is a usage error even in a run that selects no load test.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("deploycheck-load", "load profiles (pytest-deploycheck, -m load)")
    group.addoption(
        "--load-profile",
        dest="deploycheck_load_profile",
        default=None,
        metavar="NAME",
        help="the load profile for -m load: smoke, baseline, stress, spike, soak (default: smoke)",
    )
    group.addoption(
        "--load-processes",
        dest="deploycheck_load_processes",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="run Locust as a master with N local worker processes (default: one process)",
    )
    group.addoption(
        "--load-artifacts",
        dest="deploycheck_load_artifacts",
        default=None,
        metavar="DIR",
        help="where the load run writes Locust's HTML report, CSV statistics and the verdict",
    )
    group.addoption(
        "--load-timeout",
        dest="deploycheck_load_timeout",
        type=_positive_float,
        default=3 * 3600,
        metavar="SECONDS",
        help="stop a load run that has not ended after this long (default: 3 hours)",
    )


def _non_negative_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise pytest.UsageError(f"--load-processes takes a whole number, got {value!r}") from None
    if number < 0:
        raise pytest.UsageError(f"--load-processes must be 0 or more, got {value!r}")
    return number


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise pytest.UsageError(f"--load-timeout takes seconds, got {value!r}") from None
    if number <= 0:
        raise pytest.UsageError(f"--load-timeout must be more than 0 seconds, got {value!r}")
    return number
