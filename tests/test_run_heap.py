"""The run's garbage collection: what start-up loaded is left out, a user's setting kept."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from pytest_deploycheck.run.heap import YOUNG_THRESHOLD, freeze_what_is_loaded


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ((700, 10, 10), (YOUNG_THRESHOLD, 10, 10)),  # CPython's default: raised
        ((50_000, 20, 5), (50_000, 20, 5)),  # the user's higher one: kept
        ((0, 10, 10), (0, 10, 10)),  # collection switched off: stays off
    ],
)
def test_young_collections_are_less_frequent_unless_the_user_said_otherwise(
    restored_gc: None, before: tuple[int, int, int], after: tuple[int, int, int]
) -> None:
    gc.set_threshold(*before)
    freeze_what_is_loaded()
    assert gc.get_threshold() == after


def test_what_exists_is_frozen_and_what_comes_later_is_collected(restored_gc: None) -> None:
    freeze_what_is_loaded()
    assert gc.get_freeze_count() > 1000  # the modules loaded so far
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1  # garbage made after the freeze is still collected
