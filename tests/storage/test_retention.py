"""Temporary chats, retention and the remote-deletion queue (SQLite and PostgreSQL),
through the process's housekeeping (`assistants_ui.housekeeping`): out of history,
deleted when closed or expired; old conversations purged with their files, audited,
the usage ledger untouched; an interrupted run restartable with nothing half-deleted;
one replica per daily run; remote state deleted on its server, retried, given up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, update

from assistants_ui.core.backend import Remote
from assistants_ui.core.transcript import Attachment, Message, TextPart
from assistants_ui.housekeeping import Housekeeping
from assistants_ui.storage import Database, Repository, StorageError, UserInfo
from assistants_ui.storage.admin import Admin
from assistants_ui.storage.models import (
    AdminAudit,
    Conversation,
    File,
    RemoteDeletion,
    StoredMessage,
    UsageRecord,
    utcnow,
)
from assistants_ui.storage.retention import MAX_REMOTE_ATTEMPTS, PURGE_ACTION, Retention

NOW = utcnow().replace(microsecond=0)  # the sweeps' clock; conversations made later are newer


def _chat(
    repo: Repository,
    user: UserInfo,
    text: str,
    *,
    remote: Remote | None = None,
    expires_at: dt.datetime | None = None,
    active: dt.datetime | None = None,
) -> str:
    """A conversation with a question (and a file) and an answer; last active `active`."""
    cid = repo.create_conversation(
        user_id=user.id,
        profile_id="helper",
        backend="responses",
        remote=remote,
        expires_at=expires_at,
    ).id
    question = Message.user(text, [Attachment(name="notes.txt", mime="text/plain", data=b"n")])
    answer = Message(role="assistant", parts=[TextPart(f"About {text}")])
    answer.input_tokens, answer.output_tokens = 7, 3
    for message in (question, answer):
        repo.save_message(user_id=user.id, conversation_id=cid, message=message)
    if active is not None:
        with repo.db.session() as s:
            s.execute(update(Conversation).where(Conversation.id == cid).values(updated_at=active))
    return cid


def _count(db: Database, model: type, *where: object) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def _keeper(
    db: Database,
    *,
    days: int | None = None,
    now: dt.datetime = NOW,
    deleted: list[tuple[str, Remote]] | None = None,
    holder: str = "replica-1",
    delete_remote: Callable[[str, Remote], bool] | None = None,
) -> Housekeeping:
    def remember(profile_id: str, remote: Remote) -> bool:
        if deleted is not None:
            deleted.append((profile_id, remote))
        return True

    return Housekeeping(
        db,
        delete_remote=delete_remote or remember,
        retention_days=days,
        clock=lambda: now,
        holder=holder,
    )


def test_a_temporary_chat_is_out_of_history_and_deleted_when_closed(
    repo: Repository, db: Database, alice: UserInfo, bob: UserInfo
) -> None:
    kept = _chat(repo, alice, "kept")
    passing = _chat(repo, alice, "passing", remote={"conversation": "conv_1"}, expires_at=NOW)
    listed = repo.list_conversations(user_id=alice.id).items
    assert [c.id for c in listed] == [kept]
    assert [c.id for c in repo.search_conversations(user_id=alice.id, query="passing").items] == []
    assert repo.get_conversation(user_id=alice.id, conversation_id=passing).id == passing
    assert repo.is_temporary_chat(user_id=alice.id, conversation_id=passing)
    assert not repo.is_temporary_chat(user_id=alice.id, conversation_id=kept)

    assert not repo.discard_temporary(user_id=alice.id, conversation_id=kept)  # never a kept one
    assert not repo.discard_temporary(user_id=bob.id, conversation_id=passing)  # nor another's
    assert repo.discard_temporary(user_id=alice.id, conversation_id=passing)
    assert not repo.discard_temporary(user_id=alice.id, conversation_id=passing)  # gone already
    assert _count(db, Conversation) == 1
    assert _count(db, File, File.conversation_id == passing) == 0
    assert _count(db, UsageRecord) == 4  # the ledger keeps what it was used for

    deleted: list[tuple[str, Remote]] = []
    done = _keeper(db, deleted=deleted).run_once()
    assert done.remote_deleted == 1 and not done.errors
    assert deleted == [("helper", {"conversation": "conv_1"})]
    assert _count(db, RemoteDeletion) == 0


def test_the_sweep_deletes_expired_temporary_chats_and_closed_ones(
    repo: Repository, db: Database, alice: UserInfo
) -> None:
    _chat(repo, alice, "old", expires_at=NOW - dt.timedelta(minutes=1))  # expired
    fresh = _chat(repo, alice, "fresh", expires_at=NOW + dt.timedelta(hours=1))
    closed = _chat(repo, alice, "closed", expires_at=NOW + dt.timedelta(hours=1))
    kept = _chat(repo, alice, "kept", active=NOW - dt.timedelta(days=400))
    keeper = _keeper(db)  # no RETENTION_DAYS: nothing kept is ever purged
    keeper.discard_soon(alice.id, closed)  # the browser session ended
    keeper.discard_soon(alice.id, kept)  # not temporary: left alone
    assert keeper.run_once().temporary == 2
    with db.session() as s:
        assert set(s.scalars(select(Conversation.id)).all()) == {fresh, kept}
    assert _count(db, AdminAudit) == 0


def test_retention_purges_old_conversations_audited_and_leaves_the_ledger(
    repo: Repository, db: Database, alice: UserInfo, bob: UserInfo
) -> None:
    old = _chat(
        repo, alice, "old", remote={"conversation": "conv_old"}, active=NOW - dt.timedelta(days=31)
    )
    older = _chat(repo, bob, "older", active=NOW - dt.timedelta(days=90))
    recent = _chat(repo, alice, "recent", active=NOW - dt.timedelta(days=29))
    ledger = _count(db, UsageRecord)
    deleted: list[tuple[str, Remote]] = []
    done = _keeper(db, days=30, deleted=deleted).run_once()
    assert (done.purged, done.errors) == (2, [])
    with db.session() as s:
        assert s.scalars(select(Conversation.id)).all() == [recent]
    for gone in (old, older):
        assert _count(db, StoredMessage, StoredMessage.conversation_id == gone) == 0
        assert _count(db, File, File.conversation_id == gone) == 0
    assert _count(db, UsageRecord) == ledger  # never touched
    assert deleted == [("helper", {"conversation": "conv_old"})]
    audit = Admin(db).audit()
    assert [(e.actor, e.action) for e in audit] == [("retention", PURGE_ACTION)] * 2
    assert {e.target for e in audit} == {
        f"conversation {old} of password:alice",
        f"conversation {older} of password:bob",
    }
    assert all(e.detail.startswith("RETENTION_DAYS=30: last activity ") for e in audit)
    # Daily: the next pass of the same day purges nothing, even what just became old.
    _chat(repo, alice, "stale", active=NOW - dt.timedelta(days=40))
    assert _keeper(db, days=30, now=NOW + dt.timedelta(hours=1)).run_once().purged == 0
    assert _keeper(db, days=30, now=NOW + dt.timedelta(days=1)).run_once().purged == 1


def test_an_interrupted_run_leaves_nothing_half_deleted_and_the_next_goes_on(
    repo: Repository, db: Database, alice: UserInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [_chat(repo, alice, f"c{i}", active=NOW - dt.timedelta(days=60 + i)) for i in range(5)]
    purge = Retention.purge
    calls = {"n": 0}

    def failing(self: Retention, **kwargs: object) -> bool:
        calls["n"] += 1
        if calls["n"] == 3:  # the database goes away in the middle of the run
            raise StorageError("failed", url="x", during="", cause="connection lost")
        return purge(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Retention, "purge", failing)
    done = _keeper(db, days=30).run_once()
    assert done.purged == 2 and done.errors
    with db.session() as s:
        left = set(s.scalars(select(Conversation.id)).all())
    assert len(left) == 3
    for cid in ids:  # each conversation whole, or gone with its audit row
        messages = _count(db, StoredMessage, StoredMessage.conversation_id == cid)
        files = _count(db, File, File.conversation_id == cid)
        audited = _count(db, AdminAudit, AdminAudit.target.like(f"conversation {cid} %"))
        assert (messages, files, audited) == ((2, 1, 0) if cid in left else (0, 0, 1))

    monkeypatch.setattr(Retention, "purge", purge)
    again = _keeper(db, days=30, holder="replica-2").run_once()  # any replica goes on
    assert (again.purged, again.errors) == (3, [])
    assert _count(db, Conversation) == 0
    assert _count(db, AdminAudit) == 5


def test_one_replica_runs_the_daily_retention(db: Database) -> None:
    retention = Retention(db)
    day, lease = dt.timedelta(days=1), dt.timedelta(minutes=10)
    assert retention.claim(name="retention", holder="a", now=NOW, lease=lease, every=day)
    assert not retention.claim(name="retention", holder="b", now=NOW, lease=lease, every=day)
    later = NOW + dt.timedelta(minutes=11)  # a's lease ran out (it crashed): b takes over
    assert retention.claim(name="retention", holder="b", now=later, lease=lease, every=day)
    assert not retention.renew(name="retention", holder="a", until=later + lease)
    retention.finish(name="retention", holder="b", now=later)
    assert not retention.claim(name="retention", holder="a", now=later, lease=lease, every=day)
    assert retention.claim(name="retention", holder="a", now=later + day, lease=lease, every=day)


def test_remote_state_a_server_refuses_is_retried_then_given_up(
    repo: Repository, db: Database, alice: UserInfo
) -> None:
    cid = _chat(repo, alice, "x", remote={"thread": "thread_1"}, expires_at=NOW)
    repo.discard_temporary(user_id=alice.id, conversation_id=cid)
    attempts: list[Remote] = []

    def refuse(profile_id: str, remote: Remote) -> bool:
        attempts.append(remote)
        raise RuntimeError("server down")

    at = NOW
    for attempt in range(1, MAX_REMOTE_ATTEMPTS + 1):
        done = _keeper(db, now=at, delete_remote=refuse).run_once()
        assert (done.remote_failed, len(attempts)) == (1, attempt)
        assert _keeper(db, now=at, delete_remote=refuse).run_once().remote_failed == 0  # waits
        at += dt.timedelta(hours=1)
    assert _count(db, RemoteDeletion) == 0  # given up
