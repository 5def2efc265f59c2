"""Lockout after repeated wrong passwords, counted in the database: every process
(here: two separate engines on one database) sees the same count and lock, and
parallel attempts (threads, released at once) cannot check more passwords than
the limit, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import bcrypt
import pytest

from assistants_ui.auth import passwords
from assistants_ui.auth.lockout import LockState, LoginThrottle
from assistants_ui.auth.login import password_login
from assistants_ui.auth.passwords import CredentialStore, PasswordUser
from assistants_ui.storage import Database, Repository, StorageError, open_url
from assistants_ui.storage.models import LoginFailure

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
LOCK = dt.timedelta(minutes=15)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def second_db(db_url: str) -> Iterator[Database]:
    """Another engine on the same database: another app process, in effect."""
    other = open_url(db_url)
    try:
        yield other
    finally:
        other.dispose()


def throttle(db: Database, clock: Clock, max_failures: int = 3) -> LoginThrottle:
    return LoginThrottle(db, max_failures=max_failures, lockout=LOCK, clock=clock)


def test_locks_on_the_nth_failure_for_the_cool_down(db: Database, clock: Clock) -> None:
    t = throttle(db, clock)
    assert t.attempt("jsmith").state == LockState(locked=False, failures=1)
    clock.advance(seconds=10)
    assert t.attempt("jsmith").state.failures == 2
    state = t.attempt("JSmith ").state  # names ignore case and spaces
    assert state.locked and state.remaining == LOCK
    clock.advance(minutes=14, seconds=30)
    state = t.state("jsmith")
    assert state.locked and state.remaining == dt.timedelta(seconds=30)
    # Attempts while locked neither count nor extend the lock.
    assert t.attempt("jsmith").state.remaining == dt.timedelta(seconds=30)
    clock.advance(seconds=30)
    assert t.state("jsmith") == LockState(locked=False)
    # After the cool-down the count starts again from zero.
    assert t.attempt("jsmith").state == LockState(locked=False, failures=1)


def test_success_clears_and_old_failures_expire(db: Database, clock: Clock) -> None:
    t = throttle(db, clock)
    t.attempt("alice")
    t.attempt("alice")
    t.record_success("alice")
    assert t.state("alice") == LockState(locked=False)
    assert t.attempt("alice").state.failures == 1
    clock.advance(minutes=16)  # a typo long ago does not count any more
    assert t.state("alice") == LockState(locked=False)
    assert t.attempt("alice").state.failures == 1


def test_names_are_counted_separately_and_unknown_names_lock_too(
    db: Database, clock: Clock
) -> None:
    t = throttle(db, clock, max_failures=2)
    t.attempt("alice")
    t.attempt("no-such-user")
    assert t.attempt("no-such-user").state.locked
    assert not t.state("alice").locked and t.state("alice").failures == 1


def test_two_processes_share_count_and_lock(
    db: Database, second_db: Database, clock: Clock
) -> None:
    first, second = throttle(db, clock), throttle(second_db, clock)
    assert first.attempt("bob").state.failures == 1
    assert second.attempt("bob").state.failures == 2
    assert first.attempt("bob").state.locked
    assert second.state("bob").locked  # the other process refuses too
    second.record_success("bob")  # a success elsewhere does not lift the lock
    assert first.state("bob").locked


def test_the_page_builds_it_from_the_repository(db: Database, clock: Clock) -> None:
    repo = Repository(db)
    t = LoginThrottle(repo.db, max_failures=1, lockout=LOCK, clock=clock)
    assert t.attempt("carol").state.locked


def test_concurrent_failures_are_all_counted(db: Database, second_db: Database) -> None:
    """Four writers on two engines, each name new (the insert race) then contended."""
    throttles = [
        LoginThrottle(d, max_failures=1000, lockout=dt.timedelta(hours=1)) for d in (db, second_db)
    ]
    names = [f"user{i}" for i in range(12)]
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def hammer(t: LoginThrottle) -> None:
        try:
            start.wait()
            for name in names:
                for _ in range(3):
                    t.attempt(name)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(t,)) for t in throttles for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert [throttles[0].state(n).failures for n in names] == [12] * len(names)


def test_stale_rows_are_pruned(db: Database, clock: Clock) -> None:
    t = throttle(db, clock)
    for name in ("a", "b", "c"):
        t.attempt(name)
    clock.advance(minutes=20)
    t.attempt("d")
    with db.session() as s:
        assert sorted(r.subject for r in s.query(LoginFailure)) == ["d"]


def test_database_failures_are_one_storage_error(db: Database, clock: Clock) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE login_failures")
    with pytest.raises(StorageError) as caught:
        throttle(db, clock).attempt("x")
    assert "DATABASE_URL" in str(caught.value) and "login" in str(caught.value)
    assert caught.value.code == "failed"
    assert caught.value.slots["during"] == " while checking a login"


def test_policy_arguments_are_checked(db: Database) -> None:
    with pytest.raises(ValueError):
        LoginThrottle(db, max_failures=0)
    with pytest.raises(ValueError):
        LoginThrottle(db, lockout=dt.timedelta(0))


# -- parallel attempts: counted before any hashing ---------------------------------------


def _store(cost: int = 4) -> CredentialStore:
    hashed = bcrypt.hashpw(b"right-password-1", bcrypt.gensalt(cost)).decode()
    return CredentialStore(
        users={
            "alice": PasswordUser(
                username="alice", name="Alice", email="", password_hash=hashed, fingerprint="fp"
            )
        }
    )


def _race(throttles: list[LoginThrottle], store: CredentialStore, guesses: list[str]) -> list[Any]:
    """Every guess in its own thread, all released at once, across the throttles."""
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(guesses))
    lock = threading.Lock()

    def guess(index: int, password: str) -> None:
        try:
            start.wait()
            result = password_login(store, throttles[index % len(throttles)], "alice", password)
            with lock:
                results.append(result)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=guess, args=(i, g)) for i, g in enumerate(guesses)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    return results


def test_parallel_guesses_check_no_more_passwords_than_the_limit(
    db: Database, second_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: 48 guesses sent at once, from two app processes, with a limit of 5.

    Before, the lock was only read before bcrypt ran and the failure counted
    after, so all 48 passwords were checked. Now each attempt is counted, and
    the lock checked, in one transaction before any hashing.
    """
    checked: list[str] = []
    real_check = passwords._check
    monkeypatch.setattr(
        passwords, "_check", lambda pw, hashed: checked.append(pw) or real_check(pw, hashed)
    )
    throttles = [LoginThrottle(d, max_failures=5, lockout=LOCK) for d in (db, second_db)]
    results = _race(throttles, _store(), [f"guess-{i}" for i in range(48)])
    assert len(checked) == 5  # bcrypt ran five times, not 48
    assert sum(r.checked for r in results) == 5
    assert all(r.user is None for r in results)
    assert sum(r.locked for r in results) == 44  # one of the five set the lock
    assert throttles[0].state("alice").locked


