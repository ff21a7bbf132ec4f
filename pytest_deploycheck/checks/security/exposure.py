"""What an error answer must not show: stack traces, file paths, SQL, framework versions, debug pages."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from pytest_deploycheck.run.client import DeployClient, path_under
from pytest_deploycheck.run.expect import describe

LEAKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Python traceback", re.compile(r"Traceback \(most recent call last\)")),
    # Quotes may come JSON-escaped (\") when the trace sits in a JSON body.
    (
        "a stack frame",
        re.compile(r'File \\?"[^"\\]+\\?", line \d+|\bat [\w.$]+\([\w]+\.(java|kt|js|ts):\d+\)'),
    ),
    (
        "a server file path",
        re.compile(
            r"(/usr/(local/)?lib/python|/site-packages/|/home/\w+/|/var/www/|/app/\w+\.py|[A-Z]:\\\\\w+)"
        ),
    ),
    (
        "SQL",
        re.compile(
            r"\b(SELECT\s+[\w*,\s.]+\s+FROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b|SQLSTATE|syntax error at or near|psycopg2?\.|sqlalchemy\.exc|sqlite3\.\w+Error",
            re.IGNORECASE,
        ),
    ),
    (
        "a framework or server version",
        re.compile(
            r"\b(Werkzeug|Django|FastAPI|Starlette|uvicorn|gunicorn|Express|PHP|nginx|Apache)/\d+(\.\d+)+",
            re.IGNORECASE,
        ),
    ),
    (
        "a debug page",
        re.compile(
            r"Werkzeug Debugger|djdt|Django Debug Toolbar|Whoops!|DEBUG = True|You're seeing this error because you have",
            re.IGNORECASE,
        ),
    ),
)


# What no answer may show, whatever its status. SQL and file paths are judged in error
# answers only: a successful answer may carry them as the user's own content (a flashcard
# about SQL, a note naming a file).
ANYWHERE = frozenset(
    {"a Python traceback", "a stack frame", "a framework or server version", "a debug page"}
)


def leaks(body: str, *, error_answer: bool = True) -> list[str]:
    """What ``body`` gives away, e.g. ``["a Python traceback: 'Traceback (most recent call last)'"]``."""
    found = []
    for what, pattern in LEAKS:
        if not error_answer and what not in ANYWHERE:
            continue
        match = pattern.search(body)
        if match:
            found.append(f"{what}: {match.group(0)[:80]!r}")
    return found


@dataclass(frozen=True)
class Landing:
    """Where a probe ended after following its redirects within the target's origin."""

    response: httpx.Response
    hops: tuple[str, ...] = ()  # "302 -> /docs" for each redirect followed
    elsewhere: str | None = (
        None  # a redirect off the target's origin (a sign-in page), not followed
    )

    @property
    def served(self) -> bool:
        """A 200 on the target: the probed thing answers (a console, a debug page)."""
        return self.elsewhere is None and self.response.status_code == 200

    def describe(self, path: str) -> str:
        chain = "".join(f" -> {hop}" for hop in self.hops)
        return f"{path}{chain} ({describe(self.response)})"


def follow_within(http: DeployClient, url: str, base_url: str, max_hops: int = 5) -> Landing:
    """GET ``url``, following redirects that stay on the target (``/swagger-ui.html`` -> 302
    -> ``/docs``), and judge where it lands; one that leaves it is not followed (no
    credentials cross to another origin)."""
    response = http.get(url)
    hops: list[str] = []
    while response.is_redirect and len(hops) < max_hops:
        location = response.headers.get("location", "")
        target = str(response.url.join(location))
        if path_under(target, base_url) is None:
            return Landing(response, tuple(hops), elsewhere=target)
        hops.append(f"{response.status_code} -> {path_under(target, base_url)}")
        response = http.get(target)
    return Landing(response, tuple(hops))
