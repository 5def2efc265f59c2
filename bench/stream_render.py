"""Benchmark: streaming answers of every shape into the page, measured in Chromium.

    .venv/bin/python -m bench.stream_render        (or `make bench`)
    .venv/bin/python -m bench.stream_render --shapes    (only the shape table)
    .venv/bin/python -m bench.stream_render --pages     (only the page comparison)
    .venv/bin/python -m bench.stream_render --conversation  (only the conversation table)

Two tables, one run. **Shapes**: the app itself (`src/assistants_ui/web/entry.py`)
answers six replies of different shapes (many short paragraphs, one long
paragraph, a 300-line code block, a 200-row table, a long list, and
code-interpreter code streamed through the Responses API), each at two speeds
from the fake OpenAI server: the bundled model's (~130 tokens/s, the reply cut
into the bundled model's own tokens) and ~170 words/s. **Pages**: the
friendly reply (many paragraphs) at ~170 words/s into four pages:

* ours      - the app itself
* naive     - repaint the whole text on every delta (what the original did)
* write_stream - Streamlit's own `st.write_stream`
* throttled - one placeholder repainted with the whole text every 50 ms

Ours runs with the options `assistants-ui run` gives Streamlit
(`cli.SERVER_OPTIONS`: websocket compression, the 1 kB message cache), the
other pages with Streamlit's defaults. For each: the bytes the app sends on
the websocket's connection while the answer streams (`bench.wire`, a counting
relay: what crosses the network, deflated where compression is on), the same
messages inflated as the page reads them (Chrome DevTools Protocol frames via
Playwright), the number of websocket frames, the app process's CPU seconds
(/proc), the visible repaints per second while text arrives (animation
frames in which the answer's rendered text changed), "broken paints" (frames
in which raw Markdown showed: a fence or a table row in a paragraph, a fence
inside a code block) and
whether the final answer is exact (as many code blocks, table rows and list
items as the reply has, the code blocks' text equal to the reply's code, the
end marker once). Ratios are relative to the reply's own size: "x reply" is
what crossed the network, "inflated" the messages the page parsed.

**Conversation** (a third table): every run repaints the whole conversation,
so each question costs the bytes of the answers before it. Eight questions in
one page, each answered with the long paragraph at ~170 words/s, with
Streamlit's default message cache (elements of 10 kB or more sent by
reference once the browser has them) and with ours (1 kB, `assistants-ui
run`'s `--global.minCachedMessageSize`): the websocket bytes of each question,
inflated (what the cache saves, whether or not the connection is compressed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from markdown_it import MarkdownIt
from playwright.sync_api import Browser, Page, WebSocket, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from assistants_ui.cli import SERVER_OPTIONS  # noqa: E402
from bench.wire import WireMeter, wire_meter  # noqa: E402
from browser_support import free_port, launch_chromium, serving  # noqa: E402
from fakes.chat_routes import chat_chunks  # noqa: E402
from fakes.responses_routes import ResponseScript  # noqa: E402
from fakes.server import FakeOpenAI, Stream  # noqa: E402

APP = ROOT / "src" / "assistants_ui" / "web" / "entry.py"
PAGES = {
    "ours": APP,
    "naive": ROOT / "bench" / "pages" / "naive.py",
    "write_stream": ROOT / "bench" / "pages" / "write_stream.py",
    "throttled": ROOT / "bench" / "pages" / "throttled.py",
}
WORD_DELAY = 0.006  # seconds between streamed words: ~167 words/s
TOKEN_DELAY = 1 / 130  # the bundled model in the app: ~117-130 tokens/s (see local_model)
END = "THE-END."

OBSERVER = """
() => {
  window.__paints = 0; window.__broken = 0; window.__first = 0; window.__last = 0;
  let pending = false, shown = -1;
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const rawRow = /^\\s*\\|.*\\|\\s*$/m;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      // A visible repaint: the answer's rendered text changed in this frame.
      const msgs = main.querySelectorAll('[data-testid="stChatMessage"]');
      const answer = msgs.length ? msgs[msgs.length - 1] : null;
      const length = answer ? answer.textContent.length : 0;
      if (length === shown) return;
      shown = length;
      const now = performance.now();
      if (!window.__first) window.__first = now;
      window.__last = now;
      window.__paints += 1;
      if (!answer) return;
      for (const p of answer.querySelectorAll('p')) {
        const t = p.textContent || '';
        if (t.includes('```') || t.includes('|---') || rawRow.test(t)) {
          window.__broken += 1;
          return;
        }
      }
      for (const pre of answer.querySelectorAll('pre')) {
        if ((pre.textContent || '').includes('```')) { window.__broken += 1; return; }
      }
    });
  }).observe(main, {subtree: true, childList: true, characterData: true});
}
"""

FINAL = """
() => {
  const msgs = document.querySelectorAll('[data-testid="stChatMessage"]');
  const answer = msgs[msgs.length - 1];
  return {
    pre: answer.querySelectorAll('pre').length,
    tr: answer.querySelectorAll('tr').length,
    li: answer.querySelectorAll('li').length,
    code: [...answer.querySelectorAll('pre')].map(p => p.innerText.replace(/\\n+$/, '')),
    text: answer.innerText,
  };
}
"""

VOCAB = [
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


def reply_text(words: int = 2000) -> str:
    """A deterministic friendly Markdown answer of about `words` words."""
    vocab = VOCAB
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


def _sentence(n: int, words: int) -> str:
    return " ".join(VOCAB[(n * 5 + i * 3) % len(VOCAB)] for i in range(words)).capitalize()


def long_paragraph() -> str:
    """One ~2,800-character paragraph with some inline Markdown, ending with the marker."""
    out = []
    for n in range(32):
        s = _sentence(n, 12)
        if n % 5 == 1:
            s += f" with **bold {n}** and `code_{n}`"
        if n % 7 == 3:
            s += f" and *emphasis {n}*"
        out.append(s + ".")
    return " ".join(out) + " " + END


def python_code(lines: int = 300) -> str:
    out: list[str] = []
    n = 0
    while len(out) < lines - 1:
        out += [
            f"def step_{n}(values: list[int], factor: int = {n % 7 + 1}) -> list[int]:",
            f'    """Scale the values of batch {n} and keep the positive ones."""',
            "    result = []",
            "    for value in values:",
            "        if value * factor > 0:",
            "            result.append(value * factor)",
            "    return result",
            "",
        ]
        n += 1
    out = out[: lines - 1]
    out.append(f"# {END}")
    return "\n".join(out)


def code_block() -> str:
    return "```python\n" + python_code() + "\n```"


def table(rows: int = 200) -> str:
    head = "| # | name | kind | value | note |\n|---:|---|---|---:|---|\n"
    body = "\n".join(
        f"| {i} | {VOCAB[i % len(VOCAB)]}_{i} | {VOCAB[(i * 3) % len(VOCAB)]} | "
        f"{i * 37 % 1000} | {'ok' if i % 3 else 'check'} |"
        for i in range(1, rows)
    )
    return head + body + f"\n| {rows} | last | end | 0 | {END} |"


def long_list(items: int = 150) -> str:
    out = [f"{i}. {_sentence(i, 6)} (`{VOCAB[i % len(VOCAB)]}`)" for i in range(1, items)]
    out.append(f"{items}. {END}")
    return "\n".join(out)


@dataclass(frozen=True)
class Shape:
    name: str
    text: str
    code: str = ""  # streamed as code-interpreter code before `text`

    @property
    def size(self) -> int:
        return len(self.text.encode()) + len(self.code.encode())


SHAPES = [
    Shape("many paragraphs", reply_text()),
    Shape("one long paragraph", long_paragraph()),
    Shape("300-line code block", code_block()),
    Shape("200-row table", table()),
    Shape("150-item list", long_list()),
    Shape("code-interpreter code (300 lines)", f"Ran it. {END}", python_code()),
]


# The smallest answer: what any answer costs besides its own text (the run that
# sends the message repaints the page: sidebar, input, the question, Copy, ...).
ONE_LINE = Shape("one line", f"Hi there. {END}")


def words(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


@cache
def _vocab_model() -> object | None:
    try:
        import llama_cpp

        from assistants_ui.backends.chat.local_engine import bundled_model_path
    except ImportError:
        return None
    path = bundled_model_path()
    if path is None:
        return None
    return llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)


def model_tokens(text: str) -> list[str]:
    """`text` cut into the bundled model's tokens (about 4 characters each if absent)."""
    model = _vocab_model()
    if model is None:
        return re.findall(r"\s*\S{1,4}|\s+", text)
    ids = model.tokenize(text.encode(), add_bos=False, special=False)  # type: ignore[attr-defined]
    pieces = [model.detokenize([i]).decode("utf-8", "replace") for i in ids]  # type: ignore[attr-defined]
    return pieces if "".join(pieces) == text else re.findall(r"\s*\S{1,4}|\s+", text)


