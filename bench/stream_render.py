"""Benchmark: streaming a 2,000-word answer into the page, measured in Chromium.

    .venv/bin/python -m bench.stream_render        (or `make bench`)

The same reply (Markdown with paragraphs, lists, a code block and a table) is
streamed word by word from the fake OpenAI server into four pages, one after
the other, in one run:

* ours      - the app itself (`src/assistants_ui/web/entry.py`)
* naive     - repaint the whole text on every delta (what the original did)
* write_stream - Streamlit's own `st.write_stream`
* throttled - one placeholder repainted with the whole text every 50 ms

For each: the bytes the browser receives over the websocket while the answer
streams (Chrome DevTools Protocol frames via Playwright), the number of
websocket frames, the app process's CPU seconds (/proc), the visible repaints
per second while text arrives (animation frames in which the answer's
rendered text changed), and how often raw Markdown leaked into a paragraph (a split
inside a code block or table). Ratios are relative to the reply's own size.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from playwright.sync_api import Page, WebSocket, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser_support import free_port, launch_chromium, serving  # noqa: E402
from fakes.chat_routes import chat_chunks  # noqa: E402
from fakes.server import FakeOpenAI, Stream  # noqa: E402

PAGES = {
    "ours": ROOT / "src" / "assistants_ui" / "web" / "entry.py",
    "naive": ROOT / "bench" / "pages" / "naive.py",
    "write_stream": ROOT / "bench" / "pages" / "write_stream.py",
    "throttled": ROOT / "bench" / "pages" / "throttled.py",
}
WORD_DELAY = 0.006  # seconds between streamed words: ~150 words/s
END = "THE-END."

OBSERVER = """
() => {
  window.__paints = 0; window.__broken = 0; window.__first = 0; window.__last = 0;
  let pending = false, shown = -1;
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      // A visible repaint: the answer's rendered text changed in this frame.
      const msgs = main.querySelectorAll('[data-testid="stChatMessage"]');
      const length = msgs.length ? msgs[msgs.length - 1].textContent.length : 0;
      if (length === shown) return;
      shown = length;
      const now = performance.now();
      if (!window.__first) window.__first = now;
      window.__last = now;
      window.__paints += 1;
      for (const p of main.querySelectorAll('[data-testid="stChatMessage"] p')) {
        const t = p.textContent || '';
        if (t.includes('```') || t.includes('|---')) { window.__broken += 1; break; }
      }
    });
  }).observe(main, {subtree: true, childList: true, characterData: true});
}
"""


def reply_text(words: int = 2000) -> str:
    """A deterministic Markdown answer of about `words` words."""
    vocab = [
        "stream",
        "render",
        "answer",
        "token",
        "model",
        "paragraph",
        "browser",
        "element",
        "delta",
        "frame",
        "markdown",
        "table",
        "list",
        "code",
        "python",
        "chart",
        "file",
        "citation",
        "source",
        "user",
        "history",
    ]
    parts: list[str] = []
    count = 0
    section = 0
    while count < words:
        section += 1
        parts.append(f"## Section {section}")
        sentence = " ".join(vocab[(section * 7 + i) % len(vocab)] for i in range(60))
        parts.append(sentence.capitalize() + ".")
        parts.append(
            "\n".join(f"- item {section}.{i}: {vocab[i]} {vocab[-i]}" for i in range(1, 6))
        )
        if section % 2:
            parts.append(
                "```python\n"
                + "\n".join(f"def f{section}_{i}(x):\n    return x * {i}\n" for i in range(4))
                + "```"
            )
        else:
            rows = "\n".join(f"| {vocab[i]} | {i} | {i * section} |" for i in range(6))
            parts.append("| name | n | product |\n|---|---|---|\n" + rows)
        parts.append(" ".join(vocab[(section + i) % len(vocab)] for i in range(40)) + ".")
        count = len(re.findall(r"\S+", "\n\n".join(parts)))
    parts.append(END)
    return "\n\n".join(parts)


@dataclass
class Result:
    page: str
    reply_bytes: int
    ws_bytes: int
    ws_frames: int
    cpu_seconds: float
    stream_seconds: float
    paints: int
    paints_per_second: float
    broken_paints: int

    @property
    def ratio(self) -> float:
        return self.ws_bytes / self.reply_bytes


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(name: str, script: Path, fake: FakeOpenAI, text: str, page: Page) -> Result:
    pieces = re.findall(r"\S+\s*|\s+", text)
    fake.expect("chat.completions", Stream(chat_chunks(pieces), delay=WORD_DELAY))
    port = free_port()
    env = {
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_MODEL": "m",
        "OPENAI_MAX_RETRIES": "0",
        "ENABLED_FILE_UPLOAD_MESSAGE": "",
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    counters = {"bytes": 0, "frames": 0, "on": False}

    def on_ws(ws: WebSocket) -> None:
        def frame(payload: str | bytes) -> None:
            if counters["on"]:
                counters["bytes"] += len(payload)
                counters["frames"] += 1

        ws.on("framereceived", frame)

    with tempfile.TemporaryDirectory() as cwd, serving(command, port, cwd=cwd, env=env) as served:
        url, proc = served
        page.on("websocket", on_ws)
        page.goto(url)
        box = page.get_by_test_id("stChatInputTextArea")
        box.wait_for(state="visible", timeout=30_000)
        time.sleep(1.0)  # let the first run settle before counting
        page.evaluate(OBSERVER)
        cpu0 = cpu_seconds(proc.pid)
        counters["on"] = True
        t0 = time.monotonic()
        box.fill("Write 2,000 words.")
        box.press("Enter")
        page.get_by_text(END).last.wait_for(timeout=120_000)
        page.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stChatInputTextArea\"]').disabled",
            timeout=60_000,
        )
        elapsed = time.monotonic() - t0
        time.sleep(0.5)  # trailing frames
        counters["on"] = False
        cpu = cpu_seconds(proc.pid) - cpu0
        paints, broken, first, last = page.evaluate(
            "() => [window.__paints, window.__broken, window.__first, window.__last]"
        )
        page.remove_listener("websocket", on_ws)
    span = max((last - first) / 1000, 1e-6)
    return Result(
        name,
        len(text.encode()),
        int(counters["bytes"]),
        int(counters["frames"]),
        round(cpu, 2),
        round(elapsed, 1),
        int(paints),
        round(paints / span, 1),
        int(broken),
    )


def main() -> None:
    text = reply_text()
    words = len(re.findall(r"\S+", text))
    results: list[Result] = []
    with FakeOpenAI() as fake, sync_playwright() as pw:
        browser = launch_chromium(pw)
        for name, script in PAGES.items():
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            results.append(measure(name, script, fake, text, page))
            page.close()
            print(f"measured {name}", file=sys.stderr, flush=True)
        browser.close()
    reply = results[0].reply_bytes
    print(
        f"\nReply: {words} words, {reply / 1000:.1f} kB, streamed at ~{1 / WORD_DELAY:.0f} "
        "words/s from the fake server; Chromium headless.\n"
    )
    print("| page | ws bytes | x reply | ws frames | app CPU s | repaints/s | broken paints |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.page} | {r.ws_bytes / 1000:,.0f} kB | {r.ratio:.1f}x | {r.ws_frames:,} | "
            f"{r.cpu_seconds:.2f} | {r.paints_per_second:.1f} | {r.broken_paints} |"
        )
    ours = results[0]
    print(
        f"\nTarget: ours <= 5x the reply ({ours.ratio:.1f}x: "
        f"{'met' if ours.ratio <= 5 else 'NOT met'}), >= 10 repaints/s "
        f"({ours.paints_per_second:.1f}: {'met' if ours.paints_per_second >= 10 else 'NOT met'})"
        f", no broken paints ({ours.broken_paints})."
    )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "stream_render.json").write_text(
        json.dumps([asdict(r) | {"ratio": r.ratio} for r in results], indent=2)
    )


if __name__ == "__main__":
    main()
