"""user_groups: the groups an admin gives a user, and those their sign-in brought

Assistants may be restricted to groups (`allowed_groups` in assistants.toml).
A password user's groups are given on the admin page; a single sign-on user's
come with each sign-in (the ID token's groups claim), kept here so that
`assistants-ui check` and the admin page know which groups exist.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_groups",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_by", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_groups_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "source", "name", name=op.f("pk_user_groups")),
    )
    op.create_index(op.f("ix_user_groups_name"), "user_groups", ["name"])


def downgrade() -> None:
    op.drop_index(op.f("ix_user_groups_name"), table_name="user_groups")
    op.drop_table("user_groups")
