"""User B tries every access to user A's conversation, messages and files by id."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from samples import every_part_answer, png_bytes
from scripted import PROFILE, ScriptedBackend
from stored_files import stored_files

from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.storage import NotFound, Repository, StorageRecorder, UserInfo


def snapshot(repo: Repository, user: UserInfo, cid: str) -> tuple[object, ...]:
    conv = repo.get_conversation(user_id=user.id, conversation_id=cid)
    messages = repo.load_messages(user_id=user.id, conversation_id=cid, limit=None).messages
    return conv, [m.to_dict() for m in messages], list(stored_files(repo, cid))


def test_nothing_of_a_reaches_b(repo: Repository, alice: UserInfo, bob: UserInfo) -> None:
    conv = repo.create_conversation(
        user_id=alice.id, profile_id="helper", backend="responses", remote={"thread": "t_a"}
    )
    question = Message.user("secret plans", [Attachment("plan.png", "image/png", png_bytes())])
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=question)
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=every_part_answer())
    assert len(stored_files(repo, conv.id)) == 3
    before = snapshot(repo, alice, conv.id)
    bobs_own = repo.create_conversation(user_id=bob.id, profile_id="helper", backend="responses")

    cid = conv.id
    attempts: list[Callable[[], object]] = [
        lambda: repo.get_conversation(user_id=bob.id, conversation_id=cid),
        lambda: repo.load_messages(user_id=bob.id, conversation_id=cid),
        lambda: repo.load_messages(user_id=bob.id, conversation_id=cid, limit=None, before=99),
        lambda: repo.rename_conversation(user_id=bob.id, conversation_id=cid, title="mine"),
        lambda: repo.set_remote(user_id=bob.id, conversation_id=cid, remote={"thread": "t_b"}),
        lambda: repo.delete_conversation(user_id=bob.id, conversation_id=cid),
        # Appending to, or overwriting a message of, A's conversation.
        lambda: repo.save_message(user_id=bob.id, conversation_id=cid, message=Message.user("x")),
        lambda: repo.save_message(
            user_id=bob.id,
            conversation_id=cid,
            message=Message(role="user", id=question.id, parts=[]),
        ),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            attempt()

    # Listing and searching show B only B's own.
    assert [c.id for c in repo.list_conversations(user_id=bob.id).items] == [bobs_own.id]
    assert repo.search_conversations(user_id=bob.id, query="secret").items == []
    assert repo.search_conversations(user_id=bob.id, query="").items[0].id == bobs_own.id

    # B's recorder pointed at A's conversation (a forged session) fails too.
    session = ChatSession(
        PROFILE,
        ScriptedBackend(),
        recorder=StorageRecorder(repo, user_id=bob.id),
        conversation_id=cid,
    )
    with pytest.raises(NotFound):
        session.submit("inject")

    # A's conversation is exactly as it was.
    assert snapshot(repo, alice, conv.id) == before


def test_b_writing_a_message_with_a_same_id_stays_in_b_conversation(
    repo: Repository, alice: UserInfo, bob: UserInfo
) -> None:
    a_conv = repo.create_conversation(user_id=alice.id, profile_id="p", backend="chat")
    b_conv = repo.create_conversation(user_id=bob.id, profile_id="p", backend="chat")
    original = Message.user("alice's words")
    repo.save_message(user_id=alice.id, conversation_id=a_conv.id, message=original)
    forged = Message(role="user", id=original.id, parts=[])
    forged.parts.extend(Message.user("bob's words").parts)
    repo.save_message(user_id=bob.id, conversation_id=b_conv.id, message=forged)
    (a_msg,) = repo.load_messages(user_id=alice.id, conversation_id=a_conv.id).messages
    (b_msg,) = repo.load_messages(user_id=bob.id, conversation_id=b_conv.id).messages
    assert (a_msg.text, b_msg.text) == ("alice's words", "bob's words")
