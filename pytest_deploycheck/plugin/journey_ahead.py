"""The journey started ahead: upload and follow the job while the other checks run.

A smoke run's length is mostly the target's job processing time. Rather than
wait for it when the journey's tests come up, the plugin uploads at the start
of the run (when any selected test needs the job) and follows the job in a
background thread; ``uploaded_job`` and ``finished_job`` then only collect the
result, and a failure is raised in them, so it is reported on the journey's
checks and nowhere else. The thread stops when the run ends, before cleanup.
"""

from __future__ import annotations

import contextlib
import importlib.util
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pytest_deploycheck.checks.apkg import DeckReport, validate_apkg, warm_up_anki
from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.errors import ConfigError
from pytest_deploycheck.run.client import DeployClient, Exchange
from pytest_deploycheck.run.forked import Forked, why_not_fork
from pytest_deploycheck.target import journey
from pytest_deploycheck.target.sample_pdf import make_pdf

if TYPE_CHECKING:
    from pytest_deploycheck.plugin.context import DeployContext

T = TypeVar("T")
_DECK_CHECK_S = 120.0  # Anki importing the deck, in its own process


def sample_pdf_for(context: DeployContext) -> bytes:
    """The env's ``journey.sample_pdf`` file, or a generated PDF with real sentences."""
    env = context.env
    assert env is not None
    configured = env.journey.sample_pdf
    if not configured:
        return make_pdf()
    path = Path(configured)
    if not path.is_file():
        raise ConfigError(f"env {env.name!r}, key 'journey.sample_pdf': no file at {configured!r}")
    return path.read_bytes()


def _warm_up_anki() -> None:
    with contextlib.suppress(Exception):  # the deck's own check reports what is wrong
        warm_up_anki()


