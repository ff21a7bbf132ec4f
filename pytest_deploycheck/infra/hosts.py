"""The env's hosts as testinfra hosts: which hosts a run checks, and commands with a deadline.

testinfra's own log lines keep the command and drop its output (it may hold secrets).

Hosts come from the env's ``infra.hosts`` (testinfra connection strings with roles), or from
testinfra's own ``--hosts`` option, as testinfra users expect: a host given there that the
env also lists keeps its roles; any other host gets the checks every host gets.

testinfra runs commands without a time limit, so a hung ``ssh`` or ``df`` would hang the
run: every command a host runs here is given ``infra.command_timeout_s`` and killed after it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from pytest_deploycheck.config.schema import InfraChecks, InfraHost, TargetEnv
from pytest_deploycheck.errors import CheckFailed, ConfigError, DeployCheckError, HostUnavailable
from pytest_deploycheck.optional import need

# testinfra's command-line options, passed on to every host it connects (its own plugin's).
TESTINFRA_OPTIONS = (
    "connection",
    "ssh_config",
    "ssh_identity_file",
    "sudo",
    "sudo_user",
    "ansible_inventory",
    "force_ansible",
)


def hosts_to_check(
    env: TargetEnv, cli_hosts: str | None, connection: str | None = None
) -> list[InfraHost]:
    """The hosts a run checks: ``--hosts`` (comma separated) when given, else ``infra.hosts``."""
    if not cli_hosts:
        return list(env.infra.hosts)
    known = {host.url: host for host in env.infra.hosts}
    known.update({host.name: host for host in env.infra.hosts if host.name})
    chosen = []
    for spec in (part.strip() for part in cli_hosts.split(",")):
        if not spec:
            continue
        if spec in known:
            chosen.append(known[spec])
        else:
            url = spec if "://" in spec else f"{connection or 'paramiko'}://{spec}"
            try:
                chosen.append(InfraHost(url=url))
            except ValidationError as exc:
                message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
                raise ConfigError(f"--hosts: {message}") from None
    return chosen


@dataclass
class DeployHost:
    """One host of the env, connected on first use, with the checks that apply to it."""

    spec: InfraHost
    checks: InfraChecks
    command_timeout_s: float
    options: dict[str, Any] = field(default_factory=dict)
    _host: Any = None
    _control_path: str | None = None
    # Once the host could not be reached, or a command on it hung, its remaining checks fail
    # at once with that reason: ten checks must not wait ten times for a host that is gone.
    _unavailable: HostUnavailable | None = None

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def testinfra(self) -> Any:
        """testinfra's ``Host`` (the object its ``host`` fixture hands out)."""
        if self._unavailable is not None:
            raise HostUnavailable(f"{self._unavailable} (not checked again)")
        if self._host is None:
            testinfra = need("testinfra", "hosts", "pytest-testinfra", "infra")
            options = {k: v for k, v in self.options.items() if v not in (None, False)}
            options.pop("connection", None)  # the url names its backend
            options.update(self._shared_ssh_connection())
            try:
                host = testinfra.get_host(self.spec.url, **options)
            except Exception as exc:  # testinfra raises RuntimeError, ValueError, ImportError
                raise HostUnavailable(
                    f"host {self.label!r}: testinfra cannot use its url: {exc}"
                ) from None
            _bound_commands(host.backend, self.command_timeout_s, self.label)
            _log_commands_only()
            self._host = host
            self.run("true")  # connect now: an unreachable host is one clear message
        return self._host

    def _gone(self, error: HostUnavailable) -> HostUnavailable:
        self._unavailable = self._unavailable or error
        return error

    def _shared_ssh_connection(self) -> dict[str, str]:
        """One ssh connection for all of a host's commands (testinfra asks for ControlMaster
        but sets no ControlPath unless told, and ssh shares nothing without one): about
        2.5 times faster per command. :meth:`close` ends it with the run."""
        scheme = self.spec.url.split("://", 1)[0]
        if scheme not in ("ssh", "safe-ssh") or "controlpath" in self.spec.url.lower():
            return {}
        if "controlpersist=0" in self.spec.url.lower():
            return {}
        digest = hashlib.sha1(f"{os.getpid()} {self.spec.url}".encode()).hexdigest()[:12]
        # No "%" in it: testinfra formats the ssh command line with %.
        self._control_path = os.path.join(tempfile.gettempdir(), f"deploycheck-ssh-{digest}")
        return {"controlpath": self._control_path}

    def close(self) -> None:
        """End the shared ssh connection, if one was opened (at the end of the run)."""
        path, self._control_path = self._control_path, None
        if not path or not os.path.exists(path) or self._host is None:
            return
        name = getattr(getattr(self._host.backend, "host", None), "name", None) or "localhost"
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                ["ssh", "-o", f"ControlPath={path}", "-O", "exit", name],
                capture_output=True,
                timeout=5,
                check=False,
            )
        with contextlib.suppress(OSError):
            os.unlink(path)

    def run(self, command: str, *args: str) -> Any:
        """Run a command on the host; its result (``rc``, ``stdout``, ``stderr``)."""
        try:
            return self.testinfra.run(command, *args)
        except HostUnavailable as exc:
            raise self._gone(exc) from None
        except DeployCheckError:
            raise
        except Exception as exc:  # ssh exits 255 (testinfra raises RuntimeError with its result)
            raise self._gone(
                HostUnavailable(f"host {self.label!r}: cannot run commands: {_reason(exc)}")
            ) from None

    def has_command(self, *names: str) -> bool:
        """Whether any of these commands exists on the host (slim containers lack many)."""
        return any(
            self.run("command -v %s >/dev/null 2>&1 || which %s >/dev/null 2>&1", name, name).rc
            == 0
            for name in names
        )

    def module(self, name: str, *args: Any) -> Any:
        """A testinfra module bound to this host: ``module("file", path)``, ``module("process")``."""
        found = getattr(self.testinfra, name)
        return found(*args) if args else found

    def use(self, what: str, call: Any) -> Any:
        """``call()`` turned into one clear failure if testinfra cannot do it on this host."""
        try:
            return call()
        except HostUnavailable as exc:
            raise self._gone(exc) from None
        except DeployCheckError:
            raise
        except Exception as exc:
            raise CheckFailed(
                f"host {self.label!r}: could not check {what}: {_reason(exc)}"
            ) from None


