"""The usage ledger: what each user sent and each answer used, kept apart from the content.

Owns the `usage_records` table (revision 0012). A row is written for a
message once, in the transaction that first saves it in a final state
(`record_usage`, called by `Messages.save_message`):

- a user's message (a question, an edited question, an Approve / Deny) when it
  is saved, before it is sent (or, typed in the chat input, as its answer's
  first words go out: `ChatSession.ask`): one message sent;
- an answer when it ends, however it ends (complete, incomplete, failed,
  stopped): its input and output tokens. Checkpoints of an answer still being
  written never write a row; an answer cut off by a crash (never saved as
  ended) writes none.

That is the rule daily limits always counted by (messages sent, and the tokens
of the day's answers whatever their end), now kept where deleting a
conversation cannot reach it: the ledger has no foreign key to conversations,
so deleting one removes its messages and files but not its usage. A row goes
only with its user's row. The admin page's usage, its users' totals and
the daily limits read the ledger (`admin.py`), with the expressions below.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Integer, case, cast, exists, func, insert, select
from sqlalchemy.orm import Session

from assistants_ui.core.transcript import Message
from assistants_ui.storage.models import UsageRecord

__all__ = ["DAY_SECONDS", "day_of", "record_usage", "usage_sums"]

DAY_SECONDS = 86400


def record_usage(
    s: Session, *, user_id: int, profile_id: str, cid: str, message: Message, new: bool = False
) -> None:
    """The ledger's row for `message`, unless it has one (a row made by revision
    0012 from a message then still being written). `new`: the message is being
    inserted now, so it cannot have one (no look)."""
    done = exists().where(UsageRecord.conversation_id == cid, UsageRecord.message_id == message.id)
    if not new and s.scalar(select(done)):
        return
    s.execute(
        insert(UsageRecord).values(
            user_id=user_id,
            profile_id=profile_id,
            conversation_id=cid,
            message_id=message.id,
            role=message.role,
            input_tokens=message.input_tokens,
            output_tokens=message.output_tokens,
            created_at=message.created_at,
        )
    )


def usage_sums() -> tuple[ColumnElement[int], ColumnElement[int]]:
    """The messages sent and the tokens used, summed over the rows selected."""
    sent = case((UsageRecord.role == "user", 1), else_=0)
    return func.sum(sent), func.sum(UsageRecord.input_tokens + UsageRecord.output_tokens)


def day_of(dialect: str) -> ColumnElement[int]:
    """A row's UTC day number (`created_at` is epoch seconds)."""
    days = UsageRecord.created_at / DAY_SECONDS
    if dialect == "sqlite":  # CAST truncates, and times are positive
        return cast(days, Integer)
    return cast(func.floor(days), Integer)  # PostgreSQL's CAST rounds
