"""The compose backup and restore of docs/deployment.md, minus `docker compose exec`.

`docker compose exec -T db pg_dump … > file` and `exec -T db pg_restore … < file`
run PostgreSQL's own tools in the db container, the dump streamed through
standard output and the restore fed through standard input. The same command
lines run here against a real server (host and port added, as the container
uses its local socket); the SQLite commands are docs/storage.md's, tested by
tests/storage/test_storage_backup.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from assistants_ui.core.transcript import Message
from assistants_ui.storage import Repository, open_url
from storage.pgcluster import PgCluster


def titles(url: str, subject: str) -> list[str]:
    db = open_url(url)
    try:
        repo = Repository(db)
        user = repo.ensure_user(auth_provider="anonymous", subject=subject)
        return sorted(c.title for c in repo.list_conversations(user_id=user.id).items)
    finally:
        db.dispose()


def converse(url: str, subject: str, title: str) -> str:
    db = open_url(url)
    try:
        repo = Repository(db)
        user = repo.ensure_user(auth_provider="anonymous", subject=subject)
        conv = repo.create_conversation(
            user_id=user.id, profile_id="p", backend="chat", title=title
        )
        repo.save_message(user_id=user.id, conversation_id=conv.id, message=Message.user(title))
        return conv.id
    finally:
        db.dispose()


def test_pg_dump_to_stdout_and_pg_restore_clean_from_stdin(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    url = pg_cluster.create_database("assistants")
    converse(url, "browser-1", "kept in the backup")
    server = ["--host=127.0.0.1", f"--port={pg_cluster.port}", "--username=postgres"]
    dump = tmp_path / "assistants-ui.dump"

    # docker compose exec -T db pg_dump -U assistants --format=custom assistants > FILE
    with dump.open("wb") as out:
        subprocess.run(
            [str(pg_cluster.bindir / "pg_dump"), *server, "--format=custom", "assistants"],
            stdout=out,
            check=True,
        )
    assert dump.stat().st_size > 0

    # Life goes on, then something goes wrong: history after the backup is lost on restore.
    converse(url, "browser-1", "written after the backup")
    assert titles(url, "browser-1") == ["kept in the backup", "written after the backup"]

    # docker compose exec -T db pg_restore -U assistants --clean --if-exists --no-owner
    #   --dbname=assistants < FILE          (with the app replicas stopped)
    with dump.open("rb") as src:
        done = subprocess.run(
            [str(pg_cluster.bindir / "pg_restore"), *server, "--clean", "--if-exists", "--no-owner",
             "--dbname=assistants"],
            stdin=src,
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert titles(url, "browser-1") == ["kept in the backup"]
