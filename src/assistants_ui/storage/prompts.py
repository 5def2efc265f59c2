"""The prompt library: saved prompts with `{{variables}}`, a user's own or published.

Owns `prompts`. A user's own prompt has their `user_id` and an empty
`audience`; a published one (made by an admin) has no `user_id` and an
audience: `everyone`, or `group:<name>` for the members of a group
(`prompts_for(user_id=…, groups=…)`: the page passes the reader's groups).
Names are what follows "/" in the chat input: a user's own names are unique
among their own, a published name among published ones; where a reader's
own prompt and a published one share a name, their own comes first.
Whether a body's variables are well formed is `core/prompts.py`'s; this
room stores what the page checked.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, func, or_, select

from assistants_ui.core.prompts import NAME
from assistants_ui.storage.codec import from_row
from assistants_ui.storage.errors import NotFound
from assistants_ui.storage.models import Prompt, User, utcnow
from assistants_ui.storage.store import Store, guarded

__all__ = [
    "EVERYONE",
    "MAX_PROMPTS",
    "PROMPT_MAX_CHARS",
    "PromptInfo",
    "Prompts",
    "group_audience",
]

EVERYONE = "everyone"
PROMPT_MAX_CHARS = 20_000
MAX_PROMPTS = 500  # a user's own, and published ones in all


def group_audience(group: str) -> str:
    """The audience of a prompt published to the members of `group`."""
    return f"group:{group.strip().lower()}"


@dataclass(frozen=True, slots=True)
class PromptInfo:
    id: str
    name: str
    body: str
    audience: str  # "": the reader's own; "everyone"; "group:<name>"
    created_by: str
    updated_at: dt.datetime

    @property
    def published(self) -> bool:
        return bool(self.audience)


def _check(name: str, body: str) -> tuple[str, str]:
    name = name.strip().lstrip("/").lower()
    if not NAME.fullmatch(name):
        raise ValueError("a prompt's name is 1..40 lower-case letters, digits, - or _")
    body = body.strip()
    if not body or len(body) > PROMPT_MAX_CHARS:
        raise ValueError(f"a prompt is 1..{PROMPT_MAX_CHARS} characters")
    return name, body


def _visible(user_id: int, groups: Iterable[str]) -> ColumnElement[bool]:
    audiences = [EVERYONE, *(group_audience(g) for g in groups)]
    return or_(
        Prompt.user_id == user_id, and_(Prompt.user_id.is_(None), Prompt.audience.in_(audiences))
    )


class Prompts(Store):
    """`prompts`: a user's own (scoped by them) and published ones."""

    @guarded
    def prompts_for(self, *, user_id: int, groups: Iterable[str] = ()) -> list[PromptInfo]:
        """What the reader may insert: their own prompts, then those published to
        everyone or to one of `groups`, each by name."""
        with self.db.session() as s:
            rows = s.scalars(
                select(Prompt)
                .where(_visible(user_id, groups))
                .order_by(Prompt.user_id.is_(None), Prompt.name, Prompt.id)
            ).all()
            return [from_row(PromptInfo, row) for row in rows]

    @guarded
    def published_prompts(self) -> list[PromptInfo]:
        """Every published prompt (admins manage them)."""
        with self.db.session() as s:
            rows = s.scalars(
                select(Prompt).where(Prompt.user_id.is_(None)).order_by(Prompt.name, Prompt.id)
            ).all()
            return [from_row(PromptInfo, row) for row in rows]

    @guarded
    def save_prompt(
        self,
        *,
        user_id: int | None,
        name: str,
        body: str,
        audience: str = "",
        created_by: str = "",
        prompt_id: str | None = None,
    ) -> PromptInfo:
        """Save a new prompt or change one (`prompt_id`): the user's own (`user_id`), or
        with `user_id` None published to `audience` (the caller checked it is an
        admin). `ValueError`: a malformed name, an empty or long body, a name taken,
        too many prompts."""
        name, body = _check(name, body)
        if (user_id is None) != bool(audience):
            raise ValueError("a published prompt has an audience, a user's own has none")
        mine = Prompt.user_id == user_id if user_id is not None else Prompt.user_id.is_(None)
        with self.db.session() as s:
            if user_id is not None and s.get(User, user_id, with_for_update=True) is None:
                raise NotFound("user")
            taken = s.scalar(
                select(Prompt.id).where(mine, Prompt.name == name, Prompt.id != (prompt_id or ""))
            )
            if taken is not None:
                raise ValueError(f"a prompt named {name!r} exists")
            now = utcnow()
            if prompt_id is None:
                held = s.scalar(select(func.count()).where(mine)) or 0
                if held >= MAX_PROMPTS:
                    raise ValueError(f"at most {MAX_PROMPTS} prompts")
                row = Prompt(id=secrets.token_urlsafe(12), user_id=user_id, created_at=now)
                s.add(row)
            else:
                found = s.scalars(select(Prompt).where(mine, Prompt.id == prompt_id)).one_or_none()
                if found is None:
                    raise NotFound("prompt")
                row = found
            row.name, row.body, row.audience = name, body, audience
            row.created_by = created_by[:320]
            row.updated_at = now
            s.flush()
            return from_row(PromptInfo, row)

    @guarded
    def delete_prompt(self, *, user_id: int | None, prompt_id: str) -> None:
        """Delete the user's own prompt (with `user_id` None: a published one)."""
        mine = Prompt.user_id == user_id if user_id is not None else Prompt.user_id.is_(None)
        with self.db.session() as s:
            done = s.execute(delete(Prompt).where(mine, Prompt.id == prompt_id))
            if not done.rowcount:  # type: ignore[attr-defined]
                raise NotFound("prompt")
