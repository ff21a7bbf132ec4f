"""leaks: no answer's body gives away how the service is built.

Stack traces, framework versions and debug pages in any body the target sent;
server file paths, SQL statements and driver errors in error bodies (a successful
answer may carry them as its user's content), with the patterns of
:mod:`pytest_deploycheck.checks.security.exposure`.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_deploycheck.checks.security.exposure import leaks
from pytest_deploycheck.evidence.finding import WHERE, Finding, RunEvidence, switched_off
from pytest_deploycheck.run.client import Exchange


class LeaksAnalyser:
    name = "leaks"
    title = "no answer leaks internals"
    scope = "had a body to read (the OpenAPI document itself is not judged)"

    def prepare(self, evidence: RunEvidence) -> str | None:
        return switched_off(evidence, "leaks")

    def applies(self, exchange: Exchange, evidence: RunEvidence) -> bool:
        # the API's own documentation may quote anything
        return bool(exchange.response_text) and (
            evidence.path_of(exchange) != evidence.env.contract.openapi_path
        )

    def examine(self, exchange: Exchange, evidence: RunEvidence) -> Iterator[Finding]:
        text = exchange.response_text
        status = exchange.status or 0
        for found in leaks(text, error_answer=status >= 400):
            what, _, excerpt = found.partition(": ")
            yield Finding(
                key=what,
                level="fail",
                message=f"{what} in the body of {WHERE} (first: {excerpt})",
            )
