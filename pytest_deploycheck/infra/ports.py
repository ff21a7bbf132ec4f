"""Ports: listening where they should, and not reachable from outside where they must not be."""

from __future__ import annotations

import ipaddress
import socket

from pytest_deploycheck.infra.hosts import DeployHost

# What usually listens there, to name it in a message.
WELL_KNOWN = {
    3000: "Grafana",
    9090: "Prometheus",
    5432: "PostgreSQL",
    6379: "Redis",
    5672: "RabbitMQ (AMQP)",
    15672: "RabbitMQ management",
    9000: "MinIO",
    8080: "Keycloak",
    27017: "MongoDB",
    9200: "Elasticsearch",
}


def named(port: int) -> str:
    what = WELL_KNOWN.get(port)
    return f"{port} ({what})" if what else str(port)


def check_listening(host: DeployHost, specs: tuple[str, ...]) -> list[str]:
    """Each socket spec (``tcp://0.0.0.0:8000``, ``tcp://443``) is listening on the host."""
    problems = []
    for spec in specs:
        listening = host.use(f"socket {spec}", lambda s=spec: host.module("socket", s).is_listening)
        if not listening:
            problems.append(f"nothing listens on {spec}")
    return problems


def listening_beyond_internal(host: DeployHost, ports: tuple[int, ...]) -> list[str]:
    """On the host: nothing listens on these ports on every address or on a public one.
    Loopback and private networks (10/8, 172.16/12, 192.168/16, fc00::/7) are internal."""
    if not ports:
        return []
    sockets = host.use(
        "its listening sockets", lambda: host.testinfra.socket.get_listening_sockets()
    )
    problems = []
    for url in sockets:
        scheme, _, rest = str(url).partition("://")
        if scheme not in ("tcp", "udp"):
            continue
        address, _, port_text = rest.rpartition(":")
        if not port_text.isdigit() or int(port_text) not in ports:
            continue
        reach = _reach_of(address)
        if reach:
            problems.append(
                f"port {named(int(port_text))} listens on {reach} ({url}): bind it to "
                "127.0.0.1 or an internal address (behind a firewall that closes it? leave the "
                "port out of this role's not_exposed)"
            )
    return problems


def reachable_from_here(address: str, ports: tuple[int, ...], timeout_s: float = 3.0) -> list[str]:
    """From the machine that runs the checks: a TCP connect to each port must fail."""
    problems = []
    for port in ports:
        try:
            with socket.create_connection((address, port), timeout=timeout_s):
                pass
        except OSError:
            continue
        problems.append(
            f"port {named(port)} of {address} is reachable from this machine: "
            "restrict it with a firewall or bind it to an internal address"
        )
    return problems


def _reach_of(address: str) -> str | None:
    """How far a listening address reaches beyond the host's internal networks; None: it
    does not (loopback, private, link-local)."""
    address = address.strip("[]").split("%")[0]
    if address in ("", "*", "0.0.0.0", "::"):
        return "every address"
    if address == "localhost":
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if parsed.is_loopback or parsed.is_private or parsed.is_link_local:
        return None
    return f"the public address {address}"
