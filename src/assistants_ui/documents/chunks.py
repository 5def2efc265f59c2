"""Sections cut into passages small enough to put several in a small model's prompt.

A passage never spans two pages or two headings (its page and heading are
the citation), is at most `CHUNK_CHARS` long, and is cut at a paragraph
break, else a line break, else a sentence end, else a space, else anywhere
(a line of 50,000 characters without a space is cut all the same). Each
passage overlaps the previous one by up to `OVERLAP_CHARS`, taken from a
word boundary, so that a sentence cut in two is whole in one of them.
Linear in the text's length.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from assistants_ui.documents.extract import Section

__all__ = ["CHUNK_CHARS", "OVERLAP_CHARS", "Chunk", "chunk_sections"]

CHUNK_CHARS = 800
OVERLAP_CHARS = 120
# Where a passage may end, best first, searched in its last half.
_BREAKS = ("\n\n", "\n", ". ", "? ", "! ", "。", "; ", " ")


@dataclass(frozen=True, slots=True)
class Chunk:
    ordinal: int
    text: str
    page: int | None
    heading: str


def _cut(text: str, size: int) -> int:
    """Where the passage starting at 0 ends (at most `size`)."""
    if len(text) <= size:
        return len(text)
    window = text[:size]
    for mark in _BREAKS:
        at = window.rfind(mark, size // 2)
        if at != -1:
            return at + len(mark)
    return size


def _pieces(text: str, size: int, overlap: int) -> Iterator[str]:
    start = 0
    while start < len(text):
        end = start + _cut(text[start : start + size], size)
        piece = text[start:end].strip()
        if piece:
            yield piece
        if end >= len(text):
            return
        back = max(start + 1, end - overlap)
        space = text.find(" ", back, end)
        start = space + 1 if space != -1 and space + 1 < end else max(back, start + 1)
        if start >= end:
            start = end


def chunk_sections(
    sections: Iterable[Section], *, size: int = CHUNK_CHARS, overlap: int = OVERLAP_CHARS
) -> list[Chunk]:
    """The passages of `sections`, numbered in document order."""
    out: list[Chunk] = []
    for section in sections:
        for piece in _pieces(section.text, size, overlap):
            out.append(Chunk(len(out), piece, section.page, section.heading))
    return out
