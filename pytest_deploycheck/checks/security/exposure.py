"""What an error answer must not show: stack traces, file paths, SQL, framework versions, debug pages."""

from __future__ import annotations

import re

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
