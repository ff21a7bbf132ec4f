"""The infra suite for real, through testinfra: on this machine (``local://``) and over
``ssh://`` to an sshd the tests start on 127.0.0.1. A temporary "deployment" holds the files,
a fake service process (run as ``nobody`` when the tests run as root) and the ports; each check
passes when it is right and fails naming the cause when it is wrong."""

from __future__ import annotations

import getpass
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pytest_deploycheck.config.schema import InfraHost, TargetEnv
from pytest_deploycheck.errors import ConfigError
from pytest_deploycheck.infra.hosts import hosts_to_check
from tests.conftest import SuiteProject, assert_no_plugin_traceback
from tests.infra_servers import IS_ROOT, Sshd, as_user, require, sshd_server
from tests.servers import free_port

pytest.importorskip("testinfra", reason="needs pytest-testinfra (the infra extra)")

FAKE_SERVICE = """#!{python}
import socket, sys, time
sockets = []
for address, port in ((a, int(p)) for a, p in (x.split("=") for x in sys.argv[1:])):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port)); s.listen(); sockets.append(s)
time.sleep(600)
"""
SECRET = "very-secret-signing-key-42"


def certificate(path: Path, days: int) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.example.com")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@dataclass
class Box:
    """A temporary deployment on this machine."""

    root: Path
    port: int  # the fake service listens here on 127.0.0.1
    exposed_port: int  # … and here on every address
    closed_port: int  # nothing listens here
    root_service: bool  # a second fake service runs as root (only when the tests do)


@pytest.fixture(scope="module")
def box() -> Iterator[Box]:
    root = Path(tempfile.mkdtemp(prefix="deploycheck-box-"))
    root.chmod(0o755)
    good = root / ".env"
    good.write_text(f"DEBUG=false\nENVIRONMENT=production\nSECRET_KEY={SECRET}\n")
    good.chmod(0o600)
    bad = root / ".env.bad"
    bad.write_text(f"export DEBUG=True\nENVIRONMENT='staging'  \nSECRET_KEY={SECRET}\n")
    bad.chmod(0o644)
    (root / "sshd_config").write_text("# hardened\nPermitRootLogin no\n")
    (root / "sshd_config.bad").write_text("Port 22\n#PermitRootLogin no\n")
    certificate(root / "good.pem", 90)
    certificate(root / "soon.pem", 3)
    for name in ("fake-anki-api", "fake-anki-root"):
        (root / name).write_text(FAKE_SERVICE.format(python=sys.executable))
        (root / name).chmod(0o755)
    port, exposed, closed = free_port(), free_port(), free_port()
    service = subprocess.Popen(
        [*as_user("nobody"), str(root / "fake-anki-api"), f"127.0.0.1={port}", f"0.0.0.0={exposed}"]
    )
    as_root = subprocess.Popen([str(root / "fake-anki-root")]) if IS_ROOT else None
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", exposed), 1).close()
            break
        except OSError:
            if time.monotonic() > deadline or service.poll() is not None:
                raise RuntimeError("the fake service did not start") from None
            time.sleep(0.05)
    try:
        yield Box(root, port, exposed, closed, as_root is not None)
    finally:
        for child in (service, as_root):
            if child is not None:
                child.kill()
                child.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def sshd() -> Iterator[Sshd]:
    with sshd_server() as server:
        yield server


def healthy_config(url: str, box: Box) -> str:
    user = getpass.getuser()
    return f"""
[envs.box]
base_url = "http://127.0.0.1:9"
[envs.box.infra]
hosts = [{{ url = "{url}", roles = ["api"], name = "box", address = "127.0.0.1" }}]
not_exposed = [{box.closed_port}]
disk_paths = ["{box.root}"]
max_disk_used_percent = 100
max_memory_used_percent = 100
[envs.box.infra.roles.api]
processes = ["fake-anki-api"]
listening = ["tcp://127.0.0.1:{box.port}"]
secret_files = [{{ path = "{box.root}/.env", mode = "600", owner = "{user}" }}]
env_files = [{{ path = "{box.root}/.env", expect = {{ DEBUG = "false", ENVIRONMENT = "production" }} }}]
sshd_config = "{box.root}/sshd_config"
cert_files = ["{box.root}/good.pem"]
"""


