"""Fixtures for the plugin's own tests.

``reference`` is one reference deployment for the whole test session, with a
control token so that ``faults.set(...)`` can switch faults between runs
instead of starting a server per fault. ``suite_project`` runs the shipped
suites the way a user would (``pytest --base-url ... suites/test_x.py``) in a
pytester directory.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpcore  # noqa: F401  (imported before pytester's in-process runs snapshot sys.modules)
import httpx
import pytest
import scipy.stats  # noqa: F401  (numpy's C core cannot be imported twice in one process)

from pytest_deploycheck._version import __version__
from pytest_deploycheck.run import embedded

REPO = Path(__file__).resolve().parent.parent
SUITES = REPO / "suites"
CONTROL_TOKEN = "test-control-token"


@dataclass
class Reference:
    url: str
    api_url: str
    log_path: str
    data_dir: str

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        """Read the deployment's own database (to prove nothing was left behind)."""
        import sqlite3

        connection = sqlite3.connect(f"file:{self.data_dir}/reference.sqlite3?mode=ro", uri=True)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()

    def metric(self, name: str, **labels: str) -> float:
        """A counter from /metrics, summed over the series matching ``labels``."""
        total = 0.0
        for line in httpx.get(self.url + "/metrics", timeout=10).text.splitlines():
            if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total


class Faults:
    """Switch the shared reference deployment's faults; every test starts with none."""

    def __init__(self, reference: Reference) -> None:
        self._client = httpx.Client(
            base_url=reference.url, headers={"X-Fault-Token": CONTROL_TOKEN}, timeout=10
        )

    def set(self, *faults: str) -> None:
        response = self._client.put("/_deploycheck/faults", json={"faults": list(faults)})
        response.raise_for_status()

    def close(self) -> None:
        self.set()
        self._client.close()


def start_reference(state_dir: Path, **settings: object) -> Reference:
    deployment = embedded.ensure_started(
        state_dir,
        settings={"control_token": CONTROL_TOKEN, "auth_rate_limit": 10_000, **settings},
    )
    return Reference(
        deployment.url, deployment.url + "/api/v1", deployment.log_path, deployment.data_dir
    )


@contextmanager
def running_reference(**settings: object) -> Iterator[Reference]:
    state_dir = Path(tempfile.mkdtemp(prefix="deploycheck-tests-"))
    try:
        yield start_reference(state_dir, **settings)
    finally:
        embedded.stop(state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def reference() -> Iterator[Reference]:
    """The reference deployment shared by the tests (auth rate limit lifted)."""
    with running_reference() as deployment:
        yield deployment


@pytest.fixture
def faults(reference: Reference) -> Iterator[Faults]:
    controller = Faults(reference)
    controller.set()
    yield controller
    controller.close()


class SuiteProject:
    """A pytester directory holding copies of the shipped suites and a config."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        for suite in SUITES.glob("test_*.py"):
            shutil.copy(suite, pytester.path / suite.name)

    def config(self, text: str) -> None:
        (self.pytester.path / "deploycheck.toml").write_text(text)

    def run(self, *args: str, auth_rate_limit: str | None = "off") -> pytest.RunResult:
        """Run pytest here; the shared reference lifts its auth rate limit, so by default the
        run does not pace its auth calls (``auth_rate_limit=None``: the env's own setting)."""
        with pytest.MonkeyPatch.context() as patch:
            if auth_rate_limit is None:
                patch.delenv("DEPLOYCHECK_AUTH_RATE_LIMIT", raising=False)
            else:
                patch.setenv("DEPLOYCHECK_AUTH_RATE_LIMIT", auth_rate_limit)
            return self.pytester.runpytest("-p", "no:cacheprovider", *args)

    def run_against(
        self, reference: Reference, *args: str, auth_rate_limit: str | None = "off"
    ) -> pytest.RunResult:
        return self.run(
            "--base-url",
            reference.url,
            "--expect-version",
            __version__,
            *args,
            auth_rate_limit=auth_rate_limit,
        )


_PYTEST_FRAME = re.compile(r"pytest_deploycheck/[\w/]+\.py:\d+: |^E   .*Traceback", re.MULTILINE)


def assert_no_plugin_traceback(result: pytest.RunResult) -> None:
    """A failure is one message: no pytest traceback through the plugin's own frames."""
    output = result.stdout.str()
    assert not _PYTEST_FRAME.search(output), _PYTEST_FRAME.search(output)
    assert "httpcore." not in output


@pytest.fixture
def suite_project(pytester: pytest.Pytester) -> SuiteProject:
    return SuiteProject(pytester)


# Third-party plugins a deploycheck run never needs (as in pyproject's addopts): kept out
# of the pytester runs too, where each would be imported again (~1.8 s a run).
UNNEEDED_PLUGINS = "-p no:schemathesis -p no:locust -p no:hypothesispytest -p no:anyio"
# The inner runs' own test files are the subject; the shipped suites join only where a test
# asks for them.
# The passive checks join where a test asks for them (--passive-checks=on): they are
# proven in tests/test_passive_checks.py, and other tests count their own suite's checks.
INNER_ADDOPTS = UNNEEDED_PLUGINS + " --no-shipped-suites --passive-checks=off"


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytest's own, with the unneeded plugins off (Pytester clears PYTEST_ADDOPTS on start)."""
    monkeypatch.setenv("PYTEST_ADDOPTS", INNER_ADDOPTS)
    return pytester
