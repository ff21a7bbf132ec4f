"""Schema fuzzing: schemathesis generates requests from the target's OpenAPI document.

Every generated request goes through the run's own client (its deadline, its
redacted record), so the passive checks examine these answers too. Checked:
no server errors; status codes, content types and bodies as the document
declares; invalid data refused with a 4xx (``fuzz.negative_data_rejection``);
declared-protected operations refuse a missing token; answers within
``latency_ms.default``. Read-only (GET, HEAD, OPTIONS) unless the env allows
destructive checks; the auth operations are left out (``fuzz.skip_auth_operations``).

The seed is printed at the start of the run; ``--fuzz-seed N`` replays it.
Every failure comes with a curl command that reads the token from
``$DEPLOYCHECK_TOKEN``.
"""

from __future__ import annotations

import pytest

from pytest_deploycheck import SchemaFuzzer, TargetEnv

pytestmark = [pytest.mark.fuzz]


@pytest.mark.smoke
def test_schema_fuzzing_smoke_subset(schema_fuzzer: SchemaFuzzer) -> None:
    """A few examples of every operation (fuzz.smoke_examples, fuzz.smoke_time_budget_s)."""
    schema_fuzzer.run("smoke")


def test_schema_fuzzing(schema_fuzzer: SchemaFuzzer) -> None:
    """The env's full budget (fuzz.examples per operation, fuzz.time_budget_s)."""
    schema_fuzzer.run("full")


def test_stateful_fuzzing_over_links(schema_fuzzer: SchemaFuzzer, deploy_env: TargetEnv) -> None:
    """Sequences of calls that follow the document's OpenAPI links (opt-in: fuzz.stateful)."""
    if not deploy_env.fuzz.stateful:
        pytest.skip(f"stateful fuzzing is opt-in (fuzz.stateful = true in env {deploy_env.name!r})")
    schema_fuzzer.run_stateful()
