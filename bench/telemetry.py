"""Benchmark: what telemetry costs per answer, off, metrics, traces, both.

    .venv/bin/python -m bench.telemetry [--answers 100] [--rounds 5]

First the hooks alone: what one answer's calls into telemetry cost (its
stream and watch made and ended, a backend request, 400 deltas and a hosted
tool call told, four storage calls), CPU of the calling thread, the best of 5
runs of 200, against the same calls with nothing configured ("off"); and what
exporting one answer's spans costs the batch processor's thread.
Deterministic enough on a busy machine.

Then whole answers: each is a real `ChatSession` answer in a new conversation, saved to
SQLite by the `StorageRecorder` (the storage calls are part of what is traced
and timed), from an in-process scripted backend: 400 text deltas, a hosted
tool call, the usage. The traces go over OTLP/HTTP to a receiver in another
process (`tests/fakes/otlp.py`: its decoding is not counted); the metrics are
recorded (and served on a port nobody scrapes). The modes take turns, round
after round; per mode, the median over rounds of the process's CPU seconds
per answer (the batch processor's export included: each round ends with a
flush) and of the wall time per answer.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "storage"))

from scripted import PROFILE, ScriptedBackend  # noqa: E402

from assistants_ui import telemetry  # noqa: E402
from assistants_ui.core import events as ev  # noqa: E402
from assistants_ui.core import observe  # noqa: E402
from assistants_ui.core.session import ChatSession, ReplyStream  # noqa: E402
from assistants_ui.core.transcript import Message  # noqa: E402
from assistants_ui.settings import load_settings  # noqa: E402
from assistants_ui.storage import Repository, StorageRecorder, open_url  # noqa: E402
from browser_support import free_port  # noqa: E402

DELTAS = 400
EVENTS: list[ev.StreamEvent] = [
    ev.ToolCallStarted("ci_1", "code_interpreter"),
    ev.ToolCallDone("ci_1"),
    *(ev.TextDelta(f"word{i} ") for i in range(DELTAS)),
    ev.Done(usage=ev.Usage(120, DELTAS)),
]
RECEIVER = """
import sys, threading
sys.path.insert(0, sys.argv[1])
from fakes.otlp import OtlpReceiver
receiver = OtlpReceiver().start()
print(receiver.url, flush=True)
sys.stdin.read()  # until the bench closes it
"""


def hooks(question: Message, chat: ChatSession) -> None:
    """Every call one answer makes into telemetry, without the answer."""
    stream = ReplyStream(chat, question)
    watch = stream.telemetry
    observer = observe.current()
    storage = observer.storage if observer is not None else lambda _: nullcontext()
    with watch.current():
        with storage("Messages.save_message"):
            pass
        with watch.backend("send"):
            for event in EVENTS:
                if stream._observed is not None:
                    stream._observed(event)
        for _ in range(3):
            with storage("Messages.save_message"):
                pass
    watch.ended(Message("assistant", input_tokens=120, output_tokens=DELTAS))


def cpu_us(work: Callable[[], None], n: int = 200) -> float:
    best = []
    for _ in range(5):
        t0 = time.thread_time()
        for _ in range(n):
            work()
        best.append((time.thread_time() - t0) / n)
    return min(best) * 1e6


def hooks_alone(modes: dict[str, dict[str, object]]) -> None:
    chat = ChatSession(PROFILE, ScriptedBackend([]))
    question = chat.submit("Hello", [])
    print("The hooks of one answer (CPU of the calling thread, best of 5 x 200):\n")
    print("| telemetry | µs / answer | vs off | export µs / answer |")
    print("|---|---:|---:|---:|")
    base = 0.0
    for mode, settings in modes.items():
        running = telemetry.start(load_settings(**settings)[0])
        spent = cpu_us(lambda: hooks(question, chat))
        export = 0.0
        if running is not None and running.tracing is not None:
            running.tracing.flush()
            for _ in range(200):
                hooks(question, chat)
            t0 = time.thread_time()
            running.tracing.flush()  # on this thread: the processor's export, measured
            export = (time.thread_time() - t0) / 200 * 1e6
        base = base or spent  # "off": the answer's own bookkeeping, without telemetry
        print(f"| {mode} | {spent:.0f} | {spent - base:+.0f} | {export:.0f} |")
        telemetry.stop()
    print()


def answer(recorder: StorageRecorder) -> None:
    chat = ChatSession(PROFILE, ScriptedBackend(EVENTS), recorder=recorder)
    chat.submit("Hello", [])
    message = chat.reply().run_to_end()
    assert message.status == "complete", message.status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=100, help="answers per mode and round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    receiver = subprocess.Popen(
        [sys.executable, "-c", RECEIVER, str(ROOT / "tests")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert receiver.stdout is not None
    endpoint = receiver.stdout.readline().strip()
    modes = {
        "off": {},
        "metrics": {"metrics_port": free_port(), "metrics_address": "127.0.0.1"},
        "traces": {"otel_exporter_otlp_endpoint": endpoint},
        "both": {
            "otel_exporter_otlp_endpoint": endpoint,
            "metrics_port": free_port(),
            "metrics_address": "127.0.0.1",
        },
    }
    hooks_alone(modes)
    cpu: dict[str, list[float]] = {mode: [] for mode in modes}
    wall: dict[str, list[float]] = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory() as tmp:
        db = open_url(f"sqlite:///{Path(tmp) / 'bench.db'}")
        repo = Repository(db)
        user = repo.ensure_user(auth_provider="password", subject="b", display_name="B")
        recorder = StorageRecorder(repo, user_id=user.id)
        for _ in range(3):  # warm up: imports, the database's first pages
            answer(recorder)
        try:
            for _ in range(args.rounds):
                for mode, settings in modes.items():
                    running = telemetry.start(load_settings(**settings)[0])
                    assert (running is None) == (mode == "off")
                    c0, w0 = time.process_time(), time.perf_counter()
                    for _ in range(args.answers):
                        answer(recorder)
                    if running is not None and running.tracing is not None:
                        running.tracing.flush()  # the export's CPU counts too
                    cpu[mode].append((time.process_time() - c0) / args.answers)
                    wall[mode].append((time.perf_counter() - w0) / args.answers)
                    telemetry.stop()
        finally:
            db.dispose()
            assert receiver.stdin is not None
            receiver.stdin.close()
            receiver.wait(10)

    base_cpu = statistics.median(cpu["off"])
    base_wall = statistics.median(wall["off"])
    print(
        f"Whole answers ({args.answers} x {args.rounds} rounds per mode; {DELTAS} deltas, "
        "a hosted tool call, SQLite; CPU of the process, median of the rounds):\n"
    )
    print("| telemetry | CPU ms / answer | vs off | wall ms / answer | vs off |")
    print("|---|---:|---:|---:|---:|")
    for mode in modes:
        c, w = statistics.median(cpu[mode]), statistics.median(wall[mode])
        print(
            f"| {mode} | {c * 1000:.2f} | {(c - base_cpu) * 1000:+.2f} | "
            f"{w * 1000:.2f} | {(w - base_wall) * 1000:+.2f} |"
        )


if __name__ == "__main__":
    main()
