"""A real HTTP forward proxy on loopback, for the tests of a CI runner behind one: it answers
absolute-form requests (``GET http://host:port/path``), resolving the names it knows (which
nothing else here can), and records every host it was asked for."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit


@contextmanager
def forward_proxy(names: dict[str, str]) -> Iterator[tuple[str, list[str]]]:
    """``names`` maps a host name only the proxy knows to the address it stands for; yields
    the proxy's URL and the hosts it was asked for."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()
    asked: list[str] = []

    def relay(client: socket.socket) -> None:
        with client:
            client.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(65536)
                if not chunk:
                    return
                head += chunk
            head, _, body = head.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ", 2)
            url = urlsplit(target)
            asked.append(url.hostname or "")
            length = next(
                (
                    int(h.split(":", 1)[1])
                    for h in lines[1:]
                    if h.lower().startswith("content-length:")
                ),
                0,
            )
            while len(body) < length:
                body += client.recv(65536)
            headers = [h for h in lines[1:] if not h.lower().startswith(("connection:", "proxy-"))]
            path = url.path + (f"?{url.query}" if url.query else "")
            request = "\r\n".join(
                [f"{method} {path or '/'} {version}", *headers, "Connection: close"]
            )
            address = names.get(url.hostname or "", url.hostname or "")
            with socket.create_connection((address, url.port or 80), timeout=10) as upstream:
                upstream.sendall(request.encode("latin-1") + b"\r\n\r\n" + body)
                while chunk := upstream.recv(65536):
                    client.sendall(chunk)

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=relay, args=(client,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", asked
    finally:
        stop.set()
        thread.join(2)
        listener.close()
