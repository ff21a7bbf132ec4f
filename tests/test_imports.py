"""The plugin stays lean: a smoke run never imports the server, locust/gevent, schemathesis or anki."""

from __future__ import annotations

import subprocess
import sys

import pytest_deploycheck

HEAVY = [
    "fastapi",
    "uvicorn",
    "starlette",
    "locust",
    "gevent",
    "schemathesis",
    "hypothesis",
    "anki",
    "genanki",
]


def test_importing_the_plugin_imports_nothing_heavy() -> None:
    code = f"import sys, pytest_deploycheck.plugin.hooks\nprint([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_public_names_are_exported() -> None:
    for name in pytest_deploycheck.__all__:
        assert hasattr(pytest_deploycheck, name), name
