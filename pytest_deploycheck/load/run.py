"""Running a Locust load profile in its own process (gevent never enters pytest) and reading its verdict."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pytest_deploycheck.errors import DeployCheckError
from pytest_deploycheck.load.report import LoadReport
from pytest_deploycheck.load.request import LoadRequest


@dataclass
class LoadRun:
    """A finished Locust run: its exit code, verdict and artifacts."""

    exit_code: int
    report: LoadReport
    html_report: Path
    csv_prefix: Path
    output: str
    command: list[str] = field(default_factory=list)


def run_locust(
    locustfile: Path,
    artifacts: Path,
    *,
    env_name: str | None,
    host: str | None = None,
    config_path: Path | None = None,
    request: LoadRequest | None = None,
    profile: str = "smoke",
    processes: int = 0,
    allow_destructive: bool = False,
    timeout_s: float = 600,
    extra_env: dict[str, str] | None = None,
    on_line: Callable[[str], None] | None = None,
    cwd: Path | None = None,
) -> LoadRun:
    """Run ``locust --headless`` with the deploycheck options; stream progress lines to ``on_line``."""
    artifacts.mkdir(parents=True, exist_ok=True)
    results_path = artifacts / "verdict.json"
    results_path.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(locustfile),
        "--headless",
        "--only-summary",
        "--load-profile",
        profile,
        "--deploycheck-results",
        str(results_path),
        "--html",
        str(artifacts / "locust-report.html"),
        "--csv",
        str(artifacts / "locust"),
        "--progress-interval",
        "5",
    ]
    handed: Path | None = None
    if request is not None:
        # What pytest resolved: the Locust process resolves nothing again. The file holds
        # the env's secrets: private, in a directory of its own, gone when Locust is.
        handed = request.write(Path(tempfile.mkdtemp(prefix="deploycheck-load-")) / "request.json")
        command += ["--deploycheck-request", str(handed)]
    elif env_name:
        command += ["--deploycheck-env", env_name]
    if config_path and request is None:
        command += ["--deploycheck-config", str(config_path)]
    if host:
        command += ["--host", host]
    if allow_destructive:
        command += ["--allow-destructive"]
    if processes:
        command += ["--processes", str(processes)]
    environment = {**os.environ, **(extra_env or {}), "PYTHONUNBUFFERED": "1"}
    lines: list[str] = []
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        # Its own process group, --processes workers included, ended with this run below:
        # a cancelled pytest (Ctrl-C, CI's SIGTERM) leaves no Locust behind.
        start_new_session=True,
    )
    assert process.stdout is not None
    # A watchdog, not a check between lines: a Locust that hangs silently prints nothing.
    fired = threading.Event()

    def stop() -> None:
        fired.set()
        _end_group(process)

    watchdog = threading.Timer(timeout_s, stop)
    watchdog.daemon = True
    watchdog.start()
    try:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if on_line is not None and "deploycheck" in line:
                on_line(line.rstrip("\n"))
        exit_code = process.wait()
    except BaseException:  # cancelled: Locust, as Ctrl-C would, then its workers for sure
        _end_group(process)
        raise
    finally:
        watchdog.cancel()
        if handed is not None:
            shutil.rmtree(handed.parent, ignore_errors=True)
    if fired.is_set():
        raise DeployCheckError(
            f"the load run did not end within {timeout_s:.0f} s (--load-timeout): stopped; "
            "its last lines:\n" + "\n".join(lines[-20:])
        )
    try:
        report = LoadReport.read(results_path)
    except OSError:
        raise DeployCheckError(
            f"the load run (exit code {exit_code}) left no verdict; its last lines:\n"
            + "\n".join(lines[-25:])
        ) from None
    return LoadRun(
        exit_code,
        report,
        artifacts / "locust-report.html",
        artifacts / "locust",
        "\n".join(lines),
        command,
    )


def _end_group(process: subprocess.Popen[str], grace_s: float = 5.0) -> None:
    """Stop Locust's process group: SIGINT (it stops its users and its cleanup runs), then
    SIGKILL for whatever is left after ``grace_s``."""
    try:
        os.killpg(process.pid, signal.SIGINT)
    except ProcessLookupError:
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace_s)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
