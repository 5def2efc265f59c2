"""Migrations: applied once, idempotent, safe when processes start together,
and a database from a newer version is refused without being touched."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from assistants_ui.core.transcript import Message
from assistants_ui.storage import Repository, StorageError, open_url
from assistants_ui.storage.migrate import current_revision, head_revision
from assistants_ui.storage.models import Base


def test_schema_matches_the_models(db_url: str) -> None:
    db = open_url(db_url)
    try:
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
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