def broken_config(url: str, box: Box) -> str:
    return f"""
[envs.box]
base_url = "http://127.0.0.1:9"
[envs.box.infra]
hosts = [{{ url = "{url}", roles = ["api"], name = "box", address = "127.0.0.1" }}]
not_exposed = [{box.exposed_port}, {box.port}]
disk_paths = ["{box.root}"]
max_disk_used_percent = 0.001
max_memory_used_percent = 0.001
[envs.box.infra.roles.api]
services = ["deploycheck-no-such-service"]
processes = ["fake-anki-api", "fake-anki-root", "celery-worker-x"]
listening = ["tcp://127.0.0.1:{box.closed_port}"]
secret_files = [{{ path = "{box.root}/.env.bad", mode = "600", owner = "anki" }}]
env_files = [{{ path = "{box.root}/.env.bad", expect = {{ DEBUG = "false", ENVIRONMENT = "production", SECRET_KEY = "another", LOG_LEVEL = "INFO" }} }}]
sshd_config = "{box.root}/sshd_config.bad"
cert_files = ["{box.root}/soon.pem"]
"""


@pytest.fixture(params=["local", "ssh"])
def host_url(request: pytest.FixtureRequest) -> str:
    if request.param == "local":
        return "local://"
    sshd: Sshd = request.getfixturevalue("sshd")
    return sshd.url(getpass.getuser())


def test_a_correct_host_passes_every_check(
    suite_project: SuiteProject, box: Box, host_url: str
) -> None:
    suite_project.config(healthy_config(host_url, box))
    result = suite_project.run("--env", "box", "test_infra.py", "-rs")
    result.assert_outcomes(passed=9, skipped=1)  # services: none configured
    result.stdout.fnmatch_lines(
        ["*GREEN: the deployment works*9 checks passed*"]
    )  # API never asked
    result.stdout.fnmatch_lines(["*no infra services configured for host 'box' (roles: api)*"])
    # over ssh, the one shared connection ended with the run (the inner run is this process)
    digest = hashlib.sha1(f"{os.getpid()} {host_url}".encode()).hexdigest()[:12]
    assert not (Path(tempfile.gettempdir()) / f"deploycheck-ssh-{digest}").exists()


def test_each_misconfiguration_fails_naming_its_cause(
    suite_project: SuiteProject, box: Box, host_url: str
) -> None:
    suite_project.config(broken_config(host_url, box))
    # testinfra's DEBUG lines are captured and shown with each failure: never the output
    result = suite_project.run("--env", "box", "test_infra.py", "--log-level=DEBUG")
    result.assert_outcomes(failed=10)
    result.stdout.fnmatch_lines(["*RED: 10 checks failed*"])
    output = result.stdout.str()
    assert (
        "service 'deploycheck-no-such-service' is not running" in output
        or "systemd is installed but not running on this host" in output  # this machine
    )
    expected = [
        "no process 'celery-worker-x' is running",
        f"nothing listens on tcp://127.0.0.1:{box.closed_port}",
        f"port {box.exposed_port} listens on every address (tcp://0.0.0.0:{box.exposed_port})",
        f"port {box.exposed_port} of 127.0.0.1 is reachable from this machine",
        f"port {box.port} of 127.0.0.1 is reachable from this machine",
        f"{box.root}/.env.bad: mode 644 allows more than 600 (group can read, others can read)",
        "owned by",
        f"{box.root}/.env.bad: DEBUG is 'True', expected 'false'",
        f"{box.root}/.env.bad: ENVIRONMENT is 'staging', expected 'production'",
        f"{box.root}/.env.bad: SECRET_KEY is a different value, expected 'another'",
        f"{box.root}/.env.bad: LOG_LEVEL is not set",
        f"{box.root}/sshd_config.bad: PermitRootLogin is ",  # 'without-password' by sshd -T, or not set
        f"{box.root}/soon.pem: the certificate for CN=api.example.com expires in 3 days",
        "above 0.001% (infra.max_disk_used_percent)",
        "above 0.001% (infra.max_memory_used_percent)",
    ]
    if box.root_service:
        expected.append("process 'fake-anki-root' runs as root")
    for text in expected:
        assert text in output, text
    assert "process 'fake-anki-api' runs as root" not in output  # it runs as nobody
    assert SECRET not in output
    assert "its output is not logged" in output  # testinfra's lines were there, without it
    assert_no_plugin_traceback(result)


