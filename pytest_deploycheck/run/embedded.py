"""Starting and stopping the embedded reference deployment for a test session.

The server runs in its own process (``python -m pytest_deploycheck.reference``)
so that FastAPI and the worker are never imported into the pytest process.
It binds port 0 on 127.0.0.1 and writes the port it got to a ready file.

Under pytest-xdist there is one instance for all workers: whoever needs it
first starts it under a file lock and writes ``state.json`` in a directory the
controller created and handed to the workers; the others read it. The
controller owns the lifetime: it stops the server at the end of the session,
and the server also exits by itself when the controller process is gone.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from filelock import FileLock

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.config.resolve import EnvCheck
from pytest_deploycheck.errors import ConfigError, TargetUnreachable

STATE_FILE = "state.json"
LOCK_FILE = "embedded.lock"


@dataclass(frozen=True)
class EmbeddedDeployment:
    """A running reference deployment: where it listens and where it logs."""

    url: str
    pid: int
    log_path: str
    data_dir: str


def ensure_started(
    state_dir: Path,
    *,
    faults: tuple[str, ...] = (),
    settings: dict[str, object] | None = None,
    owner_pid: int | None = None,
    startup_timeout: float = 30.0,
) -> EmbeddedDeployment:
    """Start the reference deployment unless this session already has one; return it."""
    if importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("uvicorn") is None:
        raise ConfigError(
            "base_url = 'embedded' needs the reference deployment's dependencies: "
            "pip install 'pytest-deploycheck[reference]'"
        )
    state_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(state_dir / LOCK_FILE), timeout=startup_timeout + 10):
        running = read_state(state_dir)
        if running is not None and _alive(running.pid):
            return running
        deployment = _start(state_dir, faults, settings or {}, owner_pid, startup_timeout)
        (state_dir / STATE_FILE).write_text(json.dumps(asdict(deployment)))
        return deployment


def read_state(state_dir: Path) -> EmbeddedDeployment | None:
    try:
        return EmbeddedDeployment(**json.loads((state_dir / STATE_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def stop(state_dir: Path, timeout: float = 10.0) -> EmbeddedDeployment | None:
    """Stop this session's reference deployment, if one was started."""
    deployment = read_state(state_dir)
    if deployment is None:
        return None
    _terminate(deployment.pid, timeout)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    return deployment


def _start(
    state_dir: Path,
    faults: tuple[str, ...],
    settings: dict[str, object],
    owner_pid: int | None,
    startup_timeout: float,
) -> EmbeddedDeployment:
    data_dir = state_dir / "data"
    data_dir.mkdir(exist_ok=True)
    ready_file = state_dir / "ready.json"
    ready_file.unlink(missing_ok=True)
    log_path = state_dir / "server.log"
    command = [
        sys.executable,
        "-m",
        "pytest_deploycheck.reference",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        "--ready-file",
        str(ready_file),
        "--parent-pid",
        str(owner_pid or os.getpid()),
    ]
    for fault in faults:
        command += ["--fault", fault]
    for key, value in settings.items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DEPLOYCHECK_FAULTS", None)  # faults come from the env config only
    with open(log_path, "ab") as log:
        # A new session: an xdist worker that started it may exit before the others are done.
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if ready_file.exists():
            try:
                ready = json.loads(ready_file.read_text())
            except ValueError:
                ready = None  # being written
            if ready:
                return EmbeddedDeployment(
                    url=ready["url"],
                    pid=process.pid,
                    log_path=str(log_path),
                    data_dir=str(data_dir),
                )
        if process.poll() is not None:
            raise TargetUnreachable(
                f"the embedded reference deployment exited during startup (code "
                f"{process.returncode}); its log {log_path} ends with:\n{_tail(log_path)}"
            )
        time.sleep(0.05)
    _terminate(process.pid, 5)
    raise TargetUnreachable(
        f"the embedded reference deployment did not start within {startup_timeout:.0f} s; "
        f"its log {log_path} ends with:\n{_tail(log_path)}"
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child is not alive for our purposes.
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        return finished == 0
    except ChildProcessError:
        return True


def _terminate(pid: int, timeout: float) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    _alive(pid)  # reap


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


KEPT_LOGS = 10


def kept_log_path(run_id: str) -> Path:
    """Where a run's server log is kept after its state directory is gone."""
    return Path(tempfile.gettempdir()) / "deploycheck-logs" / f"embedded-{run_id}.log"


def keep_log(state_dir: Path, run_id: str) -> Path | None:
    """Move the (stopped) deployment's log out of the state directory; keep the newest few."""
    source = state_dir / "server.log"
    if not source.exists():
        return None
    target = kept_log_path(run_id)
    target.parent.mkdir(exist_ok=True)
    shutil.move(str(source), target)
    for old in sorted(target.parent.glob("embedded-*.log"), key=lambda p: p.stat().st_mtime)[
        :-KEPT_LOGS
    ]:
        old.unlink(missing_ok=True)
    return target


def check_faults(env: TargetEnv, load_profile: str | None, flags: Mapping[str, str]) -> None:
    """An embedded env's fault names are the reference deployment's (a config error at start)."""
    if not (env.is_embedded and env.embedded.faults):
        return
    from pytest_deploycheck.config.resolve import FAULTS_VAR
    from pytest_deploycheck.reference.faults import UnknownFault, parse

    try:
        parse(env.embedded.faults)
    except UnknownFault as exc:
        raise ConfigError(
            f"env {env.name!r}, key 'embedded.faults' (or {FAULTS_VAR}): {exc}"
        ) from None


# What a selected env must satisfy that the run's own parts know (the load side adds its own).
def run_checks() -> tuple[EnvCheck, ...]:
    """The checks of a selected env that the run's own parts own: the CA bundle, the faults."""
    from pytest_deploycheck.run.client import check_ca_bundle

    return (check_ca_bundle, check_faults)
