"""Named faults the reference deployment can inject, each one a way real deployments break.

Faults are given at start (``--fault NAME`` or ``NAME=VALUE``, repeatable, or
``DEPLOYCHECK_FAULTS=a,b=1``), in an env's ``embedded.faults``, or switched at
run time through the control endpoint when the server has a control token.
"""

from __future__ import annotations

import difflib
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    area: str
    description: str
    default: float | None = None  # the value, for faults that take one


_ALL = [
    # health
    Fault(
        "health-unhealthy",
        "health",
        "the database check fails: /health answers 200 with status 'unhealthy', /ready 'not ready'",
    ),
    Fault("health-503", "health", "/health answers 503 with status 'unhealthy'"),
    Fault("not-ready", "health", "/ready answers 200 with status 'not ready'"),
    Fault("health-html", "health", "/health answers 200 with an HTML page (a proxy's error page)"),
    Fault(
        "wrong-version",
        "health",
        "/info reports the previous release's version (a rollout that did not happen)",
    ),
    Fault("slow", "health", "every answer is delayed by VALUE milliseconds", 1500),
    Fault("5xx-burst", "health", "a share VALUE (0-1) of API answers are 500s", 0.5),
    Fault(
        "memory-leak",
        "health",
        "/metrics reports resident memory growing by VALUE MB a minute (a leak)",
        60,
    ),
    Fault(
        "delay-faults",
        "timing",
        "the other faults switch on VALUE seconds after start (a deploy that degrades later)",
        30,
    ),
    Fault(
        "slow-reads",
        "health",
        "GET /auth/me, /jobs/, /decks/ and /jobs/{id} take VALUE milliseconds longer (a slower "
        "query: far inside any fixed budget, visible only against the previous release)",
        250,
    ),
    Fault(
        "slow-route",
        "health",
        "deck download links (GET /decks/{id}/download) are delayed by VALUE milliseconds",
        1500,
    ),
    # security headers and exposure
    Fault("no-security-headers", "security", "no security headers at all"),
    Fault(
        "weak-security-headers",
        "security",
        "HSTS max-age=300, X-Frame-Options ALLOWALL, no nosniff",
    ),
    Fault("no-nosniff", "security", "X-Content-Type-Options is not sent"),
    Fault("weak-hsts", "security", "Strict-Transport-Security: max-age=300"),
    Fault("no-frame-protection", "security", "neither X-Frame-Options nor CSP frame-ancestors"),
    Fault("csp-unsafe-inline", "security", "CSP allows 'unsafe-inline' scripts"),
    Fault("cors-reflect-any", "security", "CORS reflects any Origin, with credentials"),
    Fault(
        "server-version",
        "security",
        "Server: uvicorn/0.30.1 (Python/3.11) names software and version",
    ),
    Fault("x-powered-by", "security", "X-Powered-By: FastAPI/0.110.0"),
    Fault(
        "traceback-in-errors", "security", "error bodies carry a Python traceback with file paths"
    ),
    Fault("docs-exposed", "security", "/docs and /redoc are served even in production"),
    Fault("no-csp", "security", "no Content-Security-Policy (the real service)"),
    Fault("no-referrer-policy", "security", "no Referrer-Policy (the real service)"),
    Fault(
        "xss-protection-header",
        "security",
        "X-XSS-Protection: 1; mode=block, deprecated (the real service)",
    ),
    Fault(
        "insecure-cookie",
        "security",
        "every answer sets a session cookie without Secure, HttpOnly or SameSite",
    ),
    Fault(
        "insecure-login-cookie",
        "security",
        "with login_cookie: the login answer's session cookie has no HttpOnly or SameSite",
    ),
    Fault(
        "errors-bypass-headers",
        "security",
        "500 and 429 answers carry no security headers (the real service)",
    ),
    # the journey
    Fault("upload-500", "journey", "POST /upload/ answers 500"),
    Fault("job-stuck", "journey", "jobs stay pending: the worker is down"),
    Fault(
        "job-failed", "journey", "jobs end failed with an error_message: the LLM provider is down"
    ),
    Fault("job-no-deck", "journey", "jobs complete without a result_deck_id"),
    Fault("download-404", "journey", "the deck's file is missing from storage"),
    Fault("download-html", "journey", "the download link serves an HTML page with 200"),
    Fault("deck-corrupt", "journey", "the .apkg written is not a zip archive"),
    Fault("deck-empty", "journey", "the .apkg holds no notes"),
    Fault("deck-blank-notes", "journey", "the .apkg's notes have empty fields"),
    Fault(
        "status-500", "journey", "GET /jobs/{id}/status answers 500 (the real service at a9e235c)"
    ),
    Fault("public-bucket", "journey", "download links work without their signature"),
    Fault("auth-bypass", "journey", "protected endpoints answer without a token"),
    Fault("wrong-password-accepted", "journey", "login accepts any password"),
    Fault("cross-user-read", "journey", "any user can read any user's jobs and decks"),
    Fault(
        "token-survives-logout",
        "journey",
        "access tokens keep working after logout (the real service)",
    ),
    Fault("jwt-unverified", "journey", "tokens are decoded without checking signature or expiry"),
    Fault("refresh-accepts-access-token", "journey", "refresh does not check the token type"),
    Fault("refresh-broken", "journey", "POST /auth/refresh answers 500"),
    Fault(
        "delete-noop",
        "journey",
        "DELETE /decks/{id} answers 204 and deletes nothing (a soft delete that never ran)",
    ),
    Fault(
        "login-unverified",
        "journey",
        "login answers 403 'Email address not verified' for every account (verification pending)",
    ),
    Fault(
        "register-500",
        "journey",
        "POST /auth/register answers 500 naming a missing column (a migration that did not run)",
    ),
    Fault("no-rate-limit", "journey", "the auth endpoints are not rate limited"),
    Fault(
        "deck-unimportable",
        "journey",
        "the .apkg's collection has no note types: Anki cannot import it",
    ),
    Fault("accept-any-upload", "journey", "uploads of any file type are accepted"),
    # the API's own contract (its OpenAPI document)
    Fault("type-drift", "contract", "GET /jobs/{id} answers progress_percent as a string"),
    Fault("missing-field", "contract", "GET /auth/me answers without the required created_at"),
    Fault("wrong-content-type", "contract", "GET /jobs/ answers its JSON as text/plain"),
    Fault(
        "invalid-query-500",
        "contract",
        "an invalid query value (page=0, page_size=abc) answers 500 instead of 422",
    ),
    Fault("unprotected-route", "contract", "GET /decks/ answers without a token"),
    Fault(
        "status-500-bare",
        "contract",
        "GET /jobs/{id}/status answers 500 text/plain without security headers",
    ),
    Fault(
        "sql-in-errors", "contract", "403 and 404 answers of /jobs and /decks carry an SQL query"
    ),
    Fault(
        "debug-endpoint",
        "security",
        "GET /debug answers 200 with the settings (debug mode left on)",
    ),
]

