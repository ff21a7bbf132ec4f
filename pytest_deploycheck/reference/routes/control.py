"""Switching faults at run time (tests only: needs the server's control token)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import BaseModel

from pytest_deploycheck.reference import faults
from pytest_deploycheck.reference.services import services

router = APIRouter(prefix="/_deploycheck", include_in_schema=False)


class FaultList(BaseModel):
    faults: list[str]


def _authorise(request: Request, token: str | None) -> None:
    expected = services(request).settings.control_token
    if not expected or not token or not hmac.compare_digest(token, expected):
        raise HTTPException(404, "Not Found")


@router.get("/faults")
def get_faults(request: Request, x_fault_token: str | None = Header(None)) -> FaultList:
    _authorise(request, x_fault_token)
    active = services(request).faults.snapshot()
    return FaultList(faults=[n if v is None else f"{n}={v:g}" for n, v in active.items()])


@router.put("/faults")
def put_faults(
    request: Request, body: FaultList, x_fault_token: str | None = Header(None)
) -> FaultList:
    _authorise(request, x_fault_token)
    s = services(request)
    try:
        active = faults.parse(body.faults)
    except faults.UnknownFault as exc:
        raise HTTPException(400, str(exc)) from None
    s.faults.replace(active)
    s.limiter.reset()
    return FaultList(faults=body.faults)
