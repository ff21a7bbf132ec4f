"""A small public notes API whose OpenAPI document links its operations, for the stateful
fuzz run (tests only). ``broken_reads=True`` makes reading a note that exists answer 500:
a bug only a run that follows POST /notes -> GET /notes/{id} can find (random ids are 404s).
"""

# No "from __future__ import annotations": FastAPI reads these annotations at run time.

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LINKS = {
    201: {
        "description": "Created",
        "links": {
            "GetNote": {
                "operationId": "get_note",
                "parameters": {"note_id": "$response.body#/id"},
            }
        },
    }
}


def create_app(broken_reads: bool) -> Any:
    from fastapi import FastAPI, HTTPException
    from pydantic import BaseModel, Field

    app = FastAPI(title="notes")
    notes: dict[str, str] = {}

    class NewNote(BaseModel):
        text: str = Field(min_length=1, max_length=200)

    class Note(BaseModel):
        id: str
        text: str

    @app.post(
        "/api/notes",
        status_code=201,
        response_model=Note,
        operation_id="create_note",
        responses=LINKS,
    )
    def create(body: NewNote) -> dict[str, str]:
        note_id = uuid.uuid4().hex
        notes[note_id] = body.text
        return {"id": note_id, "text": body.text}

    @app.get(
        "/api/notes/{note_id}",
        response_model=Note,
        operation_id="get_note",
        responses={404: {"description": "Not found"}},
    )
    def read(note_id: str) -> dict[str, str]:
        if note_id not in notes:
            raise HTTPException(404, "Not found")
        if broken_reads:
            raise RuntimeError("the notes table lost a column")
        return {"id": note_id, "text": notes[note_id]}

    return app


@contextmanager
def running_linked_service(broken_reads: bool = False) -> Iterator[str]:
    from tests.servers import serving

    with serving(create_app(broken_reads)) as url:
        yield url
