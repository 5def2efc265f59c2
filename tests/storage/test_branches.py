"""Branches in storage: messages as a tree, the branch shown, each branch's remote state,
the migration that links existing conversations, exports and deletion."""

from __future__ import annotations

import io
import json

import pytest
from alembic import command
from sqlalchemy import text

from assistants_ui.core.transcript import Message, TextPart
from assistants_ui.storage import NotFound, Repository, UserInfo, open_url
from assistants_ui.storage.export import write_json, write_markdown
from assistants_ui.storage.migrate import alembic_config, head_revision


def answer(words: str, parent: Message) -> Message:
    return Message(role="assistant", parts=[TextPart(words)], parent_id=parent.id)


def question(words: str, parent: Message | None) -> Message:
    message = Message.user(words)
    message.parent_id = parent.id if parent is not None else ""
    return message


def save(repo: Repository, user: UserInfo, cid: str, *messages: Message) -> None:
    for m in messages:
        repo.save_message(user_id=user.id, conversation_id=cid, message=m)


def shown(repo: Repository, user: UserInfo, cid: str) -> list[str]:
    return [m.text for m in repo.load_messages(user_id=user.id, conversation_id=cid).messages]


@pytest.fixture
def tree(repo: Repository, alice: UserInfo) -> tuple[str, dict[str, Message]]:
    """Q1 → A1 → Q2 → A2, then Q2 edited (Q2b → A2b), then A1 regenerated (A1b)."""
    cid = repo.create_conversation(user_id=alice.id, profile_id="p", backend="responses").id
    q1 = question("Q1", None)
    a1 = answer("A1", q1)
    q2 = question("Q2", a1)
    a2 = answer("A2", q2)
    q2b = question("Q2b", a1)
    a2b = answer("A2b", q2b)
    a1b = answer("A1b", q1)
    save(repo, alice, cid, q1, a1, q2, a2, q2b, a2b, a1b)
    names = {"q1": q1, "a1": a1, "q2": q2, "a2": a2, "q2b": q2b, "a2b": a2b, "a1b": a1b}
    return cid, names


def test_the_newest_message_is_the_branch_shown_with_its_versions(
    repo: Repository, alice: UserInfo, tree: tuple[str, dict[str, Message]]
) -> None:
    cid, m = tree
    page = repo.load_messages(user_id=alice.id, conversation_id=cid)
    assert [x.text for x in page.messages] == ["Q1", "A1b"]
    assert [x.parent_id for x in page.messages] == ["", m["q1"].id]
    assert page.children == {m["q1"].id: [m["a1"].id, m["a1b"].id]}


def test_switching_shows_the_newest_leaf_under_a_version(
    repo: Repository, alice: UserInfo, tree: tuple[str, dict[str, Message]]
) -> None:
    cid, m = tree
    leaf = repo.switch_branch(user_id=alice.id, conversation_id=cid, message_id=m["a1"].id)
    assert leaf == m["a2b"].id
    page = repo.load_messages(user_id=alice.id, conversation_id=cid)
    assert [x.text for x in page.messages] == ["Q1", "A1", "Q2b", "A2b"]
    assert page.children == {
        m["q1"].id: [m["a1"].id, m["a1b"].id],
        m["a1"].id: [m["q2"].id, m["q2b"].id],
    }
    repo.switch_branch(user_id=alice.id, conversation_id=cid, message_id=m["q2"].id)
    assert shown(repo, alice, cid) == ["Q1", "A1", "Q2", "A2"]
    # A new message goes after the branch shown and becomes its last.
    save(repo, alice, cid, Message.user("Q3"))
    assert shown(repo, alice, cid) == ["Q1", "A1", "Q2", "A2", "Q3"]


