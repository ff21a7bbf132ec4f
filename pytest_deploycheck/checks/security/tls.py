"""TLS checks on an https target: the certificate, its expiry, and the protocol versions."""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass

from pytest_deploycheck.errors import CheckFailed, TargetUnreachable


@dataclass(frozen=True)
class TlsInfo:
    version: str
    not_after: str
    days_left: float
    subject: str


def inspect_certificate(host: str, port: int, *, cafile: str | None, timeout: float) -> TlsInfo:
    """Handshake with full verification (chain and host name); fail naming what is wrong."""
    context = ssl.create_default_context(cafile=cafile)
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            cert = tls.getpeercert()
            version = tls.version() or "?"
    except ssl.SSLCertVerificationError as exc:
        reason = exc.verify_message or str(exc)
        raise CheckFailed(f"the certificate of {host}:{port} is not valid: {reason}") from None
    except ssl.SSLError as exc:
        raise CheckFailed(f"TLS handshake with {host}:{port} failed: {exc.reason or exc}") from None
    except OSError as exc:
        raise TargetUnreachable(
            f"could not reach {host}:{port} for TLS: {exc}", url=f"{host}:{port}", cause=str(exc)
        ) from None
    cert = cert or {}
    not_after = str(cert.get("notAfter", ""))
    days_left = (ssl.cert_time_to_seconds(not_after) - time.time()) / 86400 if not_after else 0.0
    subject = ", ".join("=".join(pair) for rdn in cert.get("subject", ()) for pair in rdn)
    return TlsInfo(version=version, not_after=not_after, days_left=days_left, subject=subject)


def legacy_protocol_accepted(host: str, port: int, *, timeout: float) -> str | None:
    """The TLS version below 1.2 the server agrees to, if any (None: it refuses them all).

    The client is opened up as far as this OpenSSL allows (security level 0) so
    that a refusal is the server's, not ours; when the client cannot offer TLS
    1.0/1.1 at all, :class:`RuntimeError` says the check cannot be made.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        context.set_ciphers("ALL:@SECLEVEL=0")
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError) as exc:
        raise RuntimeError(f"this Python/OpenSSL cannot offer TLS 1.0/1.1 ({exc})") from None
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            return tls.version()
    except ssl.SSLError as exc:
        if "no protocols available" in str(exc).lower():
            raise RuntimeError(
                "this OpenSSL build has TLS 1.0/1.1 disabled: cannot check"
            ) from None
        return None
    except OSError:
        return None
