"""Every Responses output item is shown or said: image generation, hosted MCP, custom tools,
streamed arguments, file-search passages, and the types the app does not know.

Against the fake server over real HTTP, through the official SDK; every event
and object the fake sends is validated against OpenAI's OpenAPI document, and
every request the backend sends against `CreateResponse` (the fixture below).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_responses_backend import ask, body, parts

from assistants_ui.backends.responses.backend import ResponsesBackend, create
from assistants_ui.core import events as ev
from assistants_ui.core.backend import BackendError, SendContext
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import (
    ApprovalPart,
    FilePart,
    ImagePart,
    Message,
    MessageBuilder,
    NoticePart,
    ReasoningPart,
    TextPart,
    ToolPart,
)
from assistants_ui.profiles import Connection, Profile
from assistants_ui.settings import load_settings
from assistants_ui.storage import Repository, StorageRecorder, open_url
from fakes.responses_routes import ResponseScript, computer_call, request_problems
from fakes.server import FakeOpenAI

PARTIAL_1 = b"\x89PNG\r\n\x1a\n" + b"partial one"
PARTIAL_2 = b"\x89PNG\r\n\x1a\n" + b"partial two, sharper"
FINAL = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + b"IEND\xaeB`\x82"
DOCS = {
    "server_label": "docs",
    "server_url": "https://mcp.example.com/sse",
    "headers_env": {"Authorization": "DOCS_MCP_AUTH"},
    "allowed_tools": ["search_docs"],
}


@pytest.fixture(autouse=True)
def requests_match_the_schema(fake: FakeOpenAI) -> Iterator[None]:
    yield
    problems = request_problems(fake)
    assert not problems, "\n".join(problems)


@pytest.fixture(autouse=True)
def mcp_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCS_MCP_AUTH", "Bearer docs-token")


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repository]:
    database = open_url(f"sqlite:///{tmp_path / 'history.db'}")
    try:
        yield Repository(database)
    finally:
        database.dispose()


def make(
    fake: FakeOpenAI,
    *,
    state: str = "conversation",
    repo: Repository | None = None,
    **profile: Any,
) -> tuple[ChatSession, ResponsesBackend]:
    conn = Connection(
        id=f"items-{state}",
        type="openai",
        base_url=fake.base_url,
        api_key="sk-test",
        state=state,  # type: ignore[arg-type]
        max_retries=0,
        timeout=10,
    )
    prof = Profile(
        id="p", title="P", backend="responses", connection=conn.id, model="gpt-test", **profile
    )
    backend = create(prof, conn, load_settings()[0])
    recorder = None
    if repo is not None:
        user = repo.ensure_user(auth_provider="password", subject="ann", display_name="Ann")
        recorder = StorageRecorder(repo, user_id=user.id)
    return ChatSession(prof, backend, recorder=recorder), backend


def kept(chat: ChatSession, repo: Repository) -> list[Message]:
    """The chat's messages as stored in SQLite and read back; they equal the live ones."""
    assert chat.conversation_id is not None and isinstance(chat.recorder, StorageRecorder)
    loaded = repo.load_messages(
        user_id=chat.recorder.user_id, conversation_id=chat.conversation_id
    ).messages
    assert [m.to_dict() for m in loaded] == [m.to_dict() for m in chat.messages]
    return loaded


def events_of(backend: ResponsesBackend, text: str = "Go") -> list[ev.StreamEvent]:
    context = SendContext(history=[], remote={}, cancelled=threading.Event())
    return list(backend.send(Message.user(text), context))


# -- image generation ---------------------------------------------------------------------


