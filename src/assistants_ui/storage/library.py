"""The `Library` a `ChatSession` asks for its documents, backed by the documents room.

`StorageLibrary.shelf(session)` is the shelf of the session's conversation
(made for its owner only, as the recorder makes the conversation), of its
project's files when it is in a project, and of its assistant's knowledge
files. A project's files are indexed in the project's scope when a shelf is
first read (`whole`, `search`), by content, so each content is indexed once
for all the project's conversations (words only: no backend's embedder is at
hand then); the projects room deletes them with the file or the project.

Adding a document extracts it (`documents.extract`), cuts it into passages
(`documents.chunks`), asks the backend's embedder for their vectors when it
has one, and keeps it all in one transaction. A search is the database's full-
text ranking, fused (`documents.rank.fuse`, reciprocal rank fusion) with an
exact vector search when the documents have vectors from the same model: the
vectors are read from the database into an in-process index once per change of
the scope's documents (`DocumentIndex.vector_generation`), so several replicas
each keep their own copy and every one sees a document another added.

`index_knowledge` keeps an assistant's `knowledge` files in step with the
disk by content hash (`assistants-ui knowledge index`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from assistants_ui.core.documents import (
    Added,
    DocumentError,
    Embedder,
    EmbeddingError,
    Found,
    Hit,
    WholeText,
)
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Attachment
from assistants_ui.documents.chunks import chunk_sections
from assistants_ui.documents.extract import ExtractError, extract
from assistants_ui.documents.rank import VectorIndex, fuse, to_blob
from assistants_ui.i18n import _
from assistants_ui.storage.documents import (
    DocumentIndex,
    DocumentInfo,
    NewChunk,
    conversation_scope,
    knowledge_scope,
    project_scope,
)
from assistants_ui.storage.engine import Database
from assistants_ui.storage.recorder import StorageRecorder
from assistants_ui.storage.repository import Repository

__all__ = ["KnowledgeReport", "StorageLibrary", "StoredShelf", "index_knowledge"]

log = logging.getLogger(__name__)

# A document whose text is at most this long is kept whole too (for prompts that take it).
WHOLE_KEEP_CHARS = 400_000
EMBED_BATCH = 32
# Candidates each ranking gives the fusion, per passage asked for.
CANDIDATES = 4
_CACHED_INDEXES = 16


@dataclass
class _Vectors:
    """The process's in-memory vector indexes, by (scopes, model), newest use last."""

    indexes: OrderedDict[tuple[tuple[str, ...], str], tuple[object, VectorIndex]] = field(
        default_factory=OrderedDict
    )
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, room: DocumentIndex, scopes: Sequence[str], model: str) -> VectorIndex | None:
        key = (tuple(sorted(scopes)), model)
        generation = room.vector_generation(scopes, model)
        dimensions = generation[2]
        if not dimensions:
            return None
        with self.lock:
            cached = self.indexes.get(key)
            if cached is not None and cached[0] == generation:
                self.indexes.move_to_end(key)
                return cached[1]
        ids, blobs = room.vectors(scopes, model, dimensions)
        index = VectorIndex(ids, blobs, dimensions)
        with self.lock:
            self.indexes[key] = (generation, index)
            self.indexes.move_to_end(key)
            while len(self.indexes) > _CACHED_INDEXES:
                self.indexes.popitem(last=False)
        return index


def _embed_all(embedder: Embedder, texts: Sequence[str]) -> tuple[list[bytes], int]:
    """Every text's vector as bytes, and their size; EmbeddingError if any batch fails
    or a vector's size differs from the first one's."""
    blobs: list[bytes] = []
    dimensions = 0
    for start in range(0, len(texts), EMBED_BATCH):
        batch = texts[start : start + EMBED_BATCH]
        vectors = embedder.embed(batch)
        if len(vectors) != len(batch):
            raise EmbeddingError(
                _("the embeddings server returned %(got)s vectors for %(sent)s texts")
                % {"got": len(vectors), "sent": len(batch)}
            )
        for vector in vectors:
            if not dimensions:
                dimensions = len(vector)
            if len(vector) != dimensions or not dimensions:
                raise EmbeddingError(
                    _("the embeddings server returned vectors of %(got)s and %(want)s numbers")
                    % {"got": len(vector), "want": dimensions}
                )
            blobs.append(to_blob(vector))
    return blobs, dimensions


