"""A project as one ZIP archive: its settings, its files, and each conversation in the
export formats of `export.py` (JSON with every branch and file, Markdown to read).

    project.json                       name, instructions, the files' and conversations' index
    files/<name>                       the project's files, as uploaded
    conversations/<title>-<id>.json    `write_json`: what `Message.from_dict` reads back
    conversations/<title>-<id>.md      `write_markdown`: the branch shown

Written into a binary file one conversation, and within it one batch of
messages, at a time (`Repository.iter_messages`), so a project of a thousand
conversations costs the memory of one batch, not of the project.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from typing import BinaryIO, cast

from assistants_ui.storage.conversations import MAX_PAGE, ConversationInfo
from assistants_ui.storage.errors import NotFound
from assistants_ui.storage.export import export_filename, write_json, write_markdown
from assistants_ui.storage.repository import Repository

__all__ = ["ARCHIVE_FORMAT", "archive_filename", "write_project_archive"]

ARCHIVE_FORMAT = "assistants-ui-project"


def archive_filename(name: str, project_id: str) -> str:
    """A safe file name for a project's archive: its name's words, then its id."""
    stem = "".join(c if c.isascii() and c.isalnum() else "-" for c in name)
    stem = "-".join(part for part in stem.split("-") if part)[:50] or "project"
    return f"{stem}-{project_id}.zip"


def _file_path(name: str, taken: set[str]) -> str:
    base = name.replace("/", "_").replace("\\", "_").strip(". ") or "file"
    path, n = f"files/{base}", 1
    while path in taken:
        n += 1
        path = f"files/{n}-{base}"
    taken.add(path)
    return path


def _conversations(repo: Repository, user_id: int, project_id: str) -> Iterator[ConversationInfo]:
    """The project's conversations, a page (one read) at a time."""
    offset: int | None = 0
    while offset is not None:
        page = repo.list_conversations(
            user_id=user_id, project_id=project_id, limit=MAX_PAGE, offset=offset
        )
        yield from page.items
        offset = page.next_offset


def write_project_archive(repo: Repository, *, user_id: int, project_id: str, out: BinaryIO) -> int:
    """The user's project as a ZIP archive into `out`; returns how many conversations
    it holds. `NotFound` if the project is not theirs; a conversation deleted while
    the archive is written is left out."""
    project = repo.get_project(user_id=user_id, project_id=project_id)
    files = repo.list_project_files(user_id=user_id, project_id=project_id)
    index: list[dict[str, str]] = []
    taken: set[str] = set()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        listed = []
        for info in files:
            path = _file_path(info.name, taken)
            data = repo.project_file_data(user_id=user_id, project_id=project_id, file_id=info.id)
            archive.writestr(path, data)
            listed.append(
                {
                    "name": info.name,
                    "mime": info.mime,
                    "size": str(info.size),
                    "sha256": info.sha256,
                    "path": path,
                }
            )
        for conv in _conversations(repo, user_id, project_id):
            stem = export_filename(conv, "json").removesuffix(".json")
            try:
                with archive.open(f"conversations/{stem}.json", "w", force_zip64=True) as entry:
                    batches = repo.iter_messages(user_id=user_id, conversation_id=conv.id)
                    write_json(conv, batches, cast(BinaryIO, entry))
                with archive.open(f"conversations/{stem}.md", "w", force_zip64=True) as entry:
                    batches = repo.iter_messages(
                        user_id=user_id, conversation_id=conv.id, branch=True
                    )
                    write_markdown(conv, batches, cast(BinaryIO, entry))
            except NotFound:  # deleted while the archive is written
                continue
            index.append(
                {
                    "id": conv.id,
                    "title": conv.title,
                    "json": f"conversations/{stem}.json",
                    "markdown": f"conversations/{stem}.md",
                }
            )
        head = {
            "format": ARCHIVE_FORMAT,
            "version": 1,
            "project": {
                "id": project.id,
                "name": project.name,
                "instructions": project.instructions,
                "created_at": project.created_at.isoformat(),
                "updated_at": project.updated_at.isoformat(),
            },
            "files": listed,
            "conversations": index,
        }
        archive.writestr("project.json", json.dumps(head, ensure_ascii=False, indent=2))
    return len(index)
