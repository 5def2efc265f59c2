"""Schema migrations (Alembic), applied at start-up: forward only, once, under a lock.

`upgrade(engine)` reads the database's revision; at the code's head it returns at
once. Otherwise it takes a lock that every starting process takes, reads the
revision again (another process may have just migrated) and applies the
missing revisions in the same transaction:

- PostgreSQL: a transaction-scoped advisory lock; DDL is transactional, so a
  migration that fails leaves the schema as it was.
- SQLite: `BEGIN IMMEDIATE`, the database's write lock, which other processes
  wait for (busy timeout); SQLite's DDL is transactional too.

A database at a revision this code does not know (written by a newer
version) is refused with a `StorageError` and left untouched: nothing here
ever downgrades or drops.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from assistants_ui.storage.errors import StorageError, describe, shown_url

__all__ = [
    "MIGRATIONS",
    "alembic_config",
    "current_revision",
    "head_revision",
    "known_revisions",
    "upgrade",
]

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant shared by every process of this app: pg_advisory_xact_lock's key.
_PG_LOCK_KEY = 0x4153_5549_6D69_6772  # "ASUImigr"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    """Every revision this version of the code has (older ones included)."""
    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the schema to the code's head revision; return that revision."""
    head = head_revision()
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
        if current == head:
            return head
        _refuse_unknown(engine, current)
        with engine.begin() as conn:
            _lock(conn)
            current = current_revision(conn)
            if current != head:
                _refuse_unknown(engine, current)
                log.info("migrating %s from %s to %s", shown_url(engine.url), current, head)
                command.upgrade(alembic_config(conn), "head")
    except SQLAlchemyError as exc:
        raise StorageError(
            "cannot_migrate", url=shown_url(engine.url), cause=describe(exc)
        ) from exc
    return head


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    elif conn.dialect.name == "sqlite":
        # The driver has not begun a transaction yet: take the write lock now.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _refuse_unknown(engine: Engine, current: str | None) -> None:
    if current is None:
        return
    if current not in known_revisions():
        raise StorageError(
            "schema_too_new", url=shown_url(engine.url), revision=current, head=head_revision()
        )
