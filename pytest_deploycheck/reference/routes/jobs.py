"""Upload a PDF (a job is created) and follow the job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
)

from pytest_deploycheck.reference.db import job_out, new_id, now
from pytest_deploycheck.reference.schemas import Job, JobPage, JobStatus, JobStatusOut
from pytest_deploycheck.reference.services import (
    current_user,
    errors,
    page_of,
    require_owner,
    services,
)

upload_router = APIRouter(prefix="/upload", tags=["upload"])
router = APIRouter(prefix="/jobs", tags=["jobs"])


@upload_router.post(
    "/",
    status_code=201,
    response_model=Job,
    responses={
        **errors(400, 401, 403, 413),
        202: {"model": Job, "description": "Accepted for processing (an asynchronous upload)"},
    },
)
async def upload(
    request: Request,
    response: Response,
    file: UploadFile = File(...),
    page_start: int | None = Form(None, ge=1),
    page_end: int | None = Form(None, ge=1),
    card_density: Literal["low", "medium", "high"] = Form("medium"),
    subject: str | None = Form(None, max_length=200),
    chapter: str | None = Form(None, max_length=200),
    custom_tags: str | None = Form(None, description="a JSON array of strings"),
    user: dict[str, Any] = Depends(current_user),
) -> dict[str, Any]:
    s = services(request)
    if s.faults.on("upload-500"):
        raise RuntimeError("object storage unavailable: could not store the upload")
    any_file = s.faults.on("accept-any-upload")
    pdf_named = (file.filename or "").lower().endswith(".pdf")
    if not any_file and (file.content_type != "application/pdf" or not pdf_named):
        raise HTTPException(400, "Only PDF files are accepted (application/pdf, .pdf)")
    limit = s.settings.max_upload_mb * 1024 * 1024
    content = await file.read(limit + 1)
    if not content:
        raise HTTPException(400, "The file is empty")
    if len(content) > limit:
        raise HTTPException(413, f"The file exceeds the {s.settings.max_upload_mb} MB limit")
    if not content.startswith(b"%PDF-") and not any_file:
        raise HTTPException(400, "The file is not a PDF document")
    if page_start and page_end and page_end < page_start:
        raise HTTPException(400, "page_end must not be before page_start")
    tags = _parse_tags(custom_tags)
    if user["cards_generated_month"] >= user["cards_limit_month"]:
        raise HTTPException(403, "Monthly card limit reached for your subscription tier")
    if s.settings.upload_status == 202:
        response.status_code = 202  # accepted for processing, as asynchronous APIs answer
    job_id = new_id()
    uploads = s.data_dir / "uploads"
    uploads.mkdir(exist_ok=True)
    path = uploads / f"{job_id}.pdf"
    path.write_bytes(content)
    with s.worker.claim_lock:
        s.db.insert(
            "jobs",
            {
                "id": job_id,
                "user_id": user["id"],
                "status": "pending",
                "progress_percent": 0,
                "source_filename": Path(file.filename or "upload.pdf").name,
                "source_file_path": str(path),
                "page_start": page_start,
                "page_end": page_end,
                "card_density": card_density,
                "subject": subject,
                "chapter": chapter,
                "custom_tags": json.dumps(tags),
                "created_at": now(),
                "updated_at": now(),
            },
        )
        answer = job_out(_job(request, job_id))
    s.worker.wake()
    return answer


@router.get("/", response_model=JobPage, responses=errors(401))
def list_jobs(
    request: Request,
    status_filter: JobStatus | None = None,
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(20, ge=1, le=100),
    user: dict[str, Any] = Depends(current_user),
) -> dict[str, Any]:
    where, params = "user_id = ?", [user["id"]]
    if status_filter:
        where += " AND status = ?"
        params.append(status_filter)
    result = page_of(services(request), "jobs", where, params, page, page_size)
    result["items"] = [job_out(row) for row in result["items"]]
    return result


@router.get("/{job_id}", response_model=Job, responses=errors(401, 403, 404))
def get_job(
    request: Request, job_id: str, user: dict[str, Any] = Depends(current_user)
) -> dict[str, Any]:
    return job_out(_owned_job(request, job_id, user))


@router.get("/{job_id}/status", response_model=JobStatusOut, responses=errors(401, 403, 404))
def get_job_status(
    request: Request, job_id: str, user: dict[str, Any] = Depends(current_user)
) -> dict[str, Any]:
    job = _owned_job(request, job_id, user)
    if services(request).faults.on("status-500"):
        # The real service at a9e235c fills a field its response model does not have.
        return {
            "id": job["id"],
            "status": job["status"],
            "progress_percent": job["progress_percent"],
        }
    return {
        "id": job["id"],
        "status": job["status"],
        "progress": job["progress_percent"],
        "error_message": job["error_message"],
        "result_deck_id": job["result_deck_id"],
    }


@router.post("/{job_id}/retry", response_model=Job, responses=errors(400, 401, 403, 404))
def retry_job(
    request: Request, job_id: str, user: dict[str, Any] = Depends(current_user)
) -> dict[str, Any]:
    s = services(request)
    job = _owned_job(request, job_id, user)
    if job["status"] != "failed":
        raise HTTPException(400, f"Only failed jobs can be retried (this one is {job['status']})")
    if job["retry_count"] >= job["max_retries"]:
        raise HTTPException(400, "Maximum retries reached")
    s.db.update(
        "jobs",
        job_id,
        status="pending",
        progress_percent=0,
        error_message=None,
        retry_count=job["retry_count"] + 1,
    )
    s.worker.wake()
    return job_out(_job(request, job_id))


@router.delete("/{job_id}", status_code=204, responses=errors(401, 403, 404))
def delete_job(
    request: Request, job_id: str, user: dict[str, Any] = Depends(current_user)
) -> Response:
    s = services(request)
    job = _owned_job(request, job_id, user)
    if job["status"] in ("pending", "processing"):
        s.db.update("jobs", job_id, status="cancelled")
    else:
        Path(job["source_file_path"]).unlink(missing_ok=True)
        s.db.execute("DELETE FROM jobs WHERE id = ?", job_id)
    return Response(status_code=204)


def _job(request: Request, job_id: str) -> dict[str, Any]:
    job = services(request).db.one("SELECT * FROM jobs WHERE id = ?", job_id)
    if job is None:
        raise HTTPException(404, "Job not found")
    return job


def _owned_job(request: Request, job_id: str, user: dict[str, Any]) -> dict[str, Any]:
    job = _job(request, job_id)
    require_owner(services(request), job, user, "job")
    return job


def _parse_tags(raw: str | None) -> list[str]:
    if raw is None or raw == "":
        return []
    try:
        tags = json.loads(raw)
    except ValueError:
        raise HTTPException(400, "custom_tags must be a JSON array of strings") from None
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise HTTPException(400, "custom_tags must be a JSON array of strings")
    return tags
