"""The process's sweeps: temporary chats, retention, and deleted conversations' remote state.

One daemon thread per process (`Housekeeping.start`, started by the page's
first run), every `every` seconds (and at once when woken):

1. **Temporary chats** a page closed (`discard_soon`: a new chat, another
   conversation opened, the browser session gone) are deleted, any answer
   still being written in them stopped first; so are those past their
   `expires_at` (TEMPORARY_CHAT_HOURS), whichever page or replica made them.
2. **Retention** (RETENTION_DAYS): once a day, by one replica only (a
   `sweep_runs` claim with a lease that the run renews), every conversation
   whose last activity is older than the cut-off is deleted, one per
   transaction with its audit-log row (`storage.retention.Retention.purge`).
   A run cut short (a crash, a database failure) releases or outlives its
   claim and the next pass, on any replica, goes on from what is left:
   nothing is ever half-deleted. The usage ledger is never touched.
3. **Remote state** of conversations deleted by 1 and 2 (and by deleting a
   project) is deleted on its server (`delete_remote(profile_id, remote)`),
   a claimed batch at a time; a server that refuses is asked again later,
   at most `MAX_REMOTE_ATTEMPTS` times.

Nothing here raises out of the thread: a failure is logged and the next pass
tries again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from assistants_ui.core.backend import Remote
from assistants_ui.core.session import Registry
from assistants_ui.storage import Database, Repository
from assistants_ui.storage.models import utcnow
from assistants_ui.storage.retention import Retention

__all__ = ["RETENTION_JOB", "Housekeeping", "Pass"]

log = logging.getLogger(__name__)

RETENTION_JOB = "retention"
RETENTION_LEASE = dt.timedelta(minutes=10)  # renewed after every batch of a run
REMOTE_LEASE = dt.timedelta(minutes=5)
REMOTE_RETRY = dt.timedelta(minutes=5)  # times the attempts made so far
BATCH = 100


@dataclass
class Pass:
    """What one pass did (the tests and the log read it)."""

    temporary: int = 0
    purged: int = 0
    remote_deleted: int = 0
    remote_failed: int = 0
    errors: list[str] = field(default_factory=list)


class Housekeeping:
    """The sweeps of one process over the shared database (safe with several replicas)."""

    def __init__(
        self,
        db: Database,
        *,
        delete_remote: Callable[[str, Remote], bool],
        retention_days: int | None = None,
        every: float = 60.0,
        live: Registry | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        holder: str | None = None,
    ) -> None:
        """`delete_remote(profile_id, remote)` deletes one remote state on the server of
        that assistant (False: the assistant is not configured, so it cannot be); the
        page replaces it with one for the configuration as it is now;
        `live`: the process's answers being written, stopped before their temporary
        chat is deleted."""
        self.repo = Repository(db)
        self.retention = Retention(db)
        self.delete_remote = delete_remote
        self.retention_days = retention_days or None
        self.every = every
        self.live = live
        self.clock = clock
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._closed: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._passing = threading.Lock()  # one pass at a time (the thread's, a caller's)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what the page calls ---------------------------------------------------------------

    def discard_soon(self, user_id: int, conversation_id: str) -> None:
        """A temporary chat was closed: delete it on the next pass (woken now)."""
        with self._lock:
            self._closed.append((user_id, conversation_id))
        self._wake.set()

    def wake(self) -> None:
        """Run a pass now (remote state was just queued)."""
        self._wake.set()

    def start(self) -> Housekeeping:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="housekeeping", daemon=True)
                self._thread.start()
        return self

    # -- one pass ----------------------------------------------------------------------------

    def run_once(self) -> Pass:
        """One pass of every sweep (the thread's; tests call it directly): one at a time,
        so a caller's pass begins once the thread's is over."""
        done = Pass()
        with self._passing:
            for step in (self._temporary, self._retention, self._remote):
                try:
                    step(done)
                except Exception as exc:  # the database or a bug: logged, the next pass retries
                    log.warning("housekeeping: %s failed", step.__name__.strip("_"), exc_info=True)
                    done.errors.append(f"{type(exc).__name__}: {exc}")
        return done

    def _stop_answer(self, conversation_id: str) -> None:
        stream = self.live.get(conversation_id) if self.live is not None else None
        if stream is not None:
            stream.cancel("user")

    def _temporary(self, done: Pass) -> None:
        with self._lock:
            closed, self._closed = self._closed, []
        try:
            while closed:
                user_id, cid = closed[0]
                self._stop_answer(cid)
                if self.repo.discard_temporary(user_id=user_id, conversation_id=cid):
                    done.temporary += 1
                closed.pop(0)
        finally:
            with self._lock:  # what failed is tried again on the next pass
                self._closed[:0] = closed
        now = self.clock()
        for cid in self.retention.expired_temporary(now=now, limit=BATCH):
            self._stop_answer(cid)
            if self.retention.discard_expired(conversation_id=cid, now=now):
                done.temporary += 1
        if done.temporary:
            log.info("temporary chats deleted: %d", done.temporary)

    def _retention(self, done: Pass) -> None:
        days = self.retention_days
        if days is None:
            return
        now = self.clock()
        claimed = self.retention.claim(
            name=RETENTION_JOB,
            holder=self.holder,
            now=now,
            lease=RETENTION_LEASE,
            every=dt.timedelta(days=1),
        )
        if not claimed:
            return
        finished = False
        try:
            cutoff = now - dt.timedelta(days=days)
            while True:
                batch = self.retention.purge_candidates(cutoff=cutoff, limit=BATCH)
                for cid in batch:
                    if self.retention.purge(conversation_id=cid, cutoff=cutoff, days=days):
                        done.purged += 1
                if len(batch) < BATCH:
                    break
                if not self.retention.renew(
                    name=RETENTION_JOB, holder=self.holder, until=self.clock() + RETENTION_LEASE
                ):
                    log.warning("retention: another process took the run over")
                    return
            finished = True
        finally:
            self.retention.finish(
                name=RETENTION_JOB, holder=self.holder, now=self.clock(), done=finished
            )
            log.info(
                "retention: %d conversation(s) older than %d days purged%s",
                done.purged,
                days,
                "" if finished else " (run cut short; the next pass goes on)",
            )

    def _remote(self, done: Pass) -> None:
        while True:
            now = self.clock()
            batch = self.retention.claim_remote(now=now, lease=REMOTE_LEASE, limit=20)
            if not batch:
                return
            gone: list[int] = []
            for work in batch:
                try:
                    if not self.delete_remote(work.profile_id, work.remote):
                        log.warning(
                            "remote state of a deleted conversation left on the server: "
                            "the assistant %r is not configured any more",
                            work.profile_id,
                        )
                    gone.append(work.id)
                    done.remote_deleted += 1
                except Exception as exc:
                    done.remote_failed += 1
                    retry = now + REMOTE_RETRY * (work.attempts + 1)
                    if self.retention.remote_failed(work_id=work.id, retry_at=retry):
                        log.warning(
                            "gave up deleting the remote state of a deleted conversation "
                            "(assistant %r): %s",
                            work.profile_id,
                            exc,
                        )
            self.retention.remote_done(ids=gone)

    def _loop(self) -> None:
        while True:
            self.run_once()
            self._wake.wait(self.every)
            self._wake.clear()
