"""PostgreSQL: connects, answers ``SELECT 1``, and is migrated to the code's alembic head.

The real case this names: the Anki service deployed the guide's way ends with a database
whose migrations do not match the code, and every upload then answers 500.
"""

from __future__ import annotations

from typing import Any

from pytest_deploycheck.config.schema import PostgresDependency
from pytest_deploycheck.deps.clients import first_line
from pytest_deploycheck.errors import CheckFailed
from pytest_deploycheck.optional import need
from pytest_deploycheck.run.redaction import Redactor


def connect(dep: PostgresDependency, redactor: Redactor) -> Any:
    psycopg = need("psycopg", "PostgreSQL", "psycopg", "deps")
    shown = redactor.url(dep.dsn)
    timeout_ms = int(dep.connect_timeout_s * 1000)
    try:
        return psycopg.connect(
            dep.dsn,
            connect_timeout=max(1, int(dep.connect_timeout_s)),
            options=f"-c statement_timeout={timeout_ms}",
            autocommit=True,
        )
    except psycopg.Error as exc:
        raise CheckFailed(
            f"PostgreSQL at {shown}: cannot connect: {redactor.text(first_line(exc))}"
        ) from None


def check_postgres_answers(dep: PostgresDependency, redactor: Redactor) -> str:
    """``SELECT 1`` answers; returns the server's version for the report."""
    with connect(dep, redactor) as connection:
        row = connection.execute("SELECT 1, current_setting('server_version')").fetchone()
    if not row or row[0] != 1:
        raise CheckFailed(f"PostgreSQL at {redactor.url(dep.dsn)}: SELECT 1 answered {row!r}")
    return str(row[1])


def database_heads(dep: PostgresDependency, redactor: Redactor) -> list[str]:
    """The revisions in the version table (one per branch; none when it is empty)."""
    psycopg = need("psycopg", "PostgreSQL", "psycopg", "deps")
    from psycopg import sql

    shown = redactor.url(dep.dsn)
    with connect(dep, redactor) as connection:
        try:
            rows = connection.execute(
                sql.SQL("SELECT version_num FROM {}").format(
                    sql.Identifier(*dep.version_table.split("."))
                )
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            raise CheckFailed(
                f"PostgreSQL at {shown}: there is no {dep.version_table} table: the migrations "
                "never ran on this database (alembic upgrade head)",
                cause="database not migrated",
            ) from None
        except psycopg.Error as exc:
            raise CheckFailed(
                f"PostgreSQL at {shown}: cannot read {dep.version_table}: {first_line(exc)}"
            ) from None
    return sorted(str(row[0]) for row in rows)


def check_postgres_migrated(
    dep: PostgresDependency, redactor: Redactor, code_heads: list[str], source: str
) -> None:
    """The database's alembic revision(s) equal the code's head(s)."""
    shown = redactor.url(dep.dsn)
    database = database_heads(dep, redactor)
    if not database:
        raise CheckFailed(
            f"PostgreSQL at {shown}: {dep.version_table} is empty: the migrations never completed",
            cause="database not migrated",
        )
    if not code_heads:
        return  # only that it is migrated at all
    if len(code_heads) > 1:
        raise CheckFailed(
            f"the deployed code has {len(code_heads)} alembic heads ({', '.join(code_heads)}, "
            f"from {source}): merge them (alembic merge heads) before migrating",
            cause="database not migrated",
        )
    if database != code_heads:
        raise CheckFailed(
            f"PostgreSQL at {shown}: the database is at alembic revision "
            f"{', '.join(map(repr, database))}, but the deployed code's head is "
            f"{code_heads[0]!r} (from {source}): run the migrations (alembic upgrade head); "
            "until then requests that touch the changed tables fail with 500",
            cause="database not migrated",
        )


def parse_alembic_heads(output: str) -> list[str]:
    """``alembic heads`` prints ``<revision> (head)`` per head (``-v`` prints ``Rev: …``)."""
    heads = []
    for line in output.splitlines():
        words = line.replace("Rev:", "").split()
        if words and "(head)" in line:
            heads.append(words[0])
    return sorted(heads)
