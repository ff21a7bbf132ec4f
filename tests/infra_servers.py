"""Real servers for the infrastructure and dependency tests, started on 127.0.0.1.

Debian's packages: PostgreSQL, Redis, RabbitMQ (with its management plugin) and OpenSSH's
sshd; moto's S3 server from PyPI. ``.ci/run`` installs the Debian ones; where one is missing
the test that needs it skips and names it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import free_port

IS_ROOT = os.geteuid() == 0
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def require(program: str, package: str) -> str:
    found = shutil.which(program) or next(
        (str(p) for p in (PG_BIN / program, Path("/usr/sbin") / program) if p.exists()), None
    )
    if not found:
        pytest.skip(f"needs {program} (Debian's {package}; .ci/run installs it)")
    return found


def wait_until(
    ready: Callable[[], bool], seconds: float, what: str, log: Path | None = None
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if ready():
                return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not start within {seconds:g} s\n{tail}")


@contextlib.contextmanager
def process(
    args: list[str], log: Path, stop: int = signal.SIGTERM, **kwargs: object
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        child = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kwargs,  # type: ignore[call-overload]
        )
    try:
        yield child
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, stop)
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait(5)


def as_user(user: str) -> list[str]:
    """A prefix running a command as ``user`` when the tests run as root (CI does)."""
    if not IS_ROOT:
        return []
    import pwd

    gid = pwd.getpwnam(user).pw_gid
    return ["setpriv", f"--reuid={user}", f"--regid={gid}", "--init-groups"]


@dataclass
class Postgres:
    port: int
    password: str

    def dsn(self, password: str | None = None, database: str = "postgres") -> str:
        return f"postgresql://postgres:{password or self.password}@127.0.0.1:{self.port}/{database}"


@contextlib.contextmanager
def postgres_server() -> Iterator[Postgres]:
    initdb, server = require("initdb", "postgresql"), require("postgres", "postgresql")
    base = Path(tempfile.mkdtemp(prefix="deploycheck-pg-"))
    password = "pg-secret-" + os.urandom(6).hex()
    (base / "pw").write_text(password)
    if IS_ROOT:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(base / "pw", "postgres", "postgres")
    data, port = base / "data", free_port()
    subprocess.run(
        [*as_user("postgres"), initdb, "-D", str(data), "-U", "postgres", "--auth=scram-sha-256",
         f"--pwfile={base / 'pw'}", "--no-sync"],
        check=True, capture_output=True,
    )  # fmt: skip
    args = [*as_user("postgres"), server, "-D", str(data), "-p", str(port), "-k", str(base),
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]  # fmt: skip
    try:
        with process(args, base / "log") as _:
            import psycopg

            found = Postgres(port, password)
            wait_until(
                lambda: bool(psycopg.connect(found.dsn(), connect_timeout=2).close() or True),
                30,
                "PostgreSQL",
                base / "log",
            )
            yield found
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def redis_server(*options: str) -> Iterator[int]:
    server = require("redis-server", "redis-server")
    base = Path(tempfile.mkdtemp(prefix="deploycheck-redis-"))
    port = free_port()
    args = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(base), *options]  # fmt: skip
    try:
        with process(args, base / "log"):
            import socket

            wait_until(
                lambda: bool(socket.create_connection(("127.0.0.1", port), 1).close() or True),
                15,
                "Redis",
                base / "log",
            )
            yield port
    finally:
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class RabbitMQ:
    amqp_port: int
    management_url: str


@contextlib.contextmanager
def rabbitmq_server() -> Iterator[RabbitMQ]:
    require("rabbitmq-server", "rabbitmq-server")
    # The node itself: /usr/sbin's wrapper would switch to the rabbitmq user, who cannot
    # write to this test's directory.
    server = "/usr/lib/rabbitmq/bin/rabbitmq-server"
    base = Path(tempfile.mkdtemp(prefix="deploycheck-rabbitmq-"))
    amqp, management, dist, epmd = free_port(), free_port(), free_port(), free_port()
    (base / "rabbitmq.conf").write_text(
        f"listeners.tcp.1 = 127.0.0.1:{amqp}\n"
        f"management.tcp.port = {management}\nmanagement.tcp.ip = 127.0.0.1\n"
        "collect_statistics_interval = 500\n"
    )
    (base / "enabled_plugins").write_text("[rabbitmq_management].\n")
    environment = {
        **os.environ,
        "HOME": str(base),
        "RABBITMQ_NODENAME": f"deploycheck{amqp}@localhost",
        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
        "RABBITMQ_LOG_BASE": str(base / "logs"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
        "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
        "RABBITMQ_PID_FILE": str(base / "pid"),
        "RABBITMQ_DIST_PORT": str(dist),
        "ERL_EPMD_PORT": str(epmd),
        "ERL_EPMD_RELAXED_COMMAND_CHECK": "1",
        "ERL_CRASH_DUMP": str(base / "erl_crash.dump"),
    }
    url = f"http://127.0.0.1:{management}"
    try:
        with process([server], base / "log", stop=signal.SIGKILL, env=environment):
            import httpx

            wait_until(
                lambda: httpx.get(url + "/api/overview", auth=("guest", "guest"), timeout=2).status_code == 200,
                90, "RabbitMQ", base / "log",
            )  # fmt: skip
            yield RabbitMQ(amqp, url)
    finally:
        # epmd daemonizes and outlives the node it was started for: stop the one on our port
        # (relaxed: it would refuse while the killed node is still registered).
        epmd_program = shutil.which("epmd") or "/usr/bin/epmd"
        for _ in range(20):
            stop = subprocess.run(
                [epmd_program, "-port", str(epmd), "-kill"],
                check=False,
                capture_output=True,
                text=True,
            )
            if "Cannot connect" in stop.stderr + stop.stdout:
                break  # gone
            time.sleep(0.2)
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class Sshd:
    port: int
    identity: Path
    ssh_config: Path

    def url(self, user: str = "root") -> str:
        return (
            f"ssh://{user}@127.0.0.1:{self.port}?ssh_identity_file={self.identity}"
            f"&ssh_config={self.ssh_config}"
        )


@contextlib.contextmanager
def sshd_server() -> Iterator[Sshd]:
    """OpenSSH's sshd on a free loopback port with a throwaway host key and client key; the
    user it lets in is the one running the tests (root in CI)."""
    sshd = require("sshd", "openssh-server")
    keygen = require("ssh-keygen", "openssh-client")
    base = Path(tempfile.mkdtemp(prefix="deploycheck-sshd-"))
    base.chmod(0o755)
    for name in ("host_key", "client_key"):
        subprocess.run(
            [keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(base / name)], check=True
        )
    (base / "authorized_keys").write_text((base / "client_key.pub").read_text())
    (base / "authorized_keys").chmod(0o600)
    port = free_port()
    (base / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {base / 'host_key'}\n"
        f"AuthorizedKeysFile {base / 'authorized_keys'}\nPidFile {base / 'sshd.pid'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\n"
    )
    (base / "ssh_config").write_text(
        "Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
        "  BatchMode yes\n"
    )
    if IS_ROOT:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    try:
        with process([sshd, "-D", "-e", "-f", str(base / "sshd_config")], base / "log"):
            import socket

            wait_until(
                lambda: bool(socket.create_connection(("127.0.0.1", port), 1).close() or True),
                15,
                "sshd",
                base / "log",
            )
            yield Sshd(port, base / "client_key", base / "ssh_config")
    finally:
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class Prometheus:
    url: str
    scraped_port: int  # where it expects the watch's metrics

    def query(self, promql: str) -> list[dict[str, object]]:
        import httpx

        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        answer.raise_for_status()
        result: list[dict[str, object]] = answer.json()["data"]["result"]
        return result


@contextlib.contextmanager
def prometheus_server(*scraped: tuple[str, str]) -> Iterator[Prometheus]:
    """Prometheus scraping each ``(job, host:port)`` every second, and the watch's metrics
    on a port chosen here (job ``deploycheck``)."""
    binary = require("prometheus", "prometheus")
    base = Path(tempfile.mkdtemp(prefix="deploycheck-prom-"))
    port, watch_port = free_port(), free_port()
    jobs = [*scraped, ("deploycheck", f"127.0.0.1:{watch_port}")]
    (base / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n"
        + "".join(
            f"  - job_name: {job}\n    static_configs: [{{targets: ['{target}']}}]\n"
            for job, target in jobs
        )
    )
    args = [binary, f"--config.file={base / 'prometheus.yml'}",
            f"--storage.tsdb.path={base / 'data'}", f"--web.listen-address=127.0.0.1:{port}"]  # fmt: skip
    try:
        with process(args, base / "log") as _:
            import httpx

            found = Prometheus(f"http://127.0.0.1:{port}", watch_port)
            wait_until(
                lambda: httpx.get(f"{found.url}/-/ready", timeout=2).status_code == 200,
                30,
                "Prometheus",
                base / "log",
            )
            yield found
    finally:
        shutil.rmtree(base, ignore_errors=True)
