"""Real headless Chromium against the app started the way `make run` starts it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from browser_support import CHROMIUM, StartApp, app_command, free_port, launch_chromium, serving


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (scripts/ensure-system-deps)")
    with sync_playwright() as pw:
        b = launch_chromium(pw)
        yield b
        b.close()


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
