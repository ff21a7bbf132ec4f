"""Issue 2's figures: smoke wall time, the plugin's own cost, time to verdict on a dead target.

    python benchmarks/bench_foundation.py [--runs 5]

Every figure is the median of N whole-process runs (start to exit) on this
machine, printed with the individual runs; the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import sys

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))

from benchmarks._timing import pytest_command, report, time_command  # noqa: E402
from tests.servers import free_port, tcp_server  # noqa: E402

FAILED = (1,)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    quiet = ["-q", "-p", "no:cacheprovider"]

    print("== pytest --env local -m smoke (embedded reference deployment)")
    report(
        "smoke run, wall time",
        time_command(pytest_command("--env", "local", "-m", "smoke", *quiet), runs),
    )

    print("== collection cost: pytest --co -q suites (addopts cleared so both runs collect)")
    no_strict = ["-o", "addopts=", "--co", "suites"]
    with_plugin = report("with the plugin", time_command(pytest_command(*no_strict, *quiet), runs))
    without = report(
        "without (-p no:deploycheck)",
        time_command(pytest_command(*no_strict, "-p", "no:deploycheck", *quiet), runs),
    )
    print(f"{'plugin cost':<58} {with_plugin - without:+.2f} s ({with_plugin / without:.2f}x)")
    bare = [
        "-p",
        "no:schemathesis",
        "-p",
        "no:hypothesispytest",
        "-p",
        "no:locust",
        "-p",
        "no:testinfra",
        "-p",
        "no:anyio",
    ]
    with_plugin = report(
        "with the plugin, other heavy plugins off",
        time_command(pytest_command(*no_strict, *bare, *quiet), runs),
    )
    without = report(
        "without, other heavy plugins off",
        time_command(pytest_command(*no_strict, *bare, "-p", "no:deploycheck", *quiet), runs),
    )
    print(f"{'plugin cost':<58} {with_plugin - without:+.2f} s ({with_plugin / without:.2f}x)")

    print("== time to verdict on a dead target (suites/test_health.py, default timeouts)")
    dead = f"http://127.0.0.1:{free_port()}"
    report(
        "unreachable (connection refused)",
        time_command(
            pytest_command("--base-url", dead, "suites/test_health.py", *quiet), runs, FAILED
        ),
    )
    with tcp_server("hang") as hanging:
        report(
            "hanging (accepts TCP, never answers; read timeout 10 s)",
            time_command(
                pytest_command("--base-url", hanging, "suites/test_health.py", *quiet), runs, FAILED
            ),
        )


if __name__ == "__main__":
    main()