@pytest.mark.skipif(not IS_ROOT, reason="sshd -T needs root to read the host keys")
def test_sshd_root_login_is_judged_by_the_effective_config(
    suite_project: SuiteProject, box: Box
) -> None:
    """A drop-in that sshd reads first wins over the main file's PermitRootLogin no."""
    require("sshd", "openssh-server")  # without it the check reads the file: another test
    dropins = box.root / "sshd_config.d"
    dropins.mkdir(exist_ok=True)
    (dropins / "cloud.conf").write_text("PermitRootLogin yes\n")
    main = box.root / "sshd_config.dropin"
    main.write_text(f"Include {dropins}/*.conf\nPermitRootLogin no\n")
    suite_project.config(
        '[envs.box]\nbase_url = "http://127.0.0.1:9"\n'
        f'infra = {{ hosts = [{{ url = "local://" }}], checks = {{ sshd_config = "{main}" }} }}\n'
    )
    result = suite_project.run("--env", "box", "test_infra.py", "-k", "ssh_root")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*{main}: PermitRootLogin is 'yes' (effective, from sshd -T)*"])


def test_hosts_option_checks_the_hosts_given_as_testinfra_users_expect(
    suite_project: SuiteProject, box: Box
) -> None:
    suite_project.config(
        '[envs.box]\nbase_url = "http://127.0.0.1:9"\n'
        f'infra = {{ not_exposed = [], disk_paths = ["{box.root}"], max_disk_used_percent = 100, '
        "max_memory_used_percent = 100, checks = { processes = ['fake-anki-api'] } }\n"
    )
    result = suite_project.run("--env", "box", "test_infra.py", "--hosts", "local://", "-v")
    result.stdout.fnmatch_lines(["*test_processes_running_not_as_root?local:*PASSED*"])
    result.assert_outcomes(passed=3, skipped=7)
    without = suite_project.run("--env", "box", "test_infra.py", "-rs")
    without.assert_outcomes(skipped=10)
    without.stdout.fnmatch_lines(["*env 'box' lists no hosts (infra.hosts), and no --hosts given*"])


def test_an_unreachable_host_is_one_clear_message(suite_project: SuiteProject) -> None:
    port = free_port()
    suite_project.config(
        '[envs.box]\nbase_url = "http://127.0.0.1:9"\n'
        f'infra.hosts = [{{ url = "ssh://nobody@127.0.0.1:{port}?timeout=3" }}]\n'
    )
    result = suite_project.run("--env", "box", "test_infra.py", "-k", "memory or disk")
    result.assert_outcomes(failed=2)  # each check of the host fails; the run goes on
    result.stdout.fnmatch_lines(
        [
            "*host 'ssh://nobody@127.0.0.1:*': cannot run commands: *refused",
            "*host 'ssh://nobody@127.0.0.1:*': cannot run commands: *refused (not checked again)",
        ]
    )
    assert_no_plugin_traceback(result)


def test_a_hanging_command_is_cut_at_the_command_timeout(
    suite_project: SuiteProject, box: Box
) -> None:
    fifo = box.root / "hangs.env"
    os.mkfifo(fifo)  # reading it waits for a writer that never comes
    suite_project.config(
        '[envs.box]\nbase_url = "http://127.0.0.1:9"\n'
        '[envs.box.infra]\nhosts = [{ url = "local://" }]\ncommand_timeout_s = 1\n'
        f'checks = {{ env_files = [{{ path = "{fifo}" }}] }}\n'
    )
    result = suite_project.run("--env", "box", "test_infra.py", "-k", "settings or disk")
    result.assert_outcomes(failed=2)  # the hung host's next check does not wait again
    result.stdout.fnmatch_lines(
        [
            "*a command did not finish within 1 s (infra.command_timeout_s)*",
            "*a command did not finish within 1 s *(not checked again)",
        ]
    )


