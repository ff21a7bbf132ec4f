"""The journey: upload a PDF, the job completes, the deck downloads and opens in Anki.

This is the one thing a post-deploy check must prove: a real user can sign in,
upload a document and get a working deck back. Everything it creates is deleted
at the end of the run.
"""

from __future__ import annotations

import pytest

from pytest_deploycheck import (
    CheckFailed,
    DeckReport,
    DeployClient,
    DownloadedDeck,
    JobRun,
    RunUser,
    TargetEnv,
    UploadedJob,
    deck_id_of,
    deploy_context,
    describe,
    expect_status,
    json_body,
    unsigned,
)

pytestmark = [pytest.mark.smoke, pytest.mark.journey, pytest.mark.destructive]

NOT_YOURS = (403, 404)


def test_upload_creates_a_pending_job(uploaded_job: UploadedJob, deploy_env: TargetEnv) -> None:
    """Created (201), or accepted for processing (202, an asynchronous upload), pending."""
    status = uploaded_job.body.get(deploy_env.journey.status_field)
    if (
        uploaded_job.status_code not in (201, 202)
        or status not in deploy_env.journey.pending_values
    ):
        raise CheckFailed(
            f"the upload answered {uploaded_job.status_code} with {deploy_env.journey.status_field}={status!r}; "
            f"expected 201 or 202 and one of {', '.join(deploy_env.journey.pending_values)}"
        )


def test_job_completes_within_the_deadline(finished_job: JobRun) -> None:
    """``finished_job`` fails with the job id, last state, error and time waited otherwise."""
    assert finished_job.transitions


def test_completed_job_names_its_deck(finished_job: JobRun, deploy_env: TargetEnv) -> None:
    deck_id_of(finished_job, deploy_env)


def test_deck_record_matches_the_job(
    http: DeployClient, deploy_env: TargetEnv, smoke_user: RunUser, finished_job: JobRun
) -> None:
    deck_id = deck_id_of(finished_job, deploy_env)
    response = http.get(deploy_env.paths.deck.format(deck_id=deck_id), headers=smoke_user.headers)
    expect_status(response, 200, "the job's deck record")
    deck = json_body(response)
    # Ids compare as text: a real API's integer 42 is the job "42" (JSON gives int or str).
    if deck.get("job_id") is not None and str(deck["job_id"]) != str(finished_job.job_id):
        raise CheckFailed(
            f"{describe(response)}: the deck belongs to job {deck['job_id']}, not {finished_job.job_id}"
        )
    if deck.get("card_count") == 0:
        raise CheckFailed(f"{describe(response)}: the deck record says card_count=0")


def test_status_endpoint_agrees_with_the_job(
    http: DeployClient, deploy_env: TargetEnv, smoke_user: RunUser, finished_job: JobRun
) -> None:
    if not deploy_env.journey.check_status_endpoint:
        pytest.skip("journey.check_status_endpoint = false for this env")
    response = http.get(
        deploy_env.paths.job_status.format(job_id=finished_job.job_id), headers=smoke_user.headers
    )
    expect_status(response, 200, "the cheap polling endpoint clients use while a job runs")
    status = json_body(response)
    field = deploy_env.journey.status_field
    if status.get(field) != finished_job.job.get(field):
        raise CheckFailed(
            f"{describe(response)} says {field}={status.get(field)!r}, the job says {finished_job.job.get(field)!r}"
        )
    deck_field = deploy_env.journey.deck_id_field
    if deck_field in status and status[deck_field] != finished_job.job.get(deck_field):
        raise CheckFailed(
            f"{describe(response)} names deck {status[deck_field]!r}, the job {finished_job.job.get(deck_field)!r}"
        )


def test_deck_is_an_anki_package(deck_report: DeckReport) -> None:
    if not deck_report.archive_ok or deck_report.collection_file is None:
        raise CheckFailed(
            "the downloaded deck is not an Anki package: " + "; ".join(deck_report.problems)
        )


def test_deck_has_notes_with_content(deck_report: DeckReport, deploy_env: TargetEnv) -> None:
    test_deck_is_an_anki_package(deck_report)
    if deck_report.problems:
        raise CheckFailed(
            "the deck is not usable: "
            + "; ".join(deck_report.problems)
            + f" ({deck_report.summary()})"
        )


def test_deck_imports_into_anki(deck_report: DeckReport) -> None:
    test_deck_is_an_anki_package(deck_report)
    if deck_report.import_skipped:
        pytest.skip(deck_report.anki_import)
    if not deck_report.anki_import.startswith("ok") or any(
        "Anki" in p for p in deck_report.problems
    ):
        raise CheckFailed(
            f"Anki's own import: {deck_report.anki_import}; " + "; ".join(deck_report.problems)
        )


def test_non_pdf_upload_is_rejected(
    request: pytest.FixtureRequest, http: DeployClient, deploy_env: TargetEnv, smoke_user: RunUser
) -> None:
    field = deploy_env.journey.upload_field
    response = http.post(
        deploy_env.paths.upload,
        headers=smoke_user.headers,
        files={field: ("notes.txt", b"plain text", "text/plain")},
    )
    if response.is_success:
        job_id = (
            response.json().get(deploy_env.journey.job_id_field)
            if "json" in response.headers.get("content-type", "")
            else None
        )
        if job_id:
            deploy_context(request.config).store.record("smoke", "job", str(job_id))
    expect_status(response, range(400, 500), "a text file must be refused as a PDF upload")


def test_other_user_cannot_read_the_job(
    http: DeployClient, deploy_env: TargetEnv, other_user: RunUser, finished_job: JobRun
) -> None:
    response = http.get(
        deploy_env.paths.job.format(job_id=finished_job.job_id), headers=other_user.headers
    )
    expect_status(response, NOT_YOURS, "another user must not read this user's job")


def test_other_user_cannot_read_the_deck(
    http: DeployClient, deploy_env: TargetEnv, other_user: RunUser, finished_job: JobRun
) -> None:
    deck_id = deck_id_of(finished_job, deploy_env)
    for path in (deploy_env.paths.deck, deploy_env.paths.deck_download):
        key = (
            finished_job.job_id
            if path == deploy_env.paths.deck_download and deploy_env.journey.download_by == "job"
            else deck_id
        )
        response = http.get(path.format(deck_id=key, job_id=key), headers=other_user.headers)
        expect_status(
            response, NOT_YOURS, "another user must not read or download this user's deck"
        )


def test_download_needs_its_signature(
    http: DeployClient, deploy_env: TargetEnv, deck: DownloadedDeck, finished_job: JobRun
) -> None:
    if deck.shape == "link":
        assert deck.link is not None
        stripped = unsigned(deck.link)
        if stripped is None:
            pytest.skip(
                "no part of the deck's link looks like a signature (no query, no opaque path "
                "segment): there is nothing to take away"
            )
        response = http.get(stripped)
        expect_status(
            response,
            range(400, 500),
            "the deck link without its signature (or with it tampered with) must be refused: "
            "otherwise every user's decks are readable by anyone who can guess a path "
            "(a public bucket?)",
        )
    else:
        key = finished_job.job_id if deploy_env.journey.download_by == "job" else deck.deck_id
        response = http.get(deploy_env.paths.deck_download.format(deck_id=key, job_id=key))
        expect_status(response, (401, 403), "the deck download without a token must be refused")
