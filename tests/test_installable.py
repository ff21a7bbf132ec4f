"""From a repository to a product: the wheel holds the suites, and a team's empty repository
needs only the package (and, for its own targets, a config) to run them."""

from __future__ import annotations

import email
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

USER_CHECK = '''
import pytest

from pytest_deploycheck import expect_status


@pytest.mark.smoke
def test_our_own_health_check(http, deploy_env):
    """A team's own check, written with the public fixtures."""
    expect_status(http.get(deploy_env.health.liveness_path), 200, "our own health check")
'''


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    yield out


def test_the_wheel_holds_the_suites_locustfiles_and_metadata(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(metadata_name))
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        entry_text = archive.read(entry_points).decode()
    for shipped in (
        "suites/test_health.py",
        "suites/test_journey.py",
        "locustfiles/anki_compendium.py",
    ):
        assert f"pytest_deploycheck/{shipped}" in names, shipped
    assert "pytest_deploycheck/py.typed" in names
    assert "pytest_deploycheck/deploycheck.schema.json" in names  # for editors
    assert metadata["Name"] == "pytest-deploycheck"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "# pytest-deploycheck" in (metadata.get_payload() or "")
    assert "deploycheck = pytest_deploycheck.plugin.hooks" in entry_text
    assert "deploycheck-load = pytest_deploycheck.plugin.load_options" in entry_text
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"README.md", "CHANGELOG.md", "suites/test_health.py", "pyproject.toml"} <= members


def test_fresh_venv_in_an_empty_folder_runs_the_shipped_smoke_suite(
    dist: Path, tmp_path: Path
) -> None:
    (wheel,) = dist.glob("*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", f"{wheel}[reference]"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    project = tmp_path / "our-repo"  # nothing but a team's own check
    project.mkdir()
    (project / "test_our_checks.py").write_text(USER_CHECK)
    run = subprocess.run(
        [
            str(venv / "bin" / "pytest"),
            "--env",
            "local",
            "-m",
            "smoke",
            "-p",
            "no:cacheprovider",
            "-rA",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "PASSED test_our_checks.py::test_our_own_health_check" in run.stdout
    for suite_check in (
        "test_health.py::test_liveness",
        "test_journey.py::test_deck_is_an_anki_package",
    ):
        assert f"PASSED {suite_check}" in run.stdout, run.stdout[-3000:]
    locustfile = subprocess.run(
        [str(venv / "bin" / "deploycheck"), "locustfile"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert locustfile.startswith(str(venv)) and Path(locustfile).is_file()


def test_shipped_suites_join_only_when_no_test_paths_are_given(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import UNNEEDED_PLUGINS

    monkeypatch.setenv("PYTEST_ADDOPTS", UNNEEDED_PLUGINS)  # as a user runs it
    pytester.makepyfile(test_ours="def test_ours():\n    pass\n")
    collected = pytester.runpytest("--env", "local", "--co", "-q", "-p", "no:cacheprovider")
    assert "test_health.py::test_liveness" in collected.stdout.str()
    assert "test_ours.py::test_ours" in collected.stdout.str()
    for args in (["test_ours.py"], ["--no-shipped-suites"]):
        only_ours = pytester.runpytest(
            "--env", "local", "--co", "-q", "-p", "no:cacheprovider", *args
        )
        assert "test_health.py" not in only_ours.stdout.str(), args
        assert "test_ours.py::test_ours" in only_ours.stdout.str()
    # Without a target, a plain pytest run of a team's own tests is left alone.
    plain = pytester.runpytest("--co", "-q", "-p", "no:cacheprovider")
    assert "test_health.py" not in plain.stdout.str()


def test_init_writes_a_starter_config_that_loads(tmp_path: Path) -> None:
    from pytest_deploycheck.config import load_config, resolve_env

    command = [sys.executable, "-m", "pytest_deploycheck.cli", "init", "https://api.example.com/"]
    done = subprocess.run(
        [*command, "--env", "prod", "--production"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    config = load_config(tmp_path / "deploycheck.toml")
    env = resolve_env(
        config, "prod", environ={"SMOKE_EMAIL": "a@b.c", "SMOKE_PASSWORD": "pw-123456"}
    )
    assert (
        env.base_url == "https://api.example.com" and env.production and env.auth.mode == "account"
    )
    assert resolve_env(config, "local", environ={}).is_embedded
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert again.returncode == 2 and "exists; --force overwrites it" in again.stderr
