"""Benchmark: the bundled model's tokens per second, raw llama-cpp-python vs the app.

    .venv/bin/python -m bench.local_model

Same GGUF, prompt, context size, thread count and token budget, measured side
by side in one run:

* raw      - `llama_cpp.Llama.create_chat_completion(stream=True)`
* engine   - our `LocalEngine.stream` (template from the GGUF, context fitting, lock)
* session  - a `ChatSession` with the chat backend (worker thread, queue, fold),
             polled once per page frame as the page does
* app      - the real page in headless Chromium: from the first visible token to
             the input being usable again, tokens as the engine counted them
             (read back from the app's own database)

Each path is measured with llama.cpp on every CPU and on the default (one CPU
left for the page): llama.cpp's threads spin while waiting for each other, so
a thread too many slows every token once the page and the browser need CPU too.
Rates are generated tokens / seconds from the first token to the last.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from assistants_ui.backends.chat.backend import ChatBackend  # noqa: E402
from assistants_ui.backends.chat.local_engine import (  # noqa: E402
    REPEAT_PENALTY,
    LocalEngine,
    bundled_model_path,
    default_threads,
)
from assistants_ui.core.session import ChatSession  # noqa: E402
from assistants_ui.profiles import Connection, Profile  # noqa: E402

PROMPT = "Write a long story about a lighthouse keeper and a storm."
SYSTEM = "You are a helpful assistant."
MAX_TOKENS = 256
CONTEXT = 2048
ALL_CPUS = os.cpu_count() or 1
RUNS = 3

# The text of the assistant message that follows the user message holding `prompt`.
# (The welcome message leaves the page with the first answer, so counting
# assistant messages does not find the new one.)
ANSWER_JS = """(prompt) => {
  const all = [...document.querySelectorAll('[data-testid=stChatMessage]')];
  const i = all.findIndex(m => m.innerText.includes(prompt));
  const next = i < 0 ? null : all[i + 1];
  const body = next && next.querySelector('[data-testid=stChatMessageContent]');
  return body ? body.innerText.trim() : '';
}"""
IDLE_JS = "() => !document.querySelector('[data-testid=\"stChatInputTextArea\"]').disabled"


def rate(stream: Iterator[str]) -> tuple[int, float]:
    first = last = 0.0
    count = 0
    for piece in stream:
        if not piece:
            continue
        now = time.perf_counter()
        first = first or now
        last = now
        count += 1
    return count, (count - 1) / (last - first) if count > 1 else 0.0


def count_tokens(text: str, threads: int) -> int:
    eng = LocalEngine.get(None, context_tokens=CONTEXT, threads=threads)
    return len(eng.llama.tokenize(text.encode(), add_bos=False))


def raw(threads: int) -> Iterator[str]:
    engine = LocalEngine.get(None, context_tokens=CONTEXT, threads=threads)
    llama = engine.llama  # the same loaded model: only the calling path differs
    for chunk in llama.create_chat_completion(
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}],
        max_tokens=MAX_TOKENS,
        temperature=0.2,
        repeat_penalty=REPEAT_PENALTY,
        stream=True,
    ):
        yield chunk["choices"][0]["delta"].get("content") or ""


def engine(threads: int) -> Iterator[str]:
    eng = LocalEngine.get(None, context_tokens=CONTEXT, threads=threads)
    turns = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}]
    for chunk in eng.stream(turns, max_tokens=MAX_TOKENS):
        yield chunk.text


def session_rate(threads: int) -> tuple[int, float]:
    from assistants_ui.web.chat_view import FRAME_SECONDS

    conn = Connection(
        id=f"local-{threads}",
        type="local",
        context_tokens=CONTEXT,
        threads=threads,
        max_tokens=MAX_TOKENS,
    )
    prof = Profile(
        id="local", title="Local", backend="chat", connection=conn.id, instructions=SYSTEM
    )
    chat = ChatSession(prof, ChatBackend(prof, conn))
    chat.submit(PROMPT)
    stream = chat.reply()
    first = 0.0
    while not stream.poll(FRAME_SECONDS):
        if not first and stream.message.text:
            first = time.perf_counter()
    end = time.perf_counter()
    tokens = count_tokens(stream.message.text, threads)
    return tokens, tokens / (end - first)


def app_rate(threads: int) -> tuple[int, float]:
    from playwright.sync_api import sync_playwright

    from browser_support import app_command, free_port, launch_chromium, serving

    port = free_port()
    env = {
        "LOCAL_MAX_TOKENS": str(MAX_TOKENS),
        "LOCAL_THREADS": str(threads),
        "LOCAL_CONTEXT_TOKENS": str(CONTEXT),
        "RUN_INSTRUCTIONS": SYSTEM,
    }
    with (
        tempfile.TemporaryDirectory() as cwd,
        serving(app_command(port), port, cwd=cwd, env=env) as (url, _),
        sync_playwright() as pw,
    ):
        browser = launch_chromium(pw)
        page = browser.new_page()
        page.goto(url)
        box = page.get_by_test_id("stChatInputTextArea")
        box.wait_for()
        box.fill("Hi")  # warm the model once so that loading is not measured
        box.press("Enter")
        page.wait_for_function(IDLE_JS, timeout=120_000)
        box.fill(PROMPT)
        box.press("Enter")
        deadline = time.monotonic() + 120
        while not page.evaluate(ANSWER_JS, PROMPT):
            if time.monotonic() > deadline:
                raise TimeoutError("no answer appeared in the page within 120 s")
            time.sleep(0.005)
        first = time.perf_counter()
        page.wait_for_function(IDLE_JS, timeout=120_000)
        end = time.perf_counter()
        browser.close()
        tokens = stored_output_tokens(Path(cwd) / "data" / "assistants-ui.db")
    return tokens, tokens / (end - first)


def stored_output_tokens(db: Path) -> int:
    """The token count the engine reported for the newest answer, as the app stored it."""
    with closing(sqlite3.connect(db)) as conn:
        row = conn.execute(
            "SELECT output_tokens FROM messages WHERE role = 'assistant'"
            " ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
    if not row or not row[0]:
        raise RuntimeError(f"no token count stored for the answer in {db}")
    return int(row[0])


def measure(fn: Callable[[], tuple[int, float]], runs: int = RUNS) -> tuple[int, float]:
    results = [fn() for _ in range(runs)]
    print(f"  {[(n, round(r, 1)) for n, r in results]}", file=sys.stderr, flush=True)
    return results[-1][0], statistics.median(r for _, r in results)


def main() -> None:
    model = bundled_model_path()
    counts = sorted({ALL_CPUS, default_threads()}, reverse=True)
    rows: list[tuple[str, int, int, float]] = []
    for threads in counts:
        LocalEngine.get(None, context_tokens=CONTEXT, threads=threads)  # load once
        rows.append(("raw llama-cpp-python", threads, *measure(lambda t=threads: rate(raw(t)))))
        rows.append(("LocalEngine.stream", threads, *measure(lambda t=threads: rate(engine(t)))))
        rows.append(
            ("ChatSession, polled per frame", threads, *measure(lambda t=threads: session_rate(t)))
        )
        rows.append(("app in Chromium", threads, *measure(lambda t=threads: app_rate(t), 1)))
    print(
        f"\nModel: {model.name if model else '?'}; {ALL_CPUS} CPUs; context {CONTEXT}; "
        f"max {MAX_TOKENS} tokens; median of {RUNS} runs (app: one run after a warm-up). "
        f"Default threads: {default_threads()}.\n"
    )
    print("| path | threads | tokens | tokens/s | vs raw, same threads |")
    print("|---|---:|---:|---:|---:|")
    base = {t: r for name, t, _, r in rows if name.startswith("raw")}
    for name, threads, tokens, r in rows:
        print(f"| {name} | {threads} | {tokens} | {r:.1f} | {r / base[threads]:.2f}x |")


if __name__ == "__main__":
    main()
