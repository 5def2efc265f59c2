"""Benchmark: the CPU to read a streamed answer's events, the SDK's objects against JSON.

    .venv/bin/python -m bench.stream_events

A 400-delta answer from the fake OpenAI server (tests/fakes), read through the
Responses API, side by side in one run: the SDK's typed stream
(`client.responses.create(stream=True)`, an object per event: what the backend
read before, without even translating it) and ours (`ResponsesBackend.open_stream`,
the events as JSON, and `Translator.feed` turning them into the page's events).
CPU seconds of the reading thread (the fake server runs in other threads),
median of 20 answers after 5 to warm up.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import openai

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from assistants_ui.backends.responses.backend import create  # noqa: E402
from assistants_ui.backends.responses.stream import Translator  # noqa: E402
from assistants_ui.profiles import Connection, Profile  # noqa: E402
from assistants_ui.settings import load_settings  # noqa: E402
from fakes.responses_routes import ResponseScript  # noqa: E402
from fakes.server import FakeOpenAI  # noqa: E402

DELTAS = 400
WARM, RUNS = 5, 20


def cpu_ms(fake: FakeOpenAI, read: Callable[[], int]) -> tuple[float, int]:
    words = [f"word{i} " for i in range(DELTAS)]
    times, events = [], 0
    for _ in range(WARM + RUNS):
        fake.expect("responses.create", ResponseScript().text(words).stream())
        t0 = time.thread_time()
        events = read()
        times.append(time.thread_time() - t0)
    return statistics.median(times[WARM:]) * 1000, events


def main() -> None:
    with FakeOpenAI() as fake:
        client = openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0)
        conn = Connection(id="bench", type="openai", base_url=fake.base_url, api_key="k")
        profile = Profile(id="p", title="P", backend="responses", connection="bench", model="m")
        backend = create(profile, conn, load_settings()[0])

        def typed() -> int:
            with client.responses.create(model="m", input="hi", stream=True) as stream:
                return sum(1 for _ in stream)

        def ours() -> int:
            stream, _ = backend.open_stream(
                dict(backend.request_base({}), input="hi"), background=False
            )
            tr = Translator(backend._fetch_file, backend._fetch_image, backend._remember_container)
            try:
                return sum(len(tr.feed(event)) for event in stream)
            finally:
                stream.close()

        before, n_typed = cpu_ms(fake, typed)
        after, n_ours = cpu_ms(fake, ours)
    print(f"A {DELTAS}-delta answer through the Responses API: CPU ms to read it")
    print("| reading | events | CPU ms (median of 20) |")
    print("|---|---:|---:|")
    print(f"| the SDK's objects, not translated | {n_typed} | {before:.1f} |")
    print(f"| ours: JSON, translated | {n_ours} out | {after:.1f} |")
    print(f"ours / the SDK's: {after / before:.2f}")


if __name__ == "__main__":
    main()
