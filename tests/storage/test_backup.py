"""The backup and restore commands docs/storage.md gives, run for real."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from pgcluster import PgCluster
from samples import xlsx_bytes

from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.storage import Repository, open_url
from assistants_ui.storage.migrate import head_revision


def seed(url: str) -> tuple[int, str, str]:
    db = open_url(url)
    try:
        repo = Repository(db)
        user = repo.ensure_user(auth_provider="password", subject="alice")
        conv = repo.create_conversation(user_id=user.id, profile_id="p", backend="chat")
        data = xlsx_bytes()
        msg = Message.user("backup me", [Attachment("t.xlsx", "application/x", data)])
        repo.save_message(user_id=user.id, conversation_id=conv.id, message=msg)
        return user.id, conv.id, hashlib.sha256(data).hexdigest()
    finally:
        db.dispose()


def check(url: str, user_id: int, cid: str, digest: str) -> None:
    db = open_url(url)
    try:
        (msg,) = Repository(db).load_messages(user_id=user_id, conversation_id=cid).messages
        assert msg.text == "backup me" and msg.attachments[0].sha256 == digest
    finally:
        db.dispose()


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistants_ui", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_sqlite_backup_and_restore(clean_env: Path) -> None:
    ids = seed("sqlite:///data/assistants-ui.db")
    done = cli("db", "backup", "backup.db", cwd=clean_env)
    assert done.returncode == 0, done.stderr
    assert cli("db", "backup", "backup.db", cwd=clean_env).returncode == 1  # never overwrites
    if shutil.which("sqlite3"):
        subprocess.run(
            ["sqlite3", "data/assistants-ui.db", ".backup 'backup2.db'"], cwd=clean_env, check=True
        )
        check("sqlite:///backup2.db", *ids)
    # Restore: with the app stopped, the backup replaces the file (and its WAL).
    for leftover in Path("data").glob("assistants-ui.db*"):
        leftover.unlink()
    shutil.copy("backup.db", "data/assistants-ui.db")
    check("sqlite:///data/assistants-ui.db", *ids)
    status = cli("db", "status", cwd=clean_env)
    assert "conversations: 1" in status.stdout and f"revision: {head_revision()}" in status.stdout


def test_db_upgrade_command_and_a_bad_url(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    done = cli("db", "upgrade", cwd=clean_env)
    assert done.returncode == 0 and "at revision" in done.stdout
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:hunter2@127.0.0.1:1/x")
    bad = cli("db", "upgrade", cwd=clean_env)
    assert bad.returncode == 1 and bad.stderr.startswith("error: DATABASE_URL")
    assert "Traceback" not in bad.stderr and "hunter2" not in bad.stderr


def test_postgres_dump_and_restore(pg_cluster: PgCluster, tmp_path: Path) -> None:
    source, target = f"src_{uuid.uuid4().hex[:8]}", f"dst_{uuid.uuid4().hex[:8]}"
    url = pg_cluster.create_database(source)
    ids = seed(url)
    dump = tmp_path / "assistants-ui.dump"
    bindir = pg_cluster.bindir
    subprocess.run(
        [bindir / "pg_dump", "--format=custom", f"--file={dump}", url],
        check=True,
        capture_output=True,
    )
    # Restore into a new database, as docs/storage.md says.
    subprocess.run(
        [bindir / "createdb", f"--maintenance-db={pg_cluster.url()}", target],
        check=True,
        capture_output=True,
    )
    restored = pg_cluster.url(target)
    subprocess.run(
        [bindir / "pg_restore", "--no-owner", f"--dbname={restored}", dump],
        check=True,
        capture_output=True,
    )
    check(restored, *ids)
    pg_cluster.drop_database(source)
    pg_cluster.drop_database(target)
