"""A total deadline for one HTTP exchange, and which phase it was in when time ran out.

httpx's timeouts bound each socket operation, not the exchange: a target that
sends a byte every 2 s never trips a 10 s read timeout. :class:`Deadline`
arms a timer for ``timeouts.total``; when it fires it shuts the exchange's
socket down, which wakes the blocked read at once, and the client reports
"too slow" with the phase it was in. httpcore's trace events say the phase
(TCP connect, TLS handshake, sending, waiting for headers, reading the body)
and hand over the socket as soon as there is one.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

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
        else:
            what = f"the answer was too slow to arrive ({phase}) within"
        return (
            f"{what} {self.seconds:g} s (timeouts.total, the limit for a whole exchange); "
            "the service is slow or stalls mid-answer: check its logs and load"
        )