FAULTS: dict[str, Fault] = {fault.name: fault for fault in _ALL}
DELAY = "delay-faults"

# Named sets of faults: the real service as observed (shared/contract, "Observed when the real backend runs").
PRESETS: dict[str, tuple[str, ...]] = {
    "anki-compendium-a9e235c": (
        "status-500",
        "public-bucket",
        "token-survives-logout",
        "errors-bypass-headers",
        "no-csp",
        "no-referrer-policy",
        "xss-protection-header",
    ),
}


class UnknownFault(ValueError):
    pass


def parse(specs: Iterable[str]) -> dict[str, float | None]:
    """``["slow=2000", "job-stuck"]`` -> ``{"slow": 2000.0, "job-stuck": None}``."""
    active: dict[str, float | None] = {}
    for spec in specs:
        for part in spec.split(","):
            part = part.strip()
            if not part:
                continue
            name, _, raw = part.partition("=")
            name = name.strip()
            if name in PRESETS and not raw:
                active.update(parse(PRESETS[name]))
                continue
            fault = FAULTS.get(name)
            if fault is None:
                close = difflib.get_close_matches(name, [*FAULTS, *PRESETS], n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise UnknownFault(
                    f"unknown fault {name!r}{hint}; known faults: "
                    + ", ".join(sorted(FAULTS))
                    + "; presets: "
                    + ", ".join(sorted(PRESETS))
                )
            if raw:
                if fault.default is None:
                    raise UnknownFault(f"fault {name!r} takes no value")
                try:
                    active[name] = float(raw)
                except ValueError:
                    raise UnknownFault(f"fault {name!r} needs a number, got {raw!r}") from None
            else:
                active[name] = fault.default
    return active


class FaultState:
    """The faults active right now; read on every request, switched by the control endpoint."""

    def __init__(self, active: dict[str, float | None] | None = None) -> None:
        self._lock = threading.Lock()
        self._active = dict(active or {})
        self._counter = 0
        self._since = time.monotonic()

    def on(self, name: str) -> bool:
        if name not in self._active:
            return False
        if name == DELAY or DELAY not in self._active:
            return True
        return self.active_for() > 0

    def active_for(self) -> float:
        """Seconds the faults have been on (``delay-faults`` holds them off for a while)."""
        delay = self.value(DELAY) if DELAY in self._active else 0.0
        return max(0.0, time.monotonic() - self._since - delay)

    def value(self, name: str) -> float:
        value = self._active.get(name)
        return float(value if value is not None else FAULTS[name].default or 0)

    def replace(self, active: dict[str, float | None]) -> None:
        with self._lock:
            self._active = dict(active)
            self._counter = 0
            self._since = time.monotonic()

    def snapshot(self) -> dict[str, float | None]:
        return dict(self._active)

    def burst_hit(self) -> bool:
        """Deterministic share of hits for ``5xx-burst``: exactly VALUE of requests fail."""
        if not self.on("5xx-burst"):
            return False
        ratio = self.value("5xx-burst")
        with self._lock:
            before = int(self._counter * ratio)
            self._counter += 1
            return int(self._counter * ratio) > before