SPEEDS: dict[str, tuple[Callable[[str], list[str]], float]] = {
    "~130 tokens/s": (model_tokens, TOKEN_DELAY),
    "~170 words/s": (words, WORD_DELAY),
}


@dataclass
class Result:
    page: str
    shape: str
    speed: str
    reply_bytes: int
    ws_bytes: int  # the messages as the page reads them (inflated)
    wire_bytes: int  # what the app sent on the websocket's connection (compressed)
    ws_frames: int
    cpu_seconds: float
    stream_seconds: float
    paints: int
    paints_per_second: float
    broken_paints: int
    final_exact: bool

    @property
    def ratio(self) -> float:
        return self.wire_bytes / self.reply_bytes

    @property
    def payload_ratio(self) -> float:
        return self.ws_bytes / self.reply_bytes


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def expect_reply(
    fake: FakeOpenAI, shape: Shape, cut: Callable[[str], list[str]], delay: float
) -> None:
    if shape.code:
        script = ResponseScript().code_interpreter(cut(shape.code)).text(cut(shape.text))
        fake.expect("responses.create", script.stream(delay=delay))
    else:
        fake.expect("chat.completions", Stream(chat_chunks(cut(shape.text)), delay=delay))


_md = MarkdownIt("commonmark").enable("table")


