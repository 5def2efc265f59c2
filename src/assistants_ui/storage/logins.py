"""Login state: wrong-password counts, login sessions and the app's own keys.

Owns `login_failures`, `login_sessions` and `app_keys` (revision 0003),
shared by every process and replica of the app. Queries only: what a count
means (when a name locks, for how long, what a right password forgives) is
the lockout's policy (`auth/lockout.py`), and which session ids exist and
when one is honoured is `auth/sessions.py`'s. Each call is one short
transaction; `LoginFailures.claim` holds a name's row for the block the
policy runs in, so that two processes counting the same name never lose an
update.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from assistants_ui.storage.codec import from_row
from assistants_ui.storage.models import AppKey, LoginFailure, LoginSession, utcnow
from assistants_ui.storage.store import Store, database_errors, guarded

__all__ = ["AppKeys", "FailureCount", "LoginFailures", "LoginRecord", "LoginRecords"]


@dataclass(slots=True)
class FailureCount:
    """One login name's recent wrong passwords, as the lockout reads and changes them."""

    subject: str
    failures: int
    last_failure_at: dt.datetime
    locked_until: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class LoginRecord:
    """One login that logging out ends (a row of `login_sessions`)."""

    id: str
    auth_provider: str
    subject: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None


def _row(login: LoginRecord) -> LoginSession:
    return LoginSession(**dataclasses.asdict(login))


class LoginFailures(Store):
    """The `login_failures` table: one count per login name, known account or not."""

    during = " while checking a login"

    @guarded
    def read(self, subject: str) -> FailureCount | None:
        return self.by_key(FailureCount, LoginFailure, subject)

    @contextmanager
    def claim(self, subject: str, now: dt.datetime) -> Iterator[FailureCount]:
        """The name's count (a new one: no failures, last at `now`), its row held for
        the block; what the block changes in it is written when the block ends."""
        with database_errors(self.db, self.during), self.db.session() as s:
            row = self._claim(s, subject, now)
            count = from_row(FailureCount, row)
            yield count
            row.failures = count.failures
            row.last_failure_at = count.last_failure_at
            row.locked_until = count.locked_until

    @guarded
    def forget(self, subject: str, *, now: dt.datetime, lock: dt.datetime | None = None) -> None:
        """Delete the name's count, unless it holds a lock still running at `now`
        (`lock` excepted: that one is lifted too)."""
        unlocked = LoginFailure.locked_until.is_(None) | (LoginFailure.locked_until <= now)
        if lock is not None:
            unlocked = unlocked | (LoginFailure.locked_until == lock)
        with self.db.session() as s:
            s.execute(delete(LoginFailure).where(LoginFailure.subject == subject, unlocked))

    @guarded
    def prune(self, *, keep: str, before: dt.datetime, now: dt.datetime) -> None:
        """Delete the counts (but `keep`'s) last failed before `before` that hold no lock."""
        with self.db.session() as s:
            s.execute(
                delete(LoginFailure).where(
                    LoginFailure.subject != keep,
                    LoginFailure.last_failure_at < before,
                    (LoginFailure.locked_until.is_(None)) | (LoginFailure.locked_until < now),
                )
            )

    def _claim(self, s: Session, subject: str, now: dt.datetime) -> LoginFailure:
        # Write first, in one statement that inserts the name's row or, when it is
        # there, locks it (SQLite: the database's write lock, PostgreSQL: the row's),
        # so concurrent counts serialize. An INSERT and an UPDATE in two statements
        # let two first attempts both insert (PostgreSQL: duplicate key), and a
        # success's DELETE in between let the retry race again.
        insert = postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert
        s.execute(
            insert(LoginFailure)
            .values(subject=subject, failures=0, last_failure_at=now)
            .on_conflict_do_update(
                index_elements=[LoginFailure.subject],
                set_={"failures": LoginFailure.failures},
            )
        )
        return s.scalars(
            select(LoginFailure).where(LoginFailure.subject == subject).with_for_update()
        ).one()


class LoginRecords(Store):
    """The `login_sessions` table."""

    during = " while checking a login session"

    @guarded
    def add(self, login: LoginRecord) -> None:
        """Keep a new login; logins expired by its start are deleted."""
        with self.db.session() as s:
            s.add(_row(login))
            s.execute(delete(LoginSession).where(LoginSession.expires_at < login.created_at))

    @guarded
    def find(self, sid: str) -> LoginRecord | None:
        return self.by_key(LoginRecord, LoginSession, sid)

    @guarded
    def revoke(self, login: LoginRecord) -> None:
        """Mark the login `login.id` revoked at `login.revoked_at`; one this database
        never saw (a single sign-on login) is kept as `login`, so that it stays refused."""

        def revoke(s: Session) -> None:
            done = s.execute(
                update(LoginSession)
                .where(LoginSession.id == login.id)
                .values(revoked_at=login.revoked_at)
                .returning(LoginSession.id)
            ).one_or_none()
            if done is None:
                s.add(_row(login))

        self.racing(revoke)


class AppKeys(Store):
    """The `app_keys` table: secrets the app makes for itself."""

    during = " while reading the app's keys"

    @guarded
    def get_or_add(self, name: str, make: Callable[[], str]) -> str:
        """The value of key `name`; made with `make` by whichever process asks first."""

        def read_or_add(s: Session) -> str:
            value = s.scalar(select(AppKey.value).where(AppKey.name == name))
            if value is None:
                value = make()
                s.add(AppKey(name=name, value=value, created_at=utcnow()))
            return value

        return self.racing(read_or_add)
