"""The SQLite history, its folder and its backups are readable by their owner only.

The attack: another account on the same machine (a shared host, a container
with another uid, a backup volume mounted elsewhere) reads every conversation
and file straight from the database. With the usual umask (022) the folder
was 0755 and the files 0644. Whatever the umask, what the app creates is
0700 (folders) and 0600 (files); SQLite's -wal and -shm files take the
database file's mode.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistants_ui.storage import Repository, open_url


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_the_database_its_folder_and_its_journal_are_private(clean_env: Path) -> None:
    db = open_url("sqlite:///data/nested/history.db")
    try:
        repo = Repository(db)
        repo.ensure_user(auth_provider="password", subject="alice")
        folder = Path("data/nested")
        assert mode(folder) == 0o700 and mode(Path("data")) == 0o700
        files = sorted(p.name for p in folder.iterdir())
        assert "history.db" in files and "history.db-wal" in files
        for name in files:
            assert mode(folder / name) == 0o600, name
    finally:
        db.dispose()


def test_an_existing_database_keeps_its_mode(clean_env: Path) -> None:
    Path("shared.db").touch(mode=0o640)
    os.chmod("shared.db", 0o640)  # the operator chose this: left alone
    open_url("sqlite:///shared.db").dispose()
    assert mode(Path("shared.db")) == 0o640


def test_a_backup_is_private(clean_env: Path) -> None:
    open_url("sqlite:///data/assistants-ui.db").dispose()
    done = subprocess.run(
        [sys.executable, "-m", "assistants_ui", "db", "backup", "backups/today.db"],
        cwd=clean_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert mode(Path("backups/today.db")) == 0o600 and mode(Path("backups")) == 0o700
