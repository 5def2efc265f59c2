"""Documents on the `chat` backend against the fake server: kept in the app's database,
given whole when they fit, else searched (passages before the question, or the model's
`search_documents` through the tool loop), cited with file and page; images to models
that see them."""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

from assistants_ui.backends.chat.backend import ChatBackend
from assistants_ui.backends.tool_calls import build_toolbox
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Attachment, Message, TextPart, ToolPart
from assistants_ui.profiles import Connection, Profile
from assistants_ui.storage import Database, Repository, StorageRecorder
from assistants_ui.storage.library import StorageLibrary
from documents_support import FACT_PAGE, FACT_QUESTION, FACT_SENTENCE, report_pdf, scanned_pdf
from fakes.chat_routes import chat_text, chat_tool_calls
from fakes.server import Error, FakeOpenAI, Json


def session(fake: FakeOpenAI, db: Database, **profile: Any) -> ChatSession:
    conn = Connection(
        id=f"t{time.monotonic_ns()}",
        type="openai",
        base_url=fake.base_url,
        api_key="sk-test",
        max_retries=0,
    )
    prof = Profile(
        id="p",
        title="P",
        backend="chat",
        connection=conn.id,
        model="m",
        upload_types=("pdf", "txt", "png"),
        **profile,
    )
    repo = Repository(db)
    user = repo.ensure_user(auth_provider="password", subject="ann", display_name="Ann")
    recorder = StorageRecorder(repo, user_id=user.id)
    return ChatSession(
        prof,
        ChatBackend(prof, conn, build_toolbox(prof)),
        recorder=recorder,
        library=StorageLibrary(db, recorder),
    )


def ask(chat: ChatSession, text: str, files: list[Attachment] | None = None) -> Message:
    chat.submit(text, files or [])
    return chat.reply().run_to_end()


def pdf(pages: int = 30) -> Attachment:
    """The report, with the heron count on page 17 (page 3 of a shorter one)."""
    page = FACT_PAGE if pages >= FACT_PAGE else 3
    return Attachment("report.pdf", "application/pdf", report_pdf(pages, {page: FACT_SENTENCE}))


def footnotes(answer: Message) -> list[str]:
    return [c.label for p in answer.parts if isinstance(p, TextPart) for c in p.citations]


def searches(answer: Message) -> list[ToolPart]:
    return [p for p in answer.parts if isinstance(p, ToolPart) and p.name == "search_documents"]


def test_a_long_pdf_is_searched_and_the_passages_go_before_the_question(
    fake: FakeOpenAI, db: Database
) -> None:
    fake.expect("chat.completions", chat_text(["4,812 herons [1]."]))
    chat = session(fake, db)
    answer = ask(chat, FACT_QUESTION, [pdf()])
    assert answer.status == "complete", answer.error
    sent = fake.calls("chat.completions")[0].body["messages"][-1]["content"]
    assert sent.startswith("Passages from the attached documents")
    assert f"[1] report.pdf, page {FACT_PAGE}\n" in sent
    assert "4,812 herons" in sent
    assert sent.endswith(f"Question: {FACT_QUESTION}")
    assert len(sent) < 8192 * 3  # within the context budget
    (search,) = searches(answer)
    assert search.passages[0].source == f"report.pdf, page {FACT_PAGE}"
    assert "4,812 herons" in search.passages[0].text
    notes = footnotes(answer)
    assert notes[0] == f"report.pdf, page {FACT_PAGE}"
    (text,) = [p for p in answer.parts if isinstance(p, TextPart)]
    assert text.citations[0].marker == "[1]"  # where the model cited it
    # The next question searches the same document again, without re-indexing it.
    fake.expect("chat.completions", chat_text(["Spring."]))
    again = ask(chat, "When was the heron survey?")
    sent = fake.calls("chat.completions")[1].body["messages"][-1]["content"]
    assert "spring survey" in sent
    assert not any(p.name == "indexing" for p in again.parts if isinstance(p, ToolPart))


def test_a_small_document_goes_whole_into_the_prompt(fake: FakeOpenAI, db: Database) -> None:
    fake.expect("chat.completions", chat_text(["Forty euros."]))
    chat = session(fake, db)
    note = Attachment("policy.txt", "text/plain", b"Dinner is covered up to 40 euros.\n")
    answer = ask(chat, "How much for dinner?", [note])
    sent = fake.calls("chat.completions")[0].body["messages"][-1]["content"]
    assert sent == (
        "Attached file `policy.txt`:\n```\nDinner is covered up to 40 euros.\n```\n\n"
        "How much for dinner?"
    )
    assert footnotes(answer) == ["policy.txt"]
    assert searches(answer) == []


