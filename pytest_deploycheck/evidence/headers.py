"""headers: the security header policy, on every answer of every status.

The same policy as the security suite (:mod:`pytest_deploycheck.checks.security.policy`),
applied to every answer the run received from the target, 4xx, 5xx and 429
included: a middleware that some answers bypass shows up here. ``Server``
without a version is a recommendation (OWASP: remove it); with one, a failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pytest_deploycheck.checks.security.policy import evaluate
from pytest_deploycheck.evidence.finding import WHERE, Finding, RunEvidence, switched_off
from pytest_deploycheck.run.client import Exchange


class HeadersAnalyser:
    name = "headers"
    title = "security headers on every answer"
    scope = "could be judged"

    def prepare(self, evidence: RunEvidence) -> str | None:
        return switched_off(evidence, "headers")

    def examine(self, exchange: Exchange, evidence: RunEvidence) -> Iterator[Finding]:
        https = exchange.url.startswith("https://")
        headers = exchange.response_headers
        for finding in evaluate(headers, WHERE, https=https, settings=evidence.env.security):
            if finding.fails or finding.warns:
                yield Finding(
                    key=f"{finding.item} {finding.message}",
                    level="fail" if finding.fails else "recommend",
                    message=finding.message,
                    cause=finding.item,  # the security suite's header checks name the same
                )
        server = headers.get("server")
        if server is not None and "server" not in evidence.env.security.accepted:
            yield from _server_named(server)


def _server_named(server: str) -> Iterator[Finding]:
    if not re.search(r"\d+\.\d+", server):
        yield Finding(
            key=f"server-named {server}",
            level="recommend",
            message=f"Server: {server!r} on {WHERE} names the software that answers; OWASP "
            "recommends removing the header (or set security.accepted.server)",
        )
