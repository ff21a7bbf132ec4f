"""SQLite storage for users, jobs, decks and revoked tokens (one connection, one lock)."""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT UNIQUE NOT NULL,
    username TEXT UNIQUE NOT NULL,
    display_name TEXT,
    password_hash TEXT NOT NULL,
    subscription_tier TEXT NOT NULL DEFAULT 'free',
    cards_generated_month INTEGER NOT NULL DEFAULT 0,
    cards_limit_month INTEGER NOT NULL,
    is_active INTEGER NOT NULL DEFAULT 1,
    is_admin INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_login_at TEXT
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    progress_percent INTEGER NOT NULL DEFAULT 0,
    source_filename TEXT NOT NULL,
    source_file_path TEXT NOT NULL,
    page_start INTEGER,
    page_end INTEGER,
    card_density TEXT NOT NULL,
    subject TEXT,
    chapter TEXT,
    custom_tags TEXT NOT NULL DEFAULT '[]',
    result_deck_id TEXT,
    error_message TEXT,
    retry_count INTEGER NOT NULL DEFAULT 0,
    max_retries INTEGER NOT NULL DEFAULT 3,
    completed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS decks (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id TEXT NOT NULL,
    name TEXT NOT NULL,
    card_count INTEGER NOT NULL,
    file_path TEXT NOT NULL,
    file_size_bytes INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
"""


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


_INTEGER_IDS: list[itertools.count[int]] = []  # id_style = "integer": one counter


def use_integer_ids(after: int = 0) -> None:
    """New ids are numbers counted on from ``after`` (kept as text), for
    ``id_style = "integer"``."""
    _INTEGER_IDS[:] = [itertools.count(after + 1)]


def new_id() -> str:
    if _INTEGER_IDS:
        return str(next(_INTEGER_IDS[0]))
    return str(uuid.uuid4())


class Database:
    """A thread-safe wrapper around one SQLite connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.executescript(SCHEMA)

    def ping(self) -> None:
        with self._lock:
            self._conn.execute("SELECT 1 FROM users LIMIT 1").fetchall()

    def one(self, sql: str, *params: Any) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(sql, params).fetchone()
        return dict(row) if row else None

    def all(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(row) for row in self._conn.execute(sql, params).fetchall()]

    def execute(self, sql: str, *params: Any) -> int:
        with self._lock:
            return self._conn.execute(sql, params).rowcount

    def insert(self, table: str, values: dict[str, Any]) -> None:
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        self.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", *values.values())

    def update(self, table: str, row_id: str, **values: Any) -> None:
        values["updated_at"] = now()
        assignments = ", ".join(f"{column} = ?" for column in values)
        self.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", *values.values(), row_id)

    def claim_pending_job(self) -> dict[str, Any] | None:
        """Move the oldest pending job to processing and return it (atomically)."""
        with self._lock:
            job = self.one(
                "SELECT * FROM jobs WHERE status = 'pending' ORDER BY created_at LIMIT 1"
            )
            if job is None:
                return None
            self.update("jobs", job["id"], status="processing", progress_percent=5)
            return self.one("SELECT * FROM jobs WHERE id = ?", job["id"])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def job_out(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "custom_tags": json.loads(row["custom_tags"] or "[]")}


def user_out(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "password_hash"}
    out["keycloak_id"] = None
    out["is_active"] = bool(row["is_active"])
    out["is_admin"] = bool(row["is_admin"])
    return out