def final_exact(shape: Shape, final: dict[str, object]) -> bool:
    html = _md.render(shape.text)
    codes = [t.content.rstrip("\n") for t in _md.parse(shape.text) if t.type == "fence"]
    if shape.code:
        codes = [shape.code, *codes]
    return (
        final["pre"] == len(codes)
        and final["tr"] == html.count("<tr")
        and final["li"] == html.count("<li")
        and final["code"] == codes
        and str(final["text"]).count(END) == (shape.text + shape.code).count(END)
    )


COUNT_END = f"(n) => document.body.innerText.split({END!r}).length - 1 >= n"
ENABLED = """() => !document.querySelector('[data-testid="stChatInputTextArea"]').disabled"""


def _count_received(page: Page) -> list[int]:
    """[bytes, frames] received over the page's websockets so far, kept up to date."""
    received = [0, 0]

    def on_ws(ws: WebSocket) -> None:
        def frame(payload: str | bytes) -> None:
            received[0] += len(payload)
            received[1] += 1

        ws.on("framereceived", frame)

    page.on("websocket", on_ws)
    return received


def measure(
    name: str, wire: WireMeter, pid: int, fake: FakeOpenAI, page: Page, shape: Shape, speed: str
) -> Result:
    cut, delay = SPEEDS[speed]
    expect_reply(fake, shape, cut, delay)
    received = _count_received(page)
    page.goto(wire.url)
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(state="visible", timeout=30_000)
    time.sleep(1.0)  # let the first run settle before counting
    page.evaluate(OBSERVER)
    cpu0 = cpu_seconds(pid)
    bytes0, frames0, wire0 = *received, wire.received
    t0 = time.monotonic()
    box.fill("Answer, please.")
    box.press("Enter")
    page.get_by_text(END).last.wait_for(timeout=180_000)
    page.wait_for_function(ENABLED, timeout=60_000)
    elapsed = time.monotonic() - t0
    time.sleep(0.5)  # trailing frames
    ws_bytes, ws_frames = received[0] - bytes0, received[1] - frames0
    wire_bytes = wire.received - wire0
    cpu = cpu_seconds(pid) - cpu0
    paints, broken, first, last = page.evaluate(
        "() => [window.__paints, window.__broken, window.__first, window.__last]"
    )
    exact = final_exact(shape, page.evaluate(FINAL)) if name == "ours" else True
    span = max((last - first) / 1000, 1e-6)
    return Result(
        name,
        shape.name,
        speed,
        shape.size,
        ws_bytes,
        wire_bytes,
        ws_frames,
        round(cpu, 2),
        round(elapsed, 1),
        int(paints),
        round(paints / span, 1),
        int(broken),
        exact,
    )


