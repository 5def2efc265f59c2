"""`assistants-ui db ...`: apply migrations, show the schema's state, back up SQLite.

assistants-ui db upgrade          apply pending migrations (start-up does this too)
assistants-ui db status           the database, its revision and row counts
assistants-ui db backup FILE      a consistent copy of a SQLite database, while it runs (0600)

Imports stay inside the handlers so that `assistants-ui run` does not pay for them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="history database: upgrade, status, backup")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply pending schema migrations")
    upgrade.set_defaults(func=_upgrade)
    status = db_sub.add_parser("status", help="show the database, its revision and counts")
    status.set_defaults(func=_status)
    backup = db_sub.add_parser("backup", help="copy a SQLite database safely while in use")
    backup.add_argument("dest", type=Path, help="file to write (must not exist)")
    backup.set_defaults(func=_backup)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _upgrade(args: argparse.Namespace) -> int:
    from assistants_ui.settings import load_settings
    from assistants_ui.storage.engine import open_database
    from assistants_ui.storage.errors import StorageError
    from assistants_ui.storage.migrate import head_revision

    try:
        db = open_database(load_settings()[0])
    except StorageError as exc:
        return _fail(str(exc))
    print(f"{db.display_url}: at revision {head_revision()}")
    db.dispose()
    return 0


def _status(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from assistants_ui.settings import load_settings
    from assistants_ui.storage.engine import open_database
    from assistants_ui.storage.errors import StorageError
    from assistants_ui.storage.migrate import current_revision, head_revision
    from assistants_ui.storage.models import Conversation, File, StoredMessage, User

    try:
        db = open_database(load_settings()[0], migrate=False)
    except StorageError as exc:
        return _fail(str(exc))
    try:
        with db.engine.connect() as conn:
            current = current_revision(conn)
            print(f"database: {db.display_url}")
            print(f"revision: {current or '(empty)'} (this version's newest: {head_revision()})")
            if current is not None:
                for label, table in (
                    ("users", User),
                    ("conversations", Conversation),
                    ("messages", StoredMessage),
                    ("files", File),
                ):
                    count = conn.execute(select(func.count()).select_from(table)).scalar_one()
                    print(f"{label}: {count}")
    finally:
        db.dispose()
    return 0


def _backup(args: argparse.Namespace) -> int:
    import sqlite3

    from assistants_ui.settings import load_settings
    from assistants_ui.storage.engine import database_url, private_dir, private_file
    from assistants_ui.storage.errors import StorageError

    try:
        url = database_url(load_settings()[0])
    except StorageError as exc:
        return _fail(str(exc))
    if url.get_backend_name() != "sqlite" or not url.database:
        return _fail("db backup copies SQLite files; for PostgreSQL use pg_dump (docs/storage.md)")
    source = Path(url.database)
    if not source.exists():
        return _fail(f"{source} does not exist")
    dest: Path = args.dest
    if dest.exists():
        return _fail(f"{dest} already exists")
    try:
        private_dir(dest.parent)
        private_file(dest)  # the copy holds everything the database does: owner only
    except OSError as exc:
        return _fail(f"{dest} cannot be created ({exc.strerror or exc})")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    out = sqlite3.connect(dest)
    try:
        with out:
            src.backup(out)  # the online backup API: consistent while the app writes
    finally:
        out.close()
        src.close()
    print(f"backed up {source} to {dest}")
    return 0
