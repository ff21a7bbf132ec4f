"""The security header policy: parse each header's value and judge it.

In the spirit of Mozilla's HTTP Observatory and the OWASP Secure Headers
Project, applied to one response at a time. Every item has a level:
``required`` (a failure), ``recommended`` (a warning, a failure when the env
is strict) or ``off``; an env can record an item as an accepted gap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pytest_deploycheck.config import SecuritySettings
from pytest_deploycheck.properties import SECURITY

DEFAULT_LEVELS = {
    "x-content-type-options": "required",
    "frame-protection": "required",
    "strict-transport-security": "required",
    "content-security-policy": "required",
    "referrer-policy": "required",
    "server": "required",
    "x-powered-by": "required",
    "x-aspnet-version": "required",
    "x-xss-protection": "recommended",
}
ITEMS = tuple(DEFAULT_LEVELS)
# The user property that carries a response's findings to the grade.
REPORT_PROPERTY = SECURITY  # what the suite records, for the grade

_VERSION = re.compile(r"\d+\.\d+")
_UNSAFE_SCRIPT_SOURCES = ("'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:", "data:")


@dataclass(frozen=True)
class PolicyCheck:
    """One item of the policy judged on one answer."""

    item: str
    level: str  # required, recommended (after strict/levels), or accepted
    ok: bool
    message: str

    @property
    def fails(self) -> bool:
        return not self.ok and self.level == "required"

    @property
    def warns(self) -> bool:
        return not self.ok and self.level == "recommended"


def level_of(item: str, settings: SecuritySettings) -> str:
    if item in settings.accepted:
        return "accepted"
    level = settings.levels.get(item, DEFAULT_LEVELS.get(item, "required"))
    if level == "recommended" and settings.strict:
        return "required"
    return level


def parse_csp(value: str) -> dict[str, list[str]]:
    """One policy: directive -> its sources (the first of a repeated directive wins)."""
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        tokens = part.split()
        if tokens:
            directives.setdefault(tokens[0].lower(), [t.lower() for t in tokens[1:]])
    return directives


def parse_csp_policies(value: str) -> list[dict[str, list[str]]]:
    """Every policy of a header: two headers (a proxy's and the app's) arrive joined with a
    comma, and a browser enforces each of them."""
    return [parse_csp(policy) for policy in value.split(",") if policy.strip()]


def parse_hsts(value: str) -> tuple[int | None, bool, bool]:
    """(max-age, includeSubDomains, preload); max-age None when absent or not a number."""
    max_age = None
    flags = set()
    for part in value.split(";"):
        name, _, raw = part.strip().partition("=")
        if name.strip().lower() == "max-age":
            try:
                max_age = int(raw.strip().strip('"'))
            except ValueError:
                max_age = None
        elif name.strip():
            flags.add(name.strip().lower())
    return max_age, "includesubdomains" in flags, "preload" in flags


def evaluate(
    headers: Mapping[str, str], where: str, *, https: bool, settings: SecuritySettings
) -> list[PolicyCheck]:
    """Judge one response's headers; ``where`` names the response in messages (``GET /health -> 200``)."""
    h = {k.lower(): v for k, v in headers.items()}
    findings: list[PolicyCheck] = []

    def add(item: str, ok: bool, message: str = "", level: str | None = None) -> None:
        findings.append(PolicyCheck(item, level or level_of(item, settings), ok, message))

    nosniff = h.get("x-content-type-options")
    if nosniff is None:
        add(
            "x-content-type-options",
            False,
            f"X-Content-Type-Options is missing on {where} (expected 'nosniff')",
        )
    else:
        add(
            "x-content-type-options",
            nosniff.strip().lower() == "nosniff",
            f"X-Content-Type-Options is {nosniff!r} on {where} (expected 'nosniff')",
        )

    policies = (
        parse_csp_policies(h["content-security-policy"]) if "content-security-policy" in h else []
    )
    frame = (h.get("x-frame-options") or "").strip().upper()
    # Every policy is enforced: the strictest frame-ancestors is the one that holds.
    all_ancestors = [p["frame-ancestors"] for p in policies if "frame-ancestors" in p]
    ancestors = next(
        (a for a in all_ancestors if "*" not in a), all_ancestors[0] if all_ancestors else None
    )
    if ancestors is not None:
        add(
            "frame-protection",
            "*" not in ancestors,
            f"CSP frame-ancestors allows any site ({' '.join(ancestors)}) on {where} (expected 'none' or 'self')",
        )
    elif frame:
        add(
            "frame-protection",
            frame in ("DENY", "SAMEORIGIN"),
            f"X-Frame-Options is {frame!r} on {where} (expected DENY or SAMEORIGIN, or CSP frame-ancestors)",
        )
    else:
        add(
            "frame-protection",
            False,
            f"no frame protection on {where}: neither X-Frame-Options (DENY or SAMEORIGIN) nor CSP frame-ancestors",
        )

    hsts = h.get("strict-transport-security")
    if hsts is not None:
        # Validated whenever sent: behind a TLS-terminating proxy it comes over plain http too.
        max_age, subdomains, _ = parse_hsts(hsts)
        minimum = settings.hsts_min_age_s
        add(
            "strict-transport-security",
            max_age is not None and max_age >= minimum,
            f"Strict-Transport-Security is {hsts!r} on {where} (expected max-age of at least {minimum} s)",
        )
        sub_level = (
            "accepted"
            if "strict-transport-security" in settings.accepted
            else settings.hsts_include_subdomains
        )
        if sub_level != "off":
            if sub_level == "recommended" and settings.strict:
                sub_level = "required"
            add(
                "strict-transport-security",
                subdomains,
                f"Strict-Transport-Security has no includeSubDomains on {where}",
                level=sub_level,
            )
    elif https:
        add(
            "strict-transport-security",
            False,
            f"Strict-Transport-Security is missing on {where} (an https target; expected max-age >= "
            f"{settings.hsts_min_age_s})",
        )

    if not policies:
        add(
            "content-security-policy",
            False,
            f"Content-Security-Policy is missing on {where} (expected at least default-src or script-src "
            "without 'unsafe-inline', 'unsafe-eval' or wildcards). If this service deliberately "
            "sends none, accept the gap: set security.accepted.content-security-policy",
        )
    else:
        # Every policy is enforced: scripts are restricted when one of them restricts them.
        judged = [_judge_script_sources(policy, where) for policy in policies]
        add("content-security-policy", *next((j for j in judged if j[0]), judged[0]))

    referrer = h.get("referrer-policy")
    allowed = settings.referrer_policies
    if referrer is None:
        add(
            "referrer-policy",
            False,
            f"Referrer-Policy is missing on {where} (expected one of {', '.join(allowed)}). If this "
            "service deliberately sends none, accept the gap: set security.accepted.referrer-policy",
        )
    else:
        # Several comma-separated values: the last one the browser knows wins.
        last = referrer.split(",")[-1].strip().lower()
        add(
            "referrer-policy",
            last in allowed,
            f"Referrer-Policy is {referrer!r} on {where} (expected one of {', '.join(allowed)})",
        )

    server = h.get("server")
    add(
        "server",
        server is None or not _VERSION.search(server),
        f"Server: {server!r} on {where} names software and its version (expected no Server header or a generic one)",
    )
    for item, header in (
        ("x-powered-by", "X-Powered-By"),
        ("x-aspnet-version", "X-AspNet-Version"),
    ):
        value = h.get(item) or (
            h.get("x-aspnetmvc-version") if item == "x-aspnet-version" else None
        )
        add(
            item,
            value is None,
            f"{header}: {value!r} on {where} tells attackers what runs there (expected absent)",
        )

    xss = h.get("x-xss-protection")
    add(
        "x-xss-protection",
        xss is None or xss.strip() == "0",
        f"X-XSS-Protection: {xss!r} on {where} is deprecated and can open holes in old browsers "
        "(expected absent or '0'; use a Content-Security-Policy)",
    )
    return findings


