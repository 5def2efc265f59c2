"""usage ledger: what each user sent and each answer used, apart from the content

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-14

`usage_records` is filled from the messages there are: one row per message,
so that every user's usage, limits and the admin page's figures read as they
did (a message still being written counts what was saved of it, as before;
when it ends it is not counted again).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_usage_records_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_records")),
        sa.UniqueConstraint(
            "conversation_id",
            "message_id",
            name=op.f("uq_usage_records_conversation_id_message_id"),
        ),
    )
    op.create_index(
        op.f("ix_usage_records_user_id_created_at"), "usage_records", ["user_id", "created_at"]
    )
    op.create_index(op.f("ix_usage_records_created_at"), "usage_records", ["created_at"])
    op.execute(
        "INSERT INTO usage_records (user_id, profile_id, conversation_id, message_id, role,"
        " input_tokens, output_tokens, created_at)"
        " SELECT c.user_id, c.profile_id, m.conversation_id, m.id, m.role,"
        " m.input_tokens, m.output_tokens, m.created_at"
        " FROM messages AS m JOIN conversations AS c ON c.id = m.conversation_id"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_usage_records_created_at"), table_name="usage_records")
    op.drop_index(op.f("ix_usage_records_user_id_created_at"), table_name="usage_records")
    op.drop_table("usage_records")
