"""A hundred share links of a 50 MB conversation cost kilobytes, and memory stays small.

A share link references the stored messages and files (docs/storage.md,
"Share links"): making one writes one small row, opening one reads the
messages without their files, and a file's bytes are read one file at a time.
The figures are printed (`pytest tests/storage/test_share_size.py -s -q`)
and recorded in docs/storage.md.
"""

from __future__ import annotations

import gc
import os
import tracemalloc

from sqlalchemy import text

from assistants_ui.core.transcript import Attachment, Message, TextPart
from assistants_ui.storage import Database, Repository, open_url

MB = 1024 * 1024
FILES = 5
FILE_BYTES = 10 * MB  # 5 files: a 50 MB conversation
SHARES = 100


def database_bytes(db: Database) -> int:
    """The database's size: SQLite's pages (its WAL included), PostgreSQL's files."""
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
            size = conn.exec_driver_sql("PRAGMA page_size").scalar()
            return int(pages or 0) * int(size or 0)
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0)


def _fifty_mb_conversation(repo: Repository, user_id: int) -> str:
    cid = repo.create_conversation(user_id=user_id, profile_id="helper", backend="chat").id
    for index in range(FILES):
        upload = Attachment(f"data-{index}.bin", "application/octet-stream", os.urandom(FILE_BYTES))
        question = Message.user(f"Look at file {index}", [upload])
        answer = Message(role="assistant", parts=[TextPart(f"File {index} looks fine.")])
        for message in (question, answer):
            repo.save_message(user_id=user_id, conversation_id=cid, message=message)
    return cid


def test_a_hundred_shares_of_a_50_mb_conversation(db_url: str) -> None:
    db = open_url(db_url, max_shares_per_user=SHARES)
    try:
        repo = Repository(db)
        alice = repo.ensure_user(auth_provider="password", subject="alice")
        cid = _fifty_mb_conversation(repo, alice.id)
        gc.collect()
        before = database_bytes(db)
        tracemalloc.start()
        try:
            first = repo.create_share(user_id=alice.id, conversation_id=cid)
            one = database_bytes(db) - before
            # One link costs a row, not a copy (a copy was 67 MB: the files in base64).
            assert one < 64 * 1024, f"one share grew the database by {one:,} bytes"
            for _ in range(SHARES - 1):
                repo.create_share(user_id=alice.id, conversation_id=cid)
            grown = database_bytes(db) - before
            _, making = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            snapshot = repo.open_share(token=first.token)
            _, opening = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            [found] = [
                f for (mid, _, _), f in snapshot.files.items() if mid == snapshot.messages[0].id
            ]
            data = repo.share_file(token=first.token, file_id=found.id)
            _, reading = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        print(
            f"\n{db.dialect}: {SHARES} shares of a {FILES * FILE_BYTES // MB} MB conversation: "
            f"database +{grown / 1024:,.1f} KiB ({grown / SHARES:,.0f} bytes a share); "
            f"peak Python memory: making them {making / MB:,.2f} MiB, opening one "
            f"{opening / MB:,.2f} MiB, reading one {FILE_BYTES // MB} MB file "
            f"{reading / MB:,.1f} MiB"
        )
        assert grown / SHARES < 4 * 1024, f"{grown / SHARES:,.0f} bytes a share"
        assert making < 2 * MB, f"{making:,} bytes at peak making {SHARES} shares"
        assert opening < 2 * MB, f"{opening:,} bytes at peak opening a share"
        assert len(snapshot.messages) == 2 * FILES
        assert [m.attachments[0].data for m in snapshot.messages if m.role == "user"] == [
            b""
        ] * FILES
        # A file is read alone, when wanted: about its own size, never the conversation's.
        assert len(data) == FILE_BYTES and reading < 3 * FILE_BYTES, f"{reading:,} bytes"
    finally:
        db.dispose()
