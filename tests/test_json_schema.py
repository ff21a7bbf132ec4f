"""The JSON Schema of deploycheck.toml: generated from the config's models, shipped, and
holding every example while rejecting a misspelt key."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import tomllib

from pytest_deploycheck.config.json_schema import config_schema, schema_text

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "pytest_deploycheck" / "deploycheck.schema.json"
CONFIGS = sorted((REPO / "examples").glob("*.toml")) + [REPO / "deploycheck.toml"]


def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SHIPPED.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_shipped_schema_is_the_models_own() -> None:
    assert SHIPPED.read_text() == schema_text(), (
        "regenerate it: deploycheck schema -o pytest_deploycheck/deploycheck.schema.json"
    )


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_example_config_is_valid(path: Path) -> None:
    errors = [e.message for e in _validator().iter_errors(tomllib.loads(path.read_text()))]
    assert errors == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('[envs.x]\nbase_url = "https://a"\ntimeouts = { totl = 5 }\n', "'totl' was unexpected"),
        ('[envs.x]\nbase_url = "https://a"\nproduktion = true\n', "'produktion' was unexpected"),
        ('[envs.x]\nbase_url = "https://a"\nretries = "two"\n', "'two' is not valid"),
        ('defaultenv = "x"\n', "'defaultenv' was unexpected"),
        ("[envs.x]\nproduction = true\n", "'base_url' is a required property"),
    ],
)
def test_a_misspelt_or_wrong_key_is_rejected(config: str, message: str) -> None:
    errors = [e.message for e in _validator().iter_errors(tomllib.loads(config))]
    assert any(message in error for error in errors), errors


def test_variables_stand_in_for_numbers_and_booleans() -> None:
    config = '[envs.x]\nbase_url = "${URL}"\nproduction = "${PROD}"\nretries = "${RETRIES:-2}"\n'
    assert list(_validator().iter_errors(tomllib.loads(config))) == []


def test_init_writes_the_schema_and_hints_that_validate(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_deploycheck.cli", "init", "https://staging.example.com"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "set paths and journey for your API" in done.stdout
    config = (tmp_path / "deploycheck.toml").read_text()
    assert config.startswith("#:schema ./deploycheck.schema.json\n")
    assert (tmp_path / "deploycheck.schema.json").read_text() == schema_text()
    # The commented hints, switched on, are a valid config that says what the defaults are.
    head, hints, tail = re.split(
        r"(?ms)^(# \[envs\.staging\.paths\].*?job_deadline_s.*?\n)", config
    )
    switched_on = head + re.sub(r"(?m)^# ", "", hints) + tail
    data = tomllib.loads(switched_on)
    assert data["envs"]["staging"]["paths"]["job"] == "/jobs/{job_id}"
    assert list(_validator().iter_errors(data)) == []
    from pytest_deploycheck.config import load_config

    load_config(tmp_path / "deploycheck.toml")  # the plugin accepts it too


def test_the_schema_is_printed_for_editors() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_deploycheck.cli", "schema"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert json.loads(done.stdout) == config_schema()
