"""Share links: a frozen, read-only copy of a conversation that only its owner can revoke."""

from __future__ import annotations

import pytest
from samples import every_part_answer, png_bytes

from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.storage import (
    NotFound,
    Repository,
    ShareRevoked,
    UserInfo,
    is_valid_share_token,
)


def _chat(repo: Repository, user: UserInfo) -> tuple[str, Message, Message]:
    conv = repo.create_conversation(user_id=user.id, profile_id="helper", backend="responses")
    question = Message.user("the plan", [Attachment("plan.png", "image/png", png_bytes())])
    answer = every_part_answer()
    answer.feedback = "up"
    answer.feedback_comment = "my private note"
    repo.save_message(user_id=user.id, conversation_id=conv.id, message=question)
    repo.save_message(user_id=user.id, conversation_id=conv.id, message=answer)
    repo.set_feedback(
        user_id=user.id,
        conversation_id=conv.id,
        message_id=answer.id,
        feedback="up",
        comment="my private note",
    )
    return conv.id, question, answer


def test_a_share_is_a_frozen_copy_with_its_files(
    repo: Repository, alice: UserInfo, bob: UserInfo
) -> None:
    cid, question, answer = _chat(repo, alice)
    share = repo.create_share(user_id=alice.id, conversation_id=cid)
    assert is_valid_share_token(share.token)
    assert share.title == "the plan"
    assert share.message_count == 2

    seen = repo.open_share(token=share.token)
    assert seen.info.conversation_id == cid
    assert [m.id for m in seen.messages] == [question.id, answer.id]
    assert seen.messages[0].attachments[0].data == png_bytes()
    # Every part, its files' bytes included, as saved; the owner's feedback left out.
    expected = answer.to_dict()
    expected.update(feedback=None, feedback_comment="", parent_id=question.id)
    assert seen.messages[1].to_dict() == expected
    assert seen.messages[1].feedback is None and seen.messages[1].feedback_comment == ""

    # Later messages, edits and renames stay out of it.
    repo.save_message(user_id=alice.id, conversation_id=cid, message=Message.user("later words"))
    edited = Message.user("rewritten plan")
    edited.id = question.id
    repo.save_message(user_id=alice.id, conversation_id=cid, message=edited)
    repo.rename_conversation(user_id=alice.id, conversation_id=cid, title="Renamed")
    again = repo.open_share(token=share.token)
    assert again.info.title == "the plan"
    assert [m.text for m in again.messages if m.role == "user"] == ["the plan"]
    assert again.messages[0].attachments[0].data == png_bytes()
    assert "later words" not in repr([m.to_dict() for m in again.messages])

    # A second share of the same conversation is a new snapshot with a new token.
    second = repo.create_share(user_id=alice.id, conversation_id=cid)
    assert second.token != share.token and second.message_count == 3
    listed = repo.list_shares(user_id=alice.id, conversation_id=cid)
    assert {s.token for s in listed} == {share.token, second.token}


def test_only_the_owner_can_share_list_or_revoke(
    repo: Repository, alice: UserInfo, bob: UserInfo
) -> None:
    cid, _, _ = _chat(repo, alice)
    other = repo.create_conversation(user_id=alice.id, profile_id="helper", backend="chat")
    repo.save_message(user_id=alice.id, conversation_id=other.id, message=Message.user("aside"))
    bobs = repo.create_conversation(user_id=bob.id, profile_id="helper", backend="responses")
    share = repo.create_share(user_id=alice.id, conversation_id=cid)
    with pytest.raises(NotFound):
        repo.create_share(user_id=bob.id, conversation_id=cid)
    with pytest.raises(NotFound):
        repo.list_shares(user_id=bob.id, conversation_id=cid)
    with pytest.raises(NotFound):
        repo.revoke_share(user_id=bob.id, token=share.token)
    assert repo.list_shares(user_id=bob.id, conversation_id=bobs.id) == []
    # Bob's refused revocation changed nothing: the link still opens, on that conversation only.
    seen = repo.open_share(token=share.token)
    assert [m.text for m in seen.messages if m.role == "user"] == ["the plan"]
    assert repo.list_shares(user_id=alice.id, conversation_id=other.id) == []

    repo.revoke_share(user_id=alice.id, token=share.token)
    with pytest.raises(ShareRevoked):
        repo.open_share(token=share.token)
    assert repo.list_shares(user_id=alice.id, conversation_id=cid) == []
    repo.revoke_share(user_id=alice.id, token=share.token)  # twice is harmless


@pytest.mark.parametrize("token", ["", "short", "x" * 32 + "y", "a" * 31 + "!", "a" * 32])
def test_an_unknown_or_malformed_token_is_not_found(repo: Repository, token: str) -> None:
    with pytest.raises(NotFound):
        repo.open_share(token=token)


def test_deleting_the_conversation_ends_its_links(repo: Repository, alice: UserInfo) -> None:
    cid, _, _ = _chat(repo, alice)
    share = repo.create_share(user_id=alice.id, conversation_id=cid)
    repo.delete_conversation(user_id=alice.id, conversation_id=cid)
    with pytest.raises(NotFound):
        repo.open_share(token=share.token)
