"""Benchmark: history in the real page, in headless Chromium.

    .venv/bin/python -m bench.history_page

Seeds one browser's history (SQLite): 5,000 conversations of 4 messages and
one of 1,000 messages (Markdown, code, every 20th answer with a chart). Then,
against the app started as `make run` starts it:

* open the 1,000-message conversation by its link (`?c=<id>`): time until the
  newest 50 messages are painted (target: 1 s), and from a click on "Load
  older messages" until 50 more are painted;
* search the sidebar over 5,000 conversations: time from Enter in the search
  box until the matching conversation is listed (target: 200 ms), with the
  long conversation open and with a new chat.

Each figure is the median of several runs, measured in the browser from the
user's action to the painted result.
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from assistants_ui.auth.cookies import sign_guest  # noqa: E402
from assistants_ui.auth.sessions import GUEST_KEY, server_key  # noqa: E402
from assistants_ui.core.transcript import ImagePart, Message, TextPart  # noqa: E402
from assistants_ui.storage import Repository, open_url  # noqa: E402
from browser_support import app_command, free_port, launch_chromium, serving  # noqa: E402

TOKEN = "bench-browser-token-0123456789ab"  # 32 characters, like real ones
COOKIE = "assistants_ui_browser"
RUNS = 5


def chart() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (30, 110, 180)).save(out, format="PNG")
    return out.getvalue()


def seed(url: str) -> tuple[str, str, str]:
    """Returns (long conversation id, a search word unique to one conversation,
    the guest cookie's value: the token signed with the database's key)."""
    repo = Repository(open_url(url))
    cookie = sign_guest(server_key(repo.db, GUEST_KEY), TOKEN)
    user = repo.ensure_user(auth_provider="anonymous", subject=TOKEN, display_name="Guest")
    png = chart()
    for i in range(5000):
        info = repo.create_conversation(user_id=user.id, profile_id="local", backend="chat")
        for j in range(2):
            repo.save_message(
                user_id=user.id,
                conversation_id=info.id,
                message=Message.user(f"Question {i}-{j} about topic{i}"),
            )
            repo.save_message(
                user_id=user.id,
                conversation_id=info.id,
                message=Message(
                    role="assistant", parts=[TextPart(f"Answer {i}-{j}: some words here.")]
                ),
            )
    long = repo.create_conversation(
        user_id=user.id, profile_id="local", backend="chat", title="The long one"
    )
    for k in range(500):
        repo.save_message(
            user_id=user.id,
            conversation_id=long.id,
            message=Message.user(f"Question number {k}: explain item {k}."),
        )
        parts: list[TextPart | ImagePart] = [
            TextPart(
                f"## Item {k}\n\nA paragraph about item {k} with **bold** words and a list:\n\n"
                f"- first point\n- second point\n\n```python\nprint({k})\n```\n"
            )
        ]
        if k % 20 == 0:
            parts.append(ImagePart("chart.png", "image/png", png))
        repo.save_message(
            user_id=user.id,
            conversation_id=long.id,
            message=Message(role="assistant", parts=list(parts)),
        )
    return long.id, "topic4321", cookie


def painted(page: Page, count: int) -> None:
    page.wait_for_function(
        f"() => document.querySelectorAll('[data-testid=\"stChatMessage\"]').length >= {count}",
        timeout=60_000,
    )


def idle(page: Page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )


def open_long(page: Page, url: str) -> tuple[float, float]:
    start = time.perf_counter()
    page.goto(url)
    painted(page, 50)
    opened = time.perf_counter() - start
    idle(page)
    # Timed from the click itself: Playwright's own click first waits for the
    # button to stop moving while the page settles its scroll, about a second
    # that no person clicking a visible button waits.
    button = page.get_by_role("button", name="Load older messages")
    button.scroll_into_view_if_needed()
    start = time.perf_counter()
    button.evaluate("b => b.click()")
    painted(page, 100)
    older = time.perf_counter() - start
    return opened, older


def search(page: Page, word: str) -> float:
    box = page.get_by_placeholder("Search titles and messages")
    found = page.get_by_test_id("stSidebar").get_by_role(
        "button", name=f"Question 4321-0 about {word}"
    )
    # Start from the unfiltered list, where the match is not shown (it is older
    # than the first page), so that waiting for it measures this search.
    box.fill("")
    box.press("Enter")
    found.wait_for(state="detached", timeout=30_000)
    idle(page)
    box.fill(word)
    start = time.perf_counter()
    box.press("Enter")
    found.wait_for(timeout=30_000)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/bench.db"
        t0 = time.perf_counter()
        long_id, word, cookie = seed(db)
        print(f"seeded in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        port = free_port()
        with (
            serving(app_command(port), port, cwd=tmp, env={"DATABASE_URL": db}) as (base, _),
            sync_playwright() as pw,
        ):
            browser = launch_chromium(pw)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies(
                [{"name": COOKIE, "value": cookie, "domain": "127.0.0.1", "path": "/"}]
            )
            page = context.new_page()
            page.goto(base)  # warm-up: first run, caches
            idle(page)
            opens, olders, searches_open, searches_new = [], [], [], []
            for _ in range(RUNS):
                o, old = open_long(page, f"{base}/?c={long_id}")
                opens.append(o)
                olders.append(old)
                idle(page)
                searches_open.append(search(page, word))
            for _ in range(RUNS):
                page.goto(base)
                idle(page)
                searches_new.append(search(page, word))
            browser.close()
    rows = [
        ("open ?c= : newest 50 of 1,000 messages painted", opens, 1000),
        ("load older: 50 more painted", olders, 1000),
        ("sidebar search over 5,000 (long conversation open)", searches_open, 200),
        ("sidebar search over 5,000 (new chat)", searches_new, 200),
    ]
    print(f"\nSQLite; {RUNS} runs each, median (min-max); browser-measured.\n")
    print("| measure | ms | x target | target ms |")
    print("|---|---:|---:|---:|")
    for name, values, target in rows:
        ms = statistics.median(values) * 1000
        print(
            f"| {name} | {ms:.0f} ({min(values) * 1000:.0f}-{max(values) * 1000:.0f}) | "
            f"{ms / target:.2f} | {target} |"
        )


if __name__ == "__main__":
    main()
