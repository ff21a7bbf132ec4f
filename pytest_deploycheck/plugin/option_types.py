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


def duration(flag: str) -> Callable[[str], float]:
    """A duration as people write it (``--watch 2h``, ``--watch-every 30s``): seconds."""
    from pytest_deploycheck.watch.window import parse_duration

    def parse(value: str) -> float:
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise pytest.UsageError(f"{flag} {exc}") from None

    return parse


def listen_address(flag: str) -> Callable[[str], tuple[str, int]]:
    """``9464`` or ``0.0.0.0:9464`` -> ``("127.0.0.1", 9464)`` / ``("0.0.0.0", 9464)``."""

    def parse(value: str) -> tuple[str, int]:
        host, _, port = value.rpartition(":")
        host = host.strip("[]") or "127.0.0.1"
        try:
            number = int(port)
        except ValueError:
            number = -1
        if not 0 <= number <= 65535:
            raise pytest.UsageError(
                f"{flag} takes PORT or ADDRESS:PORT, e.g. 9464 or 0.0.0.0:9464; got {value!r}"
            )
        return host, number

    return parse
