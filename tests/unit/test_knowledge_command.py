"""`assistants-ui knowledge index`: an assistant's `knowledge` files indexed once, kept up
to date by content hash, and searched in every conversation with that assistant."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistants_ui.cli import main
from assistants_ui.storage import Repository, open_url
from assistants_ui.storage.documents import DocumentIndex, knowledge_scope
from assistants_ui.storage.library import StorageLibrary
from documents_support import report_pdf

TOML = """
[[assistants]]
id = "handbook"
title = "Handbook"
backend = "chat"
knowledge = ["handbook/*.pdf", "handbook/*.md", "missing/*.txt"]
"""


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers = list(root.handlers)
    yield
    root.handlers[:] = handlers


def test_knowledge_index_keeps_the_files_in_step(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (clean_env / "assistants.toml").write_text(TOML)
    folder = clean_env / "handbook"
    folder.mkdir()
    (folder / "report.pdf").write_bytes(report_pdf(30))
    (folder / "parking.md").write_text("# Parking\nVisitors park behind the glasshouse.\n")

    assert main(["knowledge", "index"]) == 1  # a glob that names nothing is an error
    out, err = capsys.readouterr()
    assert "handbook: 2 indexed, 0 unchanged, 0 removed, 0 failed" in out
    assert "knowledge 'missing/*.txt' names no file" in err

    db = open_url(f"sqlite:///{clean_env / 'data' / 'assistants-ui.db'}")
    try:
        room = DocumentIndex(db)
        names = sorted(d.name for d in room.documents([knowledge_scope("handbook")]))
        assert names == ["parking.md", "report.pdf"]
        # Any conversation with the assistant searches them.
        repo = Repository(db)
        user = repo.ensure_user(auth_provider="password", subject="ann", display_name="Ann")
        conv = repo.create_conversation(user_id=user.id, profile_id="handbook", backend="chat")
        shelf = StorageLibrary(db).knowledge_shelf("handbook")
        hit = shelf.search("How many herons over Quillon Bay?", 1).hits[0]
        assert (hit.name, hit.page) == ("report.pdf", 17)
        assert conv.id

        (folder / "parking.md").unlink()
        assert main(["knowledge", "index", "--assistant", "handbook"]) == 1
        out, _ = capsys.readouterr()
        assert "handbook: 0 indexed, 1 unchanged, 1 removed, 0 failed" in out
        names = sorted(d.name for d in room.documents([knowledge_scope("handbook")]))
        assert names == ["report.pdf"]
    finally:
        db.dispose()
