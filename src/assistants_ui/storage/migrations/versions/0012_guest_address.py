"""users.guest_address: guests' daily limits counted per client address

A guest's client address as a keyed digest, when the operator counts the
guests' limits per address (GUEST_LIMITS_PER_ADDRESS).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
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
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("guest_address", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_users_guest_address"), ["guest_address"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_index(batch.f("ix_users_guest_address"))
        batch.drop_column("guest_address")