def test_switching_is_scoped_to_the_owner_and_the_conversation(
    repo: Repository, alice: UserInfo, bob: UserInfo, tree: tuple[str, dict[str, Message]]
) -> None:
    cid, m = tree
    with pytest.raises(NotFound):
        repo.switch_branch(user_id=bob.id, conversation_id=cid, message_id=m["a1"].id)
    with pytest.raises(NotFound):
        repo.switch_branch(user_id=alice.id, conversation_id=cid, message_id="no-such-message")
    with pytest.raises(NotFound):
        repo.set_remote(
            user_id=bob.id, conversation_id=cid, remote={"thread": "t"}, message_id=m["q2b"].id
        )
    assert shown(repo, alice, cid) == ["Q1", "A1b"]


def test_paging_follows_the_branch_shown(repo: Repository, alice: UserInfo) -> None:
    cid = repo.create_conversation(user_id=alice.id, profile_id="p", backend="chat").id
    last: Message | None = None
    for n in range(6):
        q = question(f"Q{n}", last)
        last = answer(f"A{n}", q)
        save(repo, alice, cid, q, last)
    # An edit of Q2 starts a branch with 2 messages; the old branch has 12.
    assert last is not None
    page = repo.load_messages(user_id=alice.id, conversation_id=cid, limit=None)
    a1 = page.messages[3]
    q2b = question("Q2b", a1)
    save(repo, alice, cid, q2b, answer("A2b", q2b))
    first = repo.load_messages(user_id=alice.id, conversation_id=cid, limit=3)
    assert [x.text for x in first.messages] == ["A1", "Q2b", "A2b"]
    assert first.before is not None
    older = repo.load_messages(user_id=alice.id, conversation_id=cid, limit=3, before=first.before)
    assert [x.text for x in older.messages] == ["Q0", "A0", "Q1"]
    assert older.before is None


def test_each_branch_keeps_its_remote_state(
    repo: Repository, alice: UserInfo, tree: tuple[str, dict[str, Message]]
) -> None:
    cid, m = tree
    repo.set_remote(user_id=alice.id, conversation_id=cid, remote={"conversation": "conv_1"})
    repo.set_remote(
        user_id=alice.id,
        conversation_id=cid,
        remote={"conversation": "conv_2", "vector_store": "vs_1"},
        message_id=m["q2b"].id,
    )
    repo.set_remote(user_id=alice.id, conversation_id=cid, remote={}, message_id=m["a1b"].id)
    page = repo.load_messages(user_id=alice.id, conversation_id=cid)
    assert (page.remote_owner, page.remote) == (m["a1b"].id, {})  # started, nothing made yet
    repo.switch_branch(user_id=alice.id, conversation_id=cid, message_id=m["q2b"].id)
    page = repo.load_messages(user_id=alice.id, conversation_id=cid)
    assert (page.remote_owner, page.remote) == (
        m["q2b"].id,
        {"conversation": "conv_2", "vector_store": "vs_1"},
    )
    repo.switch_branch(user_id=alice.id, conversation_id=cid, message_id=m["q2"].id)
    page = repo.load_messages(user_id=alice.id, conversation_id=cid)
    assert (page.remote_owner, page.remote) == (None, {"conversation": "conv_1"})

    remotes = repo.delete_conversation(user_id=alice.id, conversation_id=cid)
    # Every branch's references (a branch that made nothing remotely has none).
    assert remotes == [
        {"conversation": "conv_1"},
        {"conversation": "conv_2", "vector_store": "vs_1"},
    ]


def test_exports_markdown_the_branch_shown_json_every_branch(
    repo: Repository, alice: UserInfo, tree: tuple[str, dict[str, Message]]
) -> None:
    cid, m = tree
    repo.switch_branch(user_id=alice.id, conversation_id=cid, message_id=m["q2b"].id)
    info = repo.get_conversation(user_id=alice.id, conversation_id=cid)
    md = io.BytesIO()
    write_markdown(info, repo.iter_messages(user_id=alice.id, conversation_id=cid, branch=True), md)
    body = md.getvalue().decode()
    assert "Q2b" in body and "A2b" in body
    assert "A1b" not in body and "\n\nQ2\n" not in body and "A2\n" not in body
    out = io.BytesIO()
    write_json(info, repo.iter_messages(user_id=alice.id, conversation_id=cid, batch=2), out)
    doc = json.loads(out.getvalue())
    parents = {d["parts"][0]["text"]: d["parent_id"] for d in doc["messages"]}
    assert parents == {
        "Q1": "",
        "A1": m["q1"].id,
        "Q2": m["a1"].id,
        "A2": m["q2"].id,
        "Q2b": m["a1"].id,
        "A2b": m["q2b"].id,
        "A1b": m["q1"].id,
    }
    # Read back, every message keeps its parent.
    back = {x.id: x.parent_id for x in map(Message.from_dict, doc["messages"])}
    assert back == {x.id: x.parent_id for x in m.values()}


