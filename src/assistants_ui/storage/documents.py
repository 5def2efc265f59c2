"""Documents and their passages: kept, searched by the database's full-text index, deleted.

Owns `documents` and `document_chunks` (models.py) and the full-text index
migration 0015 makes: SQLite's FTS5 (BM25) or PostgreSQL's `tsvector` (GIN,
`ts_rank_cd`). A document belongs to a scope: a conversation (``c:<id>``,
deleted with it by the foreign key; on SQLite the triggers take its passages
out of the FTS5 index as the cascade deletes them), an assistant's knowledge
(``k:<assistant id>``), or a project's files (``p:<project id>``: indexed by
the library when a conversation of the project is answered, deleted by the
projects room with the file or the project). The search is lexical and needs
no model: the question's words, any of them, ranked (on SQLite leaving out
the words nearly every passage has, `COMMON_SHARE`: PostgreSQL's `english`
configuration drops stopwords itself); vectors, where a model made them, are
kept as float32 bytes beside each passage for the library's in-process index
(`storage/library.py`). Calls that take scopes trust them: the library makes
a conversation's scope only for its owner.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import snowballstemmer
from sqlalchemy import bindparam, delete, func, insert, select, text
from sqlalchemy.orm import Session

from assistants_ui.storage.codec import from_row
from assistants_ui.storage.conversations import new_id
from assistants_ui.storage.models import Document, DocumentChunk
from assistants_ui.storage.store import Store, guarded

__all__ = [
    "MAX_QUERY_TERMS",
    "ChunkRow",
    "DocumentIndex",
    "DocumentInfo",
    "NewChunk",
    "conversation_scope",
    "knowledge_scope",
    "project_scope",
    "query_terms",
    "scope_key",
]

MAX_QUERY_TERMS = 32
# In a large scope, a word found in more than this share of all passages tells few
# apart (a stopword, or the documents' own commonest words): ranking by it costs a pass
# over that share of the passages, and a rarer word of the question decides the order.
COMMON_SHARE = 0.02
PRUNE_FROM = 20_000
_WORD = re.compile(r"\w+", re.UNICODE)


def conversation_scope(conversation_id: str) -> str:
    return f"c:{conversation_id}"


def knowledge_scope(profile_id: str) -> str:
    return f"k:{profile_id}"


def project_scope(project_id: str) -> str:
    return f"p:{project_id}"


def scope_key(scope: str) -> str:
    """A scope as one word of letters and digits: what the full-text index holds."""
    return "s" + hashlib.sha256(scope.encode()).hexdigest()[:24]


def query_terms(query: str) -> list[str]:
    """The question's words, lower-cased, each once, at most MAX_QUERY_TERMS."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.casefold()):
        word = word.strip("_")
        if word and (len(word) > 1 or not word.isascii()):
            seen.setdefault(word, None)
    return list(seen)[:MAX_QUERY_TERMS]


# Each word's number of passages as last counted, per database: (passages then, count).
# Counting reads the word's whole entry in the index (15 ms for a word in 100,000
# passages), so a count is used again until the passages grow or shrink by a tenth.
_FREQUENCIES: dict[tuple[str, str], tuple[int, int]] = {}
_MAX_FREQUENCIES = 100_000


_PORTER = snowballstemmer.stemmer("porter")


