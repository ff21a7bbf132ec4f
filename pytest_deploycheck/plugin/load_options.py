"""The load suite's pytest options, as a plugin of their own (entry point ``deploycheck-load``).

Only ``suites/test_load.py`` reads them; the main plugin resolves and
validates ``--load-profile`` at start with everything else, so an unknown
profile is a usage error even in a run that selects no load test.
"""

from __future__ import annotations

import pytest

from pytest_deploycheck.plugin.option_types import non_negative_int, positive_seconds


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
        type=non_negative_int("--load-processes"),
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
        type=positive_seconds("--load-timeout"),
        default=3 * 3600,
        metavar="SECONDS",
        help="stop a load run that has not ended after this long (default: 3 hours)",
    )