def test_image_generation_shows_partial_images_then_keeps_the_final_one(
    fake: FakeOpenAI, repo: Repository
) -> None:
    def script() -> ResponseScript:
        return (
            ResponseScript()
            .image_generation([PARTIAL_1, PARTIAL_2], FINAL)
            .text(["A lighthouse at dusk."])
        )

    fake.expect("responses.create", script().stream(), script().stream())
    chat, backend = make(fake, repo=repo, tools=("image_generation",))
    events = events_of(backend, "Draw a lighthouse")
    partials = [e for e in events if isinstance(e, ev.ImagePartial)]
    assert [(p.data, p.mime, p.index) for p in partials] == [
        (PARTIAL_1, "image/png", 0),
        (PARTIAL_2, "image/png", 1),
    ]
    [final] = [e for e in events if isinstance(e, ev.ImageOutput)]
    assert (final.data, final.mime, final.name) == (FINAL, "image/png", "image-1.png")
    assert final.call_id == partials[0].call_id
    # While it streams, the partial image is the one shown, in the image's own part.
    builder = MessageBuilder()
    for event in events[: events.index(partials[1]) + 1]:
        builder.apply(event)
    [live] = parts(builder.message, ImagePart)
    assert (live.data, live.partial) == (PARTIAL_2, True)
    for event in events[events.index(partials[1]) + 1 :]:
        builder.apply(event)
    message = builder.message
    assert [p.kind for p in message.parts] == ["tool", "image", "text"]
    [image] = parts(message, ImagePart)
    assert image is live  # replaced in place: one slot on the page
    assert (image.data, image.partial, image.mime) == (FINAL, False, "image/png")
    [tool] = parts(message, ToolPart)
    assert (tool.tool, tool.status) == ("image_generation", "completed")
    # Stored like any other image: the bytes, not a link.
    answer = ask(chat, "Draw a lighthouse")
    [image] = parts(kept(chat, repo)[-1], ImagePart)
    assert (image.data, image.partial, image.name) == (FINAL, False, "image-1.png")
    assert [p.kind for p in answer.parts] == ["tool", "image", "text"]
    assert body(fake)["tools"] == [{"type": "image_generation", "partial_images": 2}]


def test_a_failed_image_generation_keeps_its_last_partial_and_says_so(fake: FakeOpenAI) -> None:
    script = ResponseScript().image_generation([PARTIAL_1], None, status="failed")
    fake.expect("responses.create", script.stream())
    chat, _ = make(fake)
    answer = ask(chat, "Draw")
    [image] = parts(answer, ImagePart)
    assert (image.data, image.partial) == (PARTIAL_1, True)
    [tool] = parts(answer, ToolPart)
    assert tool.status == "failed"


# -- streamed arguments, custom tools, passages ---------------------------------------------


def test_function_arguments_stream_into_the_tool_call_as_they_arrive(fake: FakeOpenAI) -> None:
    args = '{"city": "Paris", "unit": "c"}'
    fake.expect(
        "responses.create",
        ResponseScript().function_call("get_weather", args, call_id="call_1", pieces=3).stream(),
        ResponseScript().text(["21°C."]).stream(),
    )
    _, backend = make(fake, functions=("fakes.sample_tools:get_weather",))
    events = events_of(backend)
    deltas = [e for e in events if isinstance(e, ev.ToolArgumentsDelta)]
    assert len(deltas) >= 3 and {d.call_id for d in deltas} == {"call_1"}
    assert "".join(d.delta for d in deltas) == args
    builder = MessageBuilder()
    for event in events[: events.index(deltas[1]) + 1]:
        builder.apply(event)
    [live] = parts(builder.message, ToolPart)
    assert live.arguments == deltas[0].delta + deltas[1].delta  # shown as they arrive
    for event in events[events.index(deltas[1]) + 1 :]:
        builder.apply(event)
    [tool] = parts(builder.message, ToolPart)
    assert tool.arguments == args and tool.status == "completed"


