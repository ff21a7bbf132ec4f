"""The public surface: what users and the shipped suites may import (as httpx guards its own)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pytest_deploycheck

ROOT = Path(__file__).resolve().parent.parent


def test_all_names_are_exported() -> None:
    for name in pytest_deploycheck.__all__:
        assert hasattr(pytest_deploycheck, name), name


def test_all_is_complete() -> None:
    """Every public name the package's __init__ binds is listed in __all__, and nothing else."""
    public = {
        name
        for name in vars(pytest_deploycheck)
        if not name.startswith("_") and not _is_submodule(name)
    }
    assert public | {"__version__"} == set(pytest_deploycheck.__all__)


def test_all_is_sorted() -> None:
    assert list(pytest_deploycheck.__all__) == sorted(pytest_deploycheck.__all__)


def test_the_surface_is_what_suites_locustfiles_examples_and_a_teams_checks_need() -> None:
    """Nothing more: the config's resolution machinery, reports' internals and the run's
    context classes stay inside (a team reaches them through fixtures)."""
    internal = {"Requested", "Resolution", "Setting", "resolve", "resolve_env", "load_config"}
    internal |= {"ConfigFile", "FuzzReport", "LoadReport"}
    assert not internal & set(pytest_deploycheck.__all__)


def test_version_lives_in_its_own_module() -> None:
    from pytest_deploycheck._version import __version__

    assert pytest_deploycheck.__version__ == __version__


@pytest.mark.parametrize(
    ("folder", "allowed"),
    [
        ("suites", {"pytest_deploycheck"}),
        ("locustfiles", {"pytest_deploycheck.locust"}),
        # A team copies the examples: they must work with what the package promises.
        ("examples", {"pytest_deploycheck", "pytest_deploycheck.locust"}),
    ],
)
def test_shipped_code_imports_only_the_public_api(folder: str, allowed: set[str]) -> None:
    for path in sorted((ROOT / folder).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "pytest_deploycheck"
            ):
                assert node.module in allowed, f"{path.name}: from {node.module} import …"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("pytest_deploycheck."), (
                        f"{path.name}: import {alias.name}"
                    )


def test_locust_api_is_complete() -> None:
    import importlib.util

    if importlib.util.find_spec("locust") is None:
        pytest.skip("locust is not installed")
    import subprocess
    import sys

    # In a subprocess: importing Locust monkey-patches this process with gevent.
    code = (
        "import pytest_deploycheck.locust as m\n"
        "assert all(hasattr(m, n) for n in m.__all__)\n"
        "public = {n for n in vars(m) if not n.startswith('_')}\n"
        "assert public == set(m.__all__), public ^ set(m.__all__)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def _is_submodule(name: str) -> bool:
    import types

    return isinstance(getattr(pytest_deploycheck, name), types.ModuleType)
