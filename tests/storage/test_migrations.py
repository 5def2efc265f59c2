"""Migrations: applied once, idempotent, safe when processes start together,
a database from a newer version is refused without being touched, and the data
migrations keep what was there (0012: the usage ledger; 0013: shares as references)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from samples import every_part_answer, png_bytes
from sqlalchemy import select, text
from sqlalchemy.orm import undefer
from test_shares import filled

from assistants_ui.core.transcript import Attachment, Message, TextPart
from assistants_ui.storage import Repository, StorageError, open_url
from assistants_ui.storage.admin import Admin
from assistants_ui.storage.migrate import alembic_config, current_revision, head_revision
from assistants_ui.storage.models import Base, Share, include_object, utcnow


def test_schema_matches_the_models(db_url: str) -> None:
    db = open_url(db_url)
    try:
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include_object}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        db.dispose()


def test_upgrade_twice_is_a_no_op_and_keeps_data(db_url: str) -> None:
    first = open_url(db_url)
    repo = Repository(first)
    user = repo.ensure_user(auth_provider="password", subject="alice")
    conv = repo.create_conversation(user_id=user.id, profile_id="p", backend="chat")
    repo.save_message(user_id=user.id, conversation_id=conv.id, message=Message.user("kept"))
    first.dispose()
    for _ in range(2):
        again = open_url(db_url)
        with again.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            assert rows == [(head_revision(),)]
        messages = Repository(again).load_messages(user_id=user.id, conversation_id=conv.id)
        assert [m.text for m in messages.messages] == ["kept"]
        again.dispose()


def test_newer_database_is_refused_and_left_alone(db_url: str) -> None:
    db = open_url(db_url)
    repo = Repository(db)
    user = repo.ensure_user(auth_provider="password", subject="alice")
    conv = repo.create_conversation(user_id=user.id, profile_id="p", backend="chat", title="t")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    db.dispose()

    with pytest.raises(StorageError) as caught:
        open_url(db_url)
    message = str(caught.value)
    assert "DATABASE_URL" in message and "9999_future" in message and "newer" in message
    assert "Traceback" not in message

    raw = open_url(db_url, migrate=False)
    try:
        with raw.engine.connect() as conn:
            assert current_revision(conn) == "9999_future"
        assert (
            Repository(raw).get_conversation(user_id=user.id, conversation_id=conv.id).title == "t"
        )
    finally:
        raw.dispose()


CHILD = """
import sys
from assistants_ui.storage import open_url, Repository
db = open_url(sys.argv[1])
user = Repository(db).ensure_user(auth_provider="p", subject="shared")
print(user.id)
"""


def test_processes_starting_together_migrate_once(db_url: str) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, db_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (_out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    # They all agree on one user row: the unique identity held under the race.
    assert len({out.strip() for out, _ in results}) == 1
    db = open_url(db_url, migrate=False)
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [
                (head_revision(),)
            ]
    finally:
        db.dispose()


def _back_to(db_url: str, revision: str) -> None:
    """The database as `revision` left it (0011: no usage ledger; 0012: shares that copy)."""
    db = open_url(db_url, migrate=False)
    try:
        with db.engine.begin() as conn:
            command.downgrade(alembic_config(conn), revision)
            assert current_revision(conn) == revision
    finally:
        db.dispose()


def _usage(admin: Admin) -> tuple[object, ...]:
    return (
        admin.daily_usage(days=2),
        admin.daily_usage(days=2, per_user=True),
        [(u.subject, u.messages, u.tokens) for u in admin.users()],
    )


def test_0012_fills_the_usage_ledger_from_the_messages_there_are(db_url: str) -> None:
    now = utcnow()
    db = open_url(db_url)
    repo = Repository(db)
    alice = repo.ensure_user(auth_provider="password", subject="alice")
    bob = repo.ensure_user(auth_provider="password", subject="bob")
    written: dict[str, Message] = {}
    for user, profile, status in ((alice, "helper", "complete"), (alice, "coder", "failed")):
        cid = repo.create_conversation(user_id=user.id, profile_id=profile, backend="chat").id
        answer = Message(role="assistant", parts=[TextPart("hi")], status=status)
        answer.input_tokens, answer.output_tokens = 10, 5
        for message in (Message.user("hello"), answer):
            message.created_at = now.timestamp() - 60
            repo.save_message(user_id=user.id, conversation_id=cid, message=message)
        written[profile] = answer
    bobs = repo.create_conversation(user_id=bob.id, profile_id="helper", backend="chat").id
    streaming = Message(role="assistant", parts=[TextPart("so far")], status="streaming")
    streaming.input_tokens, streaming.output_tokens = 7, 1  # saved by a checkpoint
    for message in (Message.user("still asking"), streaming):
        repo.save_message(user_id=bob.id, conversation_id=bobs, message=message)
    db.dispose()
    _back_to(db_url, "0011")
    old = open_url(db_url, migrate=False)
    try:  # today's figures, read from the messages as revision 0011 did
        with old.engine.connect() as conn:
            counted = conn.execute(
                text(
                    "SELECT c.user_id, SUM(CASE WHEN m.role = 'user' THEN 1 ELSE 0 END),"
                    " SUM(m.input_tokens + m.output_tokens) FROM messages m"
                    " JOIN conversations c ON c.id = m.conversation_id GROUP BY c.user_id"
                    " ORDER BY c.user_id"
                )
            ).all()
        assert [tuple(r) for r in counted] == [(alice.id, 2, 30), (bob.id, 1, 8)]
    finally:
        old.dispose()

    db = open_url(db_url)  # 0012 fills the ledger
    try:
        repo, admin = Repository(db), Admin(db, clock=lambda: now)
        with db.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
        figures = _usage(admin)
        assert figures[2] == [("bob", 1, 8), ("alice", 2, 30)]
        # Existing usage is the ledger's now: deleting conversations leaves it.
        for cid in [c.id for c in repo.list_conversations(user_id=alice.id).items]:
            repo.delete_conversation(user_id=alice.id, conversation_id=cid)
        assert _usage(admin) == figures
        # An answer being written during the migration was counted as far as it came;
        # when it ends it is not counted again.
        streaming.status = "complete"
        streaming.output_tokens = 50
        repo.save_message(user_id=bob.id, conversation_id=bobs, message=streaming)
        assert _usage(admin) == figures
    finally:
        db.dispose()


def test_0013_turns_copied_shares_into_references_or_keeps_their_copy(db_url: str) -> None:
    db = open_url(db_url)
    repo = Repository(db)
    alice = repo.ensure_user(auth_provider="password", subject="alice")
    cid = repo.create_conversation(user_id=alice.id, profile_id="p", backend="chat").id
    question = Message.user("the plan", [Attachment("plan.png", "image/png", png_bytes())])
    for message in (question, every_part_answer()):
        repo.save_message(user_id=alice.id, conversation_id=cid, message=message)
    shown = repo.load_messages(user_id=alice.id, conversation_id=cid).messages
    copy = [m.to_dict() for m in shown]  # as revision 0007 copied a branch, bytes inline
    caught = [dict(d) for d in copy]
    caught[-1]["status"] = "streaming"  # copied while its answer was still written
    caught[-1]["parts"] = caught[-1]["parts"][:1]
    elsewhere = [dict(copy[0], id="gone"), copy[1]]  # not the branch as stored
    db.dispose()
    _back_to(db_url, "0012")
    tokens = {"copy": "c" * 32, "caught": "d" * 32, "elsewhere": "e" * 32}
    old = open_url(db_url, migrate=False)
    try:
        with old.engine.begin() as conn:
            for name, docs in (("copy", copy), ("caught", caught), ("elsewhere", elsewhere)):
                conn.execute(
                    text(
                        "INSERT INTO shares (token, user_id, conversation_id, title,"
                        " message_count, messages, created_at) VALUES (:token, :user, :cid,"
                        " 'the plan', :count, :messages, :now)"
                    ),
                    {
                        "token": tokens[name],
                        "user": alice.id,
                        "cid": cid,
                        "count": len(docs),
                        "messages": json.dumps(docs),
                        "now": "2026-11-01 10:00:00",
                    },
                )
    finally:
        old.dispose()

    db = open_url(db_url)  # 0013: references where the copy is the stored branch
    try:
        repo = Repository(db)
        with db.session() as s:
            rows = {r.token: r for r in s.scalars(select(Share).options(undefer(Share.messages)))}
            assert rows[tokens["copy"]].leaf_id == shown[-1].id
            assert rows[tokens["copy"]].messages == []  # the copy's megabytes are gone
            assert rows[tokens["caught"]].leaf_id is None
            assert rows[tokens["elsewhere"]].leaf_id is None
        referenced = repo.open_share(token=tokens["copy"])
        assert referenced.messages[0].attachments[0].data == b""  # read when wanted
        assert [m.to_dict() for m in filled(repo, tokens["copy"], referenced)] == copy
        # The copies that are not the stored branch open as they always did.
        kept = repo.open_share(token=tokens["caught"])
        assert [m.to_dict() for m in kept.messages] == caught
        assert kept.messages[0].attachments[0].data == png_bytes()
        assert [m.id for m in repo.open_share(token=tokens["elsewhere"]).messages] == [
            "gone",
            shown[1].id,
        ]
    finally:
        db.dispose()
