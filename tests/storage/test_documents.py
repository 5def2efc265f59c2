"""Documents in the app's database, on SQLite (FTS5) and PostgreSQL (tsvector): the right
page found, each content once, only the conversation's own and its assistant's, deleted
with the conversation, vectors fused with the words, and every embedding failure said."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import pytest
from sqlalchemy import event, text

from assistants_ui.core.documents import DocumentError, EmbeddingError
from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.storage import Database, Repository, UserInfo, to_json
from assistants_ui.storage.documents import DocumentIndex, NewChunk
from assistants_ui.storage.library import StorageLibrary, StoredShelf, index_knowledge
from documents_support import FACT_PAGE, FACT_QUESTION, report_pdf


class Words:
    """A small embedder: words hashed into 64 numbers (the same words, near vectors)."""

    model = "hashed-words"

    def __init__(self, dimensions: int = 64, fail: str = "") -> None:
        self.dimensions = dimensions
        self.fail = fail
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        if self.fail:
            raise EmbeddingError(self.fail)
        out = []
        for t in texts:
            v = [0.0] * self.dimensions
            for w in re.findall(r"\w+", t.lower()):
                v[int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dimensions] += 1.0
            out.append(v)
        return out


def shelf(db: Database, repo: Repository, user: UserInfo, profile: str = "p") -> StoredShelf:
    conv = repo.create_conversation(user_id=user.id, profile_id=profile, backend="chat")
    library = StorageLibrary(db)
    return StoredShelf(library.room, library.vectors, conversation_id=conv.id, profile_id=profile)


def pdf(name: str = "report.pdf", pages: int = 30) -> Attachment:
    return Attachment(name, "application/pdf", report_pdf(pages))


def test_the_page_with_the_answer_comes_first_and_each_content_is_kept_once(
    db: Database, repo: Repository, alice: UserInfo
) -> None:
    mine = shelf(db, repo, alice)
    added = mine.add(pdf())
    assert (added.pages, added.new) == (30, True)
    assert added.chunks >= 30
    again = mine.add(pdf("copy.pdf"))  # the same bytes under another name
    assert (again.new, again.document_id) == (False, added.document_id)
    found = mine.search(FACT_QUESTION, 3)
    assert found.mode == "lexical"
    assert found.hits[0].page == FACT_PAGE
    assert found.hits[0].label == f"report.pdf, page {FACT_PAGE}"
    assert "4,812 herons" in found.hits[0].text
    assert mine.whole(1000) is None  # too long to give whole
    (whole,) = mine.whole(10_000_000) or []
    assert "herons" in whole.text


def test_a_chat_without_documents_costs_its_request_one_query(
    db: Database, repo: Repository, alice: UserInfo
) -> None:
    """Every answer on the chat backends asks its shelf before its request goes out: with
    nothing on it (most chats), one query, not a second one for no texts."""
    mine = shelf(db, repo, alice)
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert mine.whole(10_000) == []
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(statements) == 1, statements


def test_a_conversation_sees_only_its_documents_and_its_assistants_knowledge(
    db: Database, repo: Repository, alice: UserInfo, bob: UserInfo, tmp_path: object
) -> None:
    mine = shelf(db, repo, alice)
    mine.add(pdf())
    theirs = shelf(db, repo, bob)
    assert theirs.search(FACT_QUESTION, 3).hits == []
    other = shelf(db, repo, alice, profile="q")
    assert other.search(FACT_QUESTION, 3).hits == []
    # The assistant's knowledge is searched in every conversation with it, and only there.
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "handbook.md").write_text("# Parking\nVisitors park behind the glasshouse.\n")
    report = index_knowledge(db, "q", [folder / "handbook.md"])
    assert report.added == [str(folder / "handbook.md")]
    (hit,) = other.search("where do visitors park", 3).hits
    assert (hit.name, hit.heading) == ("handbook.md", "Parking")
    assert theirs.search("where do visitors park", 3).hits == []
    # Unchanged files are kept, changed ones replaced, removed ones deleted.
    assert index_knowledge(db, "q", [folder / "handbook.md"]).kept == [str(folder / "handbook.md")]
    (folder / "handbook.md").write_text("# Parking\nVisitors park at the harbour.\n")
    index_knowledge(db, "q", [folder / "handbook.md"])
    (hit,) = other.search("where do visitors park", 3).hits
    assert "harbour" in hit.text
    assert index_knowledge(db, "q", []).removed == [str(folder / "handbook.md")]
    assert other.search("where do visitors park", 3).hits == []


def test_deleting_the_conversation_deletes_its_passages_and_vectors(
    db: Database, repo: Repository, alice: UserInfo
) -> None:
    mine = shelf(db, repo, alice)
    mine.add(pdf(), Words())
    room = DocumentIndex(db)
    assert room.chunk_count() > 0
    assert mine.conversation_id is not None
    repo.delete_conversation(user_id=alice.id, conversation_id=mine.conversation_id)
    assert room.chunk_count() == 0
    with db.session() as s:
        assert s.execute(text("SELECT count(*) FROM documents")).scalar() == 0
        if db.dialect == "sqlite":  # the full-text index holds nothing of it either
            s.execute(
                text(
                    "INSERT INTO document_chunks_fts(document_chunks_fts)"
                    " VALUES ('integrity-check')"
                )
            )
            hits = s.execute(
                text(
                    "SELECT count(*) FROM document_chunks_fts"
                    " WHERE document_chunks_fts MATCH 'herons'"
                )
            ).scalar()
            assert hits == 0


def test_export_carries_the_file_not_the_index(
    db: Database, repo: Repository, alice: UserInfo
) -> None:
    conv = repo.create_conversation(user_id=alice.id, profile_id="p", backend="chat")
    question = Message.user("What is on page 17?", [pdf()])
    question.attachments[0].route = "document"
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=question)
    library = StorageLibrary(db)
    StoredShelf(library.room, library.vectors, conversation_id=conv.id, profile_id="p").add(
        question.attachments[0]
    )
    info = repo.get_conversation(user_id=alice.id, conversation_id=conv.id)
    messages = repo.load_messages(user_id=alice.id, conversation_id=conv.id).messages
    exported = to_json(info, messages)
    assert "report.pdf" in exported
    assert "herons" not in exported  # the passages are not exported, the file is


def test_vectors_are_fused_with_the_words(db: Database, repo: Repository, alice: UserInfo) -> None:
    words = Words()
    mine = shelf(db, repo, alice)
    mine.add(pdf(), words)
    found = mine.search(FACT_QUESTION, 3, words)
    assert found.mode == "hybrid"
    assert found.notes == []
    assert found.hits[0].page == FACT_PAGE


def test_an_embeddings_server_that_fails_leaves_the_words(
    db: Database, repo: Repository, alice: UserInfo
) -> None:
    mine = shelf(db, repo, alice)
    down = Words(fail="the server at http://127.0.0.1:9/v1 cannot be reached")
    added = mine.add(pdf(), down)
    assert added.notes == (
        "report.pdf is searched by its words only: the server at http://127.0.0.1:9/v1 "
        "cannot be reached",
    )
    found = mine.search(FACT_QUESTION, 3, Words())
    assert found.mode == "lexical"  # no vectors were kept for it
    assert found.hits[0].page == FACT_PAGE


def test_vectors_of_another_size_are_said_and_the_words_still_answer(
    db: Database, repo: Repository, alice: UserInfo
) -> None:
    mine = shelf(db, repo, alice)
    mine.add(pdf(), Words(64))
    found = mine.search(FACT_QUESTION, 3, Words(32))
    assert found.mode == "lexical"
    assert found.notes == [
        "The documents were searched by their words only: the embeddings server returned "
        "a vector of 32 numbers where the documents' have 64"
    ]
    assert found.hits[0].page == FACT_PAGE


def test_a_question_in_another_language_is_one_sentence(
    db: Database, repo: Repository, alice: UserInfo
) -> None:
    mine = shelf(db, repo, alice)
    mine.add(pdf())
    found = mine.search("Wie viele Reiher hat der Leuchtturmwärter gezählt?", 3)
    assert found.hits == []
    assert found.notes == [
        "No passage of the documents has the words of the question: ask with words the "
        "documents use (in their language)"
    ]


def test_an_unreadable_document_is_one_sentence_and_nothing_is_kept(
    db: Database, repo: Repository, alice: UserInfo
) -> None:
    mine = shelf(db, repo, alice)
    with pytest.raises(DocumentError) as caught:
        mine.add(Attachment("broken.pdf", "application/pdf", b"%PDF-1.4 broken"))
    assert caught.value.reason.startswith("broken.pdf cannot be read")
    assert DocumentIndex(db).chunk_count() == 0


def test_in_a_large_scope_words_nearly_every_passage_has_are_left_out(
    db: Database, repo: Repository, alice: UserInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ranking by "the" or "running" (in every passage) would rank every passage; the
    question's rare word decides, looked up as the index keeps it (Porter's stem)."""
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL's english configuration drops stopwords itself")
    from assistants_ui.storage import documents

    monkeypatch.setattr(documents, "PRUNE_FROM", 100)  # a large scope, made small
    mine = shelf(db, repo, alice)
    chunks = [
        NewChunk(i, f"the engines were running on page {i} of the log", i + 1, "")
        for i in range(150)
    ]
    chunks[97] = NewChunk(97, "the kestrels were running along the ridge", 98, "")
    mine.room.add(
        scope=mine.own,
        conversation_id=mine.conversation_id,
        name="log.pdf",
        sha256="1" * 64,
        chunks=chunks,
        chars=sum(len(c.text) for c in chunks),
        pages=150,
        whole_text=None,
    )
    with db.session() as s:
        telling = documents._telling(s, ["the", "running", "kestrels"], [mine.own])
    assert telling == ["kestrels"]
    hits = mine.room.lexical([mine.own], "the running kestrels", 5)
    assert len(hits) == 1
    assert mine.room.chunks([hits[0][0]])[hits[0][0]].page == 98
    # Every word common: the rarest alone, still a search (not an empty answer).
    assert len(mine.room.lexical([mine.own], "the running engines", 5)) == 5
