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

This module is the policy; the queries are `storage.logins.LoginFailures`'s.
An attempt is counted in one short transaction that writes first (SQLite
takes its write lock, PostgreSQL the row's lock), so two processes counting
the same name never lose an update.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from assistants_ui.storage.engine import Database
from assistants_ui.storage.logins import FailureCount, LoginFailures
from assistants_ui.storage.models import utcnow

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


@dataclass(frozen=True, slots=True)
class Attempt:
    """One counted login attempt: whether its password may be checked at all.

    `state` is the name's state with this attempt counted; `lock` is the lock
    this very attempt set (the N-th), which only its own success may lift.
    """

    allowed: bool
    state: LockState
    lock: dt.datetime | None = None


class LoginThrottle:
    """Counts wrong passwords per login name in the database; thread- and process-safe."""

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
        self.failures = LoginFailures(db)
        self.max_failures = max_failures
        self.lockout = lockout
        self.clock = clock

    def state(self, username: str) -> LockState:
        """The name's lock right now (reads only)."""
        now = self.clock()
        return self._state(self.failures.read(_key(username)), now)

    def attempt(self, username: str) -> Attempt:
        """Count one attempt and decide, in one transaction, whether it may be checked.

        Call it before any hashing; a wrong password needs nothing more (it was
        counted here), a right one calls `record_success(username, attempt)`.
        """
        key = _key(username)
        now = self.clock()
        with self.failures.claim(key, now) as count:
            if count.locked_until is not None and count.locked_until > now:
                # Locked: refused unchecked, neither counted nor extending the lock.
                return Attempt(allowed=False, state=self._state(count, now))
            if count.locked_until is not None or now - count.last_failure_at >= self.lockout:
                count.failures, count.locked_until = 0, None  # an old story: start again
            count.failures += 1
            count.last_failure_at = now
            lock = None
            if count.failures >= self.max_failures:
                lock = now + self.lockout
                count.failures, count.locked_until = 0, lock
            state = self._state(count, now)
        # Counts past the cool-down that hold no lock mean nothing.
        self.failures.prune(keep=key, before=now - self.lockout, now=now)
        return Attempt(allowed=True, state=state, lock=lock)

    def record_success(self, username: str, attempt: Attempt | None = None) -> None:
        """The right password: forget the name's counted attempts.

        A lock stays: unless `attempt` is the very attempt that set it, nothing
        a success does lifts an active lock (another attempt, running at the
        same time, may have set it).
        """
        lock = attempt.lock if attempt is not None else None
        self.failures.forget(_key(username), now=self.clock(), lock=lock)

    def _state(self, count: FailureCount | None, now: dt.datetime) -> LockState:
        if count is None:
            return LockState(locked=False)
        if count.locked_until is not None and count.locked_until > now:
            return LockState(locked=True, remaining=count.locked_until - now)
        if count.locked_until is not None or now - count.last_failure_at >= self.lockout:
            return LockState(locked=False)
        return LockState(locked=False, failures=count.failures)


def _key(username: str) -> str:
    key = normalize_username(username)[:255]
    return key or "-"
