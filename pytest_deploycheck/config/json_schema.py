"""A JSON Schema of ``deploycheck.toml``, generated from the config's own models, so that
editors validate and complete the file (Taplo / Even Better TOML read ``#:schema``) and the
schema cannot drift from what the plugin accepts.

Every number or boolean may also be written as a ``${VAR}`` string: it is expanded before
the models validate it. What only the models check (a rate like ``5/60s``, a URL's port)
is the plugin's to say at start.
"""

from __future__ import annotations

import json
from typing import Any

from pytest_deploycheck.config.schema import TargetEnv

SCHEMA_FILENAME = "deploycheck.schema.json"
_VARIABLE = {"type": "string", "pattern": r"\$\{"}


def config_schema() -> dict[str, Any]:
    env = TargetEnv.model_json_schema(mode="validation")
    definitions = env.pop("$defs", {})
    env["properties"].pop("name", None)  # the table's own name: [envs.NAME]
    env["required"] = [key for key in env.get("required", []) if key != "name"]
    env["title"] = "An env: one target environment"
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://pytest-deploycheck/deploycheck.schema.json",
        "title": "deploycheck.toml (pytest-deploycheck)",
        "description": "Target environments for pytest-deploycheck. Every key: the docs, "
        '"Keys of an env".',
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "default_env": {"type": "string", "description": "the env when --env is not given"},
            "envs": {
                "type": "object",
                "description": "Target environments by name: [envs.staging], [envs.prod] …",
                "additionalProperties": {"$ref": "#/$defs/TargetEnv"},
            },
        },
        "$defs": {**definitions, "TargetEnv": env},
    }
    return _accept_variables(schema)


def schema_text() -> str:
    return json.dumps(config_schema(), indent=2, sort_keys=True) + "\n"


def _accept_variables(node: Any) -> Any:
    """Numbers and booleans may be ``${VAR}`` strings in the file."""
    if isinstance(node, dict):
        walked = {key: _accept_variables(value) for key, value in node.items()}
        if walked.get("type") in ("integer", "number", "boolean"):
            kept = {k: v for k, v in walked.items() if k not in ("title", "description", "default")}
            described = {
                k: v for k, v in walked.items() if k in ("title", "description", "default")
            }
            return {**described, "anyOf": [kept, _VARIABLE]}
        return walked
    if isinstance(node, list):
        return [_accept_variables(value) for value in node]
    return node
