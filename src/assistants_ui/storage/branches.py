"""Branches: messages as a tree, and which branch of it is shown.

Messages form a tree (`messages.parent_id`): an edited question or a
regenerated answer is a new child of the same parent, a sibling of the one
it replaces, and every earlier version stays. The branch shown is the path
from the conversation's `active_leaf` (null: the newest message) up to a
first message; the database walks it up itself (`branch`, a recursive CTE,
the same SQL on both databases), so a page of a long conversation reads only
that page. This module owns those walks (`leaf`, `branch`, `branch_ids`,
`branch_owner`, `versions`, `newest_leaf`), which messages and shares use,
and `switch_branch`, the page's ‹ › between versions. A branch's remote
state is kept on its first message (`messages.remote`); a branch whose
messages carry none uses the conversation's `remote`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import CTE, Row, and_, func, select
from sqlalchemy.orm import Session

from assistants_ui.storage.conversations import check_id, on_conversation
from assistants_ui.storage.errors import NotFound
from assistants_ui.storage.models import StoredMessage
from assistants_ui.storage.store import Store, guarded

__all__ = [
    "ROOT",
    "Branches",
    "Node",
    "branch",
    "branch_ids",
    "branch_owner",
    "leaf",
    "newest_leaf",
    "nodes",
    "versions",
]

ROOT = ""  # the parent key of a conversation's first messages (`MessagePage.children`)


# One message of the tree without its contents: (id, parent_id, seq); the rows as
# read (no object per row: a long conversation has thousands).
Node = Row[str, str | None, int]


def nodes(s: Session, cid: str) -> Sequence[Node]:
    """The conversation's tree without contents, in `seq` order (parents before children)."""
    return s.execute(
        select(StoredMessage.id, StoredMessage.parent_id, StoredMessage.seq)
        .where(StoredMessage.conversation_id == cid)
        .order_by(StoredMessage.seq)
    ).all()


def leaf(s: Session, cid: str, active: str | None) -> str | None:
    """The last message of the branch shown: `active`, or the newest message."""
    if active is not None and s.get(StoredMessage, (cid, active)) is not None:
        return active
    newest: str | None = s.scalars(
        select(StoredMessage.id)
        .where(StoredMessage.conversation_id == cid)
        .order_by(StoredMessage.seq.desc())
        .limit(1)
    ).first()
    return newest


def branch(cid: str, last: str | None) -> CTE:
    """The branch ending at `last`, walked up by the database (a recursive CTE):
    (id, parent_id, seq) of each of its messages. A parent is always older (a
    smaller seq), so the walk ends even on a damaged tree."""
    m = StoredMessage.__table__
    start = (
        select(m.c.id, m.c.parent_id, m.c.seq)
        .where(m.c.conversation_id == cid, m.c.id == last)
        .cte("branch", recursive=True)
    )
    up = select(m.c.id, m.c.parent_id, m.c.seq).join(
        start,
        and_(m.c.conversation_id == cid, m.c.id == start.c.parent_id, m.c.seq < start.c.seq),
    )
    return start.union_all(up)


def branch_owner(s: Session, cid: str, shown: CTE) -> tuple[str, dict[str, str]] | None:
    """The newest message of the branch that starts a branch with its own remote state."""
    m = StoredMessage.__table__
    row = s.execute(
        select(m.c.id, m.c.remote)
        .join(shown, and_(m.c.conversation_id == cid, m.c.id == shown.c.id))
        .where(m.c.remote.is_not(None))
        .order_by(m.c.seq.desc())
        .limit(1)
    ).first()
    return (row[0], dict(row[1] or {})) if row is not None else None


def versions(s: Session, cid: str, parents: set[str]) -> dict[str, list[str]]:
    """For each of `parents` (ROOT: none) with more than one child: its children, oldest first."""
    m = StoredMessage.__table__
    parent = func.coalesce(m.c.parent_id, ROOT)
    forks = (
        select(parent)
        .where(m.c.conversation_id == cid)
        .group_by(parent)
        .having(func.count() > 1)
        .scalar_subquery()
    )
    rows = s.execute(
        select(parent, m.c.id)
        .where(m.c.conversation_id == cid, parent.in_(forks))
        .order_by(m.c.seq)
    )
    children: dict[str, list[str]] = {}
    for key, mid in rows:
        if key in parents:
            children.setdefault(key, []).append(mid)
    return children


def newest_leaf(tree: Sequence[Node], top: str) -> str:
    """The newest message under `top` (itself included): always a leaf."""
    under = {top}
    newest = top
    for n in tree:  # parents come before their children
        if n.parent_id in under:
            under.add(n.id)
            newest = n.id
    return newest


def branch_ids(s: Session, cid: str, active: str | None) -> list[str]:
    """The ids of the branch shown, oldest first."""
    shown = branch(cid, leaf(s, cid, active))
    return list(s.scalars(select(shown.c.id).order_by(shown.c.seq)))


class Branches(Store):
    """Which branch of each conversation is shown."""

    @guarded
    def switch_branch(self, *, user_id: int, conversation_id: str, message_id: str) -> str:
        """Show the branch through `message_id`: its newest message becomes the
        conversation's active leaf (returned). Not activity."""
        cid = check_id(conversation_id)
        with on_conversation(self.db, user_id, cid) as (s, conv):
            tree = nodes(s, cid)
            if not any(n.id == message_id for n in tree):
                raise NotFound("message")
            conv.active_leaf = newest_leaf(tree, message_id)
            return conv.active_leaf
