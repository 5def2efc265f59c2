"""Titles: after the first answer the assistant's model writes the conversation's title.

A real ChatSession on the chat backend, the fake server on loopback and the
real history database (SQLite and PostgreSQL): the title request is one
small request the fake sees (not streamed, a tight token limit, the reader's
language), made after the answer was saved; whatever goes wrong, the first
words stay, and a title the user gave is never replaced.
"""

from __future__ import annotations

import logging

import pytest

from assistants_ui import i18n
from assistants_ui.backends.chat.backend import ChatBackend
from assistants_ui.core.live import LiveAnswers
from assistants_ui.core.session import ChatSession
from assistants_ui.core.titles import TITLE_TOKENS, tidy
from assistants_ui.core.transcript import Message
from assistants_ui.profiles import Connection, Profile
from assistants_ui.storage import NotFound, Repository, StorageRecorder, UserInfo
from fakes.chat_routes import chat_chunks, chat_text, chat_title
from fakes.server import Error, FakeOpenAI, Hang, Stream

QUESTION = "Could you please help me plan a three day trip to Lisbon in spring"
FIRST_WORDS = QUESTION  # short enough to be the whole title


def session(
    fake: FakeOpenAI,
    repo: Repository,
    user: UserInfo,
    *,
    timeout: float = 30,
    live: LiveAnswers | None = None,
    **profile: object,
) -> ChatSession:
    connection = Connection(
        id="fake", type="openai", base_url=fake.base_url, max_retries=0, timeout=timeout
    )
    chosen = Profile(id="guide", title="Guide", backend="chat", connection="fake", model="m")
    chosen = chosen.model_copy(update=profile)
    backend = ChatBackend(chosen, connection)
    recorder = StorageRecorder(repo, user_id=user.id)
    return ChatSession(chosen, backend, recorder=recorder, live=live)


def ask(chat: ChatSession, text: str = QUESTION) -> None:
    chat.submit(text)
    assert chat.reply().run_to_end().status == "complete"


def title_of(repo: Repository, user: UserInfo, chat: ChatSession) -> str:
    assert chat.conversation_id is not None
    return repo.get_conversation(user_id=user.id, conversation_id=chat.conversation_id).title


def test_the_model_writes_the_title_after_the_first_answer(
    fake: FakeOpenAI, repo: Repository, alice: UserInfo
) -> None:
    fake.expect("chat.completions", chat_text(["Day one: ", "Alfama."]))
    fake.expect("chat.title", chat_title('Title: "Three days in Lisbon."'))
    chat = session(fake, repo, alice)
    ask(chat)
    assert chat.titling is not None
    chat.titling.join(30)
    assert title_of(repo, alice, chat) == "Three days in Lisbon"
    [request] = fake.calls("chat.title")
    body = request.body
    assert body["model"] == "m" and not body.get("stream") and body["max_tokens"] == TITLE_TOKENS
    assert "tools" not in body
    system, user = body["messages"]
    assert system["role"] == "system" and "at most 8 words, in English" in system["content"]
    assert user["content"] == f"User:\n{QUESTION}\n\nAssistant:\nDay one: Alfama."
    # The answer was saved before the title was asked for: it came first.
    answer_at = fake.calls("chat.completions")[0].at
    assert request.at > answer_at

    # Later answers leave the title alone: one title request per conversation.
    ask(chat, "And a fourth day?")
    assert chat.titling is not None and not chat.titling.is_alive()
    assert len(fake.calls("chat.title")) == 1
    assert title_of(repo, alice, chat) == "Three days in Lisbon"


def test_the_title_is_asked_in_the_readers_language(
    fake: FakeOpenAI, repo: Repository, alice: UserInfo
) -> None:
    fake.expect("chat.title", chat_title("リスボン三日間の旅"))
    chat = session(fake, repo, alice)
    with i18n.use("ja"):  # the page's language when the question was sent
        ask(chat)
    assert chat.titling is not None
    chat.titling.join(30)
    assert "in Japanese" in fake.calls("chat.title")[0].body["messages"][0]["content"]
    assert title_of(repo, alice, chat) == "リスボン三日間の旅"


