"""What an operator's log collector receives from a chat: structure, no secrets, no content.

The app runs as the image runs it (`assistants-ui run`, output captured like
`docker logs`), with an API key, a PostgreSQL URL carrying a password and a
cookie key configured; one question is asked in a real browser. At INFO the
captured output has the answer's start and end as logfmt lines, and none of
the secrets, the question or the answer. At DEBUG the question is there (so
the INFO check can fail), the secrets still are not.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from deploy_stack import AppProcess
from playwright.sync_api import Browser, expect

from browser_support import send
from fakes.server import FakeOpenAI
from storage.pgcluster import PgCluster

pytestmark = pytest.mark.browser

API_KEY = "sk-test-never-in-logs-0123456789abcdef"
DB_PASSWORD = "pg-password-never-in-logs"
COOKIE_KEY = "cookie-key-never-in-logs-6f1d2c3b4a59"
QUESTION = "What is the secret recipe of grandma Odile?"


def chat_and_collect_logs(
    browser: Browser, pg_cluster: PgCluster, fake: FakeOpenAI, level: str, workdir: Path
) -> str:
    name = f"logs_{level.lower()}"
    url = pg_cluster.create_database(name).replace("postgres@", f"postgres:{DB_PASSWORD}@")
    (workdir / ".streamlit").mkdir(parents=True)
    (workdir / ".streamlit" / "secrets.toml").write_text(
        f'[cookie]\nname = "assistants_ui_auth"\nkey = "{COOKIE_KEY}"\nexpiry_days = 30\n'
    )
    app = AppProcess(
        workdir,
        {
            "OPENAI_API_KEY": API_KEY,
            "OPENAI_BASE_URL": fake.base_url,
            "OPENAI_MODEL": "fake-model",
            "DATABASE_URL": url,
            "LOG_LEVEL": level,
        },
    ).launch()
    context = browser.new_context()
    try:
        app.wait_healthy()
        page = context.new_page()
        page.goto(app.url)
        send(page, QUESTION)
        expect(page.get_by_text(f"Fake answer to: {QUESTION}")).to_be_visible(timeout=30_000)
    finally:
        context.close()
        app.stop()
    return app.output()


def test_info_logs_are_structured_and_carry_no_secret_and_no_content(
    browser: Browser, pg_cluster: PgCluster, fake: FakeOpenAI
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        logs = chat_and_collect_logs(browser, pg_cluster, fake, "INFO", Path(tmp))
    started = [line for line in logs.splitlines() if 'msg="answer started:' in line]
    assert started, f"no answer logged:\n{logs}"
    assert re.match(r"ts=\S+ level=info logger=assistants_ui\.core\.session msg=", started[0])
    assert any(
        'msg="answer ended:' in line and "status=complete" in line for line in logs.splitlines()
    )
    for secret in (API_KEY, DB_PASSWORD, COOKIE_KEY):
        assert secret not in logs
    for content in ("grandma Odile", "Fake answer to"):
        assert content not in logs, f"message content in INFO logs: {content}"


def test_debug_logs_carry_the_content_but_still_no_secret(
    browser: Browser, pg_cluster: PgCluster, fake: FakeOpenAI
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        logs = chat_and_collect_logs(browser, pg_cluster, fake, "DEBUG", Path(tmp))
    assert "grandma Odile" in logs and "Fake answer to" in logs
    for secret in (API_KEY, DB_PASSWORD, COOKIE_KEY):
        assert secret not in logs