def prepare(
    name: str, data: bytes, embedder: Embedder | None
) -> tuple[list[NewChunk], int, int, str | None, list[str], str, int]:
    """A document's passages, ready to keep: (chunks, chars, pages, whole text or None,
    notes, embedding model, dimensions). `DocumentError` when it cannot be read."""
    try:
        extracted = extract(name, data)
    except ExtractError as exc:
        raise DocumentError(exc.reason) from exc
    notes = list(extracted.notes)
    pieces = chunk_sections(extracted.sections)
    blobs: list[bytes | None] = [None] * len(pieces)
    model, dimensions = "", 0
    if embedder is not None and pieces:
        try:
            made, dimensions = _embed_all(embedder, [p.text for p in pieces])
            blobs, model = list(made), embedder.model
        except EmbeddingError as exc:
            notes.append(
                _("%(file)s is searched by its words only: %(reason)s")
                % {"file": name, "reason": exc.reason.rstrip(".")}
            )
    chunks = [
        NewChunk(p.ordinal, p.text, p.page, p.heading, blob)
        for p, blob in zip(pieces, blobs, strict=True)
    ]
    whole = extracted.text if extracted.chars <= WHOLE_KEEP_CHARS else None
    return chunks, extracted.chars, extracted.pages, whole, notes, model, dimensions


def keep(
    room: DocumentIndex,
    scope: str,
    name: str,
    sha256: str,
    data: bytes,
    embedder: Embedder | None,
    *,
    conversation_id: str | None = None,
    source: str = "",
) -> tuple[DocumentInfo, list[str]]:
    """Extract, cut (and embed) a document and keep it in `scope`: what was kept, and
    the notes for the reader. `DocumentError` when it cannot be read."""
    chunks, chars, pages, whole, notes, model, dims = prepare(name, data, embedder)
    info = room.add(
        scope=scope,
        conversation_id=conversation_id,
        name=name,
        source=source,
        sha256=sha256,
        chunks=chunks,
        chars=chars,
        pages=pages,
        whole_text=whole,
        embedding_model=model,
        dimensions=dims,
    )
    return info, notes


class StoredShelf:
    """The documents of one conversation and its assistant's knowledge."""

    def __init__(
        self,
        room: DocumentIndex,
        vectors: _Vectors,
        *,
        conversation_id: str | None,
        profile_id: str,
        project_id: str | None = None,
        index_project: Callable[[], object] | None = None,
    ) -> None:
        self.room = room
        self.vectors = vectors
        self.conversation_id = conversation_id
        self.own = conversation_scope(conversation_id) if conversation_id else ""
        project = project_scope(project_id) if project_id else ""
        self.scopes = [s for s in (self.own, project, knowledge_scope(profile_id)) if s]
        # The project's files, indexed before the shelf is first read (once).
        self._index_project = index_project

    def _ready(self) -> None:
        index, self._index_project = self._index_project, None
        if index is not None:
            index()

    def add(self, attachment: Attachment, embedder: Embedder | None = None) -> Added:
        if not self.own:
            raise DocumentError(_("%(file)s: this chat is not saved") % {"file": attachment.name})
        there = self.room.find(self.own, attachment.sha256)
        if there is not None:
            return _added(there, (), new=False)
        info, notes = keep(
            self.room,
            self.own,
            attachment.name,
            attachment.sha256,
            attachment.data,
            embedder,
            conversation_id=self.conversation_id,
        )
        return _added(info, notes)

    def whole(self, max_chars: int) -> list[WholeText] | None:
        self._ready()
        docs = self.room.documents(self.scopes)
        if not docs:  # the usual chat: no second query before its request goes out
            return []
        if sum(d.chars for d in docs) > max_chars:
            return None
        texts = self.room.whole_texts([d.id for d in docs])
        out: list[WholeText] = []
        for d in docs:
            text = texts.get(d.id)
            if text is None:
                return None
            out.append(WholeText(d.name, text))
        return out

    def search(self, query: str, limit: int, embedder: Embedder | None = None) -> Found:
        self._ready()
        found = Found()
        lexical = [i for i, _score in self.room.lexical(self.scopes, query, limit * CANDIDATES)]
        ranked: list[int] = lexical
        if embedder is not None:
            nearest = self._nearest(query, limit * CANDIDATES, embedder, found)
            if nearest is not None:
                ranked = [i for i, _score in fuse(lexical, nearest)]
                found.mode = "hybrid"
        scores = dict(fuse(ranked))
        rows = self.room.chunks(ranked[:limit])
        for chunk_id in ranked[:limit]:
            row = rows.get(chunk_id)
            if row is not None:
                found.hits.append(
                    Hit(
                        row.name,
                        row.text,
                        row.page,
                        row.heading,
                        scores.get(chunk_id, 0.0),
                        row.document_id,
                        row.id,
                    )
                )
        if not found.hits:
            found.notes.append(
                _(
                    "No passage of the documents has the words of the question: ask with "
                    "words the documents use (in their language)"
                )
            )
        return found

    def _nearest(
        self, query: str, limit: int, embedder: Embedder, found: Found
    ) -> list[int] | None:
        try:
            index = self.vectors.get(self.room, self.scopes, embedder.model)
            if index is None or not len(index):
                return None
            vectors = embedder.embed([query])
            if len(vectors) != 1 or len(vectors[0]) != index.dimensions:
                size = len(vectors[0]) if vectors else 0
                raise EmbeddingError(
                    _(
                        "the embeddings server returned a vector of %(got)s numbers where "
                        "the documents' have %(want)s"
                    )
                    % {"got": size, "want": index.dimensions}
                )
        except EmbeddingError as exc:
            found.notes.append(
                _("The documents were searched by their words only: %(reason)s")
                % {"reason": exc.reason.rstrip(".")}
            )
            return None
        return [i for i, _score in index.search(vectors[0], limit)]


