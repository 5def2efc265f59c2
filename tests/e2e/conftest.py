"""Real headless Chromium against the app started the way `make run` starts it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from test_login_browser import SECRETS, add_user, write_secrets

from browser_support import TWO_ASSISTANTS, StartApp, app_command, free_port, serving
from fakes.server import FakeOpenAI


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    p = context.new_page()
    yield p
    context.close()


@pytest.fixture
def start_app(tmp_path: Path) -> Iterator[StartApp]:
    """Start `assistants-ui run` (what `make run` runs) in a subprocess; returns its URL."""
    with ExitStack() as stack:

        def start(
            env: dict[str, str] | None = None, cwd: Path | None = None, port: int | None = None
        ) -> str:
            port = port or free_port()
            log = stack.enter_context((tmp_path / f"app-{port}.log").open("wb"))
            url, _ = stack.enter_context(
                serving(app_command(port), port, cwd=cwd or tmp_path, env=env, output=log)
            )
            return url

        yield start


@pytest.fixture
def two_users_app(
    start_app: StartApp, tmp_path: Path, fake: FakeOpenAI, request: pytest.FixtureRequest
) -> str:
    """The app with password login and two users, anna and bert, answering from the fake;
    with `indirect` parameter 2, two assistants ("First", "Second") on the fake."""
    write_secrets(tmp_path, SECRETS)
    add_user(tmp_path, "anna", "anna-password-1", "Anna A")
    add_user(tmp_path, "bert", "bert-password-1", "Bert B")
    if getattr(request, "param", 1) == 2:
        (tmp_path / "assistants.toml").write_text(TWO_ASSISTANTS.format(base_url=fake.base_url))
    return start_app(
        {
            "AUTHENTICATION_REQUIRED": "true",
            "HOME": str(tmp_path / "home"),
            "OPENAI_BASE_URL": fake.base_url,
            "OPENAI_MODEL": "m",
        },
        tmp_path,
    )
