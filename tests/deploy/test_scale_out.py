"""The scaled-out deployment as processes: stickiness and a crash mid-answer, measured closely.

PostgreSQL (a real server, tests/storage/pgcluster.py), two app processes started
as the image starts them (`assistants-ui run`) with DATABASE_URL pointing at it,
and Debian's nginx in front running deploy/nginx/assistants-ui.conf.template
with its sticky sessions. The model is the fake OpenAI server (Chat Completions).
One headless Chromium browser, whose identity is the app's anonymous cookie.

nginx pins a browser to a process through its `assistants_ui_lb` cookie; the
test picks cookie values that nginx maps to each process, so that it can send
the same browser (same identity cookie) through one replica, then the other.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from deploy_stack import AppProcess, Nginx
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import text

from assistants_ui.storage import Database, open_url
from browser_support import send
from fakes.chat_routes import chat_chunks
from fakes.server import FakeOpenAI, Stream
from storage.pgcluster import PgCluster

pytestmark = pytest.mark.browser

WAIT_MS = 30_000


@dataclass
class Stack:
    nginx: Nginx
    a: AppProcess
    b: AppProcess
    fake: FakeOpenAI
    db: Database
    key_a: str  # affinity cookie values nginx sends to a, to b
    key_b: str

    def upstream(self, app: AppProcess) -> str:
        return f"127.0.0.1:{app.port}"


@pytest.fixture(scope="module")
def stack(pg_cluster: PgCluster) -> Iterator[Stack]:
    base = Path(tempfile.mkdtemp(prefix="assistants-ui-scale-"))
    fake = FakeOpenAI().start()
    apps: list[AppProcess] = []
    nginx: Nginx | None = None
    db: Database | None = None
    try:
        url = pg_cluster.create_database("scale_out")
        env = {
            "DATABASE_URL": url,
            "OPENAI_BASE_URL": fake.base_url,
            "OPENAI_MODEL": "fake-model",
            "LOG_LEVEL": "INFO",
        }
        apps = [AppProcess(base / name, env).launch() for name in ("a", "b")]
        for app in apps:
            app.wait_healthy()
        nginx = Nginx(base / "nginx", [f"127.0.0.1:{app.port}" for app in apps]).start()
        keys: dict[str, str] = {}
        for i in range(64):  # consistent hashing: a few keys land on each process
            keys.setdefault(nginx.route(f"browser-{i}", f"route-{i}"), f"browser-{i}")
            if len(keys) == 2:
                break
        a, b = apps
        assert set(keys) == {f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"}, keys
        db = open_url(url, migrate=False)
        yield Stack(nginx, a, b, fake, db, keys[f"127.0.0.1:{a.port}"], keys[f"127.0.0.1:{b.port}"])
    finally:
        if db is not None:
            db.dispose()
        if nginx is not None:
            nginx.cleanup()
        for app in apps:
            app.stop()
        fake.stop()
        shutil.rmtree(base, ignore_errors=True)
    assert not fake.violations, "\n".join(fake.violations)


def route_to(context: BrowserContext, stack: Stack, key: str) -> None:
    """Point this browser's affinity cookie at one process (its identity cookie stays)."""
    context.add_cookies([{"name": "assistants_ui_lb", "value": key, "url": stack.nginx.url}])


def served(stack: Stack, key: str) -> set[str]:
    """Every upstream nginx used for requests carrying affinity cookie `key`."""
    found = set()
    for line in stack.nginx.access_log():
        if f" lb={key} " in line:
            match = re.search(r"upstream=(.*?) lb=", line)
            found.update(match.group(1).split(", ") if match else [])
    return found


def conversation_id(page: Page) -> str:
    """The conversation in the page's URL: put there once its first message is saved,
    a moment after its first words (`ChatPage.save`), so it is waited for."""
    page.wait_for_url(lambda url: "c" in parse_qs(urlparse(url).query), timeout=WAIT_MS)
    return parse_qs(urlparse(page.url).query)["c"][0]


