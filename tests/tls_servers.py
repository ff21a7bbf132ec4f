"""Local HTTPS servers with certificates made by trustme, and plain-http listeners, for transport tests."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import trustme

BODY = b'{"status": "healthy"}'


class _Health(BaseHTTPRequestHandler):
    redirect_to: str | None = None

    def do_GET(self) -> None:  # noqa: N802
        if self.redirect_to is not None:
            self.send_response(301)
            self.send_header("Location", self.redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


def issue(
    ca: trustme.CA, host: str = "127.0.0.1", *, days: float = 90, expired: bool = False
) -> trustme.LeafCert:
    now = datetime.datetime.now(datetime.timezone.utc)
    if expired:
        return ca.issue_cert(
            host,
            not_before=now - datetime.timedelta(days=30),
            not_after=now - datetime.timedelta(days=1),
        )
    return ca.issue_cert(
        host,
        not_before=now - datetime.timedelta(days=1),
        not_after=now + datetime.timedelta(days=days),
    )


@contextmanager
def _serve(server: ThreadingHTTPServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def https_server(
    cert: trustme.LeafCert, *, legacy_tls: bool = False, host: str = "127.0.0.1"
) -> Iterator[int]:
    """An HTTPS health endpoint on ``host`` (``::1`` for IPv6); ``legacy_tls`` also accepts
    TLS 1.0/1.1."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    if legacy_tls:
        context.set_ciphers("ALL:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # deprecated is the point here
            context.minimum_version = ssl.TLSVersion.TLSv1
    else:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
    server = _server(host, _Health)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with _serve(server) as port:
        yield port


@contextmanager
def http_listener(redirect_to: str | None, host: str = "127.0.0.1") -> Iterator[int]:
    """Plain http on ``host``: redirects every path to ``redirect_to`` (301), or answers 200."""
    handler = type("Handler", (_Health,), {"redirect_to": redirect_to})
    with _serve(_server(host, handler)) as port:
        yield port


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _server(host: str, handler: type) -> ThreadingHTTPServer:
    return (_IPv6Server if ":" in host else ThreadingHTTPServer)((host, 0), handler)
