"""Misbehaving servers on 127.0.0.1 for bad-input tests: one that hangs, one that drops."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def tcp_server(handler: str) -> Iterator[str]:
    """``hang``: accept and never answer. ``drop-first``: close the first connection unanswered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    stop = threading.Event()
    held: list[socket.socket] = []
    counts = {"connections": 0}

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            counts["connections"] += 1
            if handler == "hang":
                held.append(conn)
                continue
            if handler == "drop-first" and counts["connections"] == 1:
                conn.recv(65536)
                conn.close()
                continue
            conn.recv(65536)
            body = b'{"status": "healthy"}'
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()
