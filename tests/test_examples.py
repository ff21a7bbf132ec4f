"""The examples load and validate, and the custom check runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pytest_deploycheck import load_config, resolve_env
from pytest_deploycheck.config.resolve import validate_selected
from tests.conftest import Reference, SuiteProject

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SECRETS = {"SMOKE_EMAIL": "smoke@example.com", "SMOKE_PASSWORD": "correct-horse-battery"}


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_config_loads_and_validates(path: Path) -> None:
    config = load_config(path, SECRETS)
    assert config.envs, path
    for name in config.envs:
        env = resolve_env(config, name, environ=SECRETS)
        validate_selected(env, load_profile="smoke")
        assert env.base_url.startswith("https://")


def test_the_custom_check_example_runs(suite_project: SuiteProject, reference: Reference) -> None:
    shutil.copy(EXAMPLES / "test_custom_check.py", suite_project.pytester.path)
    result = suite_project.run_against(reference, "test_custom_check.py")
    result.assert_outcomes(passed=1)