def _indexed(word: str) -> str:
    """`word` as SQLite's index keeps it (`porter unicode61 remove_diacritics 2`): without
    its diacritics, stemmed by Porter's algorithm (a word of one or two letters as is)."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    return bare if len(bare) <= 2 else str(_PORTER.stemWord(bare))


def _telling(s: Session, terms: list[str], scopes: Sequence[str]) -> list[str]:
    """The question's words that tell passages apart (SQLite). In scopes of PRUNE_FROM
    passages or more, a word found in more than COMMON_SHARE of all passages is left
    out while a rarer one remains (if none is rarer, the rarest alone); smaller scopes
    are searched with every word, which costs little there."""
    if len(terms) < 2:
        return terms
    counts = select(func.coalesce(func.sum(Document.chunk_count), 0))
    if s.execute(counts.where(Document.scope.in_(scopes))).scalar_one() < PRUNE_FROM:
        return terms
    total = int(s.execute(counts).scalar_one())
    database = str(s.get_bind().engine.url)
    found: dict[str, int] = {}
    for term in terms:
        known = _FREQUENCIES.get((database, term))
        if known is not None and abs(known[0] - total) <= total // 10:
            found[term] = known[1]
    missing = {t: _indexed(t) for t in terms if t not in found}
    if missing:
        rows = s.execute(
            text("SELECT term, doc FROM document_chunks_vocab WHERE term IN :terms").bindparams(
                bindparam("terms", expanding=True)
            ),
            {"terms": sorted(set(missing.values()))},
        ).all()
        counted = {str(term): int(doc) for term, doc in rows}
        if len(_FREQUENCIES) > _MAX_FREQUENCIES:
            _FREQUENCIES.clear()
        for term, indexed in missing.items():
            found[term] = counted.get(indexed, 0)
            _FREQUENCIES[(database, term)] = (total, found[term])
    rare = [t for t in terms if found[t] <= total * COMMON_SHARE]
    return rare or [min(terms, key=lambda t: found[t])]


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    id: str
    scope: str
    name: str
    source: str
    sha256: str
    chars: int
    pages: int
    chunk_count: int
    embedding_model: str
    dimensions: int


@dataclass(frozen=True, slots=True)
class NewChunk:
    ordinal: int
    text: str
    page: int | None
    heading: str
    embedding: bytes | None = None


@dataclass(frozen=True, slots=True)
class ChunkRow:
    id: int
    document_id: str
    name: str
    page: int | None
    heading: str
    text: str


class DocumentIndex(Store):
    """The documents room: one transaction per call."""

    during = " while reading or writing documents"

    @guarded
    def find(self, scope: str, sha256: str) -> DocumentInfo | None:
        with self.db.session() as s:
            row = s.scalars(
                select(Document).where(Document.scope == scope, Document.sha256 == sha256)
            ).one_or_none()
            return from_row(DocumentInfo, row) if row is not None else None

    @guarded
    def add(
        self,
        *,
        scope: str,
        name: str,
        sha256: str,
        chunks: Sequence[NewChunk],
        chars: int,
        pages: int,
        whole_text: str | None,
        conversation_id: str | None = None,
        source: str = "",
        embedding_model: str = "",
        dimensions: int = 0,
    ) -> DocumentInfo:
        """Keep a document and its passages (the same content in the same scope: the one
        there is, unchanged)."""
        key = scope_key(scope)

        def work(s: Session) -> DocumentInfo:
            there = s.scalars(
                select(Document).where(Document.scope == scope, Document.sha256 == sha256)
            ).one_or_none()
            if there is not None:
                return from_row(DocumentInfo, there)
            row = Document(
                id=new_id(),
                scope=scope,
                conversation_id=conversation_id,
                name=name,
                source=source,
                sha256=sha256,
                chars=chars,
                pages=pages,
                chunk_count=len(chunks),
                text=whole_text,
                embedding_model=embedding_model,
                dimensions=dimensions,
            )
            s.add(row)
            s.flush()
            s.execute(
                insert(DocumentChunk),
                [
                    {
                        "document_id": row.id,
                        "scope_key": key,
                        "ordinal": c.ordinal,
                        "page": c.page,
                        "heading": c.heading,
                        "text": c.text,
                        "embedding": c.embedding,
                    }
                    for c in chunks
                ],
            )
            return from_row(DocumentInfo, row)

        return self.racing(work)

    @guarded
    def documents(self, scopes: Sequence[str]) -> list[DocumentInfo]:
        """The documents of these scopes, oldest first."""
        with self.db.session() as s:
            rows = s.scalars(
                select(Document)
                .where(Document.scope.in_(list(scopes)))
                .order_by(Document.created_at, Document.id)
            ).all()
            return [from_row(DocumentInfo, r) for r in rows]

    @guarded
    def whole_texts(self, document_ids: Sequence[str]) -> dict[str, str | None]:
        with self.db.session() as s:
            rows = s.execute(
                select(Document.id, Document.text).where(Document.id.in_(list(document_ids)))
            ).all()
            return {r[0]: r[1] for r in rows}

    @guarded
    def lexical(self, scopes: Sequence[str], query: str, limit: int) -> list[tuple[int, float]]:
        """Passage ids that have any of the query's words, best first, and their score
        (BM25 on SQLite, `ts_rank_cd` on PostgreSQL; higher is better)."""
        terms = query_terms(query)
        keys = [scope_key(s) for s in scopes]
        if not terms or not keys:
            return []
        with self.db.session() as s:
            if self.db.dialect == "sqlite":
                words = " OR ".join(f'"{t}"' for t in _telling(s, terms, scopes))
                where = " OR ".join(f'"{k}"' for k in keys)
                match = f"scope_key : ({where}) AND ({words})"
                rows = s.execute(
                    text(
                        "SELECT rowid, bm25(document_chunks_fts, 1.0, 0.5, 0.0) AS rank"
                        " FROM document_chunks_fts WHERE document_chunks_fts MATCH :match"
                        " ORDER BY rank LIMIT :limit"
                    ),
                    {"match": match, "limit": limit},
                ).all()
                return [(int(r[0]), -float(r[1])) for r in rows]
            rows = s.execute(
                text(
                    "SELECT c.id, ts_rank_cd(c.search, q, 1) AS rank"
                    " FROM document_chunks AS c, to_tsquery('english', :query) AS q"
                    " WHERE c.scope_key = ANY(:keys) AND c.search @@ q"
                    " ORDER BY rank DESC, c.id LIMIT :limit"
                ),
                {"query": " | ".join(terms), "keys": keys, "limit": limit},
            ).all()
            return [(int(r[0]), float(r[1])) for r in rows]

    @guarded
    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRow]:
        with self.db.session() as s:
            rows = s.execute(
                select(
                    DocumentChunk.id,
                    DocumentChunk.document_id,
                    Document.name,
                    DocumentChunk.page,
                    DocumentChunk.heading,
                    DocumentChunk.text,
                )
                .join(Document, Document.id == DocumentChunk.document_id)
                .where(DocumentChunk.id.in_(list(ids)))
            ).all()
            return {r[0]: ChunkRow(*r) for r in rows}

    @guarded
    def vector_generation(self, scopes: Sequence[str], model: str) -> tuple[int, int, int]:
        """(passages with vectors, their largest id, their size) for `model` in these
        scopes: changes whenever a document is added or deleted there."""
        with self.db.session() as s:
            row = s.execute(
                select(
                    func.coalesce(func.sum(Document.chunk_count), 0),
                    func.count(Document.id),
                    func.max(Document.dimensions),
                    func.max(Document.created_at),
                ).where(Document.scope.in_(list(scopes)), Document.embedding_model == model)
            ).one()
            count, documents, dimensions = int(row[0]), int(row[1]), int(row[2] or 0)
            stamp = int(row[3].timestamp() * 1_000_000) if row[3] is not None else 0
            return count * 1_000_003 + documents, stamp, dimensions

    @guarded
    def vectors(
        self, scopes: Sequence[str], model: str, dimensions: int
    ) -> tuple[list[int], list[bytes]]:
        """Every passage vector `model` made in these scopes, of this size."""
        with self.db.session() as s:
            rows = s.execute(
                select(DocumentChunk.id, DocumentChunk.embedding)
                .join(Document, Document.id == DocumentChunk.document_id)
                .where(
                    Document.scope.in_(list(scopes)),
                    Document.embedding_model == model,
                    Document.dimensions == dimensions,
                    DocumentChunk.embedding.is_not(None),
                )
            ).all()
            return [int(r[0]) for r in rows], [bytes(r[1] or b"") for r in rows]

    @guarded
    def delete_document(self, document_id: str) -> bool:
        """Delete a document with its passages and vectors."""
        with self.db.session() as s:
            done = s.execute(
                delete(Document).where(Document.id == document_id).returning(Document.id)
            ).one_or_none()
            return done is not None

    @guarded
    def chunk_count(self, scopes: Sequence[str] = ()) -> int:
        """Passages kept (in these scopes; all when none named)."""
        with self.db.session() as s:
            query = select(func.count(DocumentChunk.id))
            if scopes:
                query = query.where(DocumentChunk.scope_key.in_([scope_key(x) for x in scopes]))
            return int(s.scalar(query) or 0)