def _judge_script_sources(csp: dict[str, list[str]], where: str) -> tuple[bool, str]:
    directive = (
        "script-src" if "script-src" in csp else "default-src" if "default-src" in csp else None
    )
    if directive is None:
        return (
            False,
            f"Content-Security-Policy on {where} has neither script-src nor default-src: scripts are unrestricted",
        )
    sources = csp[directive]
    # With a nonce or hash, CSP2+ browsers ignore 'unsafe-inline'; with 'strict-dynamic' too,
    # CSP3 browsers ignore host and scheme sources (Google's recommended policy: "'nonce-…'
    # 'strict-dynamic' https: 'unsafe-inline'", the rest a fallback for old browsers).
    hashed = any(s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for s in sources)
    dynamic = hashed and "'strict-dynamic'" in sources
    ignored = {"'unsafe-inline'"} if hashed else set()
    if dynamic:
        ignored |= {"*", "http:", "https:", "data:"}
    unsafe = [s for s in sources if s in _UNSAFE_SCRIPT_SOURCES and s not in ignored]
    if unsafe:
        return False, (
            f"Content-Security-Policy {directive} allows {' '.join(unsafe)} on {where} "
            "(expected no 'unsafe-inline', 'unsafe-eval' or wildcard sources for scripts)"
        )
    return True, ""


@dataclass
class ItemGrade:
    item: str
    level: str
    answers: int = 0
    failed: int = 0

    @property
    def status(self) -> str:
        if self.level == "accepted":
            return "accepted"
        if not self.failed:
            return "pass"
        return "FAIL" if self.level == "required" else "warn"


def grade(findings: list[tuple[str, str, bool]]) -> tuple[str, list[ItemGrade]]:
    """The target's grade over every response checked: a headline and one row per item."""
    items: dict[str, ItemGrade] = {}
    for item, level, ok in findings:
        row = items.setdefault(item, ItemGrade(item, level))
        if level == "required":
            row.level = "required"  # includeSubDomains may be recommended while max-age is required
        row.answers += 1
        row.failed += 0 if ok else 1
    rows = sorted(
        items.values(), key=lambda r: (r.level != "required", r.level != "recommended", r.item)
    )
    required = [r for r in rows if r.level == "required"]
    recommended = [r for r in rows if r.level == "recommended"]
    accepted = [r for r in rows if r.level == "accepted"]
    headline = (
        f"required: {sum(not r.failed for r in required)} of {len(required)} pass; "
        f"recommended: {sum(not r.failed for r in recommended)} of {len(recommended)}; "
        f"accepted gaps: {len(accepted)}"
    )
    return headline, rows
