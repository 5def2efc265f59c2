"""share links reference the stored messages instead of copying them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-14

`shares.leaf_id`: a share made before becomes a reference to its branch's
last message, and its copy is emptied, when the copy is exactly that branch
(the same messages, in order, none of them caught while being written);
otherwise it keeps its copy, which the app still reads.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shares") as batch:
        batch.add_column(sa.Column("leaf_id", sa.String(length=64), nullable=True))
    _shares_to_references(op.get_bind())


def _copied(conn: sa.Connection, token: str) -> list[tuple[str, str]]:
    """(id, status) of each message a share's copy holds, in order, read by the
    database from the JSON (the copy's files never come into this process)."""
    if conn.dialect.name == "postgresql":
        query = (
            "SELECT e.value->>'id', e.value->>'status'"
            " FROM shares, jsonb_array_elements(shares.messages) WITH ORDINALITY AS e(value, n)"
            " WHERE shares.token = :token ORDER BY e.n"
        )
    else:
        query = (
            "SELECT json_extract(e.value, '$.id'), json_extract(e.value, '$.status')"
            " FROM shares, json_each(shares.messages) AS e"
            " WHERE shares.token = :token ORDER BY e.key"
        )
    return [(str(i), str(s)) for i, s in conn.execute(sa.text(query), {"token": token})]


def _shares_to_references(conn: sa.Connection) -> None:
    shares = conn.execute(sa.text("SELECT token, conversation_id FROM shares ORDER BY token")).all()
    parents: dict[str, dict[str, str | None]] = {}
    for token, cid in shares:
        copied = _copied(conn, token)
        if not copied or any(status == "streaming" for _, status in copied):
            continue
        if cid not in parents:
            parents[cid] = {
                mid: parent
                for mid, parent in conn.execute(
                    sa.text("SELECT id, parent_id FROM messages WHERE conversation_id = :cid"),
                    {"cid": cid},
                )
            }
        tree = parents[cid]
        leaf = copied[-1][0]
        chain: list[str] = []
        at: str | None = leaf
        while at is not None and at in tree and len(chain) <= len(copied):
            chain.append(at)
            at = tree[at]
        if chain[::-1] != [mid for mid, _ in copied]:
            continue  # not the branch as it is stored: the copy stays
        conn.execute(
            sa.text("UPDATE shares SET leaf_id = :leaf, messages = '[]' WHERE token = :token"),
            {"leaf": leaf, "token": token},
        )


def downgrade() -> None:
    # The copies emptied by the upgrade are not made again: such links show nothing.
    with op.batch_alter_table("shares") as batch:
        batch.drop_column("leaf_id")
