"""A project's files on the `chat` backend, against the fake server: on the documents
shelf of every conversation in the project, given whole when they fit and searched when
they do not, as a conversation's own documents are; indexed once per content for all of
the project's conversations, and gone with the file or the project. The project's
instructions stay in the system message; its files are not repeated there."""

from __future__ import annotations

from test_chat_documents import ask, session

from assistants_ui.core.session import ChatSession
from assistants_ui.storage import Database, Repository, StorageRecorder
from assistants_ui.storage.documents import DocumentIndex, project_scope
from assistants_ui.storage.recorder import Placement
from assistants_ui.web.turns import turn_for
from documents_support import filler
from fakes.chat_routes import chat_text
from fakes.server import FakeOpenAI

FACT = "The queen of hive 7 was marked with a blue dot in April."


def _in_project(
    fake: FakeOpenAI, db: Database, project_id: str | None = None
) -> tuple[ChatSession, str]:
    """A chat whose conversation goes into a project (a new one with instructions, or
    `project_id`), the reader's additions asked as the page asks them (web/turns.py)."""
    chat = session(fake, db)
    recorder = chat.recorder
    assert isinstance(recorder, StorageRecorder)
    repo, user_id = recorder.repository, recorder.user_id
    if project_id is None:
        project_id = repo.create_project(
            user_id=user_id, name="Bees", instructions="Answer briefly."
        ).id
    recorder.placement = Placement(project_id=project_id)
    chat.turn = lambda: turn_for(repo, user_id, chat.conversation_id, tools=False, max_facts=10)
    return chat, project_id


def _add(chat: ChatSession, project_id: str, name: str, text: str) -> str:
    recorder = chat.recorder
    assert isinstance(recorder, StorageRecorder)
    return recorder.repository.add_project_file(
        user_id=recorder.user_id,
        project_id=project_id,
        name=name,
        mime="text/plain",
        data=text.encode(),
    ).id


def _request(fake: FakeOpenAI, n: int = -1) -> tuple[str, str]:
    """The system message and the question of the `n`th request."""
    messages = fake.calls("chat.completions")[n].body["messages"]
    return messages[0]["content"], messages[-1]["content"]


def test_a_small_project_file_goes_whole_before_the_question(
    fake: FakeOpenAI, db: Database
) -> None:
    fake.expect("chat.completions", chat_text(["Blue."]))
    chat, project = _in_project(fake, db)
    _add(chat, project, "hives.md", FACT)
    answer = ask(chat, "How was the queen of hive 7 marked?")
    assert answer.status == "complete", answer.error
    system, question = _request(fake)
    assert question == (
        f"Attached file `hives.md`:\n```\n{FACT}\n```\n\nHow was the queen of hive 7 marked?"
    )
    assert "Answer briefly." in system
    assert FACT not in system  # on the shelf, not repeated in the instructions
    assert [c.label for p in answer.parts for c in getattr(p, "citations", ())] == ["hives.md"]


def test_a_long_project_file_is_searched_and_its_passage_reaches_the_request(
    fake: FakeOpenAI, db: Database
) -> None:
    fake.expect("chat.completions", chat_text(["Blue [1]."]), chat_text(["Yes."]))
    chat, project = _in_project(fake, db)
    pages = [filler(n, words=400) for n in range(1, 30)]
    pages.insert(14, FACT)
    _add(chat, project, "logbook.txt", "\n\n".join(pages))
    ask(chat, "How was the queen of hive 7 marked?")
    system, question = _request(fake)
    assert question.startswith("Passages from the attached documents")
    assert "[1] logbook.txt\n" in question and FACT in question
    assert len(question) < 8192 * 3  # within the context budget, unlike the whole file
    assert "logbook.txt" not in system

    # Another conversation of the project searches the same index: indexed once.
    room = DocumentIndex(db)
    chunks = room.chunk_count([project_scope(project)])
    other, _ = _in_project(fake, db, project)
    ask(other, "Which hive had the queen with a blue dot?")
    assert FACT in _request(fake)[1]
    assert room.chunk_count([project_scope(project)]) == chunks
    assert len(room.documents([project_scope(project)])) == 1


def test_a_project_files_passages_go_with_the_file_and_the_project(
    fake: FakeOpenAI, db: Database
) -> None:
    fake.expect("chat.completions", chat_text(["Blue."]), chat_text(["Nothing."]))
    chat, project = _in_project(fake, db)
    file_id = _add(chat, project, "hives.md", FACT)
    _add(chat, project, "notes.md", "Swarms leave in May.")
    ask(chat, "How was the queen marked?")
    room, scope = DocumentIndex(db), [project_scope(project)]
    assert {d.name for d in room.documents(scope)} == {"hives.md", "notes.md"}

    recorder = chat.recorder
    assert isinstance(recorder, StorageRecorder)
    repo: Repository = recorder.repository
    repo.delete_project_file(user_id=recorder.user_id, project_id=project, file_id=file_id)
    assert {d.name for d in room.documents(scope)} == {"notes.md"}  # in the same write
    ask(chat, "How was the queen marked?")
    assert FACT not in _request(fake)[1] and "Swarms leave in May." in _request(fake)[1]

    _add(chat, project, "notes.md", "Swarms leave in June.")  # replaced: the old text goes
    assert room.documents(scope) == []
    repo.delete_project(user_id=recorder.user_id, project_id=project)
    assert room.chunk_count(scope) == 0
