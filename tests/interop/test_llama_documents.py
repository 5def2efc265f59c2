"""Documents through llama.cpp's own server, with its embeddings: the chat backend keeps a
30-page PDF in the app's database, searches it by words and vectors (the server's
`/v1/embeddings`, the bundled SmolLM2 with mean pooling), and the answer cites page 17,
in the session and in Chromium."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from assistants_ui.backends.chat.backend import create
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Attachment, TextPart, ToolPart
from assistants_ui.profiles import Connection, Profile
from assistants_ui.settings import load_settings
from assistants_ui.storage import Repository, StorageRecorder, open_url
from assistants_ui.storage.library import StorageLibrary
from browser_support import app_command, free_port, send, serving
from documents_support import FACT_PAGE, FACT_QUESTION, report_pdf
from interop.servers import CHAT_MODEL, EMBED_MODEL, HERE, Server, start, stop, wait_ready


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One llama.cpp server with both models of the bundled file: chat, and embeddings
    with mean pooling (one connection serves both, as a profile's `embedding_model`
    expects)."""
    from assistants_ui.backends.chat.local_engine import bundled_model_path

    path = bundled_model_path()
    assert path is not None, "the bundled model is missing: `make install-test`"
    folder = tmp_path_factory.mktemp("llama-docs")
    port = free_port()
    common = {"model": str(path), "verbose": False, "n_threads": 2}
    models = [
        {**common, "model_alias": CHAT_MODEL, "n_ctx": 4096},
        {
            **common,
            "model_alias": EMBED_MODEL,
            "n_ctx": 2048,
            "embedding": True,
            "kv_overrides": ["llama.pooling_type=int:1"],
        },
    ]
    config = folder / "llama.json"
    config.write_text(json.dumps({"host": "127.0.0.1", "port": port, "models": models}))
    command = [sys.executable, str(HERE / "llama_server.py"), "--config_file", str(config)]
    server = start(command, f"http://127.0.0.1:{port}/v1", folder / "llama.log", {})
    try:
        wait_ready(server, "/models", timeout=60)
        yield server
    finally:
        stop(server)


def test_a_pdf_question_is_searched_with_the_servers_embeddings(
    llama: Server, tmp_path: Path
) -> None:
    conn = Connection(
        id=f"llama{time.monotonic_ns()}", type="openai", base_url=llama.url, timeout=120
    )
    profile = Profile(
        id="docs",
        title="Docs",
        backend="chat",
        connection=conn.id,
        model=CHAT_MODEL,
        embedding_model=EMBED_MODEL,
        context_tokens=4096,
        max_output_tokens=24,
        temperature=0,
        upload_types=("pdf",),
    )
    db = open_url(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        repo = Repository(db)
        user = repo.ensure_user(auth_provider="password", subject="ann", display_name="Ann")
        recorder = StorageRecorder(repo, user_id=user.id)
        chat = ChatSession(
            profile,
            create(profile, conn, load_settings()[0]),
            recorder=recorder,
            library=StorageLibrary(db, recorder),
        )
        pdf = Attachment("annual-report.pdf", "application/pdf", report_pdf(30))
        chat.submit(FACT_QUESTION, [pdf])
        answer = chat.reply().run_to_end()
        assert answer.status == "complete", answer.error
        notices = [getattr(p, "text", "") for p in answer.parts if p.kind == "notice"]
        assert not any("words only" in n for n in notices), notices  # vectors were used
        (search,) = [p for p in answer.parts if isinstance(p, ToolPart) and p.passages]
        sources = [p.source for p in search.passages]
        assert f"annual-report.pdf, page {FACT_PAGE}" in sources
        labels = [c.label for p in answer.parts if isinstance(p, TextPart) for c in p.citations]
        assert f"annual-report.pdf, page {FACT_PAGE}" in labels
        with db.session() as s:
            from sqlalchemy import text

            row = s.execute(text("SELECT embedding_model, dimensions FROM documents")).one()
        assert row[0] == EMBED_MODEL and row[1] > 0
    finally:
        db.dispose()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    yield context.new_page()
    context.close()


@pytest.mark.browser
def test_in_chromium_the_answer_cites_page_17_and_shows_the_passage(
    page: Page, llama: Server, tmp_path: Path
) -> None:
    (tmp_path / "assistants.toml").write_text(
        f"""
[connections.llama]
type = "openai"
base_url = "{llama.url}"
max_retries = 0
timeout = 120

[[assistants]]
id = "docs"
title = "Documents"
backend = "chat"
connection = "llama"
model = "{CHAT_MODEL}"
embedding_model = "{EMBED_MODEL}"
context_tokens = 4096
max_output_tokens = 24
temperature = 0
upload_types = ["pdf"]
"""
    )
    env: dict[str, Any] = {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"}
    port = free_port()
    with (
        (tmp_path / "app.log").open("wb") as log,
        serving(app_command(port), port, cwd=tmp_path, env=env, output=log) as (url, _),
    ):
        page.goto(url)
        page.get_by_test_id("stChatInputTextArea").wait_for(timeout=90_000)
        page.locator("[data-testid='stChatInput'] input[type='file']").set_input_files(
            files=[
                {
                    "name": "annual-report.pdf",
                    "mimeType": "application/pdf",
                    "buffer": report_pdf(30),
                }
            ]
        )
        send(page, FACT_QUESTION)
        answer = page.get_by_role("group", name="Chat message from assistant").last
        expect(page.get_by_role("button", name="Regenerate")).to_be_visible(timeout=180_000)
        expect(answer).to_contain_text(f"annual-report.pdf, page {FACT_PAGE}")
        answer.get_by_text("Passages found").click()
        expect(answer.get_by_text("4,812 herons", exact=False).first).to_be_visible()