def test_infra_joins_smoke_only_where_the_env_says_so(
    suite_project: SuiteProject, box: Box
) -> None:
    base = '[envs.box]\nbase_url = "http://127.0.0.1:9"\ninfra.hosts = [{ url = "local://" }]\n'
    suite_project.config(base)
    plain = suite_project.run(
        "--env", "box", "-m", "smoke", "test_infra.py", "--collect-only", "-q"
    )
    plain.stdout.fnmatch_lines(["*10 deselected*"])
    suite_project.config(base + "infra.smoke = true\n")
    joined = suite_project.run(
        "--env", "box", "-m", "smoke", "test_infra.py", "--collect-only", "-q"
    )
    joined.stdout.fnmatch_lines(["*10 tests collected*"])


@pytest.mark.parametrize(
    ("url", "outside"),
    [
        ("local://", None),
        ("ssh://deploy@api-1.example.com:2222", "api-1.example.com"),
        ("paramiko://deploy@10.0.0.5", "10.0.0.5"),
        ("docker://anki-worker", None),
        ("podman://anki-worker@anki", None),
        ("kubectl://anki-api-0?namespace=anki&container=api", None),
        ("ansible://api-1?ansible_inventory=inventory.ini", None),
        ("ssh://deploy:s3cret-pw@api-1:22?sudo=true", "api-1"),
    ],
)
def test_testinfra_connection_strings_are_accepted(url: str, outside: str | None) -> None:
    import testinfra.backend

    host = InfraHost(url=url, roles=("api",))
    assert host.outside_address == outside
    assert host.label == url.split("?")[0].replace(":s3cret-pw", "")  # never the password
    name, options = testinfra.backend.parse_hostspec(url)
    assert options["connection"] == url.split("://")[0]


