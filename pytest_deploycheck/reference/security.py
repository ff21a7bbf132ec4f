"""Passwords, JWTs, the auth rate limit and signed download links."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import threading
import time
import uuid
from collections import defaultdict, deque
from typing import Any

import jwt

ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**12, r=8, p=1)
    return base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def check_password(password: str, stored: str) -> bool:
    salt_b64, _, digest_b64 = stored.partition("$")
    digest = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt_b64), n=2**12, r=8, p=1)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


class TokenError(Exception):
    pass


class Tokens:
    def __init__(self, secret_key: str, access_minutes: float, refresh_days: int) -> None:
        self._key = secret_key
        self.access_seconds = access_minutes * 60
        self.refresh_seconds = refresh_days * 86400

    def issue(self, user: dict[str, Any], kind: str) -> str:
        now = int(time.time())
        lifetime = self.access_seconds if kind == "access" else self.refresh_seconds
        claims = {
            "sub": user["id"],
            "email": user["email"],
            "type": kind,
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + lifetime,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def decode(self, token: str, kind: str, *, verify: bool = True) -> dict[str, Any]:
        try:
            if verify:
                claims = jwt.decode(token, self._key, algorithms=[ALGORITHM])
            else:
                claims = jwt.decode(
                    token,
                    self._key,
                    algorithms=[ALGORITHM],
                    options={"verify_signature": False, "verify_exp": False},
                )
        except jwt.ExpiredSignatureError:
            raise TokenError("token has expired") from None
        except jwt.PyJWTError:
            raise TokenError("invalid token") from None
        if claims.get("type") != kind and kind != "any":
            raise TokenError(f"not an {kind} token" if kind == "access" else f"not a {kind} token")
        return claims


class RateLimiter:
    """A sliding window of calls per client IP."""

    def __init__(self, limit: int, window_s: float, rounding: str = "up") -> None:
        self.limit = limit
        self.window_s = window_s
        self.round = math.ceil if rounding == "up" else math.floor
        self._calls: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, client: str) -> int | None:
        """Count a call; return the seconds to wait when over the limit, else None."""
        if self.limit <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            calls = self._calls[client]
            while calls and now - calls[0] >= self.window_s:
                calls.popleft()
            if len(calls) >= self.limit:
                return max(
                    0 if self.round is math.floor else 1,
                    self.round(self.window_s - (now - calls[0])),
                )
            calls.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()


class LinkSigner:
    """Expiring HMAC-signed links, like an object store's presigned URLs."""

    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(("links:" + secret_key).encode()).digest()

    def sign(self, path: str, ttl_s: int) -> dict[str, str]:
        expires = str(int(time.time()) + ttl_s)
        return {"expires": expires, "signature": self._signature(path, expires)}

    def verify(self, path: str, expires: str | None, signature: str | None) -> str | None:
        """None when valid, else why not."""
        if not expires or not signature:
            return "the link has no signature"
        if not expires.isdigit() or int(expires) < time.time():
            return "the link has expired"
        if not hmac.compare_digest(signature, self._signature(path, expires)):
            return "the link's signature does not match"
        return None

    def _signature(self, path: str, expires: str) -> str:
        return hmac.new(self._key, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()
