"""users.guest_address: guests' daily limits counted per client address

A guest's client address as a keyed digest, when the operator counts the
guests' limits per address (GUEST_LIMITS_PER_ADDRESS).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# recreate="never": SQLite adds and drops the column in place (3.35+). Recreating
# `users` with foreign keys on would delete every conversation (ON DELETE CASCADE).
def upgrade() -> None:
    with op.batch_alter_table("users", recreate="never") as batch:
        batch.add_column(sa.Column("guest_address", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_users_guest_address"), ["guest_address"])


def downgrade() -> None:
    with op.batch_alter_table("users", recreate="never") as batch:
        batch.drop_index(batch.f("ix_users_guest_address"))
        batch.drop_column("guest_address")
