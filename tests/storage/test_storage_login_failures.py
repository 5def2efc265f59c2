"""Lockout after repeated wrong passwords, counted in the database: every process
(here: two separate engines on one database) sees the same count and lock."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest

from assistants_ui.auth.lockout import LockState, LoginThrottle
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
    assert t.record_failure("jsmith") == LockState(locked=False, failures=1)
    clock.advance(seconds=10)
    assert t.record_failure("jsmith").failures == 2
    state = t.record_failure("JSmith ")  # names ignore case and spaces
    assert state.locked and state.remaining == LOCK
    assert state.describe_remaining() == "15 minutes"
    clock.advance(minutes=14, seconds=30)
    state = t.state("jsmith")
    assert state.locked and state.describe_remaining() == "30 seconds"
    # Attempts while locked neither count nor extend the lock.
    assert t.record_failure("jsmith").remaining == dt.timedelta(seconds=30)
    clock.advance(seconds=30)
    assert t.state("jsmith") == LockState(locked=False)
    # After the cool-down the count starts again from zero.
    assert t.record_failure("jsmith") == LockState(locked=False, failures=1)


def test_success_clears_and_old_failures_expire(db: Database, clock: Clock) -> None:
    t = throttle(db, clock)
    t.record_failure("alice")
    t.record_failure("alice")
    t.record_success("alice")
    assert t.state("alice") == LockState(locked=False)
    assert t.record_failure("alice").failures == 1
    clock.advance(minutes=16)  # a typo long ago does not count any more
    assert t.state("alice") == LockState(locked=False)
    assert t.record_failure("alice").failures == 1


def test_names_are_counted_separately_and_unknown_names_lock_too(
    db: Database, clock: Clock
) -> None:
    t = throttle(db, clock, max_failures=2)
    t.record_failure("alice")
    t.record_failure("no-such-user")
    assert t.record_failure("no-such-user").locked
    assert not t.state("alice").locked and t.state("alice").failures == 1


def test_two_processes_share_count_and_lock(
    db: Database, second_db: Database, clock: Clock
) -> None:
    first, second = throttle(db, clock), throttle(second_db, clock)
    assert first.record_failure("bob").failures == 1
    assert second.record_failure("bob").failures == 2
    assert first.record_failure("bob").locked
    assert second.state("bob").locked  # the other process refuses too
    second.record_success("bob")
    assert not first.state("bob").locked


def test_the_page_builds_it_from_the_repository(db: Database, clock: Clock) -> None:
    repo = Repository(db)
    t = LoginThrottle(repo.db, max_failures=1, lockout=LOCK, clock=clock)
    assert t.record_failure("carol").locked


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
                    t.record_failure(name)
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
        t.record_failure(name)
    clock.advance(minutes=20)
    t.record_failure("d")
    with db.session() as s:
        assert sorted(r.subject for r in s.query(LoginFailure)) == ["d"]


def test_database_failures_are_one_storage_error(db: Database, clock: Clock) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE login_failures")
    with pytest.raises(StorageError) as caught:
        throttle(db, clock).record_failure("x")
    assert "DATABASE_URL" in str(caught.value) and "login" in str(caught.value)


def test_policy_arguments_are_checked(db: Database) -> None:
    with pytest.raises(ValueError):
        LoginThrottle(db, max_failures=0)
    with pytest.raises(ValueError):
        LoginThrottle(db, lockout=dt.timedelta(0))