class _Outcome:
    """A value or the exception that replaced it, set once by the background thread."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: object = None
        self.error: BaseException | None = None

    def set(self, produce: Callable[[], object]) -> object:
        try:
            self.value = produce()
            return self.value
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self.done.set()


class JourneyAhead:
    """Uploads the sample PDF as the smoke user and follows the job, once per process."""

    def __init__(self, context: DeployContext) -> None:
        self.context = context
        self.stopping = threading.Event()
        self._uploaded = _Outcome()
        self._finished = _Outcome()
        self._deck = _Outcome()
        self._report = _Outcome()
        self._outcomes = (self._uploaded, self._finished, self._deck, self._report)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.exchanges: list[Exchange] = []  # handed to the journey's checks when collected
        self._needs: frozenset[str] = frozenset()
        self._deck_checker: Forked[DeckReport] | None = None
        self._deck_checker_broken: Exception | None = None

    def start(self, needs: frozenset[str] = frozenset()) -> None:
        """Start in the background (idempotent); ``needs``: the fixtures the selected checks use."""
        with self._lock:
            if self._thread is None:
                if "deck_report" in needs:
                    try:
                        self._fork_deck_checker()  # before the thread: a fork copies one
                    except Exception as exc:  # noqa: BLE001  (a bug of ours: the deck check's)
                        self._deck_checker_broken = exc
                self._needs = needs  # fixed once the thread runs: it decides what it fetches
                self._thread = threading.Thread(
                    target=self._run, name="deploycheck-journey", daemon=True
                )
                self._thread.start()

    def uploaded(self) -> journey.UploadedJob:
        """The upload's answer, waiting for it (and starting it if nobody did)."""
        return self._wait(self._uploaded, journey.UploadedJob)

    def finished(self) -> journey.JobRun:
        """The job followed to its end, waiting for it."""
        return self._wait(self._finished, journey.JobRun)

    def deck(self) -> journey.DownloadedDeck | None:
        """The finished job's deck, downloaded as soon as the job finished; None when the
        thread did not fetch it (the selected checks did not ask for it at the start)."""
        return self._wait_optional(self._deck, journey.DownloadedDeck)

    def deck_report(self) -> DeckReport | None:
        """The deck validated (Anki's import included) in the background; None when not asked."""
        return self._wait_optional(self._report, DeckReport)

    def _fork_deck_checker(self) -> None:
        """Anki's engine in a forked copy, started now, validating the deck once it is here:
        its import (~0.2 s of CPU) is not the run's, and neither is its teardown at exit
        (~0.05 s). Where a fork is not safe, or Anki is not installed, the deck is validated
        here."""
        env = self.context.env
        if env is None or why_not_fork() is not None or importlib.util.find_spec("anki") is None:
            return
        min_notes = env.journey.min_notes

        def validate(deck: tuple[bytes, str | None]) -> DeckReport:
            content, content_type = deck
            return validate_apkg(content, min_notes=min_notes, content_type=content_type)

        # Lowest priority: the deck arrives after the job, a second or more from now.
        with contextlib.suppress(OSError):  # no fork to be had (a process limit): checked here
            self._deck_checker = Forked(
                validate,
                before=warm_up_anki,
                takes_input=True,
                niceness=10,
                redact=self.context.redactor.text,
            )

    def _validate(self, deck: journey.DownloadedDeck) -> DeckReport:
        env = self.context.env
        assert env is not None
        if self._deck_checker_broken is not None:
            raise self._deck_checker_broken
        checker = self._deck_checker
        if checker is not None:
            checker.give((deck.content, deck.content_type), timeout=_DECK_CHECK_S)
            report = checker.result(timeout=_DECK_CHECK_S)
        else:
            report = validate_apkg(
                deck.content, min_notes=env.journey.min_notes, content_type=deck.content_type
            )
        self.context.facts["deck"] = report.summary()
        return report

    def stop(self, timeout: float = 10.0) -> None:
        """Stop following the job (the run is ending) and wait for the thread."""
        self.stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        if self._deck_checker is not None and (thread is None or not thread.is_alive()):
            # Only once the thread is done with it (a Forked is read from one thread); else
            # the copy ends by itself when this process does (run.forked).
            self._deck_checker.stop(grace=1.0)
        self._hand_over_exchanges()  # what no check collected still counts: the passive checks

    def _wait(self, outcome: _Outcome, kind: type[T]) -> T:
        self.start()
        outcome.done.wait()
        self._hand_over_exchanges()
        if outcome.error is not None:
            raise outcome.error
        assert isinstance(outcome.value, kind)
        return outcome.value

    def _wait_optional(self, outcome: _Outcome, kind: type[T]) -> T | None:
        self.start()
        outcome.done.wait()  # settled by the thread, at the latest when it ends
        self._hand_over_exchanges()
        if outcome.error is not None:
            raise outcome.error
        return outcome.value if isinstance(outcome.value, kind) else None

    def _hand_over_exchanges(self) -> None:
        with self._lock:
            self.context.exchanges.extend(self.exchanges)
            self.exchanges.clear()

    def _run(self) -> None:
        context = self.context
        step = "sign-in"
        try:
            target = context.reach()
            with DeployClient(target, context.redactor, on_exchange=self._record) as client:
                user = context.run_user("smoke", client)
                step = "upload"
                uploaded = self._uploaded.set(lambda: self._upload(client, user))
                assert isinstance(uploaded, journey.UploadedJob)
                self._while_the_job_runs(client)
                step = "job"
                finished = self._finished.set(lambda: self._follow(client, user, uploaded))
                assert isinstance(finished, journey.JobRun)
                if self._needs & {"deck", "deck_report"}:
                    step = "download"
                    deck = self._deck.set(
                        lambda: journey.download(client, client.env, user, finished)
                    )
                    assert isinstance(deck, journey.DownloadedDeck)
                    if "deck_report" in self._needs:
                        step = "deck"
                        self._report.set(lambda: self._validate(deck))
        except BaseException as exc:  # raised again in the fixtures that wait for it
            # Where the journey broke, for the verdict's timeline strip ("upload ✗ 500").
            said = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            context.facts["journey_broke"] = {"step": step, "said": said[:300]}
            for outcome in self._outcomes:
                if not outcome.done.is_set():
                    outcome.error = exc
                    outcome.done.set()
        finally:
            # What the thread did not fetch is settled empty: nobody may wait for it forever.
            for outcome in self._outcomes:
                outcome.done.set()

    def _while_the_job_runs(self, client: DeployClient) -> None:
        """Work the journey's later checks will need, done now rather than after the job."""
        if self._needs & {"deck_report"} and self._deck_checker is None:
            # Anki's engine takes ~0.25 s to import and start: not on the critical path.
            threading.Thread(target=_warm_up_anki, name="deploycheck-anki", daemon=True).start()
        if self.context.passive_on:
            threading.Thread(
                target=self._prepare_evidence,
                args=(client.env,),
                name="deploycheck-evidence",
                daemon=True,
            ).start()
        if "other_user" in self._needs:
            threading.Thread(
                target=self._sign_in_other,
                args=(client.env,),
                name="deploycheck-other",
                daemon=True,
            ).start()

    def _prepare_evidence(self, target: TargetEnv) -> None:
        from pytest_deploycheck.plugin.passive import prepare_evidence

        try:
            with DeployClient(target, self.context.redactor, on_exchange=self._record) as client:
                self.context.prepared_evidence = prepare_evidence(self.context, client)
        except Exception:  # noqa: S110  (the review loads it again, and reports what is wrong)
            pass

    def _sign_in_other(self, target: TargetEnv) -> None:
        try:
            with DeployClient(target, self.context.redactor, on_exchange=self._record) as client:
                self.context.run_user("other", client)
        except Exception:  # noqa: S110  (other_user signs in again, and reports it, when used)
            pass

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def _upload(self, client: DeployClient, user: journey.RunUser) -> journey.UploadedJob:
        """One upload per run: under xdist every worker starts ahead, the first one uploads."""

        def upload() -> dict[str, object]:
            uploaded = journey.upload(client, client.env, user, sample_pdf_for(self.context))
            self.context.store.record("smoke", "job", uploaded.job_id)
            return asdict(uploaded)

        return journey.UploadedJob(**self.context.store.once("shared", "smoke-job", upload))

    def _follow(
        self, client: DeployClient, user: journey.RunUser, uploaded: journey.UploadedJob
    ) -> journey.JobRun:
        env = client.env
        run = journey.wait_for_job(
            client,
            env,
            user,
            uploaded.job_id,
            self.context.job_deadline_s,
            first_status=str(uploaded.body.get(env.journey.status_field, "")) or None,
            stopping=self.stopping,
        )
        deck_id = run.job.get(env.journey.deck_id_field)
        if deck_id:
            self.context.store.record("smoke", "deck", str(deck_id))
        self.context.facts["timeline"] = [
            {"status": t.status, "at_s": round(t.at_s, 2)} for t in run.transitions
        ]
        return run
