"""The reference deployment is a real service: the contract's journey, rate limit, docs, metrics."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pytest_deploycheck.run import embedded
from pytest_deploycheck.target.sample_pdf import make_pdf
from tests.conftest import Faults, Reference, start_reference


@pytest.fixture
def api(reference: Reference) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=reference.api_url, timeout=10) as client:
        yield client


def register_and_login(api: httpx.Client) -> dict[str, str]:
    name = "u" + uuid.uuid4().hex[:10]
    email = f"{name}@example.com"
    response = api.post(
        "/auth/register", json={"email": email, "username": name, "password": "password123"}
    )
    assert response.status_code == 201, response.text
    response = api.post("/auth/login", json={"email": email, "password": "password123"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def wait_for_job(api: httpx.Client, job_id: str, auth: dict[str, str]) -> dict[str, object]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        job = api.get(f"/jobs/{job_id}", headers=auth).json()
        if job["status"] in ("completed", "failed"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_pdf_to_deck_journey(api: httpx.Client, faults: Faults) -> None:
    auth = register_and_login(api)
    response = api.post(
        "/upload/", files={"file": ("notes.pdf", make_pdf(), "application/pdf")}, headers=auth
    )
    assert response.status_code == 201 and response.json()["status"] == "pending"
    job = wait_for_job(api, response.json()["id"], auth)
    assert job["status"] == "completed" and job["result_deck_id"]
    status = api.get(f"/jobs/{job['id']}/status", headers=auth).json()
    assert status["result_deck_id"] == job["result_deck_id"]
    link = api.get(f"/decks/{job['result_deck_id']}/download", headers=auth).json()
    deck = httpx.get(link["download_url"])
    assert deck.headers["content-type"] == "application/x-anki"
    with zipfile.ZipFile(io.BytesIO(deck.content)) as archive:
        assert "collection.anki2" in archive.namelist()
    # The link is signed: without its query it is refused.
    assert httpx.get(link["download_url"].split("?")[0]).status_code == 403


def test_upload_rejects_non_pdf(api: httpx.Client, faults: Faults) -> None:
    auth = register_and_login(api)
    response = api.post("/upload/", files={"file": ("a.txt", b"hello", "text/plain")}, headers=auth)
    assert response.status_code == 400


def test_logout_revokes_the_access_token(api: httpx.Client, faults: Faults) -> None:
    auth = register_and_login(api)
    assert api.post("/auth/logout", headers=auth).status_code == 204
    assert api.get("/auth/me", headers=auth).status_code == 401


def test_auth_rate_limit_answers_429_with_retry_after() -> None:
    state_dir = Path(tempfile.mkdtemp())
    try:
        reference = start_reference(state_dir, auth_rate_limit=2)
        with httpx.Client(base_url=reference.api_url, timeout=10) as api:
            codes = [
                api.post("/auth/login", json={"email": "x@example.com", "password": "p"})
                for _ in range(3)
            ]
        assert [r.status_code for r in codes] == [401, 401, 429]
        assert int(codes[-1].headers["retry-after"]) > 0
        assert codes[-1].json()["retry_after"] > 0
        # A well-run service keeps its security headers on error answers too.
        assert codes[-1].headers["x-content-type-options"] == "nosniff"
    finally:
        embedded.stop(state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)


def test_security_headers_and_no_server_header(api: httpx.Client, faults: Faults) -> None:
    response = api.get("/health")
    assert response.headers["x-frame-options"] == "DENY"
    assert "max-age=31536000" in response.headers["strict-transport-security"]
    assert "server" not in response.headers


def test_openapi_documents_the_api(reference: Reference, faults: Faults) -> None:
    document = httpx.get(reference.url + "/openapi.json").json()
    assert "/api/v1/upload/" in document["paths"]
    assert "401" in document["paths"]["/api/v1/jobs/{job_id}"]["get"]["responses"]


def test_metrics_for_prometheus(reference: Reference, api: httpx.Client, faults: Faults) -> None:
    api.get("/health")
    text = httpx.get(reference.url + "/metrics").text
    assert "http_requests_total" in text and "http_request_duration_seconds_bucket" in text


def test_fault_control_needs_the_token(reference: Reference) -> None:
    response = httpx.put(reference.url + "/_deploycheck/faults", json={"faults": ["health-503"]})
    assert response.status_code == 404


def test_faults_command_lists_faults() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest_deploycheck.cli", "faults"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "health-503" in result.stdout and "[journey]" in result.stdout


def test_serve_rejects_unknown_settings() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest_deploycheck.cli", "serve", "--set", "nope=1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "nope" in result.stdout
