"""Where the shipped suites and locustfiles are: inside the installed package, or in a checkout.

A wheel holds them as ``pytest_deploycheck/suites`` and ``pytest_deploycheck/locustfiles``
(their sources stay at the repository's top level); an editable install of a
checkout finds them next to the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped(name: str) -> Path | None:
    """``suites`` or ``locustfiles``: the folder, or None when this install has none."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    return None


def locustfile() -> Path:
    """The shipped Anki Compendium locustfile (``locust -f "$(deploycheck locustfile)"``)."""
    folder = shipped("locustfiles")
    if folder is None:
        raise FileNotFoundError("this installation of pytest-deploycheck has no locustfiles")
    return folder / "anki_compendium.py"