def test_the_context_budget_decides_whole_or_searched(fake: FakeOpenAI, db: Database) -> None:
    fake.expect("chat.completions", chat_text(["ok"]), chat_text(["ok"]))
    small = session(fake, db, context_tokens=2048, max_output_tokens=256)
    ask(small, FACT_QUESTION, [pdf(4)])  # ~4,000 characters: more than 2,048 tokens allow
    sent = fake.calls("chat.completions")[0].body["messages"][-1]["content"]
    assert sent.startswith("Passages from the attached documents")
    large = session(fake, db, context_tokens=32_000)
    ask(large, FACT_QUESTION, [pdf(4)])
    sent = fake.calls("chat.completions")[1].body["messages"][-1]["content"]
    assert sent.startswith("Attached file `report.pdf`")


def test_a_model_with_tools_searches_with_search_documents(fake: FakeOpenAI, db: Database) -> None:
    fake.expect(
        "chat.completions",
        chat_tool_calls(("call_1", "search_documents", json.dumps({"query": "herons Quillon"}))),
        chat_text(["He counted 4,812 herons [1]."]),
    )
    chat = session(fake, db, functions=("fakes.sample_functions:get_weather",))
    answer = ask(chat, FACT_QUESTION, [pdf()])
    assert answer.status == "complete", answer.error
    first, second = fake.calls("chat.completions")
    offered = [t["function"]["name"] for t in first.body["tools"]]
    assert "search_documents" in offered
    assert "call search_documents" in first.body["messages"][-1]["content"]
    result = second.body["messages"][-1]
    assert result["role"] == "tool"
    assert f"[1] report.pdf, page {FACT_PAGE}" in result["content"]
    (search,) = searches(answer)
    assert search.passages and search.passages[0].source == f"report.pdf, page {FACT_PAGE}"
    assert footnotes(answer)[0] == f"report.pdf, page {FACT_PAGE}"


def _hashed(text: str) -> list[float]:
    vector = [0.0] * 16
    for word in re.findall(r"\w+", text.lower()):
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % 16] += 1.0
    return vector


def _embeddings(rec: Any) -> Json:
    texts = rec.body["input"]
    return Json(
        {
            "object": "list",
            "model": rec.body["model"],
            "data": [
                {"object": "embedding", "index": i, "embedding": _hashed(t)}
                for i, t in enumerate(texts)
            ],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }
    )


def test_an_embedding_model_adds_vectors_and_a_server_that_fails_is_said(
    fake: FakeOpenAI, db: Database
) -> None:
    fake.add_route("POST", "/v1/embeddings", "embeddings")
    fake.set_default("embeddings", _embeddings)
    fake.expect("chat.completions", chat_text(["ok"]), chat_text(["ok"]))
    chat = session(fake, db, embedding_model="embed-m")
    answer = ask(chat, FACT_QUESTION, [pdf()])
    assert answer.status == "complete", answer.error
    embedded = fake.calls("embeddings")
    assert embedded[0].body["model"] == "embed-m"
    assert len(embedded) >= 3  # the passages in batches, then the question
    assert (
        f"[1] report.pdf, page {FACT_PAGE}"
        in (fake.calls("chat.completions")[0].body["messages"][-1]["content"])
    )
    fake.expect("embeddings", Error(503, "loading model", "server_error"))
    answer = ask(chat, FACT_QUESTION)
    assert answer.status == "complete"
    notices = [p.text for p in answer.parts if p.kind == "notice"]
    assert any(n.startswith("The documents were searched by their words only:") for n in notices)
    assert (
        "[1] report.pdf, page 17"
        in (fake.calls("chat.completions")[1].body["messages"][-1]["content"])
    )


def test_a_scanned_pdf_fails_the_answer_with_one_sentence_and_the_chat_goes_on(
    fake: FakeOpenAI, db: Database
) -> None:
    chat = session(fake, db)
    answer = ask(
        chat, "What does it say?", [Attachment("scan.pdf", "application/pdf", scanned_pdf())]
    )
    assert answer.status == "failed"
    assert answer.error is not None
    assert answer.error.reason.startswith("Scan.pdf has no text layer (it looks like a scan")
    assert not answer.error.retryable
    assert fake.calls("chat.completions") == []
    fake.expect("chat.completions", chat_text(["Hello."]))
    assert ask(chat, "Hello").status == "complete"
    assert chat.messages[0].attachments[0].name == "scan.pdf"  # kept with the question


def test_images_go_to_a_model_that_sees_them_and_are_refused_elsewhere(
    fake: FakeOpenAI, db: Database
) -> None:
    blind = session(fake, db)
    (check,) = blind.check_uploads([("cat.png", "image/png", 10)])
    assert not check.ok
    assert "vision = true" in check.reason
    seeing = session(fake, db, vision=True)
    (check,) = seeing.check_uploads([("cat.png", "image/png", 10)])
    assert check.ok and check.route == "image"
    fake.expect("chat.completions", chat_text(["A cat."]))
    answer = ask(seeing, "What is it?", [Attachment("cat.png", "image/png", b"\x89PNG\r\n\x1a\n")])
    assert answer.status == "complete", answer.error
    content = fake.calls("chat.completions")[0].body["messages"][-1]["content"]
    assert content == [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "text", "text": "What is it?"},
    ]
