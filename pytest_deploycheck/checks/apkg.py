"""Validating an Anki deck package (``.apkg``), usable on its own.

    report = validate_apkg(data, min_notes=5)
    if not report.ok:
        print(report.problems)

Structural checks always run (zip archive, Anki collection, SQLite with notes
and cards, notes with content). The last check imports the deck into a fresh
collection with Anki's own engine (the ``anki`` package, extra
``pytest-deploycheck[anki]``); without it the report says the import was
skipped.
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

# Newest first: recent Anki exports carry a legacy collection.anki2 stub as well.
COLLECTION_NAMES = ("collection.anki21b", "collection.anki21", "collection.anki2")
_TAG = re.compile(r"<[^>]+>|&nbsp;")


@dataclass
class DeckReport:
    """What :func:`validate_apkg` found; ``problems`` is empty when the deck is good."""

    size_bytes: int
    archive_ok: bool = False
    collection_file: str | None = None
    collection_format: str | None = None
    note_count: int | None = None
    card_count: int | None = None
    blank_notes: int | None = None  # notes whose fields are all empty
    sample_fields: list[list[str]] = field(default_factory=list)
    anki_import: str = "not run"
    imported_notes: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def import_skipped(self) -> bool:
        return self.anki_import.startswith("skipped")

    def summary(self) -> str:
        parts = [
            f"{self.size_bytes} bytes",
            f"archive {'ok' if self.archive_ok else 'broken'}",
        ]
        if self.collection_file:
            parts.append(f"{self.collection_file} ({self.collection_format})")
        if self.note_count is not None:
            parts.append(
                f"{self.note_count} notes, {self.card_count} cards, {self.blank_notes} blank"
            )
        parts.append(f"Anki import: {self.anki_import}")
        return "; ".join(parts)


def validate_apkg(
    data: bytes,
    *,
    min_notes: int = 1,
    import_with_anki: bool = True,
    content_type: str | None = None,
) -> DeckReport:
    """Check an ``.apkg`` down to its notes; ``content_type`` (if known) sharpens the messages."""
    report = DeckReport(size_bytes=len(data))
    if not _check_archive(data, report, content_type):
        return report
    with tempfile.TemporaryDirectory(prefix="deploycheck-apkg-") as tmp:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert report.collection_file is not None
            collection = Path(tmp) / report.collection_file
            collection.write_bytes(archive.read(report.collection_file))
        _check_collection(collection, report, min_notes)
        if import_with_anki:
            package = Path(tmp) / "deck.apkg"
            package.write_bytes(data)
            _import_with_anki(package, Path(tmp) / "fresh", report)
        else:
            report.anki_import = "skipped: not requested"
    return report


def _check_archive(data: bytes, report: DeckReport, content_type: str | None) -> bool:
    if not data:
        report.problems.append("the file is empty (0 bytes)")
        return False
    if not zipfile.is_zipfile(io.BytesIO(data)):
        head = data[:64].lstrip()
        if head[:1] == b"<" or (content_type and "html" in content_type):
            what = f"an HTML page ({content_type or 'starts with ' + repr(head[:30])})"
        elif head[:1] in (b"{", b"["):
            what = f"JSON ({data[:120]!r})"
        else:
            what = f"{content_type or 'unknown content'} starting with {data[:16]!r}"
        report.problems.append(f"not a zip archive: got {what} instead of an .apkg")
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            bad = archive.testzip()
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        report.problems.append(f"corrupt zip archive: {exc}")
        return False
    if bad is not None:
        report.problems.append(f"corrupt zip archive: {bad!r} fails its CRC check")
        return False
    report.archive_ok = True
    present = [name for name in COLLECTION_NAMES if name in names]
    if not present:
        report.problems.append(
            "the zip holds no Anki collection (expected one of "
            + ", ".join(COLLECTION_NAMES)
            + f"; it has: {', '.join(names[:10]) or 'nothing'})"
        )
        return False
    report.collection_file = present[0]
    return True


def _check_collection(path: Path, report: DeckReport, min_notes: int) -> None:
    if path.name.endswith(".anki21b"):
        decompressed = _decompress_zstd(path, report)
        if decompressed is None:
            return
        path = decompressed
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            version = connection.execute("SELECT ver FROM col").fetchone()
            report.collection_format = f"SQLite, schema {version[0] if version else '?'}"
            report.note_count = connection.execute("SELECT COUNT(*) FROM notes").fetchone()[0]
            report.card_count = connection.execute("SELECT COUNT(*) FROM cards").fetchone()[0]
            fields = [row[0].split("\x1f") for row in connection.execute("SELECT flds FROM notes")]
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        report.collection_format = report.collection_format or "not SQLite"
        report.problems.append(f"{report.collection_file} is not a readable Anki collection: {exc}")
        return
    report.blank_notes = sum(1 for note in fields if not any(_text(value) for value in note))
    report.sample_fields = [[_text(v)[:80] for v in note] for note in fields[:3]]
    if report.note_count < min_notes:
        report.problems.append(
            f"the deck has {report.note_count} notes, expected at least {min_notes}"
        )
    if report.blank_notes:
        report.problems.append(
            f"{report.blank_notes} of {report.note_count} notes have only empty fields"
        )
    if report.card_count == 0 and report.note_count:
        report.problems.append(f"the deck has {report.note_count} notes but no cards")


def _decompress_zstd(path: Path, report: DeckReport) -> Path | None:
    report.collection_format = "zstd-compressed SQLite"
    try:
        import zstandard
    except ImportError:
        return None  # structural counts need zstandard; Anki's import still checks it
    target = path.with_suffix(".sqlite")
    with path.open("rb") as source, target.open("wb") as out:
        zstandard.ZstdDecompressor().copy_stream(source, out)
    return target


def warm_up_anki() -> None:
    """Import Anki's engine and open a scratch collection: the process's first collection
    costs about 0.1 s more than the next (its backend starts), paid here ahead of a deck."""
    try:
        from anki.collection import Collection
    except ImportError:
        return
    with tempfile.TemporaryDirectory(prefix="deploycheck-anki-") as tmp:
        Collection(str(Path(tmp) / "collection.anki2")).close()


def _import_with_anki(package: Path, workdir: Path, report: DeckReport) -> None:
    try:
        from anki.collection import (
            Collection,
            ImportAnkiPackageOptions,
            ImportAnkiPackageRequest,
        )
    except ImportError:
        report.anki_import = (
            "skipped: the anki package is not installed (pip install 'pytest-deploycheck[anki]')"
        )
        return
    workdir.mkdir()
    collection = Collection(str(workdir / "collection.anki2"))
    try:
        request = ImportAnkiPackageRequest(
            package_path=str(package),
            options=ImportAnkiPackageOptions(with_scheduling=False, with_deck_configs=False),
        )
        collection.import_anki_package(request)
        report.imported_notes = collection.note_count()
    except Exception as exc:  # Anki raises its own error types for a bad package
        report.anki_import = f"failed: {type(exc).__name__}: {exc}"
        report.problems.append(f"Anki could not import the deck: {type(exc).__name__}: {exc}")
        return
    finally:
        collection.close()
    report.anki_import = f"ok: {report.imported_notes} notes imported"
    if report.note_count is not None and report.imported_notes != report.note_count:
        report.problems.append(
            f"Anki imported {report.imported_notes} notes, but the package holds {report.note_count}"
        )
    elif report.imported_notes == 0 and not any("notes, expected" in p for p in report.problems):
        report.problems.append("Anki imported no notes from the deck")


def _text(value: str) -> str:
    return _TAG.sub("", value).strip()


def report_json(report: DeckReport) -> str:
    """The report as JSON (for artifacts and load-test logs)."""
    from dataclasses import asdict

    return json.dumps(asdict(report), indent=2)
