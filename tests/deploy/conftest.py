"""Deployment tests: what the Dockerfile and the compose files run, run here without Docker."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from browser_support import CHROMIUM, launch_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (scripts/ensure-system-deps)")
    with sync_playwright() as pw:
        b = launch_chromium(pw)
        yield b
        b.close()
