"""Real headless Chromium against the app started the way `make run` starts it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
APP_CLI = Path(sys.executable).with_name("assistants-ui")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (scripts/ensure-system-deps)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    p = context.new_page()
    yield p
    context.close()


from browser_support import StartApp, free_port  # noqa: E402


@pytest.fixture
def start_app(tmp_path: Path) -> Iterator[StartApp]:
    """Start `assistants-ui run` (what `make run` runs) in a subprocess; returns its URL."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(
        env: dict[str, str] | None = None, cwd: Path | None = None, port: int | None = None
    ) -> str:
        port = port or free_port()
        log = (tmp_path / f"app-{port}.log").open("wb")
        proc = subprocess.Popen(
            [str(APP_CLI), "run", "--port", str(port), "--address", "127.0.0.1"],
            cwd=cwd or tmp_path,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"app exited: {(tmp_path / f'app-{port}.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return url
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("app did not become healthy within 60 s")

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
