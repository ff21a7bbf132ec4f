"""Optional libraries: a missing one is one message naming the extra that installs it."""

from __future__ import annotations

import importlib
from types import ModuleType

from pytest_deploycheck.errors import ClientMissing


def need(module: str, what: str, package: str, extra: str) -> ModuleType:
    """``module`` imported, or :class:`ClientMissing`: "checking X needs the P package"."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ClientMissing(
            f"checking {what} needs the {package} package: "
            f"pip install 'pytest-deploycheck[{extra}]'"
        ) from None
