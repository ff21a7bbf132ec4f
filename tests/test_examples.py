"""The examples load and validate, and the custom check runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pytest_deploycheck.config import load_config, resolve_env
from pytest_deploycheck.load.criteria import check_load_settings
from pytest_deploycheck.run.embedded import run_checks
from tests.conftest import Reference, SuiteProject

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SECRETS = {
    "SMOKE_EMAIL": "smoke@example.com",
    "SMOKE_PASSWORD": "correct-horse-battery",
    "DB_PASSWORD": "db-password",
    "RABBITMQ_PASS": "rabbit-password",
    "MINIO_ACCESS_KEY": "minio-access",
    "MINIO_SECRET_KEY": "minio-secret",
}


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_config_loads_and_validates(path: Path) -> None:
    config = load_config(path, SECRETS)
    assert config.envs, path
    for name in config.envs:
        env = resolve_env(config, name, environ=SECRETS)
        for check in (*run_checks(), check_load_settings):
            check(env, "smoke", {"load_profile": "--load-profile"})
        assert env.base_url.startswith("https://")


def test_the_custom_check_example_runs(suite_project: SuiteProject, reference: Reference) -> None:
    shutil.copy(EXAMPLES / "test_custom_check.py", suite_project.pytester.path)
    result = suite_project.run_against(reference, "test_custom_check.py")
    result.assert_outcomes(passed=1)


SMOKE_COMMAND = (
    "pytest -m smoke --wait-for-version=300 --junitxml=reports/junit.xml "
    "--html=reports/smoke.html --self-contained-html --deploycheck-json=reports/verdict.json"
)


def _commands(path: Path) -> list[str]:
    import yaml

    document = yaml.safe_load(path.read_text())
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("run", "script"):
                    found.extend(value if isinstance(value, list) else [value])
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return [str(c) for c in found]


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_ci_example_parses_and_runs_the_documented_command(name: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    commands = _commands(EXAMPLES / "ci" / name)
    assert SMOKE_COMMAND in commands, commands
    assert any(c.startswith("pip install") for c in commands)
    readme = (EXAMPLES.parent / "README.md").read_text()
    assert SMOKE_COMMAND in readme  # the documented command
    # The same command, here against the embedded deployment (DEPLOYCHECK_ENV=local): it
    # judges, writes its reports and gates on the exit code.
    (tmp_path / "deploycheck.toml").write_text('[envs.local]\nbase_url = "embedded"\n')
    bin_dir = Path(sys.executable).parent
    done = subprocess.run(
        SMOKE_COMMAND.replace("pytest ", f"{bin_dir / 'pytest'} -p no:cacheprovider ", 1),
        shell=True,
        cwd=tmp_path,
        env={
            **__import__("os").environ,
            "DEPLOYCHECK_ENV": "local",
            "DEPLOYCHECK_EXPECT_VERSION": __import__("pytest_deploycheck").__version__,
            "PYTEST_ADDOPTS": "-p no:schemathesis -p no:locust -p no:hypothesispytest -p no:anyio",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    verdict = __import__("json").loads((tmp_path / "reports" / "verdict.json").read_text())
    assert verdict["verdict"] == "green"
    assert (tmp_path / "reports" / "junit.xml").exists() and (
        tmp_path / "reports" / "smoke.html"
    ).exists()
