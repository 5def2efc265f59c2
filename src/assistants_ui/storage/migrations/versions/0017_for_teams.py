"""for teams: projects, temporary chats and retention, prompts, personal instructions, memory

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-20

Tables of their own, beside the history's (no existing table changes):
`projects`, `project_files`, `project_conversations` (which project a
conversation is in); `temporary_chats` (conversations kept out of history
until they are closed or expire), `remote_deletions` (the remote state of
deleted conversations, waiting for its server), `sweep_runs` (which replica
runs the daily retention); `prompts`; `personal_instructions`, `memories`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _user(table: str, *, nullable: bool = False) -> list[Any]:
    return [
        sa.Column("user_id", sa.Integer(), nullable=nullable),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
        ),
    ]


def _of_conversation(table: str) -> list[Any]:
    return [
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f(f"fk_{table}_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=32), nullable=False),
        *_user("projects"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_index(op.f("ix_projects_user_id_updated_at"), "projects", ["user_id", "updated_at"])
    op.create_table(
        "project_files",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        *_user("project_files"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("mime", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_files_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_files")),
    )
    op.create_index(op.f("ix_project_files_project_id"), "project_files", ["project_id"])
    op.create_table(
        "project_conversations",
        *_of_conversation("project_conversations"),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_conversations_project_id_projects"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_project_conversations_project_id"), "project_conversations", ["project_id"]
    )
    op.create_table(
        "temporary_chats",
        *_of_conversation("temporary_chats"),
        sa.Column("expires_at", UTC, nullable=False),
    )
    op.create_index(op.f("ix_temporary_chats_expires_at"), "temporary_chats", ["expires_at"])
    op.create_table(
        "remote_deletions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.String(length=64), nullable=False),
        sa.Column("remote", JSON_DOC, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_until", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_deletions")),
    )
    op.create_index(
        op.f("ix_remote_deletions_claimed_until"), "remote_deletions", ["claimed_until"]
    )
    op.create_table(
        "sweep_runs",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=300), nullable=False),
        sa.Column("claimed_until", UTC, nullable=True),
        sa.Column("finished_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sweep_runs")),
    )
    op.create_table(
        "prompts",
        sa.Column("id", sa.String(length=32), nullable=False),
        *_user("prompts", nullable=True),
        sa.Column("audience", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompts")),
    )
    op.create_index(op.f("ix_prompts_user_id"), "prompts", ["user_id"])
    op.create_index(op.f("ix_prompts_audience"), "prompts", ["audience"])
    op.create_table(
        "personal_instructions",
        *_user("personal_instructions"),
        sa.Column("about_me", sa.Text(), nullable=False),
        sa.Column("how_to_answer", sa.Text(), nullable=False),
        sa.Column("memory_enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_personal_instructions")),
    )
    op.create_table(
        "memories",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        *_user("memories"),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memories")),
    )
    op.create_index(op.f("ix_memories_user_id_created_at"), "memories", ["user_id", "created_at"])


def downgrade() -> None:
    # The app never downgrades; this is for a developer's own database only.
    for table in (
        "memories",
        "personal_instructions",
        "prompts",
        "sweep_runs",
        "remote_deletions",
        "temporary_chats",
        "project_conversations",
        "project_files",
        "projects",
    ):
        op.drop_table(table)
