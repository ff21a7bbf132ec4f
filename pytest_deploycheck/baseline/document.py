"""An OpenAPI document's shape, recorded with each run, and what changed between two.

The shape is each operation's responses' schemas with every ``$ref`` resolved, hashed:
a changed component shows as a change of every operation that answers with it. A
removed operation, and a changed response schema that removes a property, makes one
required or changes a property's type, is a breaking change; an added operation or
optional property is not.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pytest_deploycheck.evidence.openapi import HTTP_METHODS, pointed_at


def shape(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"GET /decks/": {"200": {"hash": …, "properties": {…}, "required": […]}}}``."""
    found: dict[str, dict[str, Any]] = {}
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            responses: dict[str, Any] = {}
            for status, response in (operation.get("responses") or {}).items():
                schema = _schema_of(_resolved(response, document, 0))
                responses[str(status)] = {
                    "hash": _hash(schema),
                    "properties": {
                        name: _type_of(value)
                        for name, value in (schema.get("properties") or {}).items()
                    },
                    "required": sorted(schema.get("required") or []),
                }
            found[f"{method.upper()} {path}"] = responses
    return found


def fingerprint(document: dict[str, Any]) -> str:
    return _hash(document)[:16]


def breaking_changes(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """The changes a client of ``before`` breaks on, one sentence each."""
    changes = []
    for operation in sorted(before.keys() - now.keys()):
        changes.append(f"{operation} was removed")
    for operation in sorted(before.keys() & now.keys()):
        for status, old in sorted(before[operation].items()):
            new = now[operation].get(status)
            if new is None:
                if status.startswith("2"):
                    changes.append(f"{operation} no longer answers {status}")
                continue
            if old["hash"] == new["hash"]:
                continue
            for name, kind in sorted(old["properties"].items()):
                if name not in new["properties"]:
                    changes.append(f"{operation} {status}: property {name!r} was removed")
                elif new["properties"][name] != kind:
                    changes.append(
                        f"{operation} {status}: property {name!r} changed type "
                        f"{kind} -> {new['properties'][name]}"
                    )
            for name in sorted(set(old["required"]) - set(new["required"])):
                changes.append(f"{operation} {status}: property {name!r} is no longer required")
    return changes


def added_operations(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    return sorted(now.keys() - before.keys())


def _schema_of(response: Any) -> dict[str, Any]:
    if not isinstance(response, dict):
        return {}
    for media in (response.get("content") or {}).values():
        if isinstance(media, dict) and isinstance(media.get("schema"), dict):
            schema: dict[str, Any] = media["schema"]
            return schema
    return {}


def _resolved(node: Any, document: dict[str, Any], depth: int) -> Any:
    """``node`` with ``$ref`` replaced by what it names (a cycle stops at depth 12)."""
    if depth > 12:
        return node
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            return _resolved(pointed_at(document, ref), document, depth + 1)
        return {key: _resolved(value, document, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolved(value, document, depth + 1) for value in node]
    return node


def _type_of(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "any"
    if "type" in schema:
        kind = schema["type"]
        return "|".join(kind) if isinstance(kind, list) else str(kind)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return "|".join(sorted(_type_of(option) for option in schema[key]))
    return "object" if "properties" in schema else "any"


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
