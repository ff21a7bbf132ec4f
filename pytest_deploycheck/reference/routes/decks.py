"""Decks, their download links, and the object-storage stand-in that serves the files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from pytest_deploycheck.reference.schemas import Deck, DeckPage, DownloadLink
from pytest_deploycheck.reference.services import (
    Services,
    current_user,
    errors,
    page_of,
    require_owner,
    services,
)

router = APIRouter(prefix="/decks", tags=["decks"])
storage_router = APIRouter(prefix="/storage", include_in_schema=False)

APKG_TYPE = "application/x-anki"
_NGINX_PAGE = "<html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>"


@router.get("/", response_model=DeckPage, responses=errors(401))
def list_decks(
    request: Request,
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(20, ge=1, le=100),
    user: dict[str, Any] = Depends(current_user),
) -> dict[str, Any]:
    return page_of(services(request), "decks", "user_id = ?", [user["id"]], page, page_size)


@router.get("/{deck_id}", response_model=Deck, responses=errors(401, 403, 404))
def get_deck(
    request: Request, deck_id: str, user: dict[str, Any] = Depends(current_user)
) -> dict[str, Any]:
    return _owned_deck(services(request), deck_id, user)


@router.get(
    "/{deck_id}/download",
    response_model=DownloadLink,
    responses={
        **errors(401, 403, 404),
        200: {"content": {APKG_TYPE: {}}, "description": "A link to the .apkg, or the file itself"},
    },
)
def download_deck(
    request: Request, deck_id: str, user: dict[str, Any] = Depends(current_user)
) -> Any:
    s = services(request)
    if s.faults.on("slow-route"):
        time.sleep(s.faults.value("slow-route") / 1000)  # a sync route: runs in the thread pool
    if s.settings.download_by == "job":
        row = s.db.one("SELECT * FROM decks WHERE job_id = ?", deck_id)
        if row is None:
            raise HTTPException(404, "No deck for this job")
        deck = _owned_deck(s, row["id"], user)
    else:
        deck = _owned_deck(s, deck_id, user)
    if s.settings.download_style == "file":
        return _serve_file(s, deck)
    key = f"decks/{deck['id']}.apkg"
    signed = s.signer.sign("/storage/" + key, s.settings.download_link_ttl_s)
    query = urlencode(signed)
    if s.settings.download_style == "path-signed":
        base = str(request.base_url).rstrip("/")
        return {
            "download_url": f"{base}/storage/signed/{signed['expires']}/{signed['signature']}/{key}",
            "expires_in": s.settings.download_link_ttl_s,
        }
    if s.settings.download_style == "redirect":
        storage = str(request.base_url.replace(hostname=_other_host(request.base_url.hostname)))
        return RedirectResponse(f"{storage.rstrip('/')}/storage/{key}?{query}", status_code=307)
    return {
        "download_url": f"{str(request.base_url).rstrip('/')}/storage/{key}?{query}",
        "expires_in": s.settings.download_link_ttl_s,
    }


def _other_host(host: str | None) -> str:
    """Another origin for the same server: the loopback name for the address, or back."""
    return "127.0.0.1" if host == "localhost" else "localhost"


@router.delete("/{deck_id}", status_code=204, responses=errors(401, 403, 404))
def delete_deck(
    request: Request, deck_id: str, user: dict[str, Any] = Depends(current_user)
) -> Response:
    s = services(request)
    deck = _owned_deck(s, deck_id, user)
    if s.faults.on("delete-noop"):
        return Response(status_code=204)
    Path(deck["file_path"]).unlink(missing_ok=True)
    s.db.execute("DELETE FROM decks WHERE id = ?", deck_id)
    return Response(status_code=204)


@storage_router.get("/signed/{expires}/{signature}/decks/{deck_id}.apkg")
def path_signed_object(request: Request, expires: str, signature: str, deck_id: str) -> Any:
    """A link signed in its path: the same object, the same signature, another place."""
    return storage_object(request, deck_id, expires, signature)


@storage_router.get("/decks/{deck_id}.apkg")
def storage_object(
    request: Request, deck_id: str, expires: str | None = None, signature: str | None = None
) -> Any:
    s = services(request)
    if s.settings.download_style == "redirect":
        # Object storage on its own origin: the signed link is the only credential it takes.
        extra = [h for h in ("authorization", "x-api-key", "cookie") if h in request.headers]
        if extra:
            raise HTTPException(
                400, f"Only one auth mechanism allowed; the request also carries {extra[0]}"
            )
    if not s.faults.on("public-bucket"):
        problem = s.signer.verify(f"/storage/decks/{deck_id}.apkg", expires, signature)
        if problem:
            raise HTTPException(403, f"Access denied: {problem}")
    deck = s.db.one("SELECT * FROM decks WHERE id = ?", deck_id)
    if deck is None:
        raise HTTPException(404, "The specified key does not exist")
    return _serve_file(s, deck)


def _serve_file(s: Services, deck: dict[str, Any]) -> Any:
    if s.faults.on("download-html"):
        return HTMLResponse(_NGINX_PAGE)
    path = Path(deck["file_path"])
    if s.faults.on("download-404") or not path.is_file():
        raise HTTPException(404, "The specified key does not exist")
    return FileResponse(path, media_type=APKG_TYPE, filename=f"{deck['name']}.apkg")


def _owned_deck(s: Services, deck_id: str, user: dict[str, Any]) -> dict[str, Any]:
    deck = s.db.one("SELECT * FROM decks WHERE id = ?", deck_id)
    if deck is None:
        raise HTTPException(404, "Deck not found")
    require_owner(s, deck, user, "deck")
    return deck
