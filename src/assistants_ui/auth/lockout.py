"""Lock a login name after repeated wrong passwords, for a cool-down.

The counts live in the database (`login_failures`), so every process and
every replica of the app shares them: an attacker gains nothing by hitting
another worker. Policy, from `LOGIN_MAX_FAILURES` and `LOGIN_LOCKOUT_MINUTES`:

- every attempt is counted *before* its password is checked, in the same
  transaction that checks the lock (`attempt`): however many attempts
  arrive at once, at most N passwords are checked per cool-down;
- failures older than the cool-down are forgotten (so a typo a week ago
  does not count);
- the N-th attempt in a row locks the name for the cool-down; while locked,
  no password is checked at all, the right one included, and attempts do
  not extend the lock;
- the right password forgets the name's counted attempts, but never lifts a
  lock that another attempt set (`record_success`): only the attempt whose
  own count set the lock, and whose password was right, ends it.

Names are counted whether or not such an account exists, so that the lock
gives nothing away about which names are real. Logins go over Streamlit's
websocket, not an HTTP path a proxy could rate-limit: this lock is the
app's login throttle (docs/security.md).

Each call is one short transaction that writes first (SQLite takes its write
lock, PostgreSQL the row's lock), so two processes counting the same name
never lose an update.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from assistants_ui.i18n import ngettext
from assistants_ui.storage.engine import Database
from assistants_ui.storage.models import LoginFailure, utcnow
from assistants_ui.storage.store import Store, guarded

__all__ = ["Attempt", "LockState", "LoginThrottle", "normalize_username"]

Clock = Callable[[], dt.datetime]


def normalize_username(username: str) -> str:
    """Login names are compared lower-cased and trimmed (as streamlit-authenticator does)."""
    return username.strip().lower()


@dataclass(frozen=True, slots=True)
class LockState:
    """Whether a name is locked now, and for how much longer."""

    locked: bool
    remaining: dt.timedelta = dt.timedelta(0)
    failures: int = 0

    def describe_remaining(self) -> str:
        """'14 minutes', '1 minute', '30 seconds': for the message on the page."""
        seconds = max(1, int(self.remaining.total_seconds() + 0.999))
        if seconds < 60:
            return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}
        minutes = (seconds + 59) // 60
        return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}


@dataclass(frozen=True, slots=True)
class Attempt:
    """One counted login attempt: whether its password may be checked at all.

    `state` is the name's state with this attempt counted; `lock` is the lock
    this very attempt set (the N-th), which only its own success may lift.
    """

    allowed: bool
    state: LockState
    lock: dt.datetime | None = None


class LoginThrottle(Store):
    """Counts wrong passwords per login name in the database; thread- and process-safe."""

    during = " while checking a login"

    def __init__(
        self,
        db: Database,
        *,
        max_failures: int = 5,
        lockout: dt.timedelta = dt.timedelta(minutes=15),
        clock: Clock = utcnow,
    ) -> None:
        if max_failures < 1:
            raise ValueError("max_failures must be >= 1")
        if lockout <= dt.timedelta(0):
            raise ValueError("lockout must be positive")
        super().__init__(db)
        self.max_failures = max_failures
        self.lockout = lockout
        self.clock = clock

    @guarded
    def state(self, username: str) -> LockState:
        """The name's lock right now (reads only)."""
        key = _key(username)
        now = self.clock()
        with self.db.session() as s:
            row = s.get(LoginFailure, key)
            return self._state(row, now)

    @guarded
    def attempt(self, username: str) -> Attempt:
        """Count one attempt and decide, in one transaction, whether it may be checked.

        Call it before any hashing; a wrong password needs nothing more (it was
        counted here), a right one calls `record_success(username, attempt)`.
        """
        key = _key(username)
        now = self.clock()
        with self.db.session() as s:
            row = self._claim(s, key, now)
            if row.locked_until is not None and row.locked_until > now:
                # Locked: refused unchecked, neither counted nor extending the lock.
                return Attempt(allowed=False, state=self._state(row, now))
            if row.locked_until is not None or now - row.last_failure_at >= self.lockout:
                row.failures, row.locked_until = 0, None  # an old story: start again
            row.failures += 1
            row.last_failure_at = now
            lock = None
            if row.failures >= self.max_failures:
                lock = now + self.lockout
                row.failures, row.locked_until = 0, lock
            s.flush()
            state = self._state(row, now)
            self._forget_old(s, now, keep=key)
            return Attempt(allowed=True, state=state, lock=lock)

    @guarded
    def record_success(self, username: str, attempt: Attempt | None = None) -> None:
        """The right password: forget the name's counted attempts.

        A lock stays: unless `attempt` is the very attempt that set it, nothing
        a success does lifts an active lock (another attempt, running at the
        same time, may have set it).
        """
        now = self.clock()
        unlocked = LoginFailure.locked_until.is_(None) | (LoginFailure.locked_until <= now)
        if attempt is not None and attempt.lock is not None:
            unlocked = unlocked | (LoginFailure.locked_until == attempt.lock)
        with self.db.session() as s:
            s.execute(delete(LoginFailure).where(LoginFailure.subject == _key(username), unlocked))

    # -- internals ---------------------------------------------------------------------

    def _claim(self, s: Session, key: str, now: dt.datetime) -> LoginFailure:
        # Write first, in one statement that inserts the name's row or, when it is
        # there, locks it (SQLite: the database's write lock, PostgreSQL: the row's),
        # so concurrent counts serialize. An INSERT and an UPDATE in two statements
        # let two first attempts both insert (PostgreSQL: duplicate key), and a
        # success's DELETE in between let the retry race again.
        insert = postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert
        s.execute(
            insert(LoginFailure)
            .values(subject=key, failures=0, last_failure_at=now)
            .on_conflict_do_update(
                index_elements=[LoginFailure.subject],
                set_={"failures": LoginFailure.failures},
            )
        )
        return s.scalars(
            select(LoginFailure).where(LoginFailure.subject == key).with_for_update()
        ).one()

    def _forget_old(self, s: Session, now: dt.datetime, *, keep: str) -> None:
        # Rows whose failures are past the cool-down and that hold no lock mean nothing.
        s.execute(
            delete(LoginFailure).where(
                LoginFailure.subject != keep,
                LoginFailure.last_failure_at < now - self.lockout,
                (LoginFailure.locked_until.is_(None)) | (LoginFailure.locked_until < now),
            )
        )

    def _state(self, row: LoginFailure | None, now: dt.datetime) -> LockState:
        if row is None:
            return LockState(locked=False)
        if row.locked_until is not None and row.locked_until > now:
            return LockState(locked=True, remaining=row.locked_until - now)
        if row.locked_until is not None or now - row.last_failure_at >= self.lockout:
            return LockState(locked=False)
        return LockState(locked=False, failures=row.failures)


def _key(username: str) -> str:
    key = normalize_username(username)[:255]
    return key or "-"
