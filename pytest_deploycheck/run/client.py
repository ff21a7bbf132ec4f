"""The HTTP client every check uses: timeouts, safe retries, and a redacted record.

:class:`DeployClient` is an :class:`httpx.Client` that

- always has connect and read timeouts (nothing can hang),
- retries a request only when doing so cannot duplicate it: a failed connect
  (nothing was sent) for any method, and a dropped connection for idempotent
  methods only — the real Anki service closes keep-alive connections after
  a 500, and the next check must not be blamed for that,
- turns transport failures into :class:`TargetUnreachable` ("could not reach",
  with the URL and what to check), kept apart from "reached, but wrong",
- records every exchange (:class:`Exchange`) with secrets redacted, so a
  report can show what happened.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.errors import CheckFailed, ConfigError, TargetUnreachable
from pytest_deploycheck.run.deadline import Deadline, bound_by_deadlines, in_force
from pytest_deploycheck.run.redaction import MASK, Redactor, is_textual

# Request extensions: the exchange's Deadline (for the retry transport), and a larger
# body cap for one request (a deck download).
DEADLINE = "deploycheck.deadline"
MAX_BODY = "deploycheck.max_body_bytes"
# A response's own record (response.extensions[EXCHANGE]): the one to cite when several
# requests are in flight at once, where the client's last exchange may be another's.
EXCHANGE = "deploycheck.exchange"
# How much of a textual answer the passive analysers see (contract, leaks); an excerpt of
# EXCERPT_CHARS is what reports show.
KEPT_BODY_CHARS = 1_000_000
EXCERPT_CHARS = 2000


class BodyTooLarge(Exception):
    pass


IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_RETRY_BACKOFF_S = (0.1, 0.3, 0.6, 1.0, 1.5)


def user_agent() -> str:
    from pytest_deploycheck._version import __version__

    return f"pytest-deploycheck/{__version__}"


@dataclass
class Exchange:
    """One request and its answer (or transport error), redacted."""

    method: str
    url: str
    started_at: datetime
    elapsed_ms: float
    request_headers: dict[str, str]
    request_body: str
    status: int | None = None
    reason: str = ""
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""  # an excerpt, for reports
    error: str = ""
    # The whole textual body (redacted, up to KEPT_BODY_CHARS), for the passive analysers;
    # response_complete is False when it was cut there (or a secret was masked in it).
    response_text: str = field(default="", repr=False)
    response_complete: bool = True
    # A request body that is not text (a fuzzed one), base64, so a replay sends it exactly.
    request_bytes: str = field(default="", repr=False)

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Exchange:
        return cls(**{**data, "started_at": datetime.fromisoformat(data["started_at"])})

    def summary(self) -> str:
        outcome = f"{self.status} {self.reason}".strip() if self.status else f"ERROR {self.error}"
        return f"{self.method} {self.url} -> {outcome} in {self.elapsed_ms:.1f} ms"

    def render(self) -> str:
        lines = [f"{self.started_at:%H:%M:%S.%f}"[:-3] + " " + self.summary()]
        lines.append(f"  > headers: {self.request_headers}")
        if self.request_body:
            lines.append(f"  > body: {_printable(self.request_body)}")
        if self.status is not None:
            lines.append(f"  < headers: {self.response_headers}")
            if self.response_body:
                lines.append(f"  < body: {_printable(self.response_body)}")
        return "\n".join(lines)


_ID_IN_PATH = re.compile(r"/(?=[^/?#]*\d)[^/?#]{6,}")


@functools.lru_cache(maxsize=4096)  # the passive checks ask for every answer, several times
def same_origin(url: str, other: str) -> bool:
    """Whether two URLs share an origin as httpx writes it: scheme, lowercase host, the port
    with its default dropped (``https://API.example.com:443`` is ``https://api.example.com``).
    The one comparison of origins: the passive checks' target, where a token may go."""
    try:
        a, b = httpx.URL(url), httpx.URL(other)
    except (httpx.InvalidURL, TypeError, ValueError):
        return False
    return bool(a.host) and (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


@functools.lru_cache(maxsize=4096)
def path_under(url: str, base_url: str) -> str | None:
    """``url``'s path below ``base_url`` (``/api/v1/jobs``), or None when it is not the
    target's: compared by normalised origin (scheme, lowercase host, default port dropped),
    as httpx writes the URLs it sends, whatever way the base URL was written."""
    if not same_origin(url, base_url):
        return None
    there, base = httpx.URL(url), httpx.URL(base_url)
    prefix = base.raw_path.split(b"?", 1)[0].decode("ascii", "replace").rstrip("/")
    path = there.raw_path.split(b"?", 1)[0].decode("ascii", "replace")
    if prefix and path != prefix and not path.startswith(prefix + "/"):
        return None
    return path[len(prefix) :] or "/"


def endpoint_of(method: str, url: str, base_url: str) -> str:
    """``GET https://x/api/v1/jobs/3f2a…`` -> ``GET /api/v1/jobs/[id]``."""
    path = (path_under(url, base_url) if base_url else None) or url.split("?", 1)[0]
    return f"{method} {_ID_IN_PATH.sub('/[id]', path)}"


def _printable(text: str) -> str:
    """Control characters escaped (a fuzzed body), so a report shows them and a terminal
    does not act on them."""
    if all(c.isprintable() or c in "\n\t" for c in text):
        return text
    return "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in text)


class RetryTransport(httpx.BaseTransport):
    """Retries only what cannot be duplicated by retrying (see the module docstring)."""

    def __init__(self, inner: httpx.BaseTransport, retries: int) -> None:
        self.inner = inner
        self.retries = retries

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        deadline: Deadline | None = request.extensions.get(DEADLINE)
        while True:
            try:
                return self.inner.handle_request(request)
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                nothing_sent = isinstance(exc, httpx.ConnectError)
                if deadline is not None and deadline.fired:
                    raise  # our own deadline shut it down: no time left to retry
                if attempt >= self.retries or not (
                    nothing_sent or request.method in IDEMPOTENT_METHODS
                ):
                    raise
                if isinstance(exc, httpx.ConnectError) and _is_tls_error(exc):
                    raise  # a certificate does not get better by asking again
                time.sleep(_RETRY_BACKOFF_S[min(attempt, len(_RETRY_BACKOFF_S) - 1)])
                attempt += 1

    def close(self) -> None:
        self.inner.close()


class DeployClient(httpx.Client):
    """An httpx client bound to a target env, with timeouts, safe retries and a record."""

    def __init__(
        self,
        env: TargetEnv,
        redactor: Redactor | None = None,
        *,
        base_url: str | None = None,
        on_exchange: Callable[[Exchange], None] | None = None,
        **kwargs: Any,
    ) -> None:
        self.env = env
        self.redactor = redactor or Redactor(env.secrets)
        self.exchanges: list[Exchange] = []
        self._on_exchange = on_exchange
        kwargs.setdefault("timeout", client_timeout(env))
        # No transport of ours given: httpx reads HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and
        # NO_PROXY as it always does (env.trust_env = false: it does not), and builds each
        # transport through the two methods below.
        super().__init__(
            base_url=base_url if base_url is not None else env.api_url,
            headers={"User-Agent": user_agent(), **env.headers},
            verify=tls_verification(env),
            trust_env=env.trust_env,
            follow_redirects=False,
            **kwargs,
        )

    # httpx's own hooks for building transports, with the arguments we use.
    def _init_transport(  # type: ignore[override]
        self, verify: Any = True, cert: Any = None, trust_env: bool = True, **kwargs: Any
    ) -> httpx.BaseTransport:
        transport = httpx.HTTPTransport(verify=verify, trust_env=trust_env)
        return RetryTransport(bound_by_deadlines(transport), self.env.retries)

    def _init_proxy_transport(  # type: ignore[override]
        self,
        proxy: httpx.Proxy,
        verify: Any = True,
        cert: Any = None,
        trust_env: bool = True,
        **kwargs: Any,
    ) -> httpx.BaseTransport:
        transport = httpx.HTTPTransport(verify=verify, proxy=proxy, trust_env=trust_env)
        return RetryTransport(bound_by_deadlines(transport), self.env.retries)

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        """Send within ``timeouts.total`` and read at most ``limits.max_body_bytes`` of the body.

        ``extensions={MAX_BODY: n}`` on a request raises its cap (a deck download).
        """
        started_at = datetime.now(timezone.utc)
        start = time.perf_counter()
        streamed = kwargs.pop("stream", False)
        self._no_credentials_elsewhere(request)
        deadline = Deadline(self.env.timeouts.total)
        request.extensions = {**request.extensions, "trace": deadline.trace, DEADLINE: deadline}
        deadline.start()
        try:
            with in_force(deadline):
                response = super().send(request, stream=True, **kwargs)
                deadline.attach(response.extensions.get("network_stream"))
                if not streamed:
                    self._read_body(request, response, deadline)
        except httpx.TransportError as exc:
            elapsed = (time.perf_counter() - start) * 1000
            if deadline.expired:
                reason = deadline.describe()
            else:
                reason = describe_transport_error(exc, self.timeout, deadline.phase)
            self._record(request, None, started_at, elapsed, error=reason)
            raise unreachable(request.method, str(request.url), reason, self.redactor) from None
        except BodyTooLarge as exc:
            elapsed = (time.perf_counter() - start) * 1000
            self._record(request, None, started_at, elapsed, error=str(exc))
            shown = self.redactor.url(str(request.url))
            raise CheckFailed(f"{request.method} {shown}: {exc}") from None
        finally:
            deadline.cancel()
        elapsed = (time.perf_counter() - start) * 1000
        if "json" in response.headers.get("content-type", "") and not streamed:
            with contextlib.suppress(ValueError):
                self.redactor.learn_from_json(response.json())
        response.extensions = {
            **response.extensions,
            EXCHANGE: self._record(request, response, started_at, elapsed),
        }
        return response

    def _no_credentials_elsewhere(self, request: httpx.Request) -> None:
        """Credentials never cross to another origin: a request to a host other than the
        client's own (object storage behind a presigned link, a redirect's target) carries
        neither a token, nor cookies, nor the env's own headers (X-Api-Key …); S3 refuses a
        presigned request that carries a second Authorization."""
        if same_origin(str(request.url), str(self.base_url)):
            return
        for name in ("authorization", "cookie", *(n.lower() for n in self.env.headers)):
            if name in request.headers:
                del request.headers[name]

    def _read_body(
        self, request: httpx.Request, response: httpx.Response, deadline: Deadline
    ) -> None:
        limit = int(request.extensions.get(MAX_BODY, self.env.limits.max_body_bytes))
        chunks: list[bytes] = []
        try:
            for chunk in response.iter_bytes():
                deadline.bytes_read += len(chunk)
                if deadline.bytes_read > limit:
                    raise BodyTooLarge(
                        f"the answer's body passed {limit:,} bytes, so reading stopped there "
                        f"(limits.max_body_bytes, limits.max_deck_bytes for decks)"
                    )
                chunks.append(chunk)
        finally:
            response.close()
        # What httpx's own Response.read() does, with the cap applied on the way.
        response._content = b"".join(chunks)

    def _record(
        self,
        request: httpx.Request,
        response: httpx.Response | None,
        started_at: datetime,
        elapsed_ms: float,
        error: str = "",
    ) -> Exchange:
        redact = self.redactor
        request_bytes = ""
        try:
            request_body = redact.body(request.content, request.headers.get("content-type", ""))
            request_bytes = _replayable_bytes(request.content, request.headers, redact)
        except httpx.RequestNotRead:
            request_body = "<streamed>"
        exchange = Exchange(
            method=request.method,
            url=redact.url(str(request.url)),
            started_at=started_at,
            elapsed_ms=elapsed_ms,
            request_headers=redact.headers(request.headers.multi_items()),
            request_body=request_body,
            error=error,
            request_bytes=request_bytes,
        )
        if response is not None:
            exchange.status = response.status_code
            exchange.reason = response.reason_phrase
            exchange.response_headers = redact.headers(response.headers.multi_items())
            if response.is_stream_consumed or not response.is_closed:
                try:
                    content = response.content
                except httpx.ResponseNotRead:
                    content = b""
                text = redact.body(
                    content, response.headers.get("content-type", ""), limit=KEPT_BODY_CHARS
                )
                if is_textual(response.headers.get("content-type", "")):
                    exchange.response_text = text
                    exchange.response_complete = len(text) <= KEPT_BODY_CHARS and MASK not in text
                exchange.response_body = (
                    text
                    if len(text) <= EXCERPT_CHARS
                    else text[:EXCERPT_CHARS] + f"… ({len(content)} bytes in all)"
                )
        self.exchanges.append(exchange)
        if self._on_exchange is not None:
            self._on_exchange(exchange)
        return exchange


_REPLAYED_BYTES = 65_536


def _replayable_bytes(content: bytes, headers: httpx.Headers, redact: Redactor) -> str:
    """Base64 of a small request body that is not UTF-8 (a fuzzed one), else "": such a body
    cannot be shown as text, and a replay must send what was sent. Never a multipart upload,
    never a body that carries a known secret."""
    import base64

    if not content or len(content) > _REPLAYED_BYTES:
        return ""
    if "multipart/" in headers.get("content-type", ""):
        return ""
    try:
        content.decode("utf-8")
        return ""
    except UnicodeDecodeError:
        pass
    if redact.contains_secret(content.decode("latin-1")):
        return ""
    return base64.b64encode(content).decode("ascii")


def client_timeout(env: TargetEnv) -> httpx.Timeout:
    return httpx.Timeout(
        connect=env.timeouts.connect,
        read=env.timeouts.read,
        write=env.timeouts.read,
        pool=env.timeouts.connect,
    )


def check_ca_bundle(env: TargetEnv, load_profile: str | None, flags: Mapping[str, str]) -> None:
    """The env's ``ca_bundle`` is a PEM bundle ssl can load (a config error at start)."""
    if not env.ca_bundle:
        return
    where = f"env {env.name!r}, key 'ca_bundle'"
    if not Path(env.ca_bundle).is_file():
        raise ConfigError(f"{where}: no file at {env.ca_bundle!r}")
    try:
        tls_verification(env)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise ConfigError(
            f"{where}: {env.ca_bundle!r} is not a PEM certificate bundle ({exc})"
        ) from None


def tls_verification(env: TargetEnv) -> ssl.SSLContext:
    """One shared SSL context per TLS setting: building one costs ~25 ms, a check needs none."""
    return _ssl_context(env.verify_tls, env.ca_bundle)


@functools.lru_cache(maxsize=8)
def _ssl_context(verify: bool, ca_bundle: str | None) -> ssl.SSLContext:
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_bundle:
        return ssl.create_default_context(cafile=ca_bundle)
    # As httpx and curl do: SSL_CERT_FILE / SSL_CERT_DIR (a CI runner's corporate CA), else
    # certifi's bundle.
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile and os.path.isfile(cafile) or capath and os.path.isdir(capath):
        return ssl.create_default_context(cafile=cafile or None, capath=capath or None)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def unreachable(method: str, url: str, reason: str, redactor: Redactor) -> TargetUnreachable:
    shown_url = redactor.url(url)
    return TargetUnreachable(
        f"could not reach {method} {shown_url}: {reason}", url=shown_url, cause=reason
    )


def describe_transport_error(
    exc: httpx.TransportError, timeout: httpx.Timeout, phase: str = ""
) -> str:
    """Say what went wrong on the wire and what to check, in one sentence."""
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if isinstance(exc, httpx.ConnectTimeout) and phase == "the TLS handshake":
        return (
            f"TCP connected, but the TLS handshake did not complete within {timeout.connect} s "
            "(connect timeout); is the port serving TLS, and is the TLS terminator healthy?"
        )
    if isinstance(exc, httpx.ConnectTimeout):
        return (
            f"no TCP connection within {timeout.connect} s (connect timeout); "
            "check the host, port, firewall and that the service is up"
        )
    if isinstance(exc, httpx.ReadTimeout):
        return (
            f"connected, but no answer within {timeout.read} s (read timeout); "
            "the service accepts connections but hangs: check its logs and health"
        )
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__}): {text}"
    if _is_tls_error(exc):
        return (
            f"TLS failed: {text}; check the certificate (set ca_bundle for a private CA, "
            "verify_tls = false only for throwaway test envs)"
        )
    if (
        "name or service not known" in lowered
        or "nodename nor servname" in lowered
        or ("name resolution" in lowered)
        or "getaddrinfo" in lowered
    ):
        return f"DNS lookup failed ({text}); check the host name in base_url"
    if "connection refused" in lowered or "errno 111" in lowered:
        return "connection refused: nothing listens there; check the port and that the service runs"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return f"the connection was dropped before a complete answer ({text})"
    return f"{type(exc).__name__}: {text}"


def _is_tls_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "ssl" in text or "certificate" in text or "tls" in text
