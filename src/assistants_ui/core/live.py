"""The answers being written in this process, which outlive the page that asked.

An answer (`ReplyStream`) runs in its own worker thread and saves itself when
it ends, so a closed tab, a reload or another conversation opened does not
stop it. `LiveAnswers` is the process's list of them, by conversation, so
that a page opening a conversation follows the answer still being written
there. One housekeeping thread, started with the first answer, every
`checkpoint_seconds`:

- saves each answer's text so far when it changed (`ReplyStream.checkpoint`):
  after a crash, what the reader had seen is kept, marked cut off (first its
  question, if that waits to be saved: `ChatSession.ask` with `later`);
- stops an answer that no page has shown for `unattended_seconds` (the
  operator's UNATTENDED_ANSWER_MINUTES), marked stopped by the server.

`stop_all` stops every answer (the app's shutdown: `web/server.py`'s lifespan
calls `stop_every`), each saved as stopped.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import ClassVar

from assistants_ui.core.first_words import FIRST_WORDS
from assistants_ui.core.session import ReplyStream
from assistants_ui.core.transcript import StopCause

__all__ = ["WATCH_GRACE", "LiveAnswers"]

# A page that shows an answer marks it watched every frame; between two runs (a click
# reruns the page) or two frames of a busy server it may not for a moment.
WATCH_GRACE = 3.0

log = logging.getLogger(__name__)


class LiveAnswers:
    """The process's answers being written, by conversation id."""

    _every: ClassVar[weakref.WeakSet[LiveAnswers]] = weakref.WeakSet()  # for the shutdown

    @classmethod
    def stop_every(cls, cause: StopCause = "shutdown") -> int:
        """`stop_all` on every registry of the process (the app's shutdown hook)."""
        return sum(live.stop_all(cause) for live in list(cls._every))

    @classmethod
    def count_every(cls) -> int:
        """The answers being written in this process, every registry's (telemetry's gauge)."""
        return sum(len(live) for live in list(cls._every))

    def __init__(
        self,
        *,
        checkpoint_seconds: float = 1.0,
        unattended_seconds: float | None = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.checkpoint_seconds = checkpoint_seconds
        # None: an answer nobody watches runs to its end, however long.
        self.unattended_seconds = unattended_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._answers: dict[str, ReplyStream] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        LiveAnswers._every.add(self)

    def add(self, stream: ReplyStream) -> None:
        """Keep `stream`, by its conversation (by its own id until the conversation is
        saved: `ChatSession.ask` with `later`; adding it again then moves it)."""
        key = stream.session.conversation_id or stream.message.id
        with self._lock:
            for old in [k for k, kept in self._answers.items() if kept is stream]:
                del self._answers[old]
            self._answers[key] = stream
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._housekeeping, name="live-answers", daemon=True
                )
                self._thread.start()

    def remove(self, stream: ReplyStream) -> None:
        with self._lock:
            for key, kept in list(self._answers.items()):
                if kept is stream:
                    del self._answers[key]

    def get(self, conversation_id: str) -> ReplyStream | None:
        """The answer being written in `conversation_id`, if any."""
        with self._lock:
            stream = self._answers.get(conversation_id)
        return stream if stream is not None and not stream.done else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._answers)

    def streams(self) -> list[ReplyStream]:
        with self._lock:
            return list(self._answers.values())

    def stop_all(self, cause: StopCause = "shutdown") -> int:
        """Stop every answer (each saved, marked stopped by `cause`); how many were."""
        stopped = 0
        for stream in self.streams():
            if not stream.done:
                stream.cancel(cause)
                stopped += 1
        return stopped

    def sweep(self) -> None:
        """One round of housekeeping: checkpoints, then unwatched answers stopped."""
        FIRST_WORDS.step_aside(self.checkpoint_seconds)  # saves wait for first words
        now = self._clock()
        for stream in self.streams():
            try:
                limit = self.unattended_seconds
                if limit is not None and now - stream.watched_at > limit + WATCH_GRACE:
                    log.info(
                        "answer stopped: nobody watched it for %g s (conversation=%s)",
                        limit,
                        stream.session.conversation_id,
                    )
                    stream.cancel("unattended")
                else:
                    stream.checkpoint()
            except Exception:  # storage down: the next round tries again, the answer goes on
                log.warning("could not checkpoint an answer", exc_info=True)

    def _housekeeping(self) -> None:
        while True:
            self._wake.wait(self.checkpoint_seconds)
            self._wake.clear()
            self.sweep()
