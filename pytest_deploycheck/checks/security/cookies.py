"""Set-Cookie as browsers read it (RFC 6265, section 5.2), and what a safe one carries.

Written by hand: the standard library's ``http.cookies.SimpleCookie`` drops a whole header
with an attribute it does not know (``Partitioned``) and reads ``Priority=High`` as a second
cookie named "Priority"; a browser ignores unknown attributes and has one cookie per header.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SetCookie:
    name: str
    attributes: dict[str, str] = field(default_factory=dict)  # lower-case names

    def has(self, attribute: str) -> bool:
        return attribute.lower() in self.attributes


def parse_set_cookie(header: str) -> SetCookie | None:
    """One Set-Cookie header: its cookie's name and attributes; None when it names none."""
    pair, *attributes = header.split(";")
    name, equals, _value = pair.partition("=")
    if not equals or not name.strip():
        return None
    found: dict[str, str] = {}
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        if key.strip():
            found.setdefault(key.strip().lower(), value.strip())
    return SetCookie(name.strip(), found)


def missing_protections(cookie: SetCookie, *, https: bool) -> list[str]:
    """What a session-like cookie lacks: Secure (on https), HttpOnly, SameSite."""
    missing = []
    if https and not cookie.has("secure"):
        missing.append("Secure")
    sensitive = any(word in cookie.name.lower() for word in ("session", "sid", "token", "auth"))
    if sensitive and not cookie.has("httponly"):
        missing.append("HttpOnly")
    if not cookie.attributes.get("samesite"):
        missing.append("SameSite")
    return missing
