"""Upload -> job -> deck: the user's path, step by step, with what each step saw."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.errors import CheckFailed
from pytest_deploycheck.run.client import MAX_BODY, DeployClient, same_origin
from pytest_deploycheck.run.expect import describe, expect_status, json_body, json_field
from pytest_deploycheck.run.store import RunUser

UPLOAD_NAME = "deploycheck-smoke.pdf"


@dataclass
class UploadedJob:
    job_id: str
    status_code: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    where: str = ""


@dataclass
class Transition:
    at_s: float
    status: str
    progress: Any = None

    def __str__(self) -> str:
        progress = f" {self.progress}%" if self.progress not in (None, "") else ""
        return f"{self.status}{progress}@{self.at_s:.1f}s"


@dataclass
class JobRun:
    """A job followed to its end: the last answer and every state change seen on the way."""

    job_id: str
    job: dict[str, Any]
    transitions: list[Transition] = field(default_factory=list)
    waited_s: float = 0.0
    polls: int = 0

    @property
    def history(self) -> str:
        return " -> ".join(str(t) for t in self.transitions) or "no answer"


@dataclass
class DownloadedDeck:
    content: bytes
    content_type: str
    shape: str  # "link" (a JSON body with a URL) or "file" (the bytes themselves)
    deck_id: str | None
    link: str | None = field(default=None, repr=False)  # signed: never print it unredacted
    headers: dict[str, str] = field(default_factory=dict)  # of the answer that carried the file
    where: str = ""
    served_by_api: bool = True


def upload(
    client: DeployClient, env: TargetEnv, user: RunUser, pdf: bytes, name: str = UPLOAD_NAME
) -> UploadedJob:
    journey = env.journey
    response = client.post(
        env.paths.upload,
        headers=user.headers,
        files={journey.upload_field: (name, pdf, "application/pdf")},
        data=journey.upload_form,
    )
    expect_status(response, (200, 201, 202), "uploading a PDF")
    body = json_body(response)
    job_id = json_field(response, body, journey.job_id_field, "journey.job_id_field")
    return UploadedJob(
        job_id=str(job_id),
        status_code=response.status_code,
        body=body,
        headers=dict(response.headers),
        where=describe(response),
    )


def wait_for_job(
    client: DeployClient,
    env: TargetEnv,
    user: RunUser,
    job_id: str,
    deadline_s: float,
    first_status: str | None = None,
    stopping: threading.Event | None = None,
) -> JobRun:
    """Poll the job until it ends or the deadline passes; fail with what was seen.

    The wait between polls grows with the time already waited (5 % of it,
    within ``poll_initial_s`` .. ``poll_max_s``), so a job is seen finished at
    most that much after it finished: a 1 s job by 1.1 s, a 5 min job within 5 s. ``first_status`` is the state the upload answered with;
    ``stopping`` ends the wait early (the run is ending).
    """
    journey = env.journey
    run = JobRun(job_id=job_id, job={})
    if first_status:
        run.transitions.append(Transition(0.0, first_status))
    start = time.monotonic()
    path = env.paths.job.format(job_id=job_id)
    while True:
        response = client.get(path, headers=user.headers)
        run.polls += 1
        run.waited_s = time.monotonic() - start
        expect_status(response, 200, f"following job {job_id}")
        job = json_body(response)
        run.job = job if isinstance(job, dict) else {}
        status = str(run.job.get(journey.status_field, "?"))
        progress = run.job.get("progress_percent", run.job.get("progress"))
        if not run.transitions or run.transitions[-1].status != status:
            run.transitions.append(Transition(run.waited_s, status, progress))
        if status in journey.completed_values:
            return run
        if status in journey.failed_values:
            error = run.job.get(journey.error_field)
            raise CheckFailed(
                f"job {job_id} ended {status!r} after {run.waited_s:.1f} s: "
                f"{journey.error_field}={error!r}; states seen: {run.history}"
            )
        remaining = deadline_s - run.waited_s
        if remaining <= 0:
            hint = (
                "no worker picked it up: is the worker (or its queue) running?"
                if status in journey.pending_values
                else "it never finished: is the worker stuck, or its LLM provider slow?"
            )
            raise CheckFailed(
                f"job {job_id} still {status!r}"
                + (f" at {progress}%" if progress not in (None, "") else "")
                + f" after {run.waited_s:.1f} s (deadline {deadline_s:g} s: journey.job_deadline_s or "
                f"--job-deadline): {hint} States seen: {run.history}"
            )
        interval = min(max(run.waited_s * 0.05, journey.poll_initial_s), journey.poll_max_s)
        if stopping is not None and stopping.wait(min(interval, remaining)):
            raise CheckFailed(f"stopped following job {job_id}: the run is ending")
        if stopping is None:
            time.sleep(min(interval, remaining))


def deck_id_of(run: JobRun, env: TargetEnv) -> str:
    deck_id = run.job.get(env.journey.deck_id_field)
    if not deck_id:
        raise CheckFailed(
            f"job {run.job_id} is {run.job.get(env.journey.status_field)!r} but names no deck "
            f"({env.journey.deck_id_field}={deck_id!r}): there is nothing to download"
        )
    return str(deck_id)


_MAX_REDIRECTS = 5


def download(client: DeployClient, env: TargetEnv, user: RunUser, run: JobRun) -> DownloadedDeck:
    """Fetch the deck: a JSON body with a link to follow, or the file itself."""
    journey = env.journey
    deck_id = run.job.get(journey.deck_id_field)
    key = run.job_id if journey.download_by == "job" else deck_id_of(run, env)
    deck_sized = {MAX_BODY: env.limits.max_deck_bytes}
    response = client.get(
        env.paths.deck_download.format(deck_id=key, job_id=key),
        headers=user.headers,
        extensions=deck_sized,
    )
    redirected = None
    for _ in range(_MAX_REDIRECTS):  # to object storage, as real services often answer
        if not response.is_redirect or "location" not in response.headers:
            break
        redirected = urljoin(str(response.url), response.headers["location"])
        client.redactor.add(*signature_parts(redirected))
        # The token only where it came from (the client strips it elsewhere anyway).
        headers = user.headers if same_origin(redirected, env.base_url) else {}
        response = client.get(redirected, headers=headers, extensions=deck_sized)
    expect_status(response, 200, "asking for the deck's download")
    if redirected is not None and "json" not in response.headers.get("content-type", ""):
        return DownloadedDeck(
            response.content,
            response.headers.get("content-type", ""),
            "link",
            str(deck_id) if deck_id else None,
            redirected,
            headers=dict(response.headers),
            where=describe(response),
            served_by_api=same_origin(redirected, env.base_url),
        )
    content_type = response.headers.get("content-type", "")
    if "json" not in content_type:
        return DownloadedDeck(
            response.content,
            content_type,
            "file",
            str(deck_id) if deck_id else None,
            headers=dict(response.headers),
            where=describe(response),
        )
    body = json_body(response)
    link = str(json_field(response, body, journey.download_url_field, "journey.download_url_field"))
    link = urljoin(str(response.request.url), link)
    client.redactor.add(*signature_parts(link))  # a signed link is a credential, in any output
    # The link is presigned; the API's bearer token must not travel to another host.
    headers = user.headers if same_origin(link, env.base_url) else {}
    file_response = client.get(link, headers=headers, extensions=deck_sized)
    expect_status(file_response, 200, "downloading the deck from its link")
    return DownloadedDeck(
        file_response.content,
        file_response.headers.get("content-type", ""),
        "link",
        str(deck_id),
        link,
        headers=dict(file_response.headers),
        where=describe(file_response),
        served_by_api=same_origin(link, env.base_url),
    )


def without_query(url: str) -> str:
    return urlsplit(url)._replace(query="", fragment="").geturl()


# A path segment that is a signature or a token: long, opaque, not an id (a UUID, a number).
_OPAQUE_SEGMENT = re.compile(r"[A-Za-z0-9_~.-]{20,}")
_SIGNED_NAME = re.compile(r"signature|token|sig|credential", re.I)
_UUID = re.compile(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}(\.\w+)?", re.I)


def signature_parts(link: str) -> list[str]:
    """The parts of a signed link that are its credential: its query's values, or the
    opaque segments of a link signed in its path (``/signed/1735689600/9f86d08…/deck.apkg``)."""
    parts = urlsplit(link)
    found = [
        value
        for name, value in parse_qsl(parts.query)
        if _SIGNED_NAME.search(name) and len(value) >= 8
    ]
    found += [
        segment
        for segment in parts.path.split("/")
        if _OPAQUE_SEGMENT.fullmatch(segment)
        and not _UUID.fullmatch(segment)
        and not segment.isdigit()
    ]
    return found


def unsigned(link: str) -> str | None:
    """The link without its credential: its query dropped, or, for a link signed in its
    path, its signature tampered with; None when no part of it looks like a signature."""
    parts = urlsplit(link)
    if parts.query:
        return without_query(link)
    segments = parts.path.split("/")
    for index, segment in enumerate(segments):
        if segment in signature_parts(link):
            # Zeros, not a transform of the signature: the link shown must not reveal it.
            segments[index] = "0" * len(segment) if set(segment) != {"0"} else "1" * len(segment)
            return parts._replace(path="/".join(segments), fragment="").geturl()
    return None


def unauthenticated(client: DeployClient, url: str) -> httpx.Response:
    """GET ``url`` with no credentials at all."""
    return client.get(url)
