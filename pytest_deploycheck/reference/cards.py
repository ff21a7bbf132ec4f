"""From a PDF to flashcards to an ``.apkg``: the reference deployment's pipeline.

The real service asks an LLM for cards; here a deterministic stand-in makes
fill-in-the-blank cards from the document's sentences, so a deck always has
real content taken from the upload.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import genanki
from pypdf import PdfReader

_STOPWORDS = frozenset(
    [
        "about",
        "above",
        "after",
        "again",
        "against",
        "because",
        "before",
        "being",
        "below",
        "between",
        "could",
        "during",
        "other",
        "should",
        "their",
        "there",
        "these",
        "those",
        "through",
        "under",
        "until",
        "which",
        "while",
        "would",
        "where",
        "whose",
        "within",
        "without",
    ]
)
_DENSITY_STEP = {"low": 3, "medium": 2, "high": 1}

# Stable ids: Anki identifies note types by id, so every deck shares this one.
_MODEL = genanki.Model(
    1607392319,
    "Anki Compendium Cloze-Style",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Source"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": "{{Front}}",
            "afmt": "{{FrontSide}}<hr id=answer>{{Back}}<br><small>{{Source}}</small>",
        }
    ],
)


class PipelineError(Exception):
    """The document could not be turned into cards (the job ends failed)."""


@dataclass(frozen=True)
class Card:
    front: str
    back: str
    source: str


def extract_text(pdf: bytes, page_start: int | None = None, page_end: int | None = None) -> str:
    try:
        reader = PdfReader(io.BytesIO(pdf))
        pages = reader.pages[(page_start or 1) - 1 : page_end or len(reader.pages)]
        return "\n".join(page.extract_text() or "" for page in pages)
    except Exception as exc:  # pypdf raises many types for broken files
        raise PipelineError(f"could not read the PDF: {exc}") from exc


def make_cards(text: str, density: str = "medium", limit: int | None = None) -> list[Card]:
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split()))]
    cards: list[Card] = []
    for index, sentence in enumerate(s for s in sentences if len(s.split()) >= 5):
        if index % _DENSITY_STEP.get(density, 2):
            continue
        words = [w.strip(".,;:!?()\"'") for w in sentence.split()]
        candidates = [
            w for w in words if len(w) >= 5 and w.isalpha() and w.lower() not in _STOPWORDS
        ]
        if not candidates:
            continue
        answer = max(candidates, key=len)
        front = re.sub(rf"\b{re.escape(answer)}\b", "_____", sentence, count=1)
        cards.append(Card(front=front, back=answer, source=sentence))
        if limit is not None and len(cards) >= limit:
            break
    if not cards:
        raise PipelineError("no text to make cards from (is the PDF scanned or empty?)")
    return cards


def write_apkg(cards: list[Card], deck_name: str, path: Path, *, blank: bool = False) -> None:
    deck_id = int(hashlib.sha256(deck_name.encode()).hexdigest()[:8], 16)
    deck = genanki.Deck(deck_id, deck_name)
    for card in cards:
        fields = ["", "", ""] if blank else [card.front, card.back, card.source]
        guid = genanki.guid_for(deck_name, card.front)
        deck.add_note(genanki.Note(model=_MODEL, fields=fields, guid=guid))
    # A fixed timestamp keeps the archive identical for identical input.
    genanki.Package(deck).write_to_file(str(path), timestamp=1_700_000_000)


def drop_note_types(path: Path) -> None:
    """Empty the collection's note types: the archive and SQLite stay valid, Anki cannot import it."""
    import shutil
    import sqlite3
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(path) as archive:
            archive.extractall(tmp)
        connection = sqlite3.connect(f"{tmp}/collection.anki2")
        connection.execute("UPDATE col SET models = '{}'")
        connection.commit()
        connection.close()
        rebuilt = Path(tmp) / "rebuilt.apkg"
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in ("collection.anki2", "media"):
                archive.write(f"{tmp}/{name}", name)
        shutil.move(str(rebuilt), path)
