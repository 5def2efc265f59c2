"""Shared fixtures: a clean environment, a scripted fake OpenAI server."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))  # `fakes` is importable as a package

from playwright.sync_api import Browser  # noqa: E402

from browser_support import chromium, seen_by  # noqa: E402
from fakes.server import FakeOpenAI  # noqa: E402
from storage.pgcluster import PgCluster  # noqa: E402

# Variables the app reads; tests start from none of them.
APP_ENV = (
    "OPENAI_API_KEY",
    "ASSISTANT_ID",
    "OPENAI_ASSISTANTS",
    "ASSISTANT_TITLE",
    "ENABLED_FILE_UPLOAD_MESSAGE",
    "AUTHENTICATION_REQUIRED",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_KEY",
    "RUN_INSTRUCTIONS",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "OPENAI_API",
    "OPENAI_MAX_RETRIES",
    "OPENAI_TIMEOUT",
    "LOCAL_MODEL_PATH",
    "LOCAL_MAX_TOKENS",
    "LOCAL_CONTEXT_TOKENS",
    "LOCAL_THREADS",
    "ASSISTANTS_FILE",
    "MAX_UPLOAD_MB",
    "DATA_DIR",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "DATABASE_URL",
    "MAX_STORED_FILE_MB",
    "CREDENTIALS_FILE",
    "LOGIN_MAX_FAILURES",
    "LOGIN_LOCKOUT_MINUTES",
    "MAX_FILES_PER_MESSAGE",
    "MAX_MESSAGE_CHARS",
    "MAX_SEARCH_CHARS",
    "SHOW_CONNECTION_DETAILS",
    "RETENTION_DAYS",
    "TEMPORARY_CHAT_HOURS",
    "PERSONAL_INSTRUCTIONS_MAX_CHARS",
    "MEMORY_MAX_FACTS",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "METRICS_PORT",
    "METRICS_ADDRESS",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Each test runs in an empty directory with none of the app's variables set."""
    for name in APP_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    """A fake OpenAI server; fails the test if it sent anything off-schema."""
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.violations, "\n".join(server.violations)


def pytest_report_header() -> list[str]:
    return [f"python: {sys.executable}", f"cwd at start: {os.getcwd()}"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for every browser test (Playwright's sync API allows
    one instance at a time in a process, so the folders share it)."""
    with chromium() as b:
        yield b


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed browser test's report shows what each of its pages showed and saw
    (page errors, failed requests, websockets), read before its contexts are closed."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    browser = getattr(item, "funcargs", {}).get("browser")
    if report.when == "call" and report.failed and browser is not None:
        report.sections.append(("what the browser showed and saw", seen_by(browser)))


@pytest.fixture(autouse=True)
def _close_browser_contexts(request: pytest.FixtureRequest) -> Iterator[None]:
    """Close the pages a browser test opened once it ends. Left open, every page of a
    stopped server keeps reconnecting its websocket in the shared Chromium; by the
    later tests of a full run dozens of them compete with the page under test."""
    if "browser" not in request.fixturenames:
        yield
        return
    shared: Browser = request.getfixturevalue("browser")
    before = set(shared.contexts)
    yield
    for context in shared.contexts:
        if context not in before:
            with contextlib.suppress(Exception):  # closed by the test, or browser gone
                context.close()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One real PostgreSQL server for the session (initdb in a temporary directory,
    127.0.0.1, a free port), stopped at the end; tests create their own databases."""
    cluster = PgCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()
