"""Keeps secrets out of everything the plugin shows: messages, exchange logs, reports.

Three layers: headers that carry credentials, JSON keys that name one, and
every literal secret value known to the run (``${VAR}`` values, the smoke
password, and tokens seen in responses, learnt as they arrive).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "[redacted]"

SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
        "x-fault-token",
    }
)
_SENSITIVE_KEY = re.compile(
    r"(token|password|passwd|secret|authorization|api[_-]?key|cookie|signature|credential)",
    re.IGNORECASE,
)
# Keys that name a credential's kind or lifetime, not the credential ("token_type": "bearer"),
# or where to get one: an OpenAPI document's OAuth2 flow declares its "tokenUrl", a path.
_NOT_A_SECRET_KEY = re.compile(
    r"(type|expires?(_in|_at)?|kind|url|uri|endpoint|path|location)$", re.IGNORECASE
)


def _is_secret_key(key: object) -> bool:
    name = str(key)
    return bool(_SENSITIVE_KEY.search(name)) and not _NOT_A_SECRET_KEY.search(name)


def _is_secret_value(value: str) -> bool:
    """A credential is an opaque string: a path or a link under a secret-looking key is not."""
    return not value.startswith(("/", "http://", "https://"))


# Query parameters of signed links (S3 presigned URLs, our own signed links).
_SENSITIVE_QUERY = re.compile(r"(signature|token|sig|credential|security-token)", re.IGNORECASE)
# A signed link inside free text (a log line: 'HTTP Request: GET https://…?signature=…').
_SIGNED_PARAM_IN_TEXT = re.compile(
    r"([?&;](?:[\w-]*signature|[\w-]*token|sig|[\w-]*credential)=)(?!\[redacted\])[^&\s\"'<>]+",
    re.IGNORECASE,
)
# Shorter values are masked only where they stand alone (``:pw1@``, ``= pw1``), never inside
# a word; one or two characters would mask half of any text, so those are not masked.
_WHOLE_WORD_BELOW = 6
_MIN_SECRET_LENGTH = 3
# Response headers whose name says they carry a credential (``access-token``, ``x-csrf-token``).
_SECRET_HEADER = re.compile(r"(token|secret|api[_-]?key|password|credential)", re.I)
_MIN_LEARNT_FROM_A_HEADER = 8  # a credential; a short value under such a name is a count


def _a_short_number(value: str) -> bool:
    """``120``, ``8443``: a ${VAR} timeout or port, not a credential; masking it would mask
    that number wherever it stands alone in the output."""
    return len(value) < _WHOLE_WORD_BELOW and value.isdigit()


class Redactor:
    """Masks known secrets; learns new ones (tokens) as the run goes."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *values: str | None) -> None:
        with self._lock:
            for value in values:
                if value and len(value) >= _MIN_SECRET_LENGTH and not _a_short_number(value):
                    self._secrets.add(value)

    def secrets(self) -> list[str]:
        """What it redacts (to hand to the run's other process: a forked fuzz run's tokens)."""
        with self._lock:
            return sorted(self._secrets)

    def learn_from_json(self, data: Any) -> None:
        """Remember every value under a sensitive key (``access_token`` …) of a JSON body."""
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, str) and _is_secret_key(key):
                    if _is_secret_value(value):
                        self.add(value)
                else:
                    self.learn_from_json(value)
        elif isinstance(data, list):
            for item in data:
                self.learn_from_json(item)

    def text(self, text: str) -> str:
        """``text`` with every known secret, and every signed link's signature, masked."""
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret not in text:
                continue
            if len(secret) >= _WHOLE_WORD_BELOW:
                text = text.replace(secret, MASK)
            else:
                alone = rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])"
                text = re.sub(alone, MASK, text)
        if "=" in text:
            text = _SIGNED_PARAM_IN_TEXT.sub(rf"\1{MASK}", text)
        return text

    def contains_secret(self, text: str) -> bool:
        """A known secret, or a signed link's signature (a team's own message may quote one)."""
        with self._lock:
            if any(secret in text for secret in self._secrets):
                return True
        return "=" in text and _SIGNED_PARAM_IN_TEXT.search(text) is not None

    def headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        """Headers as shown: credentials masked by name (``Authorization``, ``access-token``:
        the value is learnt too, so it is masked wherever else it appears) or by value."""
        shown: dict[str, str] = {}
        for name, value in headers:
            lowered = name.lower()
            if lowered in SENSITIVE_HEADERS or _SECRET_HEADER.search(lowered):
                credential = value.removeprefix("Bearer ").strip()
                if lowered not in ("set-cookie", "cookie") and (
                    len(credential) >= _MIN_LEARNT_FROM_A_HEADER
                ):
                    self.add(credential)
                shown[lowered] = MASK
            else:
                shown[lowered] = self.text(value)
        return shown

    def url(self, url: str) -> str:
        """``url`` with its password, signed parameters and known secrets masked; still a URL
        (each part is masked on its own: a secret never swallows the host or its slashes)."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return self.text(url)
        netloc = parts.netloc
        userinfo, at, host = netloc.rpartition("@")
        if at:
            user, colon, _password = userinfo.partition(":")
            netloc = f"{self.text(user)}{colon}{MASK if colon else ''}@{host}"
        query = parts.query
        if query:
            pairs = [
                (k, MASK if _SENSITIVE_QUERY.search(k) else v)
                for k, v in parse_qsl(query, keep_blank_values=True)
            ]
            query = self.text(urlencode(pairs, safe="[]"))
        fragment = self.text(parts.fragment)
        return urlunsplit(
            parts._replace(
                netloc=netloc, path=self.text(parts.path), query=query, fragment=fragment
            )
        )

    def json_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            return {
                k: MASK if isinstance(v, str) and _is_secret_key(k) else self.json_value(v)
                for k, v in data.items()
            }
        if isinstance(data, list):
            return [self.json_value(v) for v in data]
        if isinstance(data, str):
            return self.text(data)
        return data

    def body(self, content: bytes, content_type: str, limit: int = 2000) -> str:
        """A readable, redacted excerpt of a request or response body."""
        if not content:
            return ""
        if "json" in content_type:
            try:
                shown = json.dumps(self.json_value(json.loads(content)), ensure_ascii=False)
            except ValueError:
                shown = content.decode("utf-8", "replace")
        elif is_textual(content_type):
            shown = content.decode("utf-8", "replace")
        else:
            return f"<{len(content)} bytes of {content_type or 'unknown type'}>"
        shown = self.text(shown)
        if len(shown) > limit:
            shown = shown[:limit] + f"… ({len(content)} bytes in all)"
        return shown


def is_textual(content_type: str) -> bool:
    """Whether a body of this type reads as text (JSON, text/*, XML, forms, or untyped)."""
    return (
        "json" in content_type
        or content_type.startswith("text/")
        or "xml" in content_type
        or "x-www-form-urlencoded" in content_type
        or not content_type
    )