def serve(
    script: Path, fake: FakeOpenAI, cwd: str, options: tuple[str, ...] = ()
) -> tuple[list[str], int, dict[str, str]]:
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
        *(SERVER_OPTIONS if script == APP else ()),  # ours as `assistants-ui run` runs it
        *options,
    ]
    return command, port, env


def run(
    browser: Browser,
    fake: FakeOpenAI,
    name: str,
    jobs: list[tuple[Shape, str]],
    env: dict[str, str],
) -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory() as cwd:
        command, port, base_env = serve(PAGES[name], fake, cwd)
        with (
            serving(command, port, cwd=cwd, env=base_env | env) as (url, proc),
            wire_meter(url) as wire,
        ):
            for shape, speed in jobs:
                context = browser.new_context(viewport={"width": 1200, "height": 900})
                page = context.new_page()
                results.append(measure(name, wire, proc.pid, fake, page, shape, speed))
                context.close()
                r = results[-1]
                print(
                    f"measured {name}: {shape.name} at {speed}: {r.ratio:.1f}x on the wire, "
                    f"{r.payload_ratio:.1f}x inflated",
                    file=sys.stderr,
                    flush=True,
                )
    return results


CACHES = {
    "Streamlit's default (10 kB)": ("--global.minCachedMessageSize", "10000"),
    "ours (1 kB)": ("--global.minCachedMessageSize", "1000"),
}


def conversation(browser: Browser, fake: FakeOpenAI, turns: int = 8) -> dict[str, list[int]]:
    """Websocket bytes of each question in one conversation, per message-cache size."""
    shape, (cut, delay) = SHAPES[1], SPEEDS["~170 words/s"]
    out: dict[str, list[int]] = {}
    for label, options in CACHES.items():
        with tempfile.TemporaryDirectory() as cwd:
            command, port, env = serve(APP, fake, cwd, options)
            with serving(command, port, cwd=cwd, env=env) as (url, _):
                context = browser.new_context(viewport={"width": 1200, "height": 900})
                page = context.new_page()
                received = _count_received(page)
                page.goto(url)
                box = page.get_by_test_id("stChatInputTextArea")
                box.wait_for(state="visible", timeout=30_000)
                per_turn = []
                for turn in range(1, turns + 1):
                    expect_reply(fake, shape, cut, delay)
                    time.sleep(0.5)
                    before = received[0]
                    box.fill(f"Question {turn}, please.")
                    box.press("Enter")
                    page.wait_for_function(COUNT_END, arg=turn, timeout=120_000)
                    page.wait_for_function(ENABLED, timeout=60_000)
                    time.sleep(0.5)  # trailing frames
                    per_turn.append(received[0] - before)
                context.close()
        out[label] = per_turn
        print(f"measured the conversation: {label}", file=sys.stderr, flush=True)
    return out


def conversation_table(out: dict[str, list[int]], reply: int) -> None:
    labels = list(out)
    print(f"\nOne conversation, each answer {reply:,} characters: websocket bytes per question")
    print("| question | " + " | ".join(labels) + " |")
    print("|---:|" + "---:|" * len(labels))
    for i in range(len(out[labels[0]])):
        print(f"| {i + 1} | " + " | ".join(f"{out[k][i] / 1000:.1f} kB" for k in labels) + " |")
    print("| all | " + " | ".join(f"{sum(out[k]) / 1000:.1f} kB" for k in labels) + " |")


