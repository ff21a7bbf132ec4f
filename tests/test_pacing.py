"""One pacer and one Retry-After parser for the auth calls, fuzzing and the load users."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from pytest_deploycheck.errors import CheckFailed
from pytest_deploycheck.run.pacing import RateBudget, retry_after_seconds


def answer(headers: dict[str, str] | None = None, json: object = None) -> httpx.Response:
    return httpx.Response(429, headers=headers or {}, json=json)


@pytest.mark.parametrize(
    ("response", "seconds"),
    [
        (answer({"Retry-After": "3"}), 3.0),
        (answer({"Retry-After": "2.5"}), 2.5),
        (answer({"Retry-After": "-4"}), 0.0),
        (answer(json={"retry_after": 7}), 7.0),
        (answer({"Retry-After": "soon"}), None),  # unreadable: not a ValueError
        (answer({"Retry-After": "Mon, 99 Foo 2026"}), None),
        (answer(), None),
    ],
)
def test_retry_after_in_seconds_or_unreadable(
    response: httpx.Response, seconds: float | None
) -> None:
    assert retry_after_seconds(response) == seconds


def test_retry_after_as_an_http_date() -> None:
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    seconds = retry_after_seconds(answer({"Retry-After": later}))
    assert seconds is not None and 27 <= seconds <= 31


def test_the_budget_is_a_sliding_window_and_its_waits_are_bounded() -> None:
    budget = RateBudget(2, 0.2, 1.0, setting="test.wait", kind="test")
    started = time.monotonic()
    for _ in range(3):
        budget.spend("a call")
    assert time.monotonic() - started >= 0.2  # the third waited for the window
    tight = RateBudget(1, 60, 1.0, setting="test.wait", kind="test")
    tight.spend("the first")
    with pytest.raises(CheckFailed, match=r"past test.wait=1 s"):
        tight.spend("the second")
    assert not tight.refused(30, "after a 429")  # 30 s is past what may be waited
