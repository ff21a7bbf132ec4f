"""A small, valid PDF with real sentences, made at run time (no binary fixtures).

Written by hand rather than with fpdf2: a one-page text PDF is a few objects
and an xref table, and fpdf2 would pull Pillow and fontTools into the core
install. The reference deployment reads it back with pypdf in the tests.
"""

from __future__ import annotations

import textwrap

SENTENCES = (
    "The mitochondrion is the powerhouse of the eukaryotic cell.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "Enzymes accelerate chemical reactions by lowering their activation energy.",
    "The Treaty of Westphalia ended the Thirty Years War in 1648.",
    "Water molecules are held together by hydrogen bonds between neighbouring molecules.",
    "Deoxyribonucleic acid carries the genetic instructions of living organisms.",
    "The French Revolution began with the storming of the Bastille in 1789.",
    "Newton formulated the laws of motion and universal gravitation.",
    "Plate tectonics explains earthquakes, volcanoes and the drifting of continents.",
    "Antibiotics treat bacterial infections but are useless against viruses.",
    "The Pythagorean theorem relates the three sides of a right triangle.",
    "Spaced repetition schedules reviews just before a memory would be forgotten.",
)


def make_pdf(
    sentences: tuple[str, ...] | list[str] = SENTENCES, title: str = "Study notes."
) -> bytes:
    """A one-page PDF whose text layer holds ``sentences``."""
    lines = [title, ""] + textwrap.wrap(" ".join(sentences), width=88)
    text = " T* ".join(f"({_escape(line)}) Tj" for line in lines)
    stream = f"BT /F1 11 Tf 14 TL 56 760 Td {text} ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _escape(line: str) -> str:
    ascii_line = line.encode("ascii", "replace").decode("ascii")
    return ascii_line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
