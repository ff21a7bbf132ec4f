"""Shared helpers for the benchmark scripts: run a command N times, report the median."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Child processes run as on a user's machine: this workplace sets PYTHONDONTWRITEBYTECODE=1,
# which makes every start compile every module from source (pytest's assertion rewriting of
# plugin packages included) and tripled the smoke run's test phase in earlier figures.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def time_command(
    args: list[str], runs: int = 5, ok_codes: tuple[int, ...] = (0,), **kwargs: object
) -> list[float]:
    """Wall times (seconds) of ``runs`` runs of a command, process start to exit."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
        times.append(time.perf_counter() - start)
        if result.returncode not in ok_codes:
            sys.exit(
                f"{' '.join(args)} exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
    return times


def report(label: str, times: list[float]) -> float:
    median = statistics.median(times)
    spread = ", ".join(f"{t:.2f}" for t in times)
    print(f"{label:<58} median {median:6.2f} s   (runs: {spread})")
    return median


def pytest_command(*args: str, python: str = sys.executable) -> list[str]:
    """``python -m pytest ARGS``; ``python``: the interpreter of the install to measure."""
    return [python, "-m", "pytest", *args]
