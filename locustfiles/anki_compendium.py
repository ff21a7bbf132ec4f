"""Load profiles for the Anki Compendium API.

    locust -f locustfiles/anki_compendium.py --headless --deploycheck-env staging --load-profile baseline
    locust -f locustfiles/anki_compendium.py --headless --deploycheck-env local --load-profile smoke --processes 2

A browsing user (health, me, jobs, decks, a job's detail) and, ten times
rarer, a creator (upload -> poll -> download -> validate the deck) whose
upload-to-validated-deck time is its own metric, ``time_to_deck``. The env's
``load.criteria`` are judged at the end (the docs, "Load tests"); the process
exits non-zero when one is breached. Tokens are signed in once per process.
"""

from __future__ import annotations

import random
import time

from locust import between, events, task
from urllib3 import encode_multipart_formdata

from pytest_deploycheck.locust import (  # noqa: F401  (Locust finds the shape here)
    DeployCheckUser,
    ProfileShape,
    install,
    make_pdf,
    validate_apkg,
)

PDF = make_pdf()
TIME_TO_DECK = "time_to_deck"

install(
    endpoints=[
        "GET /health",
        "GET /auth/me",
        "GET /jobs/",
        "GET /jobs/[id]",
        "GET /decks/",
        "POST /upload/",
        "GET /decks/[id]/download",
        "GET /storage",
        "DELETE /decks/[id]",
        "DELETE /jobs/[id]",
        f"JOURNEY {TIME_TO_DECK}",
    ]
)


class BrowsingUser(DeployCheckUser):
    weight = 10
    weight_key = "browser"  # load.browser_weight
    wait_time = between(0.5, 2)
    seen_jobs: list[str] = []

    @task(3)
    def health(self) -> None:
        assert self.env is not None
        self.api("GET", self.env.health.liveness_path)

    @task(2)
    def me(self) -> None:
        assert self.env is not None
        self.api("GET", self.env.paths.me)

    @task(2)
    def list_jobs(self) -> None:
        assert self.env is not None
        response = self.api("GET", self.env.paths.jobs)
        try:
            items = response.json().get("items", [])
        except ValueError:
            return
        BrowsingUser.seen_jobs = [str(job["id"]) for job in items[:20] if "id" in job]

    @task(2)
    def list_decks(self) -> None:
        assert self.env is not None
        self.api("GET", self.env.paths.decks)

    @task(1)
    def job_detail(self) -> None:
        assert self.env is not None
        if BrowsingUser.seen_jobs:
            job_id = random.choice(BrowsingUser.seen_jobs)  # a creator may have deleted it since
            self.api("GET", self.env.paths.job, params_path={"job_id": job_id}, expect=(200, 404))


class CreatorUser(DeployCheckUser):
    weight = 1
    weight_key = "creator"  # load.creator_weight
    destructive = True  # uploads: only with --allow-destructive on a production env
    wait_time = between(2, 5)

    @task
    def create_a_deck(self) -> None:
        assert self.env is not None
        env, journey = self.env, self.env.journey
        start = time.perf_counter()
        error: Exception | None = None
        try:
            body, content_type = encode_multipart_formdata(
                {**journey.upload_form, journey.upload_field: ("load.pdf", PDF, "application/pdf")}
            )
            upload = self.api(
                "POST",
                env.paths.upload,
                expect=(200, 201, 202),
                data=body,
                headers={"Content-Type": content_type},
            )
            if upload.status_code not in (200, 201, 202):
                # The target's own answer names the failure, not a KeyError of ours.
                raise RuntimeError(f"upload answered {upload.status_code}: {upload.text[:200]}")
            job = upload.json()
            if journey.job_id_field not in job:
                raise RuntimeError(
                    f"upload answered {upload.status_code} without {journey.job_id_field!r}: "
                    f"{upload.text[:200]}"
                )
            job_id = str(job[journey.job_id_field])
            self.session.record("job", job_id)  # deleted when the test stops, if not before
            deadline = start + journey.job_deadline_s
            while job.get(journey.status_field) not in journey.completed_values:
                if job.get(journey.status_field) in journey.failed_values:
                    raise RuntimeError(
                        f"job {job_id} ended {job.get(journey.status_field)}: {job.get(journey.error_field)}"
                    )
                if time.perf_counter() > deadline:
                    raise RuntimeError(
                        f"job {job_id} still {job.get(journey.status_field)} at the deadline"
                    )
                time.sleep(0.25)
                job = self.api("GET", env.paths.job, params_path={"job_id": job_id}).json()
            if job.get(journey.deck_id_field):
                self.session.record("deck", job[journey.deck_id_field])
            key = job_id if journey.download_by == "job" else str(job[journey.deck_id_field])
            answer = self.api(
                "GET", env.paths.deck_download, params_path={"deck_id": key, "job_id": key}
            )
            content = answer.content
            if "json" in answer.headers.get("content-type", ""):
                link = answer.json()[journey.download_url_field]
                with self.client.get(link, name="/storage", catch_response=True) as file:
                    content = file.content
            # Structure only: Anki's own import is CPU-bound and would stall this load generator.
            report = validate_apkg(content, min_notes=journey.min_notes, import_with_anki=False)
            if not report.ok:
                raise RuntimeError("invalid deck: " + "; ".join(report.problems))
            # Leave nothing behind: the deck, then the job.
            if journey.deck_id_field in job and job[journey.deck_id_field]:
                deleted = self.api(
                    "DELETE",
                    env.paths.deck,
                    params_path={"deck_id": job[journey.deck_id_field]},
                    expect=(200, 204, 404),
                )
                if deleted.status_code in (200, 204, 404):
                    self.session.forget("deck", job[journey.deck_id_field])
            deleted = self.api(
                "DELETE", env.paths.job, params_path={"job_id": job_id}, expect=(200, 204, 404)
            )
            if deleted.status_code in (200, 204, 404):
                self.session.forget("job", job_id)
        except Exception as exc:  # every failed step is one failed time_to_deck sample
            error = exc
        events.request.fire(
            request_type="JOURNEY",
            name=TIME_TO_DECK,
            response_time=(time.perf_counter() - start) * 1000,
            response_length=0,
            exception=error,
            context={},
        )