def test_a_custom_tool_call_is_shown_with_its_input_and_not_run(fake: FakeOpenAI) -> None:
    script = ResponseScript().custom_tool_call("apply_patch", "*** Begin Patch\n+x\n", pieces=2)
    fake.expect("responses.create", script.stream())
    _, backend = make(fake)
    events = events_of(backend)
    deltas = [e for e in events if isinstance(e, ev.ToolArgumentsDelta)]
    assert "".join(d.delta for d in deltas) == "*** Begin Patch\n+x\n"
    message = MessageBuilder()
    for event in events:
        message.apply(event)
    [tool] = parts(message.message, ToolPart)
    assert (tool.tool, tool.name, tool.status) == ("custom", "apply_patch", "failed")
    assert tool.arguments == "*** Begin Patch\n+x\n"
    assert tool.error == "Not run: this app has no custom tool named 'apply_patch'."


def test_file_search_passages_are_kept_with_the_call(fake: FakeOpenAI, repo: Repository) -> None:
    results = [
        {"file_id": "file-a", "filename": "q3.pdf", "score": 0.91, "text": "Revenue grew 12%."},
        {"file_id": "file-b", "filename": "costs.docx", "score": 0.5, "text": "Costs fell 3%."},
    ]
    script = ResponseScript().file_search(["q3"], results).text(["Up 12%."])
    fake.expect("responses.create", script.stream())
    chat, _ = make(fake, repo=repo, tools=("file_search",), vector_store_ids=("vs_1",))
    answer = ask(chat, "Q3?")
    [tool] = parts(answer, ToolPart)
    assert [(p.source, p.text, p.score, p.file_id) for p in tool.passages] == [
        ("q3.pdf", "Revenue grew 12%.", 0.91, "file-a"),
        ("costs.docx", "Costs fell 3%.", 0.5, "file-b"),
    ]
    assert parts(kept(chat, repo)[-1], ToolPart)[0].passages == tool.passages


# -- what the app does not know ---------------------------------------------------------------


def test_an_unknown_item_or_event_is_one_line_naming_it(fake: FakeOpenAI) -> None:
    script = (
        ResponseScript()
        .text(["Before."])
        .item(computer_call())
        .undocumented_event("response.hologram.delta", item_id="x", delta="~")
        .undocumented_event("response.hologram.delta", item_id="x", delta="~")
        .text(["After."])
    )
    fake.expect("responses.create", script.stream())
    chat, _ = make(fake)
    answer = ask(chat, "Go")
    assert answer.status == "complete"
    notices = [p.text for p in parts(answer, NoticePart)]
    assert notices == [
        "The server sent an output item `computer_call`, which this app does not show.",
        "The server sent an event `response.hologram.delta`, which this app does not show.",
    ]
    assert [p.text for p in parts(answer, TextPart)] == ["Before.", "After."]


def test_a_lean_delta_from_a_server_that_is_not_openai_is_still_text(fake: FakeOpenAI) -> None:
    """Deltas are read as the JSON they are (not the SDK's objects): one with only its
    type and text, no item, index or sequence number, is shown like any other."""
    script = (
        ResponseScript()
        .text(["Full "])
        .undocumented_event("response.output_text.delta", delta="lean ")
        .undocumented_event("response.reasoning_summary_text.delta", delta="thought")
        .text(["again."])
    )
    fake.expect("responses.create", script.stream())
    chat, _ = make(fake)
    answer = ask(chat, "Go")
    assert answer.status == "complete" and parts(answer, NoticePart) == []
    assert answer.text == "Full lean again."
    assert [p.text for p in parts(answer, ReasoningPart)] == ["thought"]


# -- hosted MCP -------------------------------------------------------------------------------


