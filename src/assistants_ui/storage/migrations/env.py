"""Alembic's environment: runs on the connection `storage.migrate` hands over.

From the command line (new revisions while developing), set
`sqlalchemy.url` instead; see docs/storage.md.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from assistants_ui.storage.models import Base, include_object

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if isinstance(connection, Connection):
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set sqlalchemy.url (alembic -x or alembic.ini) to run Alembic directly")
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
