"""Deck validation as a library: good decks pass, each way of being broken is named."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import pytest

from pytest_deploycheck.checks.apkg import validate_apkg
from pytest_deploycheck.reference.cards import Card, extract_text, make_cards, write_apkg
from pytest_deploycheck.target.sample_pdf import SENTENCES, make_pdf


def deck_bytes(tmp_path: Path, cards: list[Card], blank: bool = False) -> bytes:
    path = tmp_path / "deck.apkg"
    write_apkg(cards, "Test deck", path, blank=blank)
    return path.read_bytes()


@pytest.fixture
def good_deck(tmp_path: Path) -> bytes:
    return deck_bytes(tmp_path, make_cards(extract_text(make_pdf())))


def test_good_deck_passes_and_imports_into_anki(good_deck: bytes) -> None:
    report = validate_apkg(good_deck, min_notes=3)
    assert report.ok, report.problems
    assert report.collection_file == "collection.anki2"
    assert report.note_count == report.card_count == report.imported_notes == 6
    assert report.anki_import == "ok: 6 notes imported"
    assert report.sample_fields[0][0].startswith("The _____ is the powerhouse")


def test_too_few_notes(good_deck: bytes) -> None:
    report = validate_apkg(good_deck, min_notes=10, import_with_anki=False)
    assert report.problems == ["the deck has 6 notes, expected at least 10"]


def test_empty_deck(tmp_path: Path) -> None:
    report = validate_apkg(deck_bytes(tmp_path, []), import_with_anki=False)
    assert report.problems == ["the deck has 0 notes, expected at least 1"]


def test_blank_notes(tmp_path: Path) -> None:
    report = validate_apkg(
        deck_bytes(tmp_path, [Card("q", "a", "s")] * 2, blank=True), import_with_anki=False
    )
    assert "2 of 2 notes have only empty fields" in report.problems


@pytest.mark.parametrize(
    ("data", "content_type", "problem"),
    [
        (b"", None, "the file is empty (0 bytes)"),
        (
            b"<!doctype html><html>Welcome</html>",
            "text/html",
            "not a zip archive: got an HTML page (text/html) instead of an .apkg",
        ),
        (b'{"detail": "Not Found"}', "application/json", "not a zip archive: got JSON"),
        (b"PK\x03\x04broken", None, "not a zip archive"),
    ],
)
def test_not_a_package(data: bytes, content_type: str | None, problem: str) -> None:
    report = validate_apkg(data, content_type=content_type)
    assert not report.ok and report.problems[0].startswith(problem)


def test_zip_without_collection() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    report = validate_apkg(buffer.getvalue())
    assert report.archive_ok
    assert report.problems[0].startswith("the zip holds no Anki collection")


def test_corrupt_member_fails_crc(good_deck: bytes) -> None:
    data = bytearray(good_deck)
    offset = data.index(b"SQLite format 3") if b"SQLite format 3" in data else len(data) // 3
    data[offset + 200] ^= 0xFF
    report = validate_apkg(bytes(data))
    assert not report.ok


def test_collection_that_is_not_sqlite() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("collection.anki2", b"not a database at all" * 10)
    report = validate_apkg(buffer.getvalue(), import_with_anki=False)
    assert "collection.anki2 is not a readable Anki collection" in report.problems[0]


def test_without_anki_the_structural_checks_still_run(
    good_deck: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "anki.collection", None)
    report = validate_apkg(good_deck)
    assert report.ok and report.note_count == 6
    assert report.import_skipped
    assert "pip install 'pytest-deploycheck[anki]'" in report.anki_import


def test_sample_pdf_is_read_back_with_its_sentences() -> None:
    text = " ".join(extract_text(make_pdf()).split())
    assert SENTENCES[0] in text and SENTENCES[-1] in text