def shape_table(results: list[Result]) -> None:
    speeds = list(SPEEDS)
    print(
        "\n| shape | reply chars | "
        + " | ".join(f"{s}: x reply | inflated | repaints/s | broken | final" for s in speeds)
        + " |"
    )
    print("|---|---:|" + "---:|---:|---:|---:|---|" * len(speeds))
    for shape in SHAPES:
        row = [r for r in results if r.shape == shape.name]
        cells = []
        for speed in speeds:
            r = next((x for x in row if x.speed == speed), None)
            cells.append(
                "- | - | - | - | -"
                if r is None
                else f"{r.ratio:.1f}x | {r.payload_ratio:.1f}x | {r.paints_per_second:.1f} | "
                f"{r.broken_paints} | "
                f"{'exact' if r.final_exact else 'NOT exact'}"
            )
        print(f"| {shape.name} | {shape.size:,} | " + " | ".join(cells) + " |")
    fixed = next((r for r in results if r.shape == ONE_LINE.name), None)
    results = [r for r in results if r.shape != ONE_LINE.name]
    if fixed is not None:
        print(
            f"\nAn answer's fixed cost, whatever its size: {fixed.wire_bytes / 1000:.1f} kB "
            f"({fixed.ws_bytes / 1000:.1f} kB inflated, {fixed.ws_frames} frames) for a "
            f"{fixed.reply_bytes}-byte answer; without it: "
            + ", ".join(
                f"{r.shape} {(r.wire_bytes - fixed.wire_bytes) / r.reply_bytes:.1f}x ({r.speed})"
                for r in results
            )
            + "."
        )
    worst = max(results, key=lambda r: r.ratio)
    slowest = min(results, key=lambda r: r.paints_per_second)
    print(
        f"\nTargets: every shape <= 5x the reply on the wire (worst {worst.ratio:.1f}x, "
        f"{worst.shape} at {worst.speed}: {'met' if worst.ratio <= 5 else 'NOT met'}; "
        f"inflated, worst {max(r.payload_ratio for r in results):.1f}x); >= 4 repaints/s "
        f"(slowest {slowest.paints_per_second:.1f}: "
        f"{'met' if slowest.paints_per_second >= 4 else 'NOT met'}); broken paints "
        f"{sum(r.broken_paints for r in results)}; final text exact in "
        f"{sum(r.final_exact for r in results)} of {len(results)}."
    )


def page_table(results: list[Result]) -> None:
    text = SHAPES[0].text
    n_words = len(re.findall(r"\S+", text))
    print(
        f"\nReply: {n_words} words, {results[0].reply_bytes / 1000:.1f} kB, streamed at "
        f"~{1 / WORD_DELAY:.0f} words/s from the fake server; Chromium headless.\n"
    )
    print(
        "| page | ws bytes | x reply | inflated | x reply | ws frames | app CPU s | repaints/s "
        "| broken paints |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.page} | {r.wire_bytes / 1000:,.0f} kB | {r.ratio:.1f}x | "
            f"{r.ws_bytes / 1000:,.0f} kB | {r.payload_ratio:.1f}x | {r.ws_frames:,} | "
            f"{r.cpu_seconds:.2f} | {r.paints_per_second:.1f} | {r.broken_paints} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", action="store_true", help="only the shape table")
    parser.add_argument("--pages", action="store_true", help="only the page comparison")
    parser.add_argument("--conversation", action="store_true", help="only the conversation")
    args = parser.parse_args()
    both = not (args.shapes or args.pages or args.conversation)
    shapes: list[Result] = []
    pages: list[Result] = []
    talk: dict[str, list[int]] = {}
    with FakeOpenAI() as fake, sync_playwright() as pw:
        browser = launch_chromium(pw)
        if both or args.shapes:
            chat = [(ONE_LINE, "~170 words/s")]
            chat += [(s, speed) for s in SHAPES if not s.code for speed in SPEEDS]
            shapes += run(browser, fake, "ours", chat, {})
            code = [(s, speed) for s in SHAPES if s.code for speed in SPEEDS]
            responses = {"OPENAI_API": "responses", "OPENAI_API_KEY": "sk-bench"}
            shapes += run(browser, fake, "ours", code, responses)
        if both or args.pages:
            for name in PAGES:
                pages += run(browser, fake, name, [(SHAPES[0], "~170 words/s")], {})
        if both or args.conversation:
            talk = conversation(browser, fake)
        browser.close()
    if shapes:
        shape_table(shapes)
    if pages:
        page_table(pages)
    if talk:
        conversation_table(talk, SHAPES[1].size)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "stream_render.json").write_text(
        json.dumps(
            {
                "runs": [asdict(r) | {"ratio": r.ratio} for r in shapes + pages],
                "conversation": talk,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
