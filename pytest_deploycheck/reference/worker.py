"""The background worker: pending job -> processing -> completed (with a deck) or failed."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from pytest_deploycheck.reference import cards
from pytest_deploycheck.reference.db import Database, new_id, now
from pytest_deploycheck.reference.faults import FaultState
from pytest_deploycheck.reference.settings import Settings

log = logging.getLogger("reference.worker")


class Worker:
    def __init__(
        self, db: Database, faults: FaultState, settings: Settings, data_dir: Path
    ) -> None:
        self.db = db
        self.faults = faults
        self.settings = settings
        self.decks_dir = data_dir / "decks"
        self.decks_dir.mkdir(parents=True, exist_ok=True)
        self._stop = threading.Event()
        self._wake = threading.Event()
        # Held while a job is created and answered: the upload answers the job as created
        # (pending), as a real API does before its queue delivers the job to a worker.
        self.claim_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="reference-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def wake(self) -> None:
        self._wake.set()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self.claim_lock:
                job = None if self.faults.on("job-stuck") else self.db.claim_pending_job()
            if job is None:
                self._wake.wait(0.2)
                self._wake.clear()
                continue
            try:
                self._process(job)
            except Exception as exc:  # one bad job must not stop the worker
                log.exception("job %s crashed", job["id"])
                self.db.update(
                    "jobs", job["id"], status="failed", error_message=f"internal error: {exc}"
                )

    def _step(self, job_id: str, progress: int) -> bool:
        """Advance progress; False when the job was cancelled meanwhile."""
        time.sleep(self.settings.job_step_delay_s)
        current = self.db.one("SELECT status FROM jobs WHERE id = ?", job_id)
        if current is None or current["status"] != "processing":
            return False
        self.db.update("jobs", job_id, progress_percent=progress)
        return True

    def _process(self, job: dict[str, Any]) -> None:
        job_id = job["id"]
        if not self._step(job_id, 10):
            return
        if self.faults.on("job-failed"):
            self._fail(
                job_id, "card generation failed: LLM provider unavailable (connection refused)"
            )
            return
        pdf = Path(job["source_file_path"]).read_bytes()
        try:
            text = cards.extract_text(pdf, job["page_start"], job["page_end"])
            if not self._step(job_id, 40):
                return
            made = cards.make_cards(text, job["card_density"])
        except cards.PipelineError as exc:
            self._fail(job_id, str(exc))
            return
        if not self._step(job_id, 70):
            return
        if self.faults.on("job-no-deck"):
            self.db.update(
                "jobs", job_id, status="completed", progress_percent=100, completed_at=now()
            )
            return
        deck_id = new_id()
        path = self.decks_dir / f"{deck_id}.apkg"
        name = (
            " - ".join(p for p in (job["subject"], job["chapter"]) if p) or job["source_filename"]
        )
        self._write_deck(made, name, path)
        self.db.insert(
            "decks",
            {
                "id": deck_id,
                "user_id": job["user_id"],
                "job_id": job_id,
                "name": name,
                "card_count": 0 if self.faults.on("deck-empty") else len(made),
                "file_path": str(path),
                "file_size_bytes": path.stat().st_size,
                "created_at": now(),
                "updated_at": now(),
            },
        )
        self.db.execute(
            "UPDATE users SET cards_generated_month = cards_generated_month + ? WHERE id = ?",
            len(made),
            job["user_id"],
        )
        self.db.update(
            "jobs",
            job_id,
            status="completed",
            progress_percent=100,
            result_deck_id=deck_id,
            completed_at=now(),
        )

    def _write_deck(self, made: list[cards.Card], name: str, path: Path) -> None:
        if self.faults.on("deck-corrupt"):
            path.write_bytes(b"PK\x03\x04 this is not really a zip archive" + b"\0" * 64)
        elif self.faults.on("deck-empty"):
            cards.write_apkg([], name, path)
        else:
            cards.write_apkg(made, name, path, blank=self.faults.on("deck-blank-notes"))
            if self.faults.on("deck-unimportable"):
                cards.drop_note_types(path)

    def _fail(self, job_id: str, message: str) -> None:
        self.db.update("jobs", job_id, status="failed", error_message=message)
