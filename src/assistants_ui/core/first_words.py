"""First words first: while answers wait for this process to get their first words out,
work that nobody is waiting for steps aside.

Python runs one thread at a time, and fifty people sending at once start fifty
page runs, each followed by a worker reading its answer and frames repainting
it: a hundred threads taking turns. Taking turns, every first word comes out
when most of the work of every answer has been done (docs/benchmarks.md,
"2026-12-07: first words first"). So an answer is *waiting on us* from its
start until the request goes out to the model (but not while it waits for a
server to open its conversation, or uploads its files: its own large job), and
again from its first event until a page has written it to the browser
(`ReplyStream.shown`); while any answer is, the work that only makes other answers
longer or the page more complete (a worker reading an answer already shown, a
repaint, the sidebar, a checkpoint) waits for it, a moment at most
(`step_aside`). The time the model takes to answer is not waited for: a slow
model holds nobody up.
"""

from __future__ import annotations

import threading
import time

__all__ = ["FIRST_WORDS", "FirstWords"]


class FirstWords:
    """The answers of this process waiting on it for their first words."""

    def __init__(self, expire: float = 4.0) -> None:
        # An answer nobody paints (its tab closed) or stuck on a slow write counts no
        # longer than this: the others are never held up for long.
        self.expire = expire
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._waiting: dict[object, float] = {}  # an answer -> since when it waits on us

    def waiting_on_us(self, answer: object) -> None:
        """`answer` cannot go on until this process has done its part (sent its request,
        painted its first event)."""
        with self._lock:
            self._waiting[answer] = time.monotonic()

    def not_on_us(self, answer: object) -> None:
        """`answer` waits on us no more (its request went out, its first words were
        painted, it ended)."""
        with self._lock:
            if self._waiting.pop(answer, None) is not None:
                self._changed.notify_all()

    def waits(self, answer: object) -> bool:
        """Whether `answer` waits on us now."""
        with self._lock:
            self._others(None, time.monotonic())  # drops those waiting too long
            return answer in self._waiting

    def others(self, me: object = None) -> int:
        """How many answers besides `me` wait on us now."""
        with self._lock:
            return self._others(me, time.monotonic())

    def __len__(self) -> int:
        return self.others()

    def step_aside(self, limit: float, me: object = None) -> None:
        """Wait while an answer other than `me` waits on us, `limit` seconds at most."""
        if not self._waiting:  # the usual case: no lock taken
            return
        deadline = time.monotonic() + limit
        with self._lock:
            while (now := time.monotonic()) < deadline and self._others(me, now):
                oldest = min(self._waiting.values())
                self._changed.wait(min(deadline, oldest + self.expire) - now)

    def _others(self, me: object, now: float) -> int:
        """How many answers besides `me` wait on us (those waiting too long dropped)."""
        for key in [k for k, since in self._waiting.items() if now - since >= self.expire]:
            del self._waiting[key]
        return len(self._waiting) - (me in self._waiting)


FIRST_WORDS = FirstWords()
