"""Issue 4's figure: what the security suite adds to a smoke run against the embedded deployment.

    python benchmarks/bench_security.py [--runs 5]

Alternates the two commands so machine noise hits both alike; medians of N.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._timing import pytest_command, report, time_command  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    quiet = ["-q", "-p", "no:cacheprovider"]
    with_security, without = [], []
    for _ in range(runs):
        with_security += time_command(pytest_command("--env", "local", "-m", "smoke", *quiet), 1)
        without += time_command(
            pytest_command("--env", "local", "-m", "smoke and not security", *quiet), 1
        )
    a = report("smoke run with the security suite", with_security)
    b = report("smoke run without it (-m 'smoke and not security')", without)
    diffs = [x - y for x, y in zip(with_security, without, strict=True)]
    print(
        f"{'security suite adds (median of paired differences)':<58} {statistics.median(diffs):+.2f} s (medians: {a - b:+.2f} s)"
    )


if __name__ == "__main__":
    main()
