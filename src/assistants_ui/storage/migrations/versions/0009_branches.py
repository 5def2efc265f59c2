"""branches: messages form a tree (parent_id), a branch's remote state, the branch shown

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

Existing conversations become one branch: each message's parent is the
message before it (by `seq`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column(
                "remote", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
            )
        )
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("active_leaf", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE messages SET parent_id = ("
        " SELECT before.id FROM messages AS before"
        " WHERE before.conversation_id = messages.conversation_id"
        " AND before.seq < messages.seq"
        " ORDER BY before.seq DESC LIMIT 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("active_leaf")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("remote")
        batch.drop_column("parent_id")
