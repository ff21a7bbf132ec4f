"""What a locustfile imports: ``from pytest_deploycheck.locust import DeployCheckUser, install``.

Kept apart from :mod:`pytest_deploycheck` because importing Locust patches the
standard library with gevent, which must never happen inside pytest.
"""

from pytest_deploycheck.checks.apkg import validate_apkg
from pytest_deploycheck.load.locust import (
    DeployCheckUser,
    LoadState,
    ProfileShape,
    install,
    route_name,
)
from pytest_deploycheck.target.sample_pdf import make_pdf

__all__ = [
    "DeployCheckUser",
    "LoadState",
    "ProfileShape",
    "install",
    "make_pdf",
    "route_name",
    "validate_apkg",
]
