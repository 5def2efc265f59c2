"""Users' groups: those an admin gives on the admin page, those a sign-in brought.

Owns the `user_groups` table (revision 0016). Assistants may be restricted to
groups (`allowed_groups`, core/access.py). A user's groups are:

- `admin`: given on the admin page (`set_groups`, written to the audit log in
  the same transaction), to a password user (their only way into a group)
  or a single sign-on user (as well as the claim's);
- `sso`: the groups claim of their last single sign-on (`note_sso_groups`).
  The page reads the claim itself on every run; these rows only let
  `assistants-ui check` and the admin page know the groups exist.

Guests are in no group. Database failures become one `StorageError` sentence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select

from assistants_ui.core.access import check_group_names
from assistants_ui.storage.codec import from_row
from assistants_ui.storage.engine import Database
from assistants_ui.storage.errors import NotFound
from assistants_ui.storage.models import AdminAudit, User, UserGroup, utcnow
from assistants_ui.storage.store import Store, guarded
from assistants_ui.storage.users import Account, who

__all__ = ["ADMIN", "MAX_MEMBERS", "SSO", "Groups", "Member"]

ADMIN = "admin"  # given on the admin page
SSO = "sso"  # the groups claim of the last single sign-on
MAX_MEMBERS = 200  # users `members` lists at most (the admin page's table)


@dataclass(frozen=True, slots=True)
class Member(Account):
    """A user as the admin page's "who can use what" lists them."""

    groups: tuple[str, ...]  # every group known for them (given, and of the last sign-in)
    disabled: bool

    @property
    def label(self) -> str:
        return self.display_name or self.email or self.subject


class Groups(Store):
    """The `user_groups` table. Thread- and process-safe."""

    during = " while reading users' groups"

    def __init__(self, db: Database, *, clock: Callable[[], dt.datetime] = utcnow) -> None:
        super().__init__(db)
        self.clock = clock

    @guarded
    def groups_of(self, *, user_id: int, source: str = ADMIN) -> frozenset[str]:
        """The groups an admin gave this user (`source` SSO: those of their last
        single sign-on, which the page reads from the sign-in itself)."""
        with self.db.session() as s:
            return frozenset(
                s.scalars(
                    select(UserGroup.name).where(
                        UserGroup.user_id == user_id, UserGroup.source == source
                    )
                )
            )

    @guarded
    def set_groups(self, *, actor: str, user_id: int, groups: Sequence[str]) -> list[str]:
        """Make `groups` (as the admin typed them) this user's given groups; audited.

        ValueError with one sentence for a bad name (nothing changes); NotFound for
        a user that is gone. Guests cannot be in a group. Returns the groups kept."""
        names, problem = check_group_names(groups)
        if problem is not None:
            raise ValueError(problem)
        now = self.clock()
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound("user")
            if user.auth_provider == "anonymous":
                raise ValueError("a guest (no login) cannot be in a group")
            before = set(
                s.scalars(
                    select(UserGroup.name).where(
                        UserGroup.user_id == user_id, UserGroup.source == ADMIN
                    )
                )
            )
            if before == set(names):
                return sorted(names)  # nothing changed, nothing audited
            s.execute(
                delete(UserGroup).where(
                    UserGroup.user_id == user_id,
                    UserGroup.source == ADMIN,
                    UserGroup.name.not_in(names),
                )
            )
            for name in names:
                if name not in before:
                    s.add(
                        UserGroup(
                            user_id=user_id,
                            source=ADMIN,
                            name=name,
                            assigned_at=now,
                            assigned_by=actor[:320],
                        )
                    )
            added = [n for n in names if n not in before]
            removed = sorted(before - set(names))
            detail = "; ".join(
                part
                for part in (
                    f"added {', '.join(added)}" if added else "",
                    f"removed {', '.join(removed)}" if removed else "",
                )
                if part
            )
            s.add(
                AdminAudit(
                    at=now,
                    actor=actor[:320],
                    action="set_groups",
                    target=who(user),
                    detail=detail[:4000],
                )
            )
            return sorted(names)

    @guarded
    def note_sso_groups(self, *, user_id: int, groups: Iterable[str]) -> None:
        """The groups claim of this user's sign-in, replacing the last one's."""
        names = {g for g in groups if g and len(g) <= 255}
        with self.db.session() as s:
            before = set(
                s.scalars(
                    select(UserGroup.name).where(
                        UserGroup.user_id == user_id, UserGroup.source == SSO
                    )
                )
            )
            if before == names:
                return
            s.execute(
                delete(UserGroup).where(
                    UserGroup.user_id == user_id,
                    UserGroup.source == SSO,
                    UserGroup.name.not_in(names),
                )
            )
            now = self.clock()
            for name in sorted(names - before):
                s.add(UserGroup(user_id=user_id, source=SSO, name=name, assigned_at=now))

    @guarded
    def known_groups(self) -> frozenset[str]:
        """Every group some user is in (given on the admin page, or of a sign-in)."""
        with self.db.session() as s:
            return frozenset(s.scalars(select(UserGroup.name).distinct()))

    @guarded
    def members(
        self, *, names: Iterable[str] = (), groups: Iterable[str] = (), limit: int = MAX_MEMBERS
    ) -> list[Member]:
        """Users (no guest) whose login name or e-mail is among `names` (lower-cased), or
        who are in one of `groups` (given, or of their last sign-in): at most `limit`,
        by name."""
        wanted_names = sorted({n.lower() for n in names})
        wanted_groups = sorted(set(groups))
        if not wanted_names and not wanted_groups:
            return []
        in_group = select(UserGroup.user_id).where(UserGroup.name.in_(wanted_groups))
        matching = or_(
            User.id.in_(in_group),
            (User.auth_provider == "password") & func.lower(User.subject).in_(wanted_names),
            func.lower(User.email).in_(wanted_names),
        )
        with self.db.session() as s:
            users = list(
                s.scalars(
                    select(User)
                    .where(User.auth_provider != "anonymous", matching)
                    .order_by(func.lower(User.display_name), User.id)
                    .limit(limit)
                )
            )
            found: dict[int, set[str]] = {u.id: set() for u in users}
            for uid, name in s.execute(
                select(UserGroup.user_id, UserGroup.name).where(UserGroup.user_id.in_(found))
            ):
                found[uid].add(name)
        return [
            from_row(
                Member,
                u,
                groups=tuple(sorted(found[u.id])),
                disabled=u.disabled_at is not None,
            )
            for u in users
        ]
