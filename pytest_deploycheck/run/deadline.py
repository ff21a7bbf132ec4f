"""A total deadline for one HTTP exchange, and which phase it was in when time ran out.

httpx's timeouts bound each socket operation, not the exchange: a target that
sends a byte every 2 s never trips a 10 s read timeout. :class:`Deadline`
arms a timer for ``timeouts.total``; when it fires it shuts the exchange's
socket down, which wakes the blocked read at once, and the client reports
"too slow" with the phase it was in. httpcore's trace events say the phase
(TCP connect, TLS handshake, sending, waiting for headers, reading the body)
and hand over the socket as soon as there is one. :class:`DeadlineBackend` bounds every
socket operation (name resolution included) by what is left of the deadline, so a reused
keep-alive connection, which emits no connect event, is bounded too.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore

PHASES = {
    "connection.connect_tcp": "opening the TCP connection",
    "connection.start_tls": "the TLS handshake",
    "http11.send_request_headers": "sending the request",
    "http11.send_request_body": "sending the request",
    "http11.receive_response_headers": "waiting for the answer's headers",
    "http11.receive_response_body": "reading the answer's body",
}


class Deadline:
    """Shuts one exchange down at ``seconds``; usable as httpcore's ``trace`` extension."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self.phase = ""  # the last phase that started and did not complete
        self.bytes_read = 0
        self._started = time.monotonic()
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def start(self) -> Deadline:
        self._started = time.monotonic()
        self._timer.start()
        return self

    def cancel(self) -> None:
        self._timer.cancel()

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self._started

    @property
    def left_s(self) -> float:
        return self.seconds - self.elapsed_s

    @property
    def expired(self) -> bool:
        """Fired, or its time is up (a socket operation it bounded timed out a moment before
        the timer went off)."""
        return self.fired or self.left_s <= 0.05

    def trace(self, event: str, info: dict[str, Any]) -> None:
        name, _, stage = event.rpartition(".")
        if stage == "started" and name in PHASES:
            self.phase = PHASES[name]
        elif stage == "complete" and name in ("connection.connect_tcp", "connection.start_tls"):
            self.attach(info.get("return_value"))

    def attach(self, stream: Any) -> None:
        """The exchange's network stream (from a trace event or the response's extensions)."""
        sock = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            if sock is not None:
                self._socket = sock
            fired = self.fired
        if fired:
            self._shutdown()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
        self._shutdown()

    def _shutdown(self) -> None:
        with self._lock:
            sock = self._socket
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def describe(self) -> str:
        """Why the exchange was stopped, for the failure message."""
        phase = self.phase or "waiting for the answer"
        if phase == "reading the answer's body":
            what = f"the answer was too slow to arrive: {self.bytes_read} bytes of its body in"
        elif phase == "the TLS handshake":
            what = "TCP connected, but the TLS handshake did not complete within"
        elif phase == "opening the TCP connection":
            what = "no TCP connection within"
        elif phase == "resolving the host name":
            what = "the host name did not resolve within"
        else:
            what = f"the answer was too slow to arrive ({phase}) within"
        return (
            f"{what} {self.seconds:g} s (timeouts.total, the limit for a whole exchange); "
            "the service is slow or stalls mid-answer: check its logs and load"
        )


# The deadline of the exchange this thread is sending (a sync client does its I/O on the
# calling thread): the network backend below bounds every socket operation by it.
_current = threading.local()


@contextlib.contextmanager
def in_force(deadline: Deadline) -> Iterator[None]:
    """Make ``deadline`` the one every socket operation of this thread is bounded by."""
    previous = getattr(_current, "deadline", None)
    _current.deadline = deadline
    try:
        yield
    finally:
        _current.deadline = previous


def _bounded(timeout: float | None) -> float | None:
    """``timeout`` (httpx's per-operation one), cut to what is left of the exchange's deadline."""
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is None:
        return timeout
    left = max(deadline.left_s, 0.001)
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A connection's stream whose every read and write ends by the exchange's deadline, on a
    new connection or a reused keep-alive one (which emits no connect event to hook)."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return DeadlineStream(self.inner.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend with the exchange's deadline on name resolution, connect
    and every read and write."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self.inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        deadline: Deadline | None = getattr(_current, "deadline", None)
        addresses = [host]
        if deadline is not None and not _is_ip(host):
            deadline.phase = "resolving the host name"
            addresses = _resolve(host, port, _bounded(timeout))
            deadline.phase = PHASES["connection.connect_tcp"]
        error: Exception | None = None
        for address in addresses:  # as socket.create_connection: each address in turn
            try:
                stream = self.inner.connect_tcp(
                    address, port, _bounded(timeout), local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
                continue
            return DeadlineStream(stream)
        assert error is not None
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return DeadlineStream(
            self.inner.connect_unix_socket(path, _bounded(timeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _resolve(host: str, port: int, timeout: float | None) -> list[str]:
    """The host's addresses, resolved in a worker thread so the deadline bounds it (the system
    resolver has its own, longer, timeouts)."""
    found: list[str] = []
    failure: list[BaseException] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            found.extend(dict.fromkeys(str(info[4][0]) for info in infos))
        except OSError as exc:
            failure.append(exc)

    worker = threading.Thread(target=lookup, daemon=True, name="deploycheck-dns")
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise httpcore.ConnectTimeout(f"resolving {host!r} did not finish in time")
    if failure or not found:
        raise httpcore.ConnectError(
            f"cannot resolve {host!r}: {failure[0] if failure else 'no address'}"
        )
    return found


def bound_by_deadlines(transport: Any) -> Any:
    """``transport`` (an ``httpx.HTTPTransport``, direct or through a proxy) with every socket
    operation bounded by the exchange's deadline. httpx takes no network backend, so it is set
    on the httpcore pool it builds; a test proves it with a keep-alive trickle."""
    pool = getattr(transport, "_pool", None)
    if pool is None or not hasattr(pool, "_network_backend"):
        raise RuntimeError("httpx's transport has changed: the deadline cannot be enforced")
    pool._network_backend = DeadlineBackend(pool._network_backend)
    return transport
