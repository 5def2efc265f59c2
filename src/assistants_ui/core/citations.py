"""Citations as numbered footnotes, and links the browser cannot follow made inert.

Backends report where a source was cited (`Citation` events with character
offsets, or the literal placeholder the model wrote); this module turns the
answer text plus its citations into Markdown with `[n]` markers and a list of
footnotes: the file's name for file-search passages, a linked title for web
pages. Generated files are offered as downloads by the page, so links into
the code interpreter's sandbox (`sandbox:/mnt/data/...`) become plain text.
Titles and addresses come from servers and web pages: they are written with
`safe_markdown.literal` and `safe_markdown.link`, never pasted into Markdown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistants_ui.core.events import Citation, CitationKind
from assistants_ui.core.safe_markdown import link, literal

__all__ = ["Footnote", "annotate", "footnotes_markdown"]

# No part of a match may contain a bracket, so that every attempt stops at the next
# `[`: linear in the text's length (with `[^\]\n]*` 40,000 `[` took 10 s).
_SANDBOX_LINK = re.compile(r"!?\[([^\[\]\n]*)\]\((sandbox:|/mnt/data/)[^)\[\]\n]*\)")


@dataclass(frozen=True, slots=True)
class Footnote:
    number: int
    kind: CitationKind
    label: str
    url: str = ""
    file_id: str = ""


def _key(c: Citation) -> tuple[str, str]:
    return (c.kind, c.url or c.file_id or c.label)


def annotate(text: str, citations: list[Citation]) -> tuple[str, list[Footnote]]:
    """Markdown with `[n]` markers at the cited places, and the footnotes."""
    numbers: dict[tuple[str, str], int] = {}
    notes: list[Footnote] = []
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement)
    for c in citations:
        if c.kind in ("container_file", "file_path"):
            # The file itself is offered as a download; its link in the text is
            # made inert below, whatever part of the link the span covers.
            continue
        key = _key(c)
        if key not in numbers:
            numbers[key] = len(numbers) + 1
            notes.append(Footnote(numbers[key], c.kind, c.label, c.url, c.file_id))
        mark = f" [{numbers[key]}]"
        if c.marker and c.start is not None and c.end is not None:
            edits.append((c.start, c.end, mark))  # replace the model's placeholder
        elif c.marker and c.marker in text:
            start = text.index(c.marker)
            edits.append((start, start + len(c.marker), mark))
        else:
            at = c.end if c.end is not None else c.start
            edits.append((len(text) if at is None else at, -1, mark))
    out = text
    applied: set[tuple[int, int, str]] = set()
    for start, end, repl in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        if (start, end, repl) in applied or start > len(out):
            continue
        applied.add((start, end, repl))
        if end == -1:
            if out[start - len(repl) : start] == repl:  # same mark at the same place
                continue
            out = out[:start] + repl + out[start:]
        else:
            out = out[:start] + repl + out[end:]
    out = _SANDBOX_LINK.sub(lambda m: f"**{m.group(1)}**" if m.group(1) else "", out)
    return out, notes


def footnotes_markdown(notes: list[Footnote]) -> str:
    lines = []
    for n in notes:
        label = n.label or n.url or n.file_id or "source"
        if n.kind == "url" and n.url.startswith(("https://", "http://")):
            lines.append(f"{n.number}. {link(label, n.url)}")
        else:
            lines.append(f"{n.number}. {literal(label)}")
    return "\n".join(lines)