def test_a_hosted_mcp_server_is_offered_and_its_list_and_call_are_shown(
    fake: FakeOpenAI,
) -> None:
    script = (
        ResponseScript()
        .mcp_list_tools("docs", [("search_docs", "Search the docs"), ("fetch_page", "")])
        .mcp_call("docs", "search_docs", '{"query": "streaming"}', output="3 pages found")
        .text(["Three pages mention it."])
    )
    fake.expect("responses.create", script.stream())
    chat, _ = make(fake, hosted_mcp=({**DOCS, "require_approval": "never"},))
    answer = ask(chat, "Find streaming")
    [tool] = body(fake)["tools"]
    assert tool == {
        "type": "mcp",
        "server_label": "docs",
        "server_url": "https://mcp.example.com/sse",
        "require_approval": "never",
        "headers": {"Authorization": "Bearer docs-token"},
        "allowed_tools": ["search_docs"],
    }
    listed, call = parts(answer, ToolPart)
    assert (listed.tool, listed.server, listed.status) == ("mcp_list_tools", "docs", "completed")
    assert listed.output == "search_docs: Search the docs\nfetch_page"
    assert (call.tool, call.name, call.server) == ("mcp", "search_docs", "docs")
    assert (call.arguments, call.output, call.status) == (
        '{"query": "streaming"}',
        "3 pages found",
        "completed",
    )
    assert answer.text == "Three pages mention it."


def test_mcp_call_arguments_stream_into_the_call(fake: FakeOpenAI) -> None:
    args = '{"query": "partial images"}'
    script = ResponseScript().mcp_call("docs", "search_docs", args, output="ok", pieces=3)
    fake.expect("responses.create", script.stream())
    _, backend = make(fake, hosted_mcp=(DOCS,))
    events = events_of(backend)
    [started] = [e for e in events if isinstance(e, ev.ToolCallStarted)]
    deltas = [e for e in events if isinstance(e, ev.ToolArgumentsDelta)]
    assert len(deltas) >= 3 and {d.call_id for d in deltas} == {started.call_id}
    assert "".join(d.delta for d in deltas) == args
    assert (started.kind, started.name, started.server) == ("mcp", "search_docs", "docs")


def test_a_failed_mcp_call_says_why(fake: FakeOpenAI) -> None:
    error = {"type": "http_error", "code": 502, "message": "Bad gateway from the MCP server"}
    script = ResponseScript().mcp_call("docs", "search_docs", "{}", error=error).text(["Sorry."])
    fake.expect("responses.create", script.stream())
    chat, _ = make(fake, hosted_mcp=(DOCS,))
    [call] = parts(ask(chat, "Find"), ToolPart)
    assert (call.status, call.error) == ("failed", "Bad gateway from the MCP server")


def test_approve_sends_the_approval_and_the_answer_goes_on(
    fake: FakeOpenAI, repo: Repository
) -> None:
    args = '{"query": "streaming"}'
    fake.expect(
        "responses.create",
        ResponseScript()
        .mcp_list_tools("docs", [("search_docs", "")])
        .mcp_approval_request("docs", "search_docs", args, request_id="mcpr_1")
        .stream(),
        ResponseScript()
        .mcp_call("docs", "search_docs", args, output="3 pages", approval_request_id="mcpr_1")
        .text(["Found 3 pages."])
        .stream(),
    )
    chat, _ = make(fake, repo=repo, hosted_mcp=(DOCS,))
    asked = ask(chat, "Find streaming")
    assert asked.status == "complete"
    [request] = parts(asked, ApprovalPart)
    assert (request.request_id, request.server, request.name, request.arguments) == (
        "mcpr_1",
        "docs",
        "search_docs",
        args,
    )
    assert chat.pending_approvals == [request]
    assert body(fake)["tools"][0]["require_approval"] == "always"
    decision = chat.decide("mcpr_1", True)
    assert decision is not None and decision.approvals[0].decision == "approved"
    assert request.decision == "approved" and chat.pending_approvals == []
    answer = chat.reply().run_to_end()
    first, second = fake.calls("responses.create")
    assert second.body["conversation"] == first.body["conversation"]
    assert second.body["input"] == [
        {"type": "mcp_approval_response", "approval_request_id": "mcpr_1", "approve": True}
    ]
    [call] = parts(answer, ToolPart)
    assert (call.name, call.output) == ("search_docs", "3 pages")
    assert answer.text == "Found 3 pages." and answer.status == "complete"
    # The request, the decision and the answer are stored as they are shown.
    _, stored_request, stored_decision, _ = kept(chat, repo)
    assert parts(stored_request, ApprovalPart)[0].decision == "approved"
    assert stored_decision.approvals[0].decision == "approved"
    assert chat.decide("mcpr_1", False) is None  # answered once