def test_the_right_password_in_a_parallel_burst_never_lifts_the_lock(
    db: Database, clock: Clock
) -> None:
    """The attack: keep guessing while the owner (or a lucky guess) logs in.

    Before, a right password deleted the name's row, lock included, and the
    guessing went on unchecked. Now a success forgets counted attempts only
    when no lock is active, unless it is the attempt that set that lock.
    """
    store = _store()
    t = throttle(db, clock, max_failures=3)
    for _ in range(3):
        assert password_login(store, t, "alice", "wrong").user is None
    assert t.state("alice").locked
    refused = password_login(store, t, "alice", "right-password-1")
    assert refused.user is None and not refused.checked and refused.locked
    t.record_success("alice")  # a success from a check that began before the lock
    assert t.state("alice").locked

    # The attempt that reaches the limit may itself be the right password: that
    # login works, and its own lock goes with it.
    clock.advance(minutes=16)
    for _ in range(2):
        password_login(store, t, "alice", "wrong")
    last = password_login(store, t, "alice", "right-password-1")
    assert last.user is not None and last.checked
    assert t.state("alice") == LockState(locked=False)


def test_a_parallel_burst_with_the_right_password_checks_at_most_the_limit(
    db: Database, second_db: Database
) -> None:
    """The owner logging in during an attack: each right password starts the count
    again (the policy), so the wrong guesses checked are at most the limit for the
    attack plus the limit after each success, never the whole burst."""
    throttles = [LoginThrottle(d, max_failures=5, lockout=LOCK) for d in (db, second_db)]
    guesses = [f"guess-{i}" for i in range(40)] + ["right-password-1"] * 2
    results = _race(throttles, _store(), guesses)
    successes = sum(r.user is not None for r in results)
    wrong_checked = sum(r.checked and r.user is None for r in results)
    assert wrong_checked <= 5 * (1 + successes) < 40
    assert sum(not r.checked for r in results) >= 40 - 5 * (1 + successes)


def test_first_attempts_and_successes_at_once_never_collide(
    db: Database, second_db: Database
) -> None:
    """A name's first attempts arriving together, while successes delete its row:
    each attempt inserts the row or counts in it, never fails on the row another
    one inserted (PostgreSQL once failed the burst above with 'duplicate key value
    violates unique constraint "pk_login_failures"'). 20 rounds of 16 threads."""
    throttles = [LoginThrottle(d, max_failures=1000, lockout=LOCK) for d in (db, second_db)]
    errors: list[BaseException] = []

    def login(index: int, name: str, start: threading.Barrier) -> None:
        try:
            start.wait()
            throttle = throttles[index % 2]
            attempt = throttle.attempt(name)
            if index % 3 == 0:
                throttle.record_success(name, attempt)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    for round_ in range(20):
        start = threading.Barrier(16)
        threads = [
            threading.Thread(target=login, args=(i, f"first-{round_}", start)) for i in range(16)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    assert errors == []
    assert not throttles[0].state("first-0").locked
