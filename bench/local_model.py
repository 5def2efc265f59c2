"""Benchmark: the bundled model's tokens per second, raw llama-cpp-python vs the app.

    .venv/bin/python -m bench.local_model

Same GGUF, prompt, context size, thread count and token budget, measured side
by side in one run:

* raw      - `llama_cpp.Llama.create_chat_completion(stream=True)`
* engine   - our `LocalEngine.stream` (template from the GGUF, context fitting, lock)
* session  - a `ChatSession` with the chat backend (worker thread, queue, fold)
* app      - the real page in headless Chromium: from the first visible token to
             the input being usable again, tokens counted with the model's tokenizer

Rates are generated tokens / seconds from the first token to the last.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from assistants_ui.backends.chat import ChatBackend  # noqa: E402
from assistants_ui.backends.local_engine import (  # noqa: E402
    REPEAT_PENALTY,
    LocalEngine,
    bundled_model_path,
)
from assistants_ui.core.session import ChatSession  # noqa: E402
from assistants_ui.profiles import Connection, Profile  # noqa: E402

PROMPT = "Write a long story about a lighthouse keeper and a storm."
SYSTEM = "You are a helpful assistant."
MAX_TOKENS = 256
CONTEXT = 2048
THREADS = os.cpu_count() or 1
RUNS = 3


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


def raw() -> Iterator[str]:
    engine = LocalEngine.get(None, context_tokens=CONTEXT, threads=THREADS)
    llama = engine.llama  # the same loaded model: only the calling path differs
    for chunk in llama.create_chat_completion(
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}],
        max_tokens=MAX_TOKENS,
        temperature=0.2,
        repeat_penalty=REPEAT_PENALTY,
        stream=True,
    ):
        yield chunk["choices"][0]["delta"].get("content") or ""


def engine() -> Iterator[str]:
    eng = LocalEngine.get(None, context_tokens=CONTEXT, threads=THREADS)
    turns = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}]
    for chunk in eng.stream(turns, max_tokens=MAX_TOKENS):
        yield chunk.text


def session() -> Iterator[str]:
    conn = Connection(
        id="local", type="local", context_tokens=CONTEXT, threads=THREADS, max_tokens=MAX_TOKENS
    )
    prof = Profile(
        id="local", title="Local", backend="chat", connection="local", instructions=SYSTEM
    )
    chat = ChatSession(prof, ChatBackend(prof, conn))
    chat.submit(PROMPT)
    stream = chat.reply()
    seen = 0
    while not stream.poll(0.005):
        text = stream.message.text
        if len(text) > seen:
            yield text[seen:]  # one yield per fold that changed the text
            seen = len(text)
    # tokens, not folds, are what we rate: count them on the final text below
    yield ""


def session_rate() -> tuple[int, float]:
    eng = LocalEngine.get(None, context_tokens=CONTEXT, threads=THREADS)
    start = time.perf_counter()
    first = 0.0
    text = ""
    for piece in session():
        if piece and not first:
            first = time.perf_counter()
        text += piece
    end = time.perf_counter()
    del start
    tokens = len(eng.llama.tokenize(text.encode(), add_bos=False))
    return tokens, (tokens - 1) / (end - first)


def app_rate() -> tuple[int, float]:
    from playwright.sync_api import sync_playwright

    from browser_support import app_command, free_port, launch_chromium, serving

    port = free_port()
    env = {
        "LOCAL_MAX_TOKENS": str(MAX_TOKENS),
        "LOCAL_THREADS": str(THREADS),
        "LOCAL_CONTEXT_TOKENS": str(CONTEXT),
        "RUN_INSTRUCTIONS": SYSTEM,
    }
    idle = "() => !document.querySelector('[data-testid=\"stChatInputTextArea\"]').disabled"
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
        # Warm the model once so that loading is not measured.
        box.fill("Hi")
        box.press("Enter")
        page.wait_for_function(idle, timeout=120_000)
        page.get_by_role("button", name="New chat").click()
        page.wait_for_function(idle, timeout=120_000)
        box.fill(PROMPT)
        box.press("Enter")
        page.get_by_role("group", name="Chat message from user").wait_for()
        answers = page.get_by_role("group", name="Chat message from assistant")
        while not (answers.count() >= 1 and answers.last.inner_text().strip()):
            time.sleep(0.01)
        t_first = time.perf_counter()
        page.wait_for_function(idle, timeout=120_000)
        t_end = time.perf_counter()
        text = answers.last.inner_text()
        browser.close()
    eng = LocalEngine.get(None, context_tokens=CONTEXT, threads=THREADS)
    tokens = len(eng.llama.tokenize(text.encode(), add_bos=False))
    return tokens, tokens / (t_end - t_first)


def measure(name: str, fn: Callable[[], tuple[int, float]]) -> tuple[str, int, float]:
    rates = []
    tokens = 0
    for _ in range(RUNS):
        tokens, r = fn()
        rates.append(r)
    return name, tokens, statistics.median(rates)


def main() -> None:
    model = bundled_model_path()
    LocalEngine.get(None, context_tokens=CONTEXT, threads=THREADS)  # load once
    rows = [
        measure("raw llama-cpp-python", lambda: rate(raw())),
        measure("LocalEngine.stream", lambda: rate(engine())),
        measure("ChatSession (worker + fold)", session_rate),
    ]
    rows.append(("app in Chromium", *app_rate()))
    print(
        f"\nModel: {model.name if model else '?'}; {THREADS} threads; context {CONTEXT}; "
        f"max {MAX_TOKENS} tokens; median of {RUNS} runs (app: 1 run after a warm-up).\n"
    )
    print("| path | tokens | tokens/s | vs raw |")
    print("|---|---:|---:|---:|")
    base = rows[0][2]
    for name, tokens, r in rows:
        print(f"| {name} | {tokens} | {r:.1f} | {r / base:.2f}x |")


if __name__ == "__main__":
    main()