def stored(stack: Stack, conversation: str) -> list[tuple[str, str, str]]:
    """(role, status, text) of every message of the conversation, in order, from PostgreSQL."""
    with stack.db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT role, status, text_folded FROM messages "
                "WHERE conversation_id = :c ORDER BY seq"
            ),
            {"c": conversation},
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def user_message(page: Page, words: str) -> None:
    group = page.get_by_role("group", name="Chat message from user")
    expect(group.filter(has_text=words)).to_have_count(1, timeout=WAIT_MS)


def test_a_conversation_started_on_one_replica_is_listed_and_continued_on_the_other(
    browser: Browser, stack: Stack
) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        route_to(context, stack, stack.key_a)
        page.goto(stack.nginx.url)
        send(page, "Plan the launch through replica A")
        expect(page.get_by_text("Fake answer to: Plan the launch through replica A")).to_be_visible(
            timeout=WAIT_MS
        )
        conv = conversation_id(page)
        identity = {c["name"]: c["value"] for c in context.cookies()}.get("assistants_ui_browser")
        assert identity, "the page gave this browser no identity cookie"

        # The same browser, now pinned to the other process: a new Streamlit session there.
        route_to(context, stack, stack.key_b)
        page.goto(stack.nginx.url)
        history = page.get_by_test_id("stSidebar").get_by_role(
            "button", name="Plan the launch through replica A"
        )
        expect(history).to_be_visible(timeout=WAIT_MS)
        history.click()
        user_message(page, "Plan the launch through replica A")
        expect(page.get_by_text("Fake answer to: Plan the launch through replica A")).to_be_visible(
            timeout=WAIT_MS
        )
        send(page, "Continue it through replica B")
        expect(page.get_by_text("Fake answer to: Continue it through replica B")).to_be_visible(
            timeout=WAIT_MS
        )
        assert conversation_id(page) == conv

        # Back to the first process: it shows what the second one wrote.
        route_to(context, stack, stack.key_a)
        page.goto(f"{stack.nginx.url}/?c={conv}")
        user_message(page, "Continue it through replica B")
        assert {c["name"]: c["value"] for c in context.cookies()}["assistants_ui_browser"] == (
            identity
        ), "the identity cookie changed between replicas"
    finally:
        context.close()

    assert served(stack, stack.key_a) == {stack.upstream(stack.a)}, "not sticky to replica A"
    assert served(stack, stack.key_b) == {stack.upstream(stack.b)}, "not sticky to replica B"
    assert [(role, status) for role, status, _ in stored(stack, conv)] == [
        ("user", "complete"),
        ("assistant", "complete"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]


def test_killing_a_replica_mid_answer_loses_no_committed_message(
    browser: Browser, stack: Stack
) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        route_to(context, stack, stack.key_a)
        page.goto(stack.nginx.url)
        send(page, "First question before the crash")
        expect(page.get_by_text("Fake answer to: First question before the crash")).to_be_visible(
            timeout=WAIT_MS
        )
        conv = conversation_id(page)

        # An answer that streams a little, then the server goes quiet: kill replica A then.
        stack.fake.expect(
            "chat.completions",
            Stream(chat_chunks(["Half ", "an ", "answer ", "never finished"]), hang_after=3),
        )
        send(page, "Second question during the crash")
        expect(page.get_by_text("Half an")).to_be_visible(timeout=WAIT_MS)
        stack.a.kill()

        committed = stored(stack, conv)
        assert [(role, status) for role, status, _ in committed] == [
            ("user", "complete"),
            ("assistant", "complete"),
            ("user", "complete"),
            ("assistant", "streaming"),  # saved when it started; loads as interrupted
        ]

        # The user reconnects (reload): nginx finds A gone and sends the browser to B.
        page.goto(f"{stack.nginx.url}/?c={conv}")
        user_message(page, "First question before the crash")
        expect(page.get_by_text("Fake answer to: First question before the crash")).to_be_visible(
            timeout=WAIT_MS
        )
        user_message(page, "Second question during the crash")
        send(page, "Third question after the crash")
        expect(page.get_by_text("Fake answer to: Third question after the crash")).to_be_visible(
            timeout=WAIT_MS
        )
    finally:
        context.close()

    after = stored(stack, conv)
    assert after[:3] == committed[:3], "a committed message changed"
    assert [(role, status) for role, status, _ in after[3:]] == [
        ("assistant", "streaming"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert stack.upstream(stack.b) in served(stack, stack.key_a), "no failover to replica B"
