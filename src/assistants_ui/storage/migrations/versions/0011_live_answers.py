"""messages.stopped_by, writer, written_at: answers that outlive the page

Who stopped a stopped answer; for an answer still being written, the process
writing it and when it last saved it (storage/writers.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("stopped_by", sa.String(16), nullable=True))
        batch.add_column(sa.Column("writer", sa.String(300), nullable=True))
        batch.add_column(sa.Column("written_at", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("written_at")
        batch.drop_column("writer")
        batch.drop_column("stopped_by")
