"""``id_style = "integer"``: ids as real APIs often have them (``"job_id": 42``).

The app keeps its ids as text (``"42"``, counted from 1); at the edge, every JSON answer's
id fields that hold a number go out as JSON numbers, and the OpenAPI document declares
them ``integer``, so the document and the answers agree, as on such a service.
"""

from __future__ import annotations

import json
from typing import Any

Headers = list[tuple[bytes, bytes]]
ID_FIELDS = frozenset({"id", "user_id", "job_id", "deck_id", "result_deck_id"})


def integer_ids(status: int, headers: Headers, body: bytes) -> tuple[Headers, bytes]:
    """The answer with its numeric id fields as numbers (the document: declared so)."""
    if not any(k.lower() == b"content-type" and b"json" in v for k, v in headers):
        return headers, body
    try:
        data = json.loads(body)
    except ValueError:
        return headers, body
    if isinstance(data, dict) and "openapi" in data and "paths" in data:
        return headers, json.dumps(_declared_integer(data)).encode()
    return headers, json.dumps(_as_numbers(data)).encode()


def _as_numbers(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: int(value)
            if key in ID_FIELDS and isinstance(value, str) and value.isdigit()
            else _as_numbers(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_as_numbers(value) for value in node]
    return node


def _declared_integer(node: Any, key: str | None = None) -> Any:
    """String-typed schemas of the id fields (and id path parameters) become integers."""
    if isinstance(node, dict):
        if key in ID_FIELDS and node.get("type") == "string":
            return {**{k: v for k, v in node.items() if k != "format"}, "type": "integer"}
        if key in ID_FIELDS and "anyOf" in node:
            return {**node, "anyOf": [_declared_integer(o, key) for o in node["anyOf"]]}
        if node.get("in") == "path" and node.get("name") in ID_FIELDS:
            schema = dict(node.get("schema") or {})
            schema["type"] = "integer"
            return {**node, "schema": schema}
        return {name: _declared_integer(value, name) for name, value in node.items()}
    if isinstance(node, list):
        return [_declared_integer(value, key if key == "anyOf" else None) for value in node]
    return node