def _added(info: DocumentInfo, notes: Iterable[str], *, new: bool = True) -> Added:
    return Added(
        info.name, info.id, info.chars, info.pages, info.chunk_count, tuple(notes), new=new
    )


class StorageLibrary:
    """Shelves for one user's sessions (the page makes one per chat, beside its recorder)."""

    def __init__(self, db: Database, recorder: StorageRecorder | None = None) -> None:
        self.room = DocumentIndex(db)
        self.recorder = recorder
        self.vectors = _shared_vectors(db)

    def shelf(self, session: ChatSession) -> StoredShelf:
        conversation_id = session.conversation_id
        project_id: str | None = None
        index_project: Callable[[], object] | None = None
        if self.recorder is not None:
            repo, user_id = self.recorder.repository, self.recorder.user_id
            if conversation_id is None:  # not saved yet (`ChatSession.ask`): none of its own
                project_id = self.recorder.placement.project_id
            else:
                # Only the owner's conversation (the same NotFound as every room), its project.
                project = repo.project_of(user_id=user_id, conversation_id=conversation_id)
                project_id = project.id if project is not None else None
            if project_id is not None:
                index_project = partial(self.index_project, repo, user_id, project_id)
        return StoredShelf(
            self.room,
            self.vectors,
            conversation_id=conversation_id,
            profile_id=session.profile.id,
            project_id=project_id,
            index_project=index_project,
        )

    def index_project(self, repo: Repository, user_id: int, project_id: str) -> list[str]:
        """Index the project's files not indexed yet (by content), and forget contents no
        file has any more (a file replaced meanwhile). Returns why any file could not be
        read (one sentence each; the others are indexed)."""
        scope = project_scope(project_id)
        there = {d.sha256: d for d in self.room.documents([scope])}
        files = repo.list_project_files(user_id=user_id, project_id=project_id)
        problems: list[str] = []
        for info in files:
            if info.sha256 in there:
                continue
            data = repo.project_file_data(user_id=user_id, project_id=project_id, file_id=info.id)
            try:
                there[info.sha256] = keep(self.room, scope, info.name, info.sha256, data, None)[0]
            except DocumentError as exc:
                log.warning("a project's file cannot be indexed: %s", exc.reason)
                problems.append(exc.reason)
        current = {info.sha256 for info in files}
        for sha, doc in there.items():
            if sha not in current:
                self.room.delete_document(doc.id)
        return problems

    def knowledge_shelf(self, profile_id: str) -> StoredShelf:
        return StoredShelf(self.room, self.vectors, conversation_id=None, profile_id=profile_id)


_VECTORS: dict[int, _Vectors] = {}
_VECTORS_LOCK = threading.Lock()


def _shared_vectors(db: Database) -> _Vectors:
    """One set of in-memory indexes per database per process."""
    with _VECTORS_LOCK:
        return _VECTORS.setdefault(id(db.engine), _Vectors())


@dataclass(slots=True)
class KnowledgeReport:
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one sentence each
    notes: list[str] = field(default_factory=list)


def index_knowledge(
    db: Database,
    profile_id: str,
    files: Sequence[Path],
    embedder: Embedder | None = None,
    *,
    progress: Callable[[str], None] = lambda line: None,
) -> KnowledgeReport:
    """Make the assistant's knowledge exactly `files`: new or changed contents are
    indexed, unchanged ones kept, the rest (files gone or changed) deleted."""
    room = DocumentIndex(db)
    scope = knowledge_scope(profile_id)
    report = KnowledgeReport()
    before = {d.sha256: d for d in room.documents([scope])}
    wanted: set[str] = set()
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            report.failed.append(
                _("%(file)s cannot be read (%(reason)s)")
                % {"file": str(path), "reason": exc.strerror or exc}
            )
            continue
        sha = hashlib.sha256(data).hexdigest()
        wanted.add(sha)
        there = before.get(sha)
        if there is not None and (embedder is None or there.embedding_model == embedder.model):
            report.kept.append(str(path))
            continue
        if there is not None:  # made without the embedding model now configured
            room.delete_document(there.id)
        try:
            _info, notes = keep(room, scope, path.name, sha, data, embedder, source=str(path))
        except DocumentError as exc:
            report.failed.append(exc.reason)
            continue
        report.added.append(str(path))
        report.notes.extend(notes)
        progress(str(path))
    for sha, doc in before.items():
        if sha not in wanted:
            room.delete_document(doc.id)
            report.removed.append(doc.source or doc.name)
    return report