def test_deny_in_a_stateless_chat_resends_the_request_with_the_refusal(fake: FakeOpenAI) -> None:
    fake.expect(
        "responses.create",
        ResponseScript()
        .mcp_approval_request("docs", "drop_db", "{}", request_id="mcpr_9")
        .stream(),
        ResponseScript().text(["Understood, I did not run it."]).stream(),
    )
    chat, _ = make(fake, state="stateless", hosted_mcp=(DOCS,))
    ask(chat, "Clean up")
    chat.decide("mcpr_9", False)
    answer = chat.reply().run_to_end()
    assert answer.text == "Understood, I did not run it."
    assert body(fake)["input"] == [
        {"role": "user", "content": "Clean up"},
        {
            "type": "mcp_approval_request",
            "id": "mcpr_9",
            "server_label": "docs",
            "name": "drop_db",
            "arguments": "{}",
        },
        {"type": "mcp_approval_response", "approval_request_id": "mcpr_9", "approve": False},
    ]


def test_approve_chains_on_the_response_that_asked(fake: FakeOpenAI) -> None:
    asking = ResponseScript().mcp_approval_request("docs", "search_docs", "{}", request_id="r2")
    fake.expect("responses.create", asking.stream(), ResponseScript().text(["Done."]).stream())
    chat, _ = make(fake, state="previous_response_id", hosted_mcp=(DOCS,))
    ask(chat, "Find")
    assert chat.remote["previous_response_id"] == asking.response_id
    chat.decide("r2", True)
    assert chat.reply().run_to_end().text == "Done."
    sent = body(fake)
    assert sent["previous_response_id"] == asking.response_id
    assert sent["input"] == [
        {"type": "mcp_approval_response", "approval_request_id": "r2", "approve": True}
    ]


def test_an_approval_never_answered_does_not_block_the_conversation(fake: FakeOpenAI) -> None:
    fake.expect(
        "responses.create",
        ResponseScript()
        .mcp_approval_request("docs", "search_docs", "{}", request_id="r1")
        .stream(),
        ResponseScript().text(["Sure, something else."]).stream(),
    )
    chat, _ = make(fake, state="previous_response_id", hosted_mcp=(DOCS,))
    asked = ask(chat, "Find")
    first_id = fake.calls("responses.create")[0]
    answer = ask(chat, "Never mind, tell me a joke")
    assert answer.text == "Sure, something else."
    [request] = parts(asked, ApprovalPart)
    assert request.decision == "unanswered" and chat.pending_approvals == []
    sent = body(fake)
    assert sent["input"] == [{"role": "user", "content": "Never mind, tell me a joke"}]
    assert sent["previous_response_id"]  # the chain went on past the request
    assert first_id.body.get("previous_response_id") is None
    assert chat.decide("r1", True) is None


def test_hosted_mcp_needs_its_header_variables_and_the_responses_backend(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCS_MCP_AUTH")
    with pytest.raises(BackendError, match="DOCS_MCP_AUTH"):
        make(fake, hosted_mcp=(DOCS,))
    with pytest.raises(ValueError, match="hosted_mcp needs backend 'responses'"):
        Profile(id="c", title="C", backend="chat", hosted_mcp=(DOCS,))  # type: ignore[arg-type]


def test_an_svg_image_is_offered_as_a_file_never_painted(fake: FakeOpenAI) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    fake.expect("responses.create", ResponseScript().image_generation([], svg).stream())
    chat, _ = make(fake)
    answer = ask(chat, "Draw an svg")
    assert parts(answer, ImagePart) == []
    [file] = parts(answer, FilePart)
    assert (file.data, file.name) == (svg, "image-1.bin")