def test_a_share_holds_the_branch_shown(
    repo: Repository, alice: UserInfo, tree: tuple[str, dict[str, Message]]
) -> None:
    cid, m = tree
    repo.switch_branch(user_id=alice.id, conversation_id=cid, message_id=m["q2"].id)
    share = repo.create_share(user_id=alice.id, conversation_id=cid)
    assert share.message_count == 4
    snapshot = repo.open_share(token=share.token)
    assert [x.text for x in snapshot.messages] == ["Q1", "A1", "Q2", "A2"]


def test_migration_links_existing_conversations_as_one_branch(db_url: str) -> None:
    """A database at 0007 with messages: after 0009 each message's parent is the one
    before it, and the conversation shows as before."""
    db = open_url(db_url, migrate=False)
    try:
        with db.engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0007")
            conn.execute(
                text(
                    "INSERT INTO users (id, auth_provider, subject, display_name, email, "
                    "created_at, last_seen_at) VALUES (1, 'password', 'alice', '', '', "
                    ":now, :now)"
                ),
                {"now": "2026-11-01 10:00:00"},
            )
            for cid in ("c" * 16, "d" * 16):
                conn.execute(
                    text(
                        "INSERT INTO conversations (id, user_id, profile_id, backend, remote, "
                        "title, title_folded, pinned, last_seq, created_at, updated_at) VALUES "
                        "(:cid, 1, 'p', 'chat', '{}', 't', 't', false, 3, :now, :now)"
                    ),
                    {"cid": cid, "now": "2026-11-01 10:00:00"},
                )
                for seq, role in ((1, "user"), (2, "assistant"), (3, "user")):
                    conn.execute(
                        text(
                            "INSERT INTO messages (conversation_id, id, seq, role, status, "
                            "parts, attachments, text_folded, input_tokens, output_tokens, "
                            "seconds, feedback_comment, created_at) VALUES (:cid, :mid, :seq, "
                            ":role, 'complete', :parts, '[]', '', 0, 0, 0, '', :at)"
                        ),
                        {
                            "cid": cid,
                            "mid": f"{cid[0]}{seq}",
                            "seq": seq,
                            "role": role,
                            "parts": json.dumps([{"kind": "text", "text": f"m{seq}"}]),
                            "at": 1_790_000_000.0 + seq,
                        },
                    )
    finally:
        db.dispose()

    db = open_url(db_url)  # migrates to the head
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
                head_revision()
            )
            rows = conn.execute(
                text("SELECT id, parent_id FROM messages ORDER BY conversation_id, seq")
            ).all()
        assert [tuple(r) for r in rows] == [
            ("c1", None),
            ("c2", "c1"),
            ("c3", "c2"),
            ("d1", None),
            ("d2", "d1"),
            ("d3", "d2"),
        ]
        repo = Repository(db)
        page = repo.load_messages(user_id=1, conversation_id="c" * 16)
        assert [x.text for x in page.messages] == ["m1", "m2", "m3"]
        assert page.children == {} and page.remote_owner is None
        # Going on after the migration: the new message follows m3.
        repo.save_message(user_id=1, conversation_id="c" * 16, message=Message.user("m4"))
        assert [x.text for x in repo.load_messages(user_id=1, conversation_id="c" * 16).messages][
            -2:
        ] == ["m3", "m4"]
    finally:
        db.dispose()
