"""Who is writing an answer that is still being written, and whether they still are.

An answer being written is saved every few seconds (a checkpoint) with the
process that writes it (`this_writer()`: host, process id, start time) and
when (`written_at`). Whoever opens the conversation decides from that whether
it is still being written (by this process, or another replica that keeps
saving it) or was cut off (its process is gone: a crash, a `kill -9`, a
restart): `still_writing`.
"""

from __future__ import annotations

import os
import socket
import time
from functools import cache

__all__ = ["STALE_SECONDS", "still_writing", "this_writer"]

# A writer that has not saved for this long is gone (checkpoints come every few
# seconds, at least every ten, while an answer is written: core.live).
STALE_SECONDS = 30.0


def _started(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), None if it is gone
    or this is not Linux."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # After the command name in parentheses: field 22 is the start time.
            fields = stat.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()
    except (OSError, IndexError):
        return None


@cache
def this_writer() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_started(pid) or ''}"


def still_writing(
    writer: str | None, written_at: float | None, *, now: float | None = None
) -> bool:
    """Whether the answer saved by `writer` at `written_at` is still being written."""
    if not writer or written_at is None:
        return False
    if (now if now is not None else time.time()) - written_at > STALE_SECONDS:
        return False
    host, _, rest = writer.partition(":")
    pid_text, _, started = rest.partition(":")
    if writer == this_writer() or host != socket.gethostname() or not pid_text.isdigit():
        return True  # this process (its own list says more), or another machine's
    # Another process on this machine: gone if its id is free or now someone else's.
    return started != "" and _started(int(pid_text)) == started
