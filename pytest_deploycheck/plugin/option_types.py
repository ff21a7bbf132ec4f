"""``type=`` functions for command-line options: a bad value is a usage error at parse time."""

from __future__ import annotations

from collections.abc import Callable

import pytest


def positive_seconds(flag: str) -> Callable[[str], float]:
    """Seconds, more than 0 (``--job-deadline 120``)."""

    def parse(value: str) -> float:
        try:
            seconds = float(value)
        except ValueError:
            raise pytest.UsageError(f"{flag} takes seconds, e.g. 120; got {value!r}") from None
        if seconds <= 0:
            raise pytest.UsageError(f"{flag} must be more than 0 seconds; got {value!r}")
        return seconds

    return parse


def non_negative_int(flag: str) -> Callable[[str], int]:
    """A whole number, 0 or more (``--load-processes 2``)."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise pytest.UsageError(f"{flag} takes a whole number; got {value!r}") from None
        if number < 0:
            raise pytest.UsageError(f"{flag} must be 0 or more; got {value!r}")
        return number

    return parse
