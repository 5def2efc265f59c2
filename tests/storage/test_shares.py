"""Share links: a read-only snapshot of a conversation's branch (a reference to its stored
messages and files), at most MAX_SHARES_PER_USER a user, that only its owner can revoke."""

from __future__ import annotations

from typing import Any

import pytest
from samples import every_part_answer, png_bytes
from stored_files import stored_files

from assistants_ui.core.transcript import Attachment, Message, TextPart
from assistants_ui.storage import (
    NotFound,
    Repository,
    ShareRevoked,
    Snapshot,
    TooManyShares,
    UserInfo,
    is_valid_share_token,
    open_url,
)
from assistants_ui.storage.repository import ROOT


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


def filled(repo: Repository, token: str, snapshot: Snapshot) -> list[Message]:
    """The snapshot's messages with their files' bytes, each read through the link."""
    for message in snapshot.messages:
        slots: list[tuple[str, list[Any]]] = [
            ("part", message.parts),
            ("attachment", message.attachments),
        ]
        for slot, items in slots:
            for position, item in enumerate(items):
                found = snapshot.files.get((message.id, slot, position))
                if found is not None:
                    item.data = repo.share_file(token=token, file_id=found.id)
    return snapshot.messages


def test_a_share_is_a_snapshot_of_the_branch_with_its_files(
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
    # Opened without the files' bytes: their sizes are known, the bytes read when wanted.
    assert seen.messages[0].attachments[0].data == b""
    assert seen.files[(question.id, "attachment", 0)].size == len(png_bytes())
    # Every part, its files' bytes included, as saved; the owner's feedback left out.
    expected = answer.to_dict()
    expected.update(feedback=None, feedback_comment="", parent_id=question.id)
    assert filled(repo, share.token, seen)[1].to_dict() == expected
    assert seen.messages[0].attachments[0].data == png_bytes()
    assert seen.messages[1].feedback is None and seen.messages[1].feedback_comment == ""

    # Later messages, an edited question, a regenerated answer, another branch
    # shown and a rename stay out of it.
    later = Message.user("later words", [Attachment("later.png", "image/png", png_bytes(4, 4))])
    repo.save_message(user_id=alice.id, conversation_id=cid, message=later)
    again_answer = Message(role="assistant", parts=[TextPart("another answer")])
    again_answer.parent_id = question.id
    repo.save_message(user_id=alice.id, conversation_id=cid, message=again_answer)
    edited = Message.user("rewritten plan")
    edited.parent_id = ROOT
    repo.save_message(user_id=alice.id, conversation_id=cid, message=edited)
    repo.rename_conversation(user_id=alice.id, conversation_id=cid, title="Renamed")
    again = repo.open_share(token=share.token)
    assert again.info.title == "the plan"
    assert [m.id for m in again.messages] == [question.id, answer.id]
    assert filled(repo, share.token, again)[1].to_dict() == expected
    assert again.messages[0].attachments[0].data == png_bytes()
    assert "later words" not in repr([m.to_dict() for m in again.messages])
    # Only the branch's files open through the link: not a later message's, nor
    # another conversation's.
    [later_file] = [f for f in stored_files(repo, cid) if f.name == "later.png"]
    with pytest.raises(NotFound):
        repo.share_file(token=share.token, file_id=later_file.id)
    other, _, _ = _chat(repo, bob)
    with pytest.raises(NotFound):
        repo.share_file(token=share.token, file_id=stored_files(repo, other)[0].id)
    with pytest.raises(NotFound):
        repo.share_file(token="A" * 32, file_id=seen.files[(question.id, "attachment", 0)].id)

    # A second share of the same conversation is a new snapshot of the branch shown now.
    second = repo.create_share(user_id=alice.id, conversation_id=cid)
    assert second.token != share.token and second.message_count == 1
    assert [m.text for m in repo.open_share(token=second.token).messages] == ["rewritten plan"]
    listed = repo.list_shares(user_id=alice.id, conversation_id=cid)
    assert {s.token for s in listed} == {share.token, second.token}

    repo.revoke_share(user_id=alice.id, token=share.token)
    with pytest.raises(ShareRevoked):
        repo.share_file(token=share.token, file_id=seen.files[(question.id, "attachment", 0)].id)


def test_an_answer_still_being_written_is_left_out(repo: Repository, alice: UserInfo) -> None:
    conv = repo.create_conversation(user_id=alice.id, profile_id="helper", backend="chat")
    question = Message.user("a long question")
    answer = Message(role="assistant", parts=[TextPart("so far")], status="streaming")
    for message in (question, answer):
        repo.save_message(user_id=alice.id, conversation_id=conv.id, message=message)
    share = repo.create_share(user_id=alice.id, conversation_id=conv.id)
    assert share.message_count == 1
    answer.parts = [TextPart("so far, and the end")]
    answer.status = "complete"
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=answer)
    assert [m.text for m in repo.open_share(token=share.token).messages] == ["a long question"]
    ended = repo.create_share(user_id=alice.id, conversation_id=conv.id)
    assert [m.text for m in repo.open_share(token=ended.token).messages] == [
        "a long question",
        "so far, and the end",
    ]


def test_each_user_has_at_most_the_cap_of_links_that_open(
    db_url: str, alice: UserInfo, bob: UserInfo
) -> None:
    db = open_url(db_url, max_shares_per_user=2)
    try:
        repo = Repository(db)
        cid, _, _ = _chat(repo, alice)
        other, _, _ = _chat(repo, alice)
        first = repo.create_share(user_id=alice.id, conversation_id=cid)
        repo.create_share(user_id=alice.id, conversation_id=other)
        with pytest.raises(TooManyShares) as refused:
            repo.create_share(user_id=alice.id, conversation_id=cid)
        assert str(refused.value) == (
            "Not shared: you already have 2 share links, the most this app allows; "
            "revoke one (in its conversation's menu) to make another."
        )
        assert len(repo.list_shares(user_id=alice.id, conversation_id=cid)) == 1
        # Bob has his own count; a revoked link frees its place.
        bobs, _, _ = _chat(repo, bob)
        repo.create_share(user_id=bob.id, conversation_id=bobs)
        repo.revoke_share(user_id=alice.id, token=first.token)
        repo.create_share(user_id=alice.id, conversation_id=cid)
        with pytest.raises(TooManyShares):
            repo.create_share(user_id=alice.id, conversation_id=cid)
    finally:
        db.dispose()
    off = open_url(db_url, max_shares_per_user=0)
    try:
        with pytest.raises(TooManyShares, match="share links are turned off"):
            Repository(off).create_share(user_id=bob.id, conversation_id=bobs)
    finally:
        off.dispose()


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
