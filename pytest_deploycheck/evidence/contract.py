"""contract: every answer honours the API's own OpenAPI document.

For each answer to an operation the document declares: its status code is
declared, its content type is one the document names, and its JSON body
validates against the declared schema (with ``jsonschema``). Undeclared error
statuses (FastAPI declares only 2xx and 422) are a *contract gap*:
``contract.undeclared_errors`` says whether that is a recommendation, a
failure, or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from pytest_deploycheck.evidence.finding import (
    WHERE,
    Finding,
    RunEvidence,
    exchange_cause,
    switched_off,
)
from pytest_deploycheck.evidence.openapi import OpenApiDocument, Operation
from pytest_deploycheck.run.client import Exchange
from pytest_deploycheck.run.redaction import MASK

_MAX_SCHEMA_ERRORS = 3


class ContractAnalyser:
    name = "contract"
    title = "answers match the OpenAPI document"
    scope = "was to an operation the OpenAPI document declares"

    def prepare(self, evidence: RunEvidence) -> str | None:
        off = switched_off(evidence, "contract")
        if off is not None:
            return off
        if evidence.document is None:
            return evidence.document_problem or "no OpenAPI document"
        return None

    def applies(self, exchange: Exchange, evidence: RunEvidence) -> bool:
        """Answers to the API's operations (not a probe, a console, a storage link)."""
        return self._operation(exchange, evidence) is not None

    def _operation(self, exchange: Exchange, evidence: RunEvidence) -> Operation | None:
        document = evidence.document
        assert isinstance(document, OpenApiDocument)
        path = evidence.path_of(exchange)
        if path == evidence.env.contract.openapi_path:
            return None
        # Paths from the base URL, or the URL's whole path (a document whose servers name
        # the base URL's own path prefix).
        return document.find(exchange.method, path) or document.find(
            exchange.method, urlsplit(exchange.url).path
        )

    def examine(self, exchange: Exchange, evidence: RunEvidence) -> Iterator[Finding]:
        document = evidence.document
        assert isinstance(document, OpenApiDocument) and exchange.status is not None
        operation = self._operation(exchange, evidence)
        if operation is None:
            return
        status = exchange.status
        key = operation.declared(status)
        if key is None:
            for finding in self._undeclared(operation, status, evidence):
                cause = f"{operation.label} answered {status}, which its document does not declare"
                yield replace(finding, cause=exchange_cause(exchange, cause))
            return
        yield from self._content(operation, key, exchange, document)

    def _undeclared(
        self, operation: Operation, status: int, evidence: RunEvidence
    ) -> Iterator[Finding]:
        declared = ", ".join(sorted(operation.responses)) or "nothing"
        if 400 <= status < 500:
            level = evidence.env.contract.undeclared_errors
            if level == "off":
                return
            yield Finding(
                key=f"gap {operation.label} {status}",
                level="fail" if level == "require" else "recommend",
                message=f"contract gap: {operation.label} answered {status}, which its OpenAPI "
                f"document does not declare (it declares {declared}) on {WHERE}; document it "
                "(contract.undeclared_errors = 'off' to stop reporting this)",
            )
            return
        yield Finding(
            key=f"status {operation.label} {status}",
            level="fail",
            message=f"{operation.label} answered {status}, which its OpenAPI document does not "
            f"declare (it declares {declared}), on {WHERE}",
        )

    def _content(
        self, operation: Operation, key: str, exchange: Exchange, document: OpenApiDocument
    ) -> Iterator[Finding]:
        declared_types = document.media_types(operation, key)
        has_body = bool(exchange.response_text or exchange.response_body)
        if not declared_types or not has_body:
            return
        sent = exchange.content_type.split(";", 1)[0].strip().lower()
        media_type = _matching(sent, declared_types)
        if media_type is None:
            yield Finding(
                key=f"type {operation.label} {exchange.status} {sent}",
                level="fail",
                message=f"{operation.label} answered {exchange.status} as "
                f"{sent or 'no content type'!r}, but its OpenAPI document declares "
                f"{', '.join(declared_types)} on {WHERE}",
            )
            return
        if "json" not in media_type:
            return
        validator = document.validator(operation, key, media_type)
        if validator is None:
            return
        try:
            body = json.loads(exchange.response_text)
        except ValueError:
            if not exchange.response_complete:
                return  # cut at the record's limit, or a secret masked in it: not ours to judge
            yield Finding(
                key=f"json {operation.label} {exchange.status}",
                level="fail",
                message=f"{operation.label} answered {exchange.status} as {media_type}, but the "
                f"body is not JSON on {WHERE}",
            )
            return
        try:
            errors = sorted(
                (e for e in validator.iter_errors(body) if not _redacted(e.instance)),
                key=lambda e: list(e.absolute_path),
            )
        except Exception as exc:  # noqa: BLE001  (the document's own schema is broken)
            yield Finding(
                key=f"unusable {operation.label} {exchange.status}",
                level="recommend",
                message=f"{operation.label}: the OpenAPI document's schema for its "
                f"{exchange.status} answer cannot be used ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:160]}), so {WHERE} went unchecked; fix the document",
            )
            return
        for error in errors[:_MAX_SCHEMA_ERRORS]:
            where_in_body = error.json_path
            yield Finding(
                key=f"schema {operation.label} {exchange.status} {where_in_body} {error.validator}",
                level="fail",
                message=f"{operation.label} answered {exchange.status} with a body that breaks "
                f"its schema at {where_in_body}: {_wanted(error)} on {WHERE}",
            )


def _redacted(value: Any) -> bool:
    """A value the record masked (a token) cannot be judged against its schema."""
    return isinstance(value, str) and MASK in value


def _matching(sent: str, declared: list[str]) -> str | None:
    for media_type in declared:
        wanted = media_type.split(";", 1)[0].strip().lower()
        if wanted in (sent, "*/*"):
            return media_type
        if wanted.endswith("/*") and sent.startswith(wanted[:-1]):
            return media_type
        if wanted == "application/json" and sent.endswith("+json"):
            return media_type
    return None


def _wanted(error: Any) -> str:
    """What the schema wanted and what came back, in words."""
    validator, wanted, got = error.validator, error.validator_value, error.instance
    if validator == "required":
        missing = [name for name in wanted if isinstance(got, dict) and name not in got]
        return f"the schema requires {', '.join(map(repr, missing))}, which is missing"
    if validator == "type":
        return f"the schema wants type {wanted!r}, got {_shown(got)} ({_json_type(got)})"
    if validator in ("enum", "const"):
        return f"the schema wants {validator} {wanted!r}, got {_shown(got)}"
    if validator == "additionalProperties":
        return f"{error.message} (the schema forbids extra properties)"
    return f"the schema wants {validator} {_shown(wanted)}, got {_shown(got)} ({error.message})"


def _shown(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