def test_a_connection_string_testinfra_does_not_know_is_a_config_error(
    suite_project: SuiteProject,
) -> None:
    suite_project.config(
        '[envs.box]\nbase_url = "http://127.0.0.1:9"\ninfra.hosts = [{ url = "sftp://x" }]\n'
    )
    result = suite_project.run("--env", "box", "test_infra.py")
    result.stderr.fnmatch_lines(
        ["*infra.hosts*must be a testinfra connection string*got 'sftp://x'*"]
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_hosts_given_on_the_command_line_keep_their_configured_roles() -> None:
    env = TargetEnv(
        name="x",
        base_url="http://a",
        infra={"hosts": [{"url": "ssh://deploy@api-1", "roles": ["api"], "name": "api-1"}]},
    )
    chosen = hosts_to_check(env, "api-1,worker-2", None)
    assert [(h.url, h.roles) for h in chosen] == [
        ("ssh://deploy@api-1", ("api",)),
        ("paramiko://worker-2", ()),
    ]
    assert hosts_to_check(env, "box", "docker")[0].url == "docker://box"
    with pytest.raises(ConfigError, match="--hosts: must be a testinfra connection string"):
        hosts_to_check(env, "ftp://x", None)


def test_a_process_that_ends_while_it_is_checked_is_left_out() -> None:
    """testinfra reads a process's user with a second ps when asked: an ssh session's own
    helper may be gone by then (found by benchmarks/bench_infra.py over ssh)."""
    import testinfra

    from pytest_deploycheck.infra.processes import _user_of

    child = subprocess.Popen(["sleep", "30"])
    try:
        (listed,) = testinfra.get_host("local://").process.filter(pid=child.pid)
    finally:
        child.kill()
        child.wait()
    assert _user_of(listed) is None


@pytest.mark.parametrize(
    ("address", "reach"),
    [
        ("0.0.0.0", "every address"),
        ("::", "every address"),
        ("*", "every address"),
        ("203.0.113.7", None),  # TEST-NET-3: documentation, not global
        ("8.8.8.8", "the public address 8.8.8.8"),
        ("127.0.0.1", None),
        ("::1", None),
        ("10.0.0.5", None),
        ("172.18.0.2", None),  # a Docker network
        ("192.168.1.10", None),
        ("fe80::1%eth0", None),
    ],
)
def test_what_counts_as_listening_beyond_internal_networks(address: str, reach: str | None) -> None:
    from pytest_deploycheck.infra.ports import _reach_of

    assert _reach_of(address) == reach


def test_a_role_replaces_not_exposed_and_adds_to_lists() -> None:
    env = TargetEnv(
        name="x",
        base_url="http://a",
        infra={
            "checks": {"processes": ["node_exporter"]},
            "roles": {"db": {"processes": ["postgres"], "not_exposed": [3000, 9090]}},
        },
    )
    db = env.infra.checks_for(InfraHost(url="ssh://db-1", roles=("db",)))
    api = env.infra.checks_for(InfraHost(url="ssh://api-1", roles=("api",)))
    assert db.processes == ("node_exporter", "postgres") and db.not_exposed == (3000, 9090)
    assert api.processes == ("node_exporter",) and api.not_exposed is None


def test_an_infra_run_does_not_start_the_embedded_deployment(suite_project: SuiteProject) -> None:
    """Nothing asks the API, so nothing starts it (pytest-base-url's autouse check used to)."""
    result = suite_project.run("--env", "local", "-m", "infra", "test_infra.py")
    result.assert_outcomes(skipped=10)
    assert "embedded reference deployment ran at" not in result.stdout.str()


def test_a_cancelled_run_leaves_no_host_command_running(tmp_path: Path) -> None:
    """CI stops a run with SIGTERM while a host command hangs: the command's process group
    goes with the run (it runs in its own session, which CI's signal does not reach)."""
    fifo = tmp_path / "hangs.env"
    os.mkfifo(fifo)
    (tmp_path / "deploycheck.toml").write_text(
        '[envs.box]\nbase_url = "http://127.0.0.1:9"\n'
        '[envs.box.infra]\nhosts = [{ url = "local://" }]\ncommand_timeout_s = 300\n'
        f'checks = {{ env_files = [{{ path = "{fifo}" }}] }}\n'
    )
    shutil.copy(Path(__file__).parent.parent / "suites" / "test_infra.py", tmp_path)
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--env", "box", "-k", "settings", "-p", "no:cacheprovider",
         "test_infra.py"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip

    def hanging() -> list[str]:
        found = subprocess.run(["pgrep", "-f", f"cat -- {fifo}"], capture_output=True, text=True)
        return found.stdout.split()

    deadline = time.monotonic() + 30
    while not hanging():
        assert time.monotonic() < deadline and run.poll() is None, "the command never started"
        time.sleep(0.05)
    run.send_signal(signal.SIGTERM)
    output, _ = run.communicate(timeout=30)
    assert run.returncode == pytest.ExitCode.INTERRUPTED, output
    assert not hanging()


def test_backends_without_a_local_process_are_bounded_by_a_thread(tmp_path: Path) -> None:
    """paramiko, salt, winrm and ansible run commands in-process: the run stops waiting at
    the deadline. (paramiko is not installed here: a local backend stands in for it.)"""
    import testinfra

    from pytest_deploycheck.infra.hosts import HostUnavailable, _bound_commands

    fifo = tmp_path / "hangs"
    os.mkfifo(fifo)
    backend = testinfra.get_host("local://", sudo_user="bounded-test").backend  # a fresh one
    backend.get_connection_type = lambda: "paramiko"
    _bound_commands(backend, 0.5, "box")
    try:
        with pytest.raises(HostUnavailable, match="did not finish within 0.5 s"):
            backend.run("cat %s", str(fifo))
    finally:
        with open(fifo, "w"):  # releases the abandoned command
            pass


def test_a_disk_path_that_does_not_exist_is_one_message(suite_project: SuiteProject) -> None:
    suite_project.config(
        '[envs.box]\nbase_url = "http://127.0.0.1:9"\n'
        'infra = { hosts = [{ url = "local://" }], disk_paths = ["/no/such/mount"] }\n'
    )
    result = suite_project.run("--env", "box", "test_infra.py", "-k", "disk")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*/no/such/mount: cannot read its disk usage (df: *No such file*"])
    assert_no_plugin_traceback(result)
