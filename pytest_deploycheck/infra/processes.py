"""Services and processes: running, and not as root."""

from __future__ import annotations

import os
from typing import Any

from pytest_deploycheck.infra.hosts import DeployHost


def check_services(host: DeployHost, names: tuple[str, ...]) -> list[str]:
    """Each service is running and enabled, by the host's init system (testinfra's ``service``)."""
    if not names:
        return []
    offline = _init_system_offline(host)
    if offline:
        return [offline]
    problems = []
    for name in names:
        service = host.module("service", name)
        running = host.use(f"service {name!r}", lambda s=service: s.is_running)
        enabled = host.use(f"service {name!r}", lambda s=service: s.is_enabled)
        if not running:
            problems.append(f"service {name!r} is not running")
        elif not enabled:
            problems.append(f"service {name!r} runs but is not enabled: it will not start on boot")
    return problems


def _init_system_offline(host: DeployHost) -> str | None:
    """systemd installed but not running (a container): every service would look stopped."""
    if not host.has_command("systemctl"):
        return None
    state = host.run("systemctl is-system-running")
    if state.stdout.strip() == "offline" or "not been booted" in state.stderr:
        return (
            "systemd is installed but not running on this host (not booted with it: a "
            "container?), so its services cannot be checked; check their processes instead "
            "(infra processes)"
        )
    return None


def check_processes(
    host: DeployHost, names: tuple[str, ...], root_allowed: tuple[str, ...]
) -> list[str]:
    """Each named process runs, and not as root unless ``root_allowed`` names it."""
    if not names:
        return []
    processes = host.use("its processes", lambda: host.module("process").filter())
    problems = []
    for name in names:
        found = [process for process in processes if _is_named(process, name)]
        if not found:
            problems.append(f"no process {name!r} is running")
            continue
        as_root = [process for process in found if _user_of(process) == "root"]
        if as_root and name not in root_allowed:
            pids = ", ".join(str(process.pid) for process in as_root[:5])
            problems.append(
                f"process {name!r} runs as root (pid {pids}): run it as a service user, "
                "or list it in root_allowed"
            )
    return problems


def _user_of(process: Any) -> str | None:
    """testinfra asks ``ps`` for a process's user only when it is read: a process that ended
    since the list was made (an ssh session's own helper) has none, and is left out."""
    try:
        return str(process.user)
    except Exception:  # testinfra's AssertionError on ps' exit status 1: the process is gone
        return None


def _is_named(process: Any, name: str) -> bool:
    """By command name (``comm``), or a word of its command line (``python -m uvicorn``)."""
    if process.comm == name[:15]:
        return True
    words = str(process.args).split()
    return any(word == name or os.path.basename(word) == name for word in words[:4])