@pytest.mark.parametrize(
    "reply", [Error(500, "the title model is down"), Hang()], ids=["error", "timeout"]
)
def test_a_failed_title_request_keeps_the_first_words(
    fake: FakeOpenAI,
    repo: Repository,
    alice: UserInfo,
    reply: Error | Hang,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.expect("chat.title", reply)
    chat = session(fake, repo, alice, timeout=1.0)  # the title waits at most this long
    with caplog.at_level(logging.WARNING, logger="assistants_ui.core.session"):
        ask(chat)
        assert chat.titling is not None
        chat.titling.join(30)
    assert not chat.titling.is_alive()
    assert len(fake.calls("chat.title")) == 1
    assert title_of(repo, alice, chat) == FIRST_WORDS
    [warned] = [r for r in caplog.records if r.getMessage().startswith("title:")]
    assert "the first words stay" in warned.getMessage()


def test_a_sent_question_is_answered_first_and_a_slow_title_holds_no_answer_up(
    fake: FakeOpenAI, repo: Repository, alice: UserInfo
) -> None:
    """The page's send (`ask`: the question and the answer's first row in one write):
    no title request before the answer is saved; one that never returns delays nothing."""
    paused = Stream(chat_chunks(["Day one: ", "Alfama."]), pause_after=2)
    fake.expect("chat.completions", paused)
    fake.expect("chat.title", Hang())
    live = LiveAnswers(checkpoint_seconds=60)
    chat = session(fake, repo, alice, live=live)
    chat.ask(QUESTION)
    stream = chat.active
    assert stream is not None
    assert not stream.wait(0, 30) and stream.version > 0  # its first event came; it waits
    assert chat.titling is None and fake.calls("chat.title") == []  # still writing
    paused.resume.set()
    assert stream.run_to_end().status == "complete"
    assert chat.titling is not None and chat.titling.is_alive()  # the title hangs
    chat.ask("And a fourth day?")  # answered meanwhile, in full
    assert chat.active is not None and chat.active.run_to_end().status == "complete"
    assert chat.titling.is_alive() and len(fake.calls("chat.title")) == 1
    assert title_of(repo, alice, chat) == FIRST_WORDS


def test_an_answer_that_outlives_its_page_gets_its_title_once_saved(
    fake: FakeOpenAI, repo: Repository, alice: UserInfo
) -> None:
    paused = Stream(chat_chunks(["Day one: ", "Alfama."]), pause_after=2)
    fake.expect("chat.completions", paused)
    fake.expect("chat.title", chat_title("Three days in Lisbon"))
    live = LiveAnswers(checkpoint_seconds=60)
    chat = session(fake, repo, alice, live=live)
    chat.ask(QUESTION)
    conversation_id = chat.conversation_id
    assert conversation_id is not None
    del chat  # the page that asked is gone; the answer is the process's
    stream = live.get(conversation_id)
    assert stream is not None
    paused.resume.set()
    assert stream.run_to_end().status == "complete"
    titling = stream.session.titling
    assert titling is not None
    titling.join(30)
    title = repo.get_conversation(user_id=alice.id, conversation_id=conversation_id).title
    assert title == "Three days in Lisbon"


def test_a_stopped_first_answer_gets_no_title_from_the_model(
    fake: FakeOpenAI, repo: Repository, alice: UserInfo
) -> None:
    paused = Stream(chat_chunks(["Day one: ", "Alfama."]), pause_after=2)
    fake.expect("chat.completions", paused)
    live = LiveAnswers(checkpoint_seconds=60)
    chat = session(fake, repo, alice, live=live)
    chat.ask(QUESTION)
    stream = chat.active
    assert stream is not None
    assert live.stop_all("unattended") == 1  # as housekeeping stops an unwatched answer
    paused.resume.set()
    assert stream.message.status == "stopped" and stream.done
    assert chat.titling is None and fake.calls("chat.title") == []
    assert title_of(repo, alice, chat) == FIRST_WORDS


def test_a_title_the_user_gave_is_never_replaced(
    fake: FakeOpenAI, repo: Repository, alice: UserInfo
) -> None:
    fake.expect("chat.title", chat_title("Lisbon in spring"))
    chat = session(fake, repo, alice)
    chat.submit(QUESTION)
    assert chat.conversation_id is not None
    repo.rename_conversation(user_id=alice.id, conversation_id=chat.conversation_id, title="Mine")
    assert chat.reply().run_to_end().status == "complete"
    assert chat.titling is not None
    chat.titling.join(30)
    assert len(fake.calls("chat.title")) == 1  # asked, and not kept
    assert title_of(repo, alice, chat) == "Mine"


def test_no_title_request_when_the_profile_says_so_or_the_answer_failed(
    fake: FakeOpenAI, repo: Repository, alice: UserInfo
) -> None:
    chat = session(fake, repo, alice, model_titles=False)
    ask(chat)
    assert chat.titling is None
    fake.expect("chat.completions", Error(400, "no such model"))
    failed = session(fake, repo, alice)
    failed.submit(QUESTION)
    assert failed.reply().run_to_end().status == "failed"
    assert failed.titling is None
    assert fake.calls("chat.title") == []


def test_the_models_title_replaces_only_the_first_words(
    repo: Repository, alice: UserInfo, bob: UserInfo
) -> None:
    conv = repo.create_conversation(user_id=alice.id, profile_id="p", backend="chat")
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=Message.user("Hello"))
    active = repo.get_conversation(user_id=alice.id, conversation_id=conv.id).updated_at
    kwargs = {"conversation_id": conv.id, "first_words": "Hello", "title": "  A  greeting "}
    assert not repo.title_by_model(user_id=bob.id, **kwargs)  # someone else's
    assert repo.title_by_model(user_id=alice.id, **kwargs)
    shown = repo.get_conversation(user_id=alice.id, conversation_id=conv.id)
    assert shown.title == "A greeting" and shown.updated_at == active  # no activity
    assert repo.search_conversations(user_id=alice.id, query="greeting").items[0].id == conv.id
    repo.rename_conversation(user_id=alice.id, conversation_id=conv.id, title="Mine")
    assert not repo.title_by_model(user_id=alice.id, **{**kwargs, "first_words": "A greeting"})
    assert repo.get_conversation(user_id=alice.id, conversation_id=conv.id).title == "Mine"
    with pytest.raises(NotFound):
        repo.title_by_model(user_id=alice.id, **{**kwargs, "conversation_id": "bad id"})


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ("Three days in Lisbon", "Three days in Lisbon"),
        ("**Title:** Lisbon trip.\nMore text", "Lisbon trip"),
        ("「リスボンの旅」。", "リスボンの旅"),
        (
            "one two three four five six seven eight nine ten",
            "one two three four five six seven eight",
        ),
        ("  \n ", None),
        ('""', None),
    ],
)
def test_what_the_model_wrote_becomes_one_clean_line(raw: str, title: str | None) -> None:
    assert tidy(raw) == title
