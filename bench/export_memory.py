"""Benchmark: peak memory of exporting a conversation full of files.

    .venv/bin/python -m bench.export_memory

Seeds a temporary SQLite history with one conversation of 20 messages, each
carrying a 2 MB file (40 MB of files), then measures with `tracemalloc` the
peak of Python allocations while exporting it as JSON, side by side:

* before: what the conversation menu did until issue 11: load every message
  with its files (`load_messages(limit=None)`), build the document with
  every file base64-encoded (`to_json`), encode the string to bytes;
* after: what it does now (`conversation_menu._export`): messages read a
  batch of 50 at a time, written one by one to a temporary file, which
  Streamlit then reads once (that read is included: it is what the media
  store keeps).

Prints one table (MB, and the ratio to the files' size).
"""

from __future__ import annotations

import os
import tempfile
import tracemalloc
from collections.abc import Callable

from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.storage import Repository, UserInfo, open_url, to_json
from assistants_ui.web.conversation_menu import _export

FILES = 20
FILE_MB = 2


def seed(repo: Repository) -> tuple[UserInfo, str]:
    user = repo.ensure_user(auth_provider="password", subject="bench")
    conv = repo.create_conversation(user_id=user.id, profile_id="p", backend="chat")
    for i in range(FILES):
        data = os.urandom(FILE_MB * 1024 * 1024)
        message = Message.user(f"file {i}", [Attachment(f"f{i}.bin", "application/x", data)])
        repo.save_message(user_id=user.id, conversation_id=conv.id, message=message)
    return user, conv.id


def peak_mb(work: Callable[[], int]) -> tuple[float, int]:
    tracemalloc.start()
    try:
        size = work()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1_048_576, size


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = open_url(f"sqlite:///{tmp}/bench.db", max_stored_file_mb=FILE_MB + 1)
        repo = Repository(db)
        user, cid = seed(repo)

        def before() -> int:
            info = repo.get_conversation(user_id=user.id, conversation_id=cid)
            page = repo.load_messages(user_id=user.id, conversation_id=cid, limit=None)
            return len(to_json(info, page.messages).encode("utf-8"))

        def after() -> int:
            with _export(repo, user, cid, "json") as reader:
                return len(reader.read())  # what Streamlit does with it

        files = FILES * FILE_MB
        rows = [("before (load all, to_json, encode)", *peak_mb(before))]
        rows.append(("after (batches to a temporary file)", *peak_mb(after)))
        print(f"JSON export of {FILES} files x {FILE_MB} MB ({files} MB of files)\n")
        print("| export | peak MB | x files | document MB |")
        print("|---|---|---|---|")
        for label, peak, size in rows:
            print(f"| {label} | {peak:.0f} | {peak / files:.1f} | {size / 1_048_576:.0f} |")
        db.dispose()


if __name__ == "__main__":
    main()
