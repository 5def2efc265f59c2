"""What a backend sees of a conversation's documents: the contract, no implementation.

Backends never reach storage, so the documents a conversation was given
(and the assistant's knowledge files) come to `send` as a `Shelf` in the
`SendContext`: the session asks its `Library` (storage implements it,
`storage/library.py`; the page injects it as it injects the recorder) for
the shelf of the conversation being answered. A shelf indexes an attached
file (`add`), hands back small documents whole (`whole`) and searches the
larger ones (`search`: lexical always, with vectors when the backend brings
an `Embedder`, the connection's `/v1/embeddings`).

Every failure is a sentence: `DocumentError` for a file that cannot be read
or kept, `EmbeddingError` for an embeddings server that failed (the search
then goes on with the words alone and says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from assistants_ui.core.transcript import Attachment
from assistants_ui.i18n import _

__all__ = [
    "Added",
    "DocumentError",
    "Embedder",
    "EmbeddingError",
    "Found",
    "Hit",
    "Shelf",
    "WholeText",
    "page_label",
]


class DocumentError(Exception):
    """A document that cannot be read or kept: `reason` is one sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EmbeddingError(Exception):
    """The embeddings server failed or answered something unusable: one sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Embedder(Protocol):
    """Text to vectors, one per text, all of one size (`model` names them)."""

    @property
    def model(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Raises `EmbeddingError`."""
        ...


def page_label(name: str, page: int | None) -> str:
    """How a passage is cited: the file name, and its page where it has one."""
    if page is None:
        return name
    return _("%(file)s, page %(page)s") % {"file": name, "page": page}


@dataclass(frozen=True, slots=True)
class Hit:
    """A passage found: its document, page, heading, text and fused score."""

    name: str
    text: str
    page: int | None = None
    heading: str = ""
    score: float = 0.0
    document_id: str = ""
    chunk_id: int = 0

    @property
    def label(self) -> str:
        return page_label(self.name, self.page)


@dataclass(frozen=True, slots=True)
class Added:
    """A document on the shelf: its size, and what the reader should know about it."""

    name: str
    document_id: str
    chars: int
    pages: int
    chunks: int
    notes: tuple[str, ...] = ()
    new: bool = True  # False: the same bytes were already on the shelf


@dataclass(frozen=True, slots=True)
class WholeText:
    name: str
    text: str


@dataclass(slots=True)
class Found:
    """A search's passages, best first, and sentences about how it went."""

    hits: list[Hit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mode: str = "lexical"  # "lexical" | "hybrid"


class Shelf(Protocol):
    """The documents one answer may use: the conversation's and the assistant's."""

    def add(self, attachment: Attachment, embedder: Embedder | None = None) -> Added:
        """Extract, cut and keep `attachment` (once per content); `DocumentError`."""
        ...

    def whole(self, max_chars: int) -> list[WholeText] | None:
        """Every document's text, when all of them together fit in `max_chars`
        (None: too long, search instead; [] when there are none)."""
        ...

    def search(self, query: str, limit: int, embedder: Embedder | None = None) -> Found:
        """The best `limit` passages for `query`."""
        ...
