"""The target's OpenAPI document: where it comes from, its operations, its schemas.

Loaded from the target (``contract.openapi_path``) or a file
(``contract.openapi_file``). Every way it can go wrong is one sentence:
unreachable, not served, not JSON, not OpenAPI 3.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.errors import DocumentNotServed, DocumentUnavailable

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass
class Operation:
    method: str  # upper case
    path: str  # the template, as the document writes it (with the servers' prefix)
    operation_id: str | None
    tags: tuple[str, ...]
    responses: dict[str, Any]
    protected: bool  # declares a security requirement (operation or document level)
    _pattern: re.Pattern[str] = field(repr=False, default=re.compile(""))

    @property
    def label(self) -> str:
        named = f" ({self.operation_id})" if self.operation_id else ""
        return f"{self.method} {self.path}{named}"

    def declared(self, status: int) -> str | None:
        """The responses key that covers ``status`` ("404", "4XX", "default"), or None."""
        for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
            if key in self.responses:
                return key
        return None


class OpenApiDocument:
    """An OpenAPI 3 document, with its operations matched to the paths answers came from."""

    def __init__(self, data: Any, source: str) -> None:
        if not isinstance(data, dict):
            raise DocumentUnavailable(f"{source} is not an OpenAPI document (not a JSON object)")
        version = str(data.get("openapi", ""))
        if not version.startswith("3."):
            found = f"Swagger {data['swagger']}" if "swagger" in data else "no 'openapi' field"
            raise DocumentUnavailable(
                f"{source} is not an OpenAPI 3 document ({found}); convert it, or set "
                "contract.openapi_file to an OpenAPI 3 copy"
            )
        if not isinstance(data.get("paths"), dict):
            raise DocumentUnavailable(
                f"{source} is not a valid OpenAPI document: no 'paths' object"
            )
        self.source = source
        self.raw = data  # as served (schemathesis reads OpenAPI 3.0 itself)
        self.version = version
        self.data = data if version.startswith("3.1") else _nullable_to_type(copy.deepcopy(data))
        self.operations = list(self._operations())
        self._validators: dict[tuple[str, str, str], Any] = {}

    def _operations(self) -> list[Operation]:
        servers = self.data.get("servers") or []
        prefix = urlsplit(str(servers[0].get("url", ""))).path.rstrip("/") if servers else ""
        default_security = self.data.get("security") or []
        found = []
        for path, item in self.data["paths"].items():
            if not isinstance(item, dict):
                continue
            for method in HTTP_METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                security = op.get("security", default_security) or []
                full = prefix + path
                found.append(
                    Operation(
                        method=method.upper(),
                        path=full,
                        operation_id=op.get("operationId"),
                        tags=tuple(op.get("tags") or ()),
                        responses=dict(op.get("responses") or {}),
                        protected=bool(security) and all(bool(req) for req in security),
                        _pattern=_path_pattern(full),
                    )
                )
        # Literal paths before templates: /jobs/stats wins over /jobs/{job_id}.
        found.sort(key=lambda o: (o.path.count("{"), -len(o.path)))
        return found

    def find(self, method: str, path: str) -> Operation | None:
        for operation in self.operations:
            if operation.method == method.upper() and operation._pattern.fullmatch(path):
                return operation
        return None

    def validator(self, operation: Operation, status_key: str, media_type: str) -> Any:
        """A jsonschema validator for one declared body (None when the body has no schema)."""
        key = (operation.label, status_key, media_type)
        if key not in self._validators:
            self._validators[key] = self._build_validator(operation, status_key, media_type)
        return self._validators[key]

    def _build_validator(self, operation: Operation, status_key: str, media_type: str) -> Any:
        import jsonschema

        response = self.resolve(operation.responses.get(status_key) or {})
        schema = ((response.get("content") or {}).get(media_type) or {}).get("schema")
        if schema is None:
            return None
        # The document's components ride along, so "#/components/..." references resolve.
        root = {**schema, "components": self.data.get("components", {})}
        return jsonschema.Draft202012Validator(root)

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        """Follow a local ``$ref`` (a response object may be one)."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            ref = str(node["$ref"])
            if not ref.startswith("#/"):
                return {}
            node = pointed_at(self.data, ref)
            seen += 1
        return node if isinstance(node, dict) else {}

    def media_types(self, operation: Operation, status_key: str) -> list[str]:
        response = self.resolve(operation.responses.get(status_key) or {})
        return list((response.get("content") or {}).keys())


def pointed_at(document: Any, ref: str) -> Any:
    """What a local reference (``#/components/schemas/Deck``) names in ``document``; ``{}``
    where nothing is (JSON Pointer: ``~1`` is ``/``, ``~0`` is ``~``)."""
    target: Any = document
    for part in ref.removeprefix("#/").split("/"):
        key = part.replace("~1", "/").replace("~0", "~")
        target = target.get(key, {}) if isinstance(target, dict) else {}
    return target


def load(env: TargetEnv, client: Any) -> OpenApiDocument:
    """The env's document: its file, or what the target serves at ``contract.openapi_path``."""
    settings = env.contract
    if settings.openapi_file:
        return load_file(settings.openapi_file)
    if not settings.openapi_path:
        raise DocumentUnavailable(
            f"env {env.name!r} has no OpenAPI document (contract.openapi_path is empty); set "
            "contract.openapi_file to a copy to check answers against it"
        )
    url = env.base_url + settings.openapi_path
    response = client.get(url)
    if response.status_code != 200:
        raise DocumentNotServed(
            f"the target serves no OpenAPI document: GET {url} answered {response.status_code}; "
            "set contract.openapi_path to where it is, contract.openapi_file to a copy, or "
            "openapi_path = '' if it has none"
        )
    try:
        data = response.json()
    except ValueError:
        start = response.text[:40].strip()
        raise DocumentUnavailable(
            f"GET {url} did not answer JSON ({response.headers.get('content-type', 'no type')}, "
            f"starting {start!r}): not an OpenAPI document"
        ) from None
    return OpenApiDocument(data, f"GET {url}")


def load_file(path: str) -> OpenApiDocument:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise DocumentUnavailable(
            f"contract.openapi_file {path!r} cannot be read: {exc.strerror or exc}"
        ) from None
    try:
        data = json.loads(text)
    except ValueError as json_error:
        if file.suffix.lower() not in (".yaml", ".yml"):
            raise DocumentUnavailable(
                f"contract.openapi_file {path!r} is not JSON ({json_error})"
            ) from None
        try:
            import yaml
        except ImportError:
            raise DocumentUnavailable(
                f"contract.openapi_file {path!r} is YAML: install PyYAML to read it"
            ) from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DocumentUnavailable(
                f"contract.openapi_file {path!r} is not valid YAML ({exc})"
            ) from None
    return OpenApiDocument(data, f"contract.openapi_file {path!r}")


def _path_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", template)
    regex = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(regex)


def _nullable_to_type(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` in JSON Schema's words (``type: [T, "null"]``)."""
    if isinstance(node, dict):
        for value in node.values():
            _nullable_to_type(value)
        if node.pop("nullable", False) is True:
            kind = node.get("type")
            if isinstance(kind, str):
                node["type"] = [kind, "null"]
        return node
    if isinstance(node, list):
        for value in node:
            _nullable_to_type(value)
    return node
