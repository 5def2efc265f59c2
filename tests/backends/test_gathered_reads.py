"""A streamed answer's events, read in batches after its first second
(`clients.JsonEvents`): each event read alone woke its answer's thread once, which
with fifty answers streaming was nearly half the app's CPU per answer."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

from assistants_ui.backends.clients import (
    GATHER_AFTER_SECONDS,
    GATHER_SECONDS,
    JsonEvents,
    client_for,
    json_events,
)
from assistants_ui.profiles import Connection
from fakes.chat_routes import chat_chunks
from fakes.server import FakeOpenAI, Stream


class Network:
    """Events as a socket gives them: those in `waits` after a wait for the network
    (20 ms), the others already there."""

    def __init__(self, count: int, waits: set[int]) -> None:
        self.count, self.waits = count, waits
        self.closed = False

    def __iter__(self) -> Iterator[object]:
        for index in range(self.count):
            if index in self.waits:
                threading.Event().wait(0.02)
            yield {"index": index}

    def close(self) -> None:
        self.closed = True


def test_the_first_events_are_read_as_they_come_then_a_wait_is_followed_by_a_pause() -> None:
    waited = {0, *range(1, 40, 4)}  # the first, then every fourth (three came with it)
    pauses: list[float] = []
    network = Network(40, waited)
    events = JsonEvents(network, pause=pauses.append, after=0.1)  # 0.1 s after the first
    seen = []
    first: float | None = None
    for event in events:
        assert isinstance(event, dict)
        first = time.monotonic() if first is None else first
        seen.append((event["index"], len(pauses), time.monotonic() - first))
    events.close()
    assert [index for index, _, _ in seen] == list(range(40)) and network.closed
    # No pause in the stream's first moments: the first words are among them.
    assert all(paused == 0 for _, paused, at in seen if at < 0.1)
    later_waits = [at for index, _, at in seen if index in waited and at >= 0.15]
    assert later_waits and len(later_waits) <= len(pauses) < len(seen) / 2
    assert set(pauses) == {GATHER_SECONDS}


def test_a_streamed_answer_from_a_server_arrives_in_batches_and_whole(fake: FakeOpenAI) -> None:
    """A real stream over loopback, a word every 10 ms for 2 s: after its first second,
    most events arrive in the same read as the one before them (within 2 ms), and none
    is lost."""
    pieces = [f"w{i} " for i in range(200)]
    fake.expect("chat.completions", Stream(chat_chunks(pieces), delay=0.01))
    conn = Connection(
        id=f"g{time.monotonic_ns()}", type="openai", base_url=fake.base_url, api_key="sk-test"
    )
    raw = client_for(conn).chat.completions.with_raw_response.create(
        model="m", messages=[{"role": "user", "content": "go"}], stream=True
    )
    events = json_events(raw)
    arrived: list[float] = []
    text = []
    try:
        for chunk in events:
            arrived.append(time.monotonic())
            assert isinstance(chunk, dict)
            for choice in chunk.get("choices") or []:
                text.append(choice["delta"].get("content") or "")
    finally:
        events.close()
    assert "".join(text) == "".join(pieces)
    later = arrived[0] + GATHER_AFTER_SECONDS + 0.1
    gaps = [b - a for a, b in itertools.pairwise(arrived) if a >= later]
    together = sum(gap < 0.002 for gap in gaps)
    assert len(gaps) > 20 and together >= len(gaps) / 2, f"{together} of {len(gaps)} at once"
