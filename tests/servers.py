"""Misbehaving servers on 127.0.0.1 for bad-input tests.

``hang``        accepts and never answers (also: a TLS handshake that never completes)
``drop-first``  closes the first connection unanswered
``trickle``     sends the headers, then one byte of the body every 0.5 s
``keepalive-trickle``  answers once, keeps the connection, then trickles the next answer's head
``big``         answers /health with a 50 MB JSON body
"""

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
def serving(app: object) -> Iterator[str]:
    """An ASGI app served by uvicorn on a free loopback port, in a thread; yields its URL."""
    import time

    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,  # type: ignore[arg-type]
            host="127.0.0.1",
            port=port,
            log_level="critical",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


@contextmanager
def tcp_server(handler: str) -> Iterator[str]:
    """A server that misbehaves as ``handler`` says (see the module docstring)."""
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
            if handler in ("trickle", "big", "keepalive-trickle"):
                threading.Thread(target=_misanswer, args=(conn, handler, stop), daemon=True).start()
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


BIG_BODY_BYTES = 50_000_000


def _misanswer(conn: socket.socket, handler: str, stop: threading.Event) -> None:
    try:
        conn.recv(65536)
        if handler == "keepalive-trickle":
            # The first answer whole, the connection kept alive; the second answer's head one
            # byte every 0.5 s, on that reused connection.
            body = b'{"status": "healthy"}'
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" * 50:
                if stop.wait(0.5):
                    break
                conn.sendall(bytes([byte]))
            return
        if handler == "trickle":
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            )
            while not stop.wait(0.5):
                conn.sendall(b" ")
        else:
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + f"Content-Length: {BIG_BODY_BYTES}\r\n\r\n".encode()
            )
            chunk = b" " * 65536
            sent = 0
            while sent < BIG_BODY_BYTES and not stop.is_set():
                conn.sendall(chunk[: BIG_BODY_BYTES - sent])
                sent += len(chunk)
    except OSError:
        pass  # the client stopped reading: that is the point
    finally:
        conn.close()
