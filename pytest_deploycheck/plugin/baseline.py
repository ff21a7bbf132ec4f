"""Release over release (``--baseline PATH`` or ``baseline.store``): after the run's checks,
samples of the read-only endpoints, judged against the last green release's record; at the
end, this run's record.

Each judged endpoint is one check, ``baseline::GET /api/v1/decks/``: failed when it is
significantly slower by more than the effect floor ("is 251 ms slower than 1.4.1: median
4 → 255 ms, 98 % CI +243…+262 ms, p < 0.001"), skipped when either side has too few
samples (said, never a silent pass); ``baseline::errors`` judges the 5xx share and
``baseline::api`` the OpenAPI document (removed operations, changed response schemas).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import pytest

from pytest_deploycheck.baseline.document import (
    added_operations,
    breaking_changes,
    fingerprint,
    shape,
)
from pytest_deploycheck.baseline.judge import (
    LatencyComparison,
    compare_errors,
    compare_latency,
    p_text,
)
from pytest_deploycheck.baseline.record import RunRecord, baseline_for
from pytest_deploycheck.baseline.store import RecordStore
from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.config.schema import BaselineSettings
from pytest_deploycheck.errors import DeployCheckError
from pytest_deploycheck.evidence.finding import internal_error
from pytest_deploycheck.plugin.context import DeployContext
from pytest_deploycheck.plugin.synthetic import report_check
from pytest_deploycheck.plugin.verdict import plugin_version
from pytest_deploycheck.properties import CAUSE, EXAMINED
from pytest_deploycheck.run.client import DeployClient

SUITE = "baseline"


class BaselineRun:
    NAME = "deploycheck-baseline"

    def __init__(self, context: DeployContext, store: RecordStore) -> None:
        self.context = context
        self.store = store
        self.record: RunRecord | None = None
        self.summary: dict[str, Any] = {"store": store.where}
        self.not_sampled: dict[str, tuple[bool, str]] = {}

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        result = yield
        context = self.context
        if session.config.option.collectonly or context.env is None or context.failure:
            return result
        if session.shouldfail or session.shouldstop or context.target is None:
            return result  # nothing reached the target: there is nothing to sample
        context.baseline = self.summary
        try:
            self._sample_and_judge(session, context.target)
        except DeployCheckError as exc:
            self._failed(session, str(exc))
        except Exception as exc:  # noqa: BLE001  (a bug of ours is a failed check, named)
            self._failed(session, internal_error("the baseline comparison", exc))
        return result

    def _failed(self, session: pytest.Session, message: str) -> None:
        session.testscollected += 1
        report_check(session, f"{SUITE}::judge", "failed", message, properties=[(CAUSE, message)])

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """The record, with the verdict the run ended with (never a baseline unless green)."""
        reporting = session.config.pluginmanager.get_plugin("deploycheck-reporting")
        verdict = getattr(reporting, "verdict", None)
        if self.record is None or verdict is None:
            return
        self.record.verdict = verdict.verdict
        try:
            where = self.store.save(self.record)
        except (DeployCheckError, OSError) as exc:
            self.context.notes.append(f"baseline: this run could not be recorded: {exc}")
            return
        except Exception as exc:  # noqa: BLE001  (said, not a crash at the run's end)
            said = internal_error("recording the run", exc)
            self.context.notes.append(f"baseline: this run could not be recorded: {said}")
            return
        self.context.notes.append(
            f"baseline: this run ({verdict.verdict}, version {self.record.version}) recorded in "
            f"{self.context.redactor.url(where) if '://' in where else where}"
        )

    # -- sampling ------------------------------------------------------------------------

    def _sample_and_judge(self, session: pytest.Session, target: TargetEnv) -> None:
        from pytest_deploycheck.evidence.openapi import load
        from pytest_deploycheck.run.rollout import deployed_version

        settings = target.baseline
        began = time.perf_counter()
        document: dict[str, Any] | None = None
        with self.context.client() as client:
            version = deployed_version(client, target)
            try:
                document = load(target, client).raw
            except DeployCheckError:
                document = None
            endpoints = self._endpoints(target, document)
            latency, answers, errors = self._sample(client, target, endpoints)
        self.summary["sampling_s"] = round(time.perf_counter() - began, 2)
        self.record = RunRecord(
            env=target.name,
            version=version,
            verdict="unknown",
            recorded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            run_id=self.context.run_id,
            plugin_version=plugin_version(),
            latency_ms=latency,
            answers=answers,
            errors=errors,
            document=shape(document) if document else {},
            document_fingerprint=fingerprint(document) if document else None,
        )
        records = self.store.records(target.name)
        base, why = baseline_for(records, version)
        self.summary.update(version=version, why=why, against=base.label if base else None)
        if base is None:
            session.testscollected += 1
            report_check(
                session,
                f"{SUITE}::judge",
                "skipped",
                f"nothing to compare with in {self.store.where}: {why}; this run is recorded",
            )
            return
        self._judge(session, base, self.record, settings)

    def _endpoints(
        self, target: TargetEnv, document: dict[str, Any] | None
    ) -> list[tuple[str, bool]]:
        """``(path, protected)``: the env's ``baseline.endpoints``, else the document's GET
        operations without path parameters."""
        configured = target.baseline.endpoints
        if configured:
            return [(path, True) for path in configured]
        if document is None:
            return []
        from pytest_deploycheck.evidence.openapi import OpenApiDocument

        operations = OpenApiDocument(document, "the document").operations
        return sorted(
            (op.path, op.protected)
            for op in operations
            if op.method == "GET" and "{" not in op.path
        )

    def _sample(
        self, client: DeployClient, target: TargetEnv, endpoints: list[tuple[str, bool]]
    ) -> tuple[dict[str, list[float]], int, int]:
        settings = target.baseline
        users = (
            [u for u in self.context.store.users() if u.label == "smoke"]
            if self.context.state_dir
            else []
        )
        token = users[0].headers if users else None
        pause = 1 / settings.pace_per_s
        latency: dict[str, list[float]] = {}
        answers = errors = 0
        # label -> (does it break what the baseline could read?, why it was not sampled)
        skipped: dict[str, tuple[bool, str]] = {}
        refused: dict[str, str] = {}  # label -> the last 4xx/5xx it answered
        for _ in range(settings.samples):
            for path, protected in endpoints:
                label = f"GET {path}"
                if label in skipped:
                    continue
                if protected and token is None:
                    skipped[label] = (False, "needs a signed-in user; the run signed none in")
                    continue
                url = target.base_url + path if path.startswith("/") else path
                clock = time.perf_counter()
                try:
                    response = client.get(url, headers=token if protected else None)
                except DeployCheckError as exc:
                    answers += 1
                    errors += 1
                    skipped.setdefault(label, (True, f"could not be sampled: {exc}"))
                    continue
                took = (time.perf_counter() - clock) * 1000
                answers += 1
                status = response.status_code
                if status >= 500:
                    errors += 1
                    refused[label] = f"answered {status} {response.reason_phrase}"
                elif status == 429:
                    skipped[label] = (
                        False,
                        "answered 429: the target limits these reads below "
                        f"baseline.pace_per_s = {settings.pace_per_s:g}; lower it",
                    )
                    latency.pop(label, None)
                elif status >= 400:
                    skipped[label] = (True, f"answered {status} {response.reason_phrase}")
                    latency.pop(label, None)
                else:
                    latency.setdefault(label, []).append(round(took, 2))
                time.sleep(max(0.0, pause - (time.perf_counter() - clock)))
        for label, why in refused.items():
            if label not in latency:  # every sample failed
                skipped.setdefault(label, (True, why))
        self.not_sampled = skipped
        self.summary["not_sampled"] = {label: why for label, (_, why) in skipped.items()}
        return latency, answers, errors

    # -- judging -------------------------------------------------------------------------

    def _judge(
        self, session: pytest.Session, base: RunRecord, now: RunRecord, floors: BaselineSettings
    ) -> None:
        rows = []
        reports: list[tuple[str, str, str, list[tuple[str, object]]]] = []
        for label in sorted(set(now.latency_ms) | set(base.latency_ms) | set(self.not_sampled)):
            if label not in now.latency_ms:
                # Not sampled now: said, never left out of the comparison.
                reports.append(self._not_sampled_report(label, base))
                continue
            found = compare_latency(base.latency_ms.get(label, []), now.latency_ms[label], floors)
            rows.append({"endpoint": label, **found.__dict__})
            reports.append(_latency_report(label, found, base, floors))
        errors = compare_errors(base.errors, base.answers, now.errors, now.answers, floors)
        self.summary["errors"] = errors.__dict__ | {
            "base_share": errors.base_share,
            "now_share": errors.now_share,
        }
        said = (
            f"5xx answers: {errors.base_errors} of {errors.base_answers} in {base.label}, "
            f"{errors.now_errors} of {errors.now_answers} now ({p_text(errors.p_value)})"
        )
        if errors.outcome == "regression":
            reports.append(
                (f"{SUITE}::errors", "failed", f"more 5xx answers than {base.label}: {said}", [])
            )
        elif errors.outcome == "inconclusive":
            reports.append((f"{SUITE}::errors", "skipped", errors.why, []))
        else:
            reports.append((f"{SUITE}::errors", "passed", "", [(EXAMINED, said)]))
        reports.append(self._api_report(base, now))
        self.summary["endpoints"] = rows
        self.summary["confidence"] = floors.confidence
        session.testscollected += len(reports)
        for nodeid, outcome, said, properties in reports:
            message = self.context.redactor.text(said)  # an error's URL, a reason quoting it
            if outcome == "failed":
                properties = [*properties, (CAUSE, message.splitlines()[0])]
            report_check(session, nodeid, outcome, message, properties=properties)  # type: ignore[arg-type]

    def _not_sampled_report(
        self, label: str, base: RunRecord
    ) -> tuple[str, str, str, list[tuple[str, object]]]:
        nodeid = f"{SUITE}::{label}"
        breaks, why = self.not_sampled.get(label, (False, "no longer in the document"))
        if label in base.latency_ms and breaks:
            return (
                nodeid,
                "failed",
                f"{label} {why} now; {base.label} answered it "
                f"({len(base.latency_ms[label])} samples)",
                [],
            )
        return nodeid, "skipped", f"{label} not sampled: {why}", []

    def _api_report(
        self, base: RunRecord, now: RunRecord
    ) -> tuple[str, str, str, list[tuple[str, object]]]:
        nodeid = f"{SUITE}::api"
        if not base.document or not now.document:
            which = "the baseline" if not base.document else "this run"
            return (
                nodeid,
                "skipped",
                f"no OpenAPI document in {which}: the API's shape not compared",
                [],
            )
        breaking = breaking_changes(base.document, now.document)
        added = added_operations(base.document, now.document)
        self.summary["api"] = {"breaking": breaking, "added": added}
        if breaking:
            head = f"{len(breaking)} breaking change{'s' if len(breaking) != 1 else ''} since {base.label}"
            return nodeid, "failed", head + ": " + "; ".join(breaking), []
        same = (
            "the same document"
            if base.document_fingerprint == now.document_fingerprint
            else "no breaking change"
        )
        extra = f"; {len(added)} operations added" if added else ""
        return (
            nodeid,
            "passed",
            "",
            [(EXAMINED, f"{len(now.document)} operations: {same} since {base.label}{extra}")],
        )


def _latency_report(
    label: str, found: LatencyComparison, base: RunRecord, floors: BaselineSettings
) -> tuple[str, str, str, list[tuple[str, object]]]:
    nodeid = f"{SUITE}::{label}"
    if found.outcome == "inconclusive":
        return nodeid, "skipped", f"{label}: {found.why}", []
    assert (
        found.shift_ms is not None and found.ci_low_ms is not None and found.ci_high_ms is not None
    )
    level = f"{floors.confidence * 100:g} % CI {found.ci_low_ms:+.0f}…{found.ci_high_ms:+.0f} ms"
    numbers = (
        f"median {found.base_median_ms:.0f} → {found.now_median_ms:.0f} ms, {level}, "
        f"{p_text(found.p_value)}, {found.now_n} samples against {found.base_n}"
    )
    if found.outcome == "regression":
        return (
            nodeid,
            "failed",
            f"{label} is {found.shift_ms:.0f} ms slower than {base.label}: {numbers}",
            [],
        )
    return nodeid, "passed", "", [(EXAMINED, f"against {base.label}: {numbers}; {found.why}")]
