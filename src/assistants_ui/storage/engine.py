"""`DATABASE_URL` to a ready database: URL checks, the engine, migrations applied.

`open_database(settings)` is the one entry point, called once per process
(the page caches it). It accepts

- nothing: a SQLite file `DATA_DIR/assistants-ui.db` (the directory is created);
  a folder or file the app creates is readable by its owner only (0700/0600);
- `sqlite:///relative/path.db`, `sqlite:////absolute/path.db`;
- `postgresql://user:password@host:5432/dbname` (also `postgres://` and
  `postgresql+psycopg://`), driven by psycopg 3.

SQLite connections run in WAL mode (readers never wait for the writer) with
foreign keys on and a busy timeout, so that several processes can share one
file. Every failure becomes one `StorageError` sentence naming DATABASE_URL,
with the password masked.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from assistants_ui.settings import Settings
from assistants_ui.storage.errors import StorageError, describe, shown_url
from assistants_ui.storage.migrate import upgrade

__all__ = [
    "DEFAULT_FILE_NAME",
    "Database",
    "database_url",
    "open_database",
    "open_url",
    "private_dir",
    "private_file",
]

log = logging.getLogger(__name__)

DEFAULT_FILE_NAME = "assistants-ui.db"
SQLITE_BUSY_TIMEOUT_S = 30
PG_CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True, slots=True)
class Database:
    """An engine and how to open sessions on it; shared by the whole process."""

    engine: Engine
    sessions: sessionmaker[Session]
    max_file_bytes: int
    max_shares_per_user: int = 50  # share links that still open, per user (MAX_SHARES_PER_USER)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The URL with its password masked, for messages and logs."""
        return shown_url(self.engine.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def database_url(settings: Settings) -> URL:
    """The SQLAlchemy URL `DATABASE_URL` means (default: a file under DATA_DIR)."""
    if settings.database_url is not None:
        raw = settings.database_url.get_secret_value()
    else:
        raw = f"sqlite:///{settings.data_dir / DEFAULT_FILE_NAME}"
    return parse_url(raw)


def parse_url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError) as exc:
        shown = raw if "@" not in raw else raw.split("://", 1)[0] + "://…"
        raise StorageError("not_a_url", shown=shown) from exc
    backend, _, driver = url.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        database = url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            # Absolute, so that one process never mixes up two files (the URL is a cache key).
            database = str(Path(database).expanduser().resolve())
        return url.set(drivername="sqlite", database=database)
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return url.set(drivername="postgresql+psycopg")
    shown = shown_url(url)
    raise StorageError("unsupported_url", url=shown, driver=url.drivername)


def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """Connect to DATABASE_URL and bring its schema up to date (see `migrate`)."""
    return open_url(
        database_url(settings),
        max_stored_file_mb=settings.max_stored_file_mb,
        max_shares_per_user=settings.max_shares_per_user,
        migrate=migrate,
    )


def open_url(
    url: str | URL,
    *,
    max_stored_file_mb: float = 50,
    max_shares_per_user: int = 50,
    migrate: bool = True,
) -> Database:
    """Like `open_database`, from a URL (tests, the bench, the CLI)."""
    if isinstance(url, str):
        url = parse_url(url)
    engine = _create_engine(url)
    db = Database(
        engine=engine,
        sessions=sessionmaker(engine, expire_on_commit=False),
        max_file_bytes=int(max_stored_file_mb * 1024 * 1024),
        max_shares_per_user=max_shares_per_user,
    )
    try:
        check_connection(db)
        if migrate:
            upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return db


def check_connection(db: Database) -> None:
    try:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as exc:
        raise StorageError("cannot_connect", url=db.display_url, cause=describe(exc)) from exc


def private_dir(folder: Path) -> None:
    """Create `folder` and any missing parents readable by their owner only (0700).

    Folders that exist keep their mode (the operator's choice).
    """
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)


def private_file(path: Path) -> None:
    """Create `path` empty, readable by its owner only (0600), unless it exists.

    SQLite creates its -wal and -shm files with the database file's mode, so
    they are private too.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_engine(url: URL) -> Engine:
    path = url.database or ""
    memory = path in ("", ":memory:") or url.query.get("mode") == "memory"
    if memory:
        # One shared connection, or every connection would see its own empty database.
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        folder = Path(path).parent
        try:
            # Owner only: the history holds everyone's conversations and files.
            private_dir(folder)
            private_file(Path(path))
        except OSError as exc:
            raise StorageError(
                "cannot_create_folder",
                url=url.render_as_string(),
                folder=str(folder),
                cause=str(exc.strerror or exc),
            ) from exc
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                # With WAL, NORMAL loses nothing when the process dies (only on power loss).
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    return engine
