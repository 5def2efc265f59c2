"""Personal instructions and memory: what each user keeps for every answer.

Owns `personal_instructions` (the user's "about me" and "how to answer"
texts, and whether the memory tool is on for them) and `memories` (facts the
user asked an assistant to remember, through the memory tool). The user
sees, edits and deletes all of it on the settings page; nothing here is
shared with anyone else, and it all goes with the user's row. The limits
(PERSONAL_INSTRUCTIONS_MAX_CHARS, MEMORY_MAX_FACTS, `FACT_MAX_CHARS`) are
checked by the caller, which words them (`core/personal.py`); this room
refuses what is over them with `ValueError`, so nothing over a limit is
ever stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from assistants_ui.storage.codec import from_row
from assistants_ui.storage.errors import NotFound
from assistants_ui.storage.models import Memory, PersonalInstructions, User, utcnow
from assistants_ui.storage.store import Store, guarded

__all__ = ["FACT_MAX_CHARS", "MemoryFact", "Personal", "PersonalInfo"]

FACT_MAX_CHARS = 500  # one remembered fact


@dataclass(frozen=True, slots=True)
class PersonalInfo:
    about_me: str = ""
    how_to_answer: str = ""
    memory_enabled: bool = False


@dataclass(frozen=True, slots=True)
class MemoryFact:
    id: int
    text: str
    created_at: dt.datetime


class Personal(Store):
    """`personal_instructions` and `memories`, each call scoped by the acting user."""

    @guarded
    def personal(self, *, user_id: int) -> PersonalInfo:
        """The user's texts and memory switch (empty ones until they write some)."""
        with self.db.session() as s:
            row = s.get(PersonalInstructions, user_id)
            return from_row(PersonalInfo, row) if row is not None else PersonalInfo()

    @guarded
    def set_personal(
        self,
        *,
        user_id: int,
        about_me: str,
        how_to_answer: str,
        memory_enabled: bool,
        max_chars: int,
    ) -> PersonalInfo:
        """Replace the user's texts and memory switch; `ValueError` over `max_chars`."""
        about_me, how_to_answer = about_me.strip(), how_to_answer.strip()
        if len(about_me) > max_chars or len(how_to_answer) > max_chars:
            raise ValueError(f"personal instructions are limited to {max_chars} characters")
        with self.db.session() as s:
            if s.get(User, user_id) is None:
                raise NotFound("user")
            row = s.get(PersonalInstructions, user_id)
            if row is None:
                row = PersonalInstructions(user_id=user_id)
                s.add(row)
            row.about_me, row.how_to_answer = about_me, how_to_answer
            row.memory_enabled = memory_enabled
            row.updated_at = utcnow()
            s.flush()
            return from_row(PersonalInfo, row)

    @guarded
    def memories(self, *, user_id: int) -> list[MemoryFact]:
        """What the user's memory keeps, oldest first."""
        with self.db.session() as s:
            rows = s.scalars(
                select(Memory)
                .where(Memory.user_id == user_id)
                .order_by(Memory.created_at, Memory.id)
            ).all()
            return [from_row(MemoryFact, row) for row in rows]

    @guarded
    def remember(self, *, user_id: int, text: str, max_facts: int) -> MemoryFact | None:
        """Keep one fact; None when the memory already holds `max_facts` (nothing kept).
        `ValueError` for an empty fact or one over `FACT_MAX_CHARS`."""
        text = " ".join(text.split())
        if not text or len(text) > FACT_MAX_CHARS:
            raise ValueError(f"a fact is 1..{FACT_MAX_CHARS} characters")
        with self.db.session() as s:
            if s.get(User, user_id, with_for_update=True) is None:
                raise NotFound("user")
            held = s.scalar(select(func.count()).where(Memory.user_id == user_id)) or 0
            if held >= max_facts:
                return None
            same = s.scalars(
                select(Memory).where(Memory.user_id == user_id, Memory.text == text)
            ).first()
            if same is not None:  # asked twice: kept once
                return from_row(MemoryFact, same)
            row = Memory(user_id=user_id, text=text, created_at=utcnow())
            s.add(row)
            s.flush()
            return from_row(MemoryFact, row)

    @guarded
    def forget(self, *, user_id: int, memory_id: int | None = None) -> int:
        """Delete one fact (or, with no id, every fact) of the user's; how many went."""
        query = delete(Memory).where(Memory.user_id == user_id)
        if memory_id is not None:
            query = query.where(Memory.id == memory_id)
        with self.db.session() as s:
            return int(s.execute(query).rowcount or 0)  # type: ignore[attr-defined]