def _reason(exc: Exception) -> str:
    """testinfra's errors carry a CommandResult; its stderr is the readable part."""
    result = exc.args[0] if exc.args else None
    stderr = getattr(result, "stderr", None)
    if stderr:
        return stderr.strip().splitlines()[-1]
    return str(exc) or type(exc).__name__


class _CommandsOnly(logging.Filter):
    """testinfra logs every command's whole output at DEBUG (``RUN CommandResult(...,
    stdout=...)``): a deployed env file, a process list with passwords in command lines.
    Keep the command and its exit status; never the output."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == "RUN %s" and isinstance(record.args, tuple) and record.args:
            result = record.args[0]
            command = getattr(result, "command", b"")
            if isinstance(command, bytes):
                command = command.decode("utf-8", "replace")
            record.msg = "RUN %s (exit status %s; its output is not logged)"
            record.args = (command, getattr(result, "rc", "?"))
        return True


_COMMANDS_ONLY = _CommandsOnly()


def _log_commands_only() -> None:
    logger = logging.getLogger("testinfra")
    if _COMMANDS_ONLY not in logger.filters:
        logger.addFilter(_COMMANDS_ONLY)


# Backends whose commands do not go through a local process: bounded by a thread instead.
_IN_PROCESS_BACKENDS = frozenset({"paramiko", "salt", "winrm", "ansible"})


def _bound_commands(backend: Any, seconds: float, label: str) -> None:
    """A deadline on every command the backend runs; testinfra's own waits forever.

    Backends that run a local process (local, ssh, docker, kubectl, podman …) get a
    ``run_local`` that kills the process group at the deadline, and also when the run is
    cancelled (SIGTERM, Ctrl-C), so nothing is left running. The others (paramiko, salt,
    winrm, ansible) run each command in a thread the run stops waiting for.
    """

    def too_slow() -> HostUnavailable:
        return HostUnavailable(
            f"host {label!r}: a command did not finish within {seconds:g} s "
            "(infra.command_timeout_s): the host or the connection to it hangs"
        )

    def run_local(command: str, *args: str) -> Any:
        command = backend.quote(command, *args)
        encoded = backend.encode(command)
        process = subprocess.Popen(
            encoded,
            shell=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own group: killed as a whole below
        )
        try:
            stdout, stderr = process.communicate(timeout=seconds)
        except BaseException as exc:  # the deadline, or the run cancelled meanwhile
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            if isinstance(exc, subprocess.TimeoutExpired):
                raise too_slow() from None
            raise
        return backend.result(process.returncode, encoded, stdout, stderr)

    if backend.get_connection_type() not in _IN_PROCESS_BACKENDS:
        backend.run_local = run_local
        return
    run = backend.run

    def run_in_thread(command: str, *args: str, **kwargs: Any) -> Any:
        outcome: dict[str, Any] = {}

        def call() -> None:
            try:
                outcome["result"] = run(command, *args, **kwargs)
            except BaseException as exc:  # handed to the caller below
                outcome["error"] = exc

        worker = threading.Thread(target=call, name=f"deploycheck-host-{label}", daemon=True)
        worker.start()
        worker.join(seconds)
        if worker.is_alive():
            raise too_slow()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    backend.run = run_in_thread
