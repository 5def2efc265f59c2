"""Branches (an edited question, a regenerated answer) on every backend, against the fake server.

Each test saves through the real storage (SQLite) and checks what the server
receives for a branch: the model sees exactly the history of the branch
shown; where the server holds the conversation, a branch gets its own remote
conversation or thread seeded with its earlier messages; a reload finds each
branch's state again, and deleting the conversation deletes every branch's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistants_ui.backends.assistants.backend import create as create_assistants
from assistants_ui.backends.chat.backend import ChatBackend
from assistants_ui.backends.responses.backend import create as create_responses
from assistants_ui.core.backend import Backend, distinct_remotes
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.profiles import DEFAULT_UPLOAD_TYPES, Connection, Profile
from assistants_ui.settings import load_settings
from assistants_ui.storage import Repository, StorageRecorder, UserInfo, open_url
from fakes.assistants_scripts import add_assistant, script, text
from fakes.chat_routes import chat_text
from fakes.responses_routes import ResponseScript, request_problems, text_reply
from fakes.server import FakeOpenAI

pytestmark = [
    pytest.mark.filterwarnings("ignore:The Assistants API is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning"),
]


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repository]:
    db = open_url(f"sqlite:///{tmp_path / 'history.db'}")
    try:
        yield Repository(db)
    finally:
        db.dispose()


@pytest.fixture
def user(repo: Repository) -> UserInfo:
    return repo.ensure_user(auth_provider="password", subject="alice")


@pytest.fixture(autouse=True)
def requests_match_the_schema(fake: FakeOpenAI) -> Iterator[None]:
    yield
    problems = request_problems(fake)
    assert not problems, "\n".join(problems)


def connection(fake: FakeOpenAI, state: str = "conversation") -> Connection:
    return Connection(
        id=f"t{time.monotonic_ns()}",
        type="openai",
        base_url=fake.base_url,
        api_key="sk-test",
        state=state,  # type: ignore[arg-type]
        max_retries=0,
        timeout=10,
    )


def session(
    backend_name: str, fake: FakeOpenAI, repo: Repository, user: UserInfo, state: str = ""
) -> ChatSession:
    conn = connection(fake, state or "conversation")
    values: dict[str, Any] = {
        "id": "p",
        "title": "P",
        "backend": backend_name,
        "connection": conn.id,
        "upload_types": DEFAULT_UPLOAD_TYPES,
    }
    backend: Backend
    if backend_name == "chat":
        profile = Profile(**values, model="m")
        backend = ChatBackend(profile, conn)
    elif backend_name == "responses":
        profile = Profile(**values, model="gpt-test")
        backend = create_responses(profile, conn, load_settings()[0])
    else:
        add_assistant(fake, tools=[{"type": "code_interpreter"}, {"type": "file_search"}])
        profile = Profile(**{**values, "id": "asst_fake"}, assistant_id="asst_fake")
        backend = create_assistants(profile, conn, load_settings()[0])
    return ChatSession(profile, backend, recorder=StorageRecorder(repo, user_id=user.id))


def reload(chat: ChatSession, repo: Repository, user: UserInfo) -> ChatSession:
    """The conversation as the page opens it again (a reload)."""
    assert chat.conversation_id is not None
    page = repo.load_messages(user_id=user.id, conversation_id=chat.conversation_id)
    return ChatSession(
        chat.profile,
        chat.backend,
        messages=page.messages,
        remote=page.remote,
        remote_owner=page.remote_owner,
        children=page.children,
        recorder=chat.recorder,
        conversation_id=chat.conversation_id,
    )


def ask(chat: ChatSession, words: str, attachments: list[Attachment] | None = None) -> Message:
    chat.submit(words, attachments or [])
    return chat.reply().run_to_end()


def texts(chat: ChatSession) -> list[str]:
    return [m.text for m in chat.messages]


def delete_everywhere(chat: ChatSession, repo: Repository, user: UserInfo) -> None:
    """What the page's Delete does: the stored conversation, then every branch's remote side."""
    assert chat.conversation_id is not None
    remotes = repo.delete_conversation(user_id=user.id, conversation_id=chat.conversation_id)
    for remote in distinct_remotes(remotes):
        chat.backend.delete(remote)


def responses_read_a_pdf(
    fake: FakeOpenAI, repo: Repository, user: UserInfo, *, then: str
) -> ChatSession:
    """A responses chat whose first question carried a PDF; `then` is the next answer."""
    fake.expect("responses.create", text_reply(["Read."]), text_reply([then]))
    chat = session("responses", fake, repo, user)
    ask(chat, "Read this", [Attachment("report.pdf", "application/pdf", b"%PDF-1.4 x")])
    return chat


def assistants_q1_q2(
    fake: FakeOpenAI, repo: Repository, user: UserInfo, *, then: str
) -> ChatSession:
    """An assistants chat that asked Q1 and Q2 (answers A1, A2); `then` is the next answer."""
    chat = session("assistants", fake, repo, user)
    for words in ("A1", "A2", then):
        script(fake, text(words))
    ask(chat, "Q1")
    ask(chat, "Q2")
    return chat


# -- chat (and the local model: the same history path) ----------------------------------------


def test_chat_edit_and_regenerate_send_exactly_the_branch_shown(
    fake: FakeOpenAI, repo: Repository, user: UserInfo
) -> None:
    fake.expect(
        "chat.completions",
        chat_text(["A1"]),
        chat_text(["A2"]),
        chat_text(["A2 edited"]),
        chat_text(["A1 again"]),
    )
    chat = session("chat", fake, repo, user)
    ask(chat, "Q1")
    ask(chat, "Q2")
    q2 = chat.messages[2]
    new = chat.edit(q2, "Q2 edited", [])
    assert chat.reply().run_to_end().text == "A2 edited"
    sent = fake.calls("chat.completions")[-1].body["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("user", "Q1"),
        ("assistant", "A1"),
        ("user", "Q2 edited"),
    ]
    assert chat.siblings(new) == [q2.id, new.id]

    a1 = chat.messages[1]
    chat.regenerate(a1)
    assert chat.reply().run_to_end().text == "A1 again"
    sent = fake.calls("chat.completions")[-1].body["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [("user", "Q1")]
    assert texts(chat) == ["Q1", "A1 again"]

    # Stored: four versions in all, the newest branch shown after a reload.
    again = reload(chat, repo, user)
    assert texts(again) == ["Q1", "A1 again"]
    assert again.siblings(again.messages[1]) == [a1.id, again.messages[1].id]
    assert chat.conversation_id is not None
    leaf = repo.switch_branch(
        user_id=user.id, conversation_id=chat.conversation_id, message_id=a1.id
    )
    assert texts(reload(chat, repo, user)) == ["Q1", "A1", "Q2 edited", "A2 edited"]
    assert leaf == reload(chat, repo, user).messages[-1].id
    repo.switch_branch(user_id=user.id, conversation_id=chat.conversation_id, message_id=q2.id)
    assert texts(reload(chat, repo, user)) == ["Q1", "A1", "Q2", "A2"]


def test_chat_edit_keeps_or_removes_attachments(
    fake: FakeOpenAI, repo: Repository, user: UserInfo
) -> None:
    fake.expect("chat.completions", chat_text(["Seen."]), chat_text(["Without."]))
    chat = session("chat", fake, repo, user)
    notes = Attachment("notes.txt", "text/plain", b"secret plan")
    ask(chat, "Read this", [notes])
    assert "secret plan" in fake.calls("chat.completions")[0].body["messages"][0]["content"]
    edited = chat.edit(chat.messages[0], "Without the file", [])
    chat.reply().run_to_end()
    assert edited.attachments == []
    [sent] = fake.calls("chat.completions")[-1].body["messages"]
    assert sent == {"role": "user", "content": "Without the file"}
    # The first version keeps its file.
    assert chat.conversation_id is not None
    repo.switch_branch(
        user_id=user.id,
        conversation_id=chat.conversation_id,
        message_id=chat.siblings(edited)[0],
    )
    first = reload(chat, repo, user).messages[0]
    assert [a.data for a in first.attachments] == [b"secret plan"]


def test_editing_while_an_answer_streams_is_refused_and_changes_nothing(
    fake: FakeOpenAI, repo: Repository, user: UserInfo
) -> None:
    fake.expect("chat.completions", chat_text(["A1"]))
    chat = session("chat", fake, repo, user)
    chat.submit("Q1")
    stream = chat.reply()
    with pytest.raises(RuntimeError, match="still streaming"):
        chat.edit(chat.messages[0], "other", [])
    with pytest.raises(RuntimeError, match="still streaming"):
        chat.regenerate(stream.message)
    stream.run_to_end()
    assert texts(chat) == ["Q1", "A1"]
    assert chat.children == {}


# -- responses ---------------------------------------------------------------------------------


def test_responses_branch_gets_a_new_conversation_seeded_with_its_history(
    fake: FakeOpenAI, repo: Repository, user: UserInfo
) -> None:
    fake.expect(
        "responses.create",
        text_reply(["A1"]),
        text_reply(["A2"]),
        text_reply(["A2 edited"]),
        text_reply(["A3"]),
    )
    chat = session("responses", fake, repo, user)
    ask(chat, "Q1")
    ask(chat, "Q2")
    first = chat.remote["conversation"]
    q2 = chat.messages[2]
    chat.edit(q2, "Q2 edited", [])
    chat.reply().run_to_end()
    second = chat.remote["conversation"]
    assert second != first
    seeded = fake.calls("conversations.create")[-1].body
    assert seeded["items"] == [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "A1"},
    ]
    sent = fake.calls("responses.create")[-1].body
    assert sent["conversation"] == second
    assert sent["input"] == [{"role": "user", "content": "Q2 edited"}]

    # The branch's state is kept with the branch: a reload continues it there.
    again = reload(chat, repo, user)
    assert again.remote["conversation"] == second
    ask(again, "Q3")
    assert fake.calls("responses.create")[-1].body["conversation"] == second
    # The first branch still has its own conversation, untouched.
    assert chat.conversation_id is not None
    repo.switch_branch(user_id=user.id, conversation_id=chat.conversation_id, message_id=q2.id)
    assert reload(chat, repo, user).remote["conversation"] == first

    # Deleting the conversation deletes both remote conversations.
    delete_everywhere(chat, repo, user)
    assert fake.state["conversations"] == {}
    assert {c.path.rsplit("/", 1)[-1] for c in fake.calls("conversations.delete")} == {
        first,
        second,
    }


def test_responses_regenerate_after_the_remote_conversation_was_deleted(
    fake: FakeOpenAI, repo: Repository, user: UserInfo
) -> None:
    fake.expect("responses.create", text_reply(["A1"]), text_reply(["A1 again"]))
    chat = session("responses", fake, repo, user)
    ask(chat, "Q1")
    fake.state["conversations"].clear()  # deleted on the server behind our back
    chat.regenerate(chat.messages[1])
    answer = chat.reply().run_to_end()
    assert answer.status == "complete" and answer.text == "A1 again"
    sent = fake.calls("responses.create")[-1].body
    assert sent["conversation"] == chat.remote["conversation"]
    assert sent["input"] == [{"role": "user", "content": "Q1"}]
    assert texts(reload(chat, repo, user)) == ["Q1", "A1 again"]


def test_responses_branch_point_with_an_expired_file_says_so_and_keeps_everything(
    fake: FakeOpenAI, repo: Repository, user: UserInfo
) -> None:
    chat = responses_read_a_pdf(fake, repo, user, then="A2")
    file_id = chat.messages[0].attachments[0].file_id
    ask(chat, "Q2")
    fake.state["files"].pop(file_id)  # expired on the server
    chat.edit(chat.messages[2], "Q2 edited", [])
    answer = chat.reply().run_to_end()
    assert answer.status == "failed"
    assert answer.error is not None
    assert "could not be started on the server" in answer.error.reason
    assert "expired" in answer.error.reason and "leave the file out" in answer.error.reason
    assert answer.error.retryable is False
    # Nothing lost: both versions of the question are kept, the first branch intact.
    again = reload(chat, repo, user)
    assert texts(again)[:3] == ["Read this", "Read.", "Q2 edited"]
    assert len(again.siblings(again.messages[2])) == 2


def test_responses_edit_keeps_a_file_by_its_id_or_removes_it(
    fake: FakeOpenAI, repo: Repository, user: UserInfo
) -> None:
    chat = responses_read_a_pdf(fake, repo, user, then="Again.")
    (kept,) = chat.messages[0].attachments
    edited = chat.edit(chat.messages[0], "Read this, briefly", [kept])
    chat.reply().run_to_end()
    assert len(fake.calls("files.create")) == 1  # kept: not uploaded again
    assert edited.attachments[0].file_id == kept.file_id
    assert fake.calls("responses.create")[-1].body["input"] == [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "Read this, briefly"},
                {"type": "input_file", "file_id": kept.file_id},
            ],
        }
    ]
    fake.expect("responses.create", text_reply(["Nothing to read."]))
    chat.edit(chat.messages[0], "And without it?", [])
    chat.reply().run_to_end()
    assert fake.calls("responses.create")[-1].body["input"] == [
        {"role": "user", "content": "And without it?"}
    ]
    assert len(chat.siblings(chat.messages[0])) == 3


def test_responses_previous_response_id_branch_resends_its_history_then_chains(
    fake: FakeOpenAI, repo: Repository, user: UserInfo
) -> None:
    one, two, edited, three = (ResponseScript().text([w]) for w in ("A1", "A2", "A2'", "A3"))
    fake.expect("responses.create", one.stream(), two.stream(), edited.stream(), three.stream())
    chat = session("responses", fake, repo, user, state="previous_response_id")
    ask(chat, "Q1")
    ask(chat, "Q2")
    chat.edit(chat.messages[2], "Q2 edited", [])
    chat.reply().run_to_end()
    sent = fake.calls("responses.create")[-1].body
    assert "previous_response_id" not in sent
    assert sent["input"] == [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "Q2 edited"},
    ]
    ask(reload(chat, repo, user), "Q3")
    sent = fake.calls("responses.create")[-1].body
    assert sent["previous_response_id"] == edited.response_id
    assert sent["input"] == [{"role": "user", "content": "Q3"}]
    assert fake.calls("conversations.create") == []


# -- assistants --------------------------------------------------------------------------------


def test_assistants_branch_gets_a_new_thread_seeded_with_its_messages(
    fake: FakeOpenAI, repo: Repository, user: UserInfo
) -> None:
    chat = assistants_q1_q2(fake, repo, user, then="A1 again")
    first = chat.remote["thread"]
    chat.regenerate(chat.messages[3])
    assert texts(chat) == ["Q1", "A1", "Q2"]
    chat.reply().run_to_end()
    second = chat.remote["thread"]
    assert second != first
    seeded = fake.calls("threads.create")[-1].body
    assert [(m["role"], m["content"]) for m in seeded["messages"]] == [
        ("user", [{"type": "text", "text": "Q1"}]),
        ("assistant", "A1"),
    ]
    posted = fake.calls("messages.create")[-1]
    assert second in posted.path and posted.body["content"] == [{"type": "text", "text": "Q2"}]
    assert second in fake.calls("runs.create")[-1].path
    # The first thread is untouched: Q1, A1, Q2, A2 still.
    assert len(fake.state["threads"][first]["messages"]) == 4
    assert reload(chat, repo, user).remote["thread"] == second

    delete_everywhere(chat, repo, user)
    assert fake.state["threads"] == {}


def test_assistants_regenerate_after_the_thread_was_deleted_on_the_server(
    fake: FakeOpenAI, repo: Repository, user: UserInfo
) -> None:
    chat = assistants_q1_q2(fake, repo, user, then="A2 again")
    fake.state["threads"].clear()  # deleted behind our back
    chat.regenerate(chat.messages[3])
    answer = chat.reply().run_to_end()
    assert answer.status == "complete" and answer.text == "A2 again"
    seeded = fake.calls("threads.create")[-1].body["messages"]
    assert [m["role"] for m in seeded] == ["user", "assistant"]
    assert list(fake.state["threads"]) == [chat.remote["thread"]]
    assert texts(reload(chat, repo, user)) == ["Q1", "A1", "Q2", "A2 again"]


def test_assistants_branch_point_with_an_expired_file_says_so(
    fake: FakeOpenAI, repo: Repository, user: UserInfo
) -> None:
    chat = session("assistants", fake, repo, user)
    script(fake, text("Read."))
    ask(chat, "Look", [Attachment("data.csv", "text/csv", b"a,b\n1,2\n")])
    file_id = chat.messages[0].attachments[0].file_id
    fake.state["files"].pop(file_id)
    script(fake, text("unused"))
    ask(chat, "Q2")
    chat.edit(chat.messages[2], "Q2 edited", [])
    answer = chat.reply().run_to_end()
    assert answer.status == "failed" and answer.error is not None
    assert "could not be started on the server" in answer.error.reason
    assert "Invalid file id" in answer.error.reason
    assert texts(reload(chat, repo, user))[-2:] == ["Q2 edited", answer.text]


@pytest.mark.local_model
def test_local_model_sees_exactly_the_branch_shown(repo: Repository, user: UserInfo) -> None:
    """The bundled model, for real: its prompt after an edit and a regenerate."""
    connection = Connection(id="local", type="local", context_tokens=1024)
    profile = Profile(
        id="local", title="Local", backend="chat", connection="local", max_output_tokens=8
    )
    backend = ChatBackend(profile, connection)
    prompts: list[list[tuple[str, str]]] = []
    source = backend.source
    stream = source.stream

    def spy(turns: list[dict[str, str]], context: Any) -> Any:
        prompts.append([(t["role"], t["content"]) for t in turns])
        return stream(turns, context)

    source.stream = spy  # type: ignore[method-assign]
    chat = ChatSession(profile, backend, recorder=StorageRecorder(repo, user_id=user.id))
    a1 = ask(chat, "Say yes.")
    a2 = ask(chat, "Say no.")
    ended = {"complete", "incomplete"}  # 8 tokens may cut it: still part of the history
    assert {a1.status, a2.status} <= ended and a1.text and a2.text
    chat.edit(chat.messages[2], "Say maybe.", [])
    assert chat.reply().run_to_end().status in ended
    assert prompts[-1] == [("user", "Say yes."), ("assistant", a1.text), ("user", "Say maybe.")]
    chat.regenerate(chat.messages[1])
    assert chat.reply().run_to_end().status in ended
    assert prompts[-1] == [("user", "Say yes.")]
    again = reload(chat, repo, user)
    assert again.messages[0].text == "Say yes."
    assert len(again.siblings(again.messages[1])) == 2
