"""documents and their passages, with the database's own full-text index

Documents attached in conversations (deleted with them) and assistants'
knowledge files, cut into passages with their page and heading. The
full-text index is the database's: on SQLite an FTS5 table over the passages
(BM25 ranking, Porter stemming) with its vocabulary (each word's number of
passages, `fts5vocab`), kept by triggers, which also fire for the
passages a conversation's deletion cascades to; on PostgreSQL a stored
`tsvector` column with a GIN index.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE = (
    "CREATE VIRTUAL TABLE document_chunks_fts USING fts5(text, heading, scope_key,"
    " content='document_chunks', content_rowid='id',"
    " tokenize='porter unicode61 remove_diacritics 2')",
    # Each word's number of passages (its document frequency), read by the search to
    # leave out words nearly every passage has.
    "CREATE VIRTUAL TABLE document_chunks_vocab USING fts5vocab(document_chunks_fts, 'row')",
    "CREATE TRIGGER document_chunks_fts_insert AFTER INSERT ON document_chunks BEGIN"
    " INSERT INTO document_chunks_fts(rowid, text, heading, scope_key)"
    " VALUES (new.id, new.text, new.heading, new.scope_key); END",
    "CREATE TRIGGER document_chunks_fts_delete AFTER DELETE ON document_chunks BEGIN"
    " INSERT INTO document_chunks_fts(document_chunks_fts, rowid, text, heading, scope_key)"
    " VALUES ('delete', old.id, old.text, old.heading, old.scope_key); END",
)
_POSTGRESQL = (
    "ALTER TABLE document_chunks ADD COLUMN search tsvector GENERATED ALWAYS AS"
    " (setweight(to_tsvector('english', heading), 'B') || to_tsvector('english', text)) STORED",
    "CREATE INDEX ix_document_chunks_search ON document_chunks USING gin (search)",
)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("chars", sa.BigInteger(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("embedding_model", sa.String(length=200), nullable=False),
        sa.Column("dimensions", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_documents_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("scope", "sha256", name=op.f("uq_documents_scope_sha256")),
    )
    op.create_index(op.f("ix_documents_conversation_id"), "documents", ["conversation_id"])
    op.create_table(
        "document_chunks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("scope_key", sa.String(length=40), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("heading", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_chunks_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_chunks")),
    )
    op.create_index(op.f("ix_document_chunks_scope_key"), "document_chunks", ["scope_key"])
    op.create_index(
        op.f("ix_document_chunks_document_id_ordinal"),
        "document_chunks",
        ["document_id", "ordinal"],
    )
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE if dialect == "sqlite" else _POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS document_chunks_fts_delete")
        op.execute("DROP TRIGGER IF EXISTS document_chunks_fts_insert")
        op.execute("DROP TABLE IF EXISTS document_chunks_vocab")
        op.execute("DROP TABLE IF EXISTS document_chunks_fts")
    op.drop_table("document_chunks")
    op.drop_table("documents")
