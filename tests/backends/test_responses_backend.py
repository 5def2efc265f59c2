"""The Responses backend through the official SDK, over real HTTP, against the fake server.

Every SSE event and object the fake sends is validated against OpenAI's
OpenAPI schemas (the `fake` fixture fails a test otherwise), and every request
the backend sends to `/responses` is checked against `CreateResponse`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types.responses import (
    ResponseCodeInterpreterCallCodeDeltaEvent,
    ResponseCodeInterpreterToolCall,
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseFunctionToolCall,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputTextAnnotationAddedEvent,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseTextDeltaEvent,
)
from openai.types.responses.response_output_text_annotation_added_event import (
    AnnotationContainerFileCitation,
)

from assistants_ui.backends.responses.backend import ResponsesBackend, create
from assistants_ui.core.backend import BackendError
from assistants_ui.core.citations import annotate, footnotes_markdown
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import (
    Attachment,
    FilePart,
    ImagePart,
    Message,
    NoticePart,
    ReasoningPart,
    RefusalPart,
    TextPart,
    ToolPart,
)
from assistants_ui.profiles import Connection, Profile
from assistants_ui.settings import load_settings
from fakes.openapi import SchemaError, validate
from fakes.responses_routes import (
    ResponseScript,
    _event_schemas,
    add_container_file,
    container_file_citation,
    error_stream,
    file_citation,
    file_path,
    request_problems,
    response_title,
    text_reply,
    url_citation,
)
from fakes.server import Error, FakeOpenAI, Json, Stream

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + b"IEND\xaeB`\x82"
XLSX = b"PK\x03\x04\x14\x00\x06\x00" + bytes(reversed(range(256))) * 8 + b"\r\n\x00\x1a"
UPLOAD_TYPES = ("txt", "md", "docx", "pdf", "png", "jpg", "csv", "xlsx", "json", "exe")


@pytest.fixture(autouse=True)
def requests_match_the_schema(fake: FakeOpenAI) -> Iterator[None]:
    yield
    problems = request_problems(fake)
    assert not problems, "\n".join(problems)


def connection(
    fake: FakeOpenAI,
    *,
    type: str = "openai",
    state: str = "conversation",
    retries: int = 2,
    timeout: float = 10,
) -> Connection:
    return Connection(
        id=f"t{time.monotonic_ns()}",
        type=type,  # type: ignore[arg-type]
        base_url=fake.origin if type == "azure" else fake.base_url,
        api_key="sk-test",
        state=state,  # type: ignore[arg-type]
        max_retries=retries,
        timeout=timeout,
    )


def make(
    fake: FakeOpenAI, *, conn: Connection | None = None, **profile: Any
) -> tuple[ChatSession, ResponsesBackend]:
    conn = conn or connection(fake)
    values: dict[str, Any] = {
        "id": "p",
        "title": "P",
        "backend": "responses",
        "connection": conn.id,
        "model": "gpt-test",
        "upload_types": UPLOAD_TYPES,
        **profile,
    }
    prof = Profile(**values)
    backend = create(prof, conn, load_settings()[0])
    backend.index_poll_interval = 0.01
    return ChatSession(prof, backend), backend


def ask(chat: ChatSession, text: str, attachments: list[Attachment] | None = None) -> Message:
    chat.submit(text, attachments or [])
    return chat.reply().run_to_end()


def parts(message: Message, cls: type[Any]) -> list[Any]:
    return [p for p in message.parts if isinstance(p, cls)]


def body(fake: FakeOpenAI, n: int = -1) -> dict[str, Any]:
    value: dict[str, Any] = fake.calls("responses.create")[n].body
    return value


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the fake speaks the real protocol --------------------------------------------------


def test_the_sdks_typed_streaming_parses_the_fakes_events(fake: FakeOpenAI) -> None:
    fid = add_container_file(fake, "cntr_1", "out.xlsx", XLSX)
    script = (
        ResponseScript()
        .reasoning([["Plan"]])
        .code_interpreter(["x = 1"], logs="ok", container_id="cntr_1")
        .function_call("get_weather", '{"city": "Oslo"}')
        .text(
            ["See ", "file"], annotations=[container_file_citation("cntr_1", fid, "out.xlsx", 4, 8)]
        )
    )
    fake.expect("responses.create", script.stream())
    client = openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0)
    events = list(client.responses.create(model="m", input="hi", stream=True))
    kinds = {type(e) for e in events}
    assert {
        ResponseCreatedEvent,
        ResponseReasoningSummaryTextDeltaEvent,
        ResponseCodeInterpreterCallCodeDeltaEvent,
        ResponseTextDeltaEvent,
        ResponseOutputTextAnnotationAddedEvent,
        ResponseCompletedEvent,
    } <= kinds
    [ann] = [e for e in events if isinstance(e, ResponseOutputTextAnnotationAddedEvent)]
    assert isinstance(ann.annotation, AnnotationContainerFileCitation)
    done_items = [e.item for e in events if isinstance(e, ResponseOutputItemDoneEvent)]
    assert [type(i) for i in done_items][1:] == [
        ResponseCodeInterpreterToolCall,
        ResponseFunctionToolCall,
        ResponseOutputMessage,
    ]
    completed = events[-1]
    assert isinstance(completed, ResponseCompletedEvent)
    assert completed.response.output_text == "See file"
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_the_request_check_catches_an_off_protocol_request(fake: FakeOpenAI) -> None:
    client = openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0)
    fake.expect("responses.create", text_reply(["ok"]))
    list(client.responses.create(model="m", input="hi", stream=True, extra_body={"top_p": "x"}))
    [problem] = request_problems(fake)
    assert "top_p" in problem
    fake.requests.clear()  # checked here, not by the fixture


def test_the_schema_check_catches_an_off_protocol_event() -> None:
    name = _event_schemas()["response.output_text.delta"]
    good = {
        "type": "response.output_text.delta",
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "delta": "x",
        "logprobs": [],
        "sequence_number": 3,
    }
    validate(name, good)
    with pytest.raises(SchemaError):
        validate(name, {k: v for k, v in good.items() if k != "logprobs"})


# -- answers -------------------------------------------------------------------------


def test_plain_text_in_a_remote_conversation(fake: FakeOpenAI) -> None:
    fake.expect("responses.create", ResponseScript().text(["Hel", "lo", "!"]).stream(usage=(7, 3)))
    chat, _ = make(fake, instructions="Be brief.", temperature=0.3, max_output_tokens=300)
    answer = ask(chat, "Hi")
    assert answer.status == "complete"
    assert answer.text == "Hello!"
    assert (answer.input_tokens, answer.output_tokens) == (7, 3)
    [conv] = fake.calls("conversations.create")
    assert conv.body == {"metadata": {"app": "assistants-ui"}}
    sent = body(fake)
    assert sent["conversation"] == chat.remote["conversation"] != ""
    assert sent["model"] == "gpt-test"
    assert sent["instructions"] == "Be brief."
    assert sent["input"] == [{"role": "user", "content": "Hi"}]
    assert sent["stream"] is True
    assert sent["temperature"] == 0.3
    assert sent["max_output_tokens"] == 300
    assert sent["background"] is True and sent["store"] is True  # so that Stop can cancel
    assert "tools" not in sent and "include" not in sent
    assert fake.calls("responses.create")[0].headers["authorization"] == "Bearer sk-test"
    assert chat.remote["response"] == ""  # the finished response is no longer cancellable
    # The next turn continues the same conversation with only the new message.
    fake.expect("responses.create", text_reply(["Again."]))
    ask(chat, "More")
    assert body(fake)["conversation"] == chat.remote["conversation"]
    assert body(fake)["input"] == [{"role": "user", "content": "More"}]
    assert len(fake.calls("conversations.create")) == 1


def test_code_interpreter_code_logs_chart_and_a_generated_xlsx(fake: FakeOpenAI) -> None:
    xlsx_id = add_container_file(fake, "cntr_1", "report.xlsx", XLSX)
    chart_id = add_container_file(fake, "cntr_1", "chart2.png", PNG[::-1])
    link = "[the workbook](sandbox:/mnt/data/report.xlsx)"
    text = f"Here is {link}."
    script = (
        ResponseScript()
        .code_interpreter(
            ["import pandas as pd\n", "df = pd.read_csv('d.csv')\n", "df.describe()"],
            logs="       a\ncount 3.0\n",
            images=[
                "data:image/png;base64," + base64.b64encode(PNG).decode(),
                f"{fake.base_url}/containers/cntr_1/files/{chart_id}/content",
            ],
            container_id="cntr_1",
        )
        .text(
            ["Here is ", link, "."],
            annotations=[
                container_file_citation("cntr_1", xlsx_id, "report.xlsx", 8, 8 + len(link))
            ],
            annotate_after=2,
        )
    )
    fake.expect("responses.create", script.stream())
    chat, _backend = make(
        fake, tools=("code_interpreter",), code_interpreter={"memory_limit": "4g"}
    )
    answer = ask(chat, "Describe d.csv")
    assert answer.status == "complete"
    [tool] = parts(answer, ToolPart)
    assert tool.tool == "code_interpreter"
    assert tool.code == "import pandas as pd\ndf = pd.read_csv('d.csv')\ndf.describe()"
    assert tool.logs == "       a\ncount 3.0\n"
    assert tool.status == "completed"
    first, second = parts(answer, ImagePart)
    assert (first.mime, first.data) == ("image/png", PNG)
    assert (second.name, second.data, second.file_id) == ("chart2.png", PNG[::-1], chart_id)
    [xlsx] = parts(answer, FilePart)
    assert xlsx.name == "report.xlsx"
    assert xlsx.mime == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert xlsx.sha256 == sha(XLSX) and xlsx.data == XLSX
    [text_part] = parts(answer, TextPart)
    assert text_part.text == text
    [cite] = text_part.citations
    assert (cite.kind, cite.file_id, cite.label) == ("container_file", xlsx_id, "report.xlsx")
    assert text_part.text[cite.start : cite.end] == link
    shown, notes = annotate(text_part.text, text_part.citations)
    assert shown == "Here is **the workbook**." and notes == []
    # The order the page shows: code, its output, the text, then the download.
    assert [p.kind for p in answer.parts] == ["tool", "image", "image", "text", "file"]
    assert fake.calls("containers.files.content")  # fetched while the container lives
    tools = body(fake)["tools"]
    assert tools == [
        {"type": "code_interpreter", "container": {"type": "auto", "memory_limit": "4g"}}
    ]
    assert body(fake)["include"] == ["code_interpreter_call.outputs"]


def test_a_file_path_annotation_is_fetched_from_the_calls_container(fake: FakeOpenAI) -> None:
    fid = add_container_file(fake, "cntr_9", "data.bin", bytes(range(256)))
    script = (
        ResponseScript()
        .code_interpreter(["open('data.bin','wb')"], container_id="cntr_9")
        .text(["Saved data.bin"], annotations=[file_path(fid, 14)])
    )
    fake.expect("responses.create", script.stream())
    chat, _ = make(fake, tools=("code_interpreter",))
    answer = ask(chat, "Save it")
    [file] = parts(answer, FilePart)
    assert (file.name, file.data) == ("data.bin", bytes(range(256)))
    [cite] = parts(answer, TextPart)[0].citations
    assert (cite.kind, cite.file_id, cite.start) == ("file_path", fid, 14)


def test_file_search_with_file_citations(fake: FakeOpenAI) -> None:
    text = "Revenue grew 12%. Costs fell 3%."
    script = (
        ResponseScript()
        .file_search(
            ["revenue growth"],
            [
                {"file_id": "file-a", "filename": "q3.pdf", "score": 0.91, "text": "12%"},
                {"file_id": "file-b", "filename": "costs.docx", "score": 0.5, "text": "3%"},
            ],
        )
        .text(
            ["Revenue grew 12%.", " Costs fell 3%."],
            annotations=[
                file_citation("file-a", "q3.pdf", 17),
                file_citation("file-b", "costs.docx", len(text)),
                file_citation("file-a", "q3.pdf", len(text)),
            ],
        )
    )
    fake.expect("responses.create", script.stream())
    chat, _ = make(fake, tools=("file_search",), vector_store_ids=("vs_profile",))
    answer = ask(chat, "How did Q3 go?")
    [tool] = parts(answer, ToolPart)
    assert tool.tool == "file_search" and tool.status == "completed"
    assert json.loads(tool.arguments)["queries"] == ["revenue growth"]
    assert "q3.pdf (score 0.91)" in tool.output
    [text_part] = parts(answer, TextPart)
    shown, notes = annotate(text_part.text, text_part.citations)
    assert shown == "Revenue grew 12%. [1] Costs fell 3%. [1] [2]"
    assert [(n.number, n.label, n.file_id) for n in notes] == [
        (1, "q3.pdf", "file-a"),
        (2, "costs.docx", "file-b"),
    ]
    sent = body(fake)
    assert sent["tools"] == [{"type": "file_search", "vector_store_ids": ["vs_profile"]}]
    assert sent["include"] == ["file_search_call.results"]


def test_file_search_without_any_vector_store_is_not_offered(fake: FakeOpenAI) -> None:
    fake.expect("responses.create", text_reply(["ok"]))
    chat, _ = make(fake, tools=("file_search",))
    ask(chat, "Hi")
    assert "tools" not in body(fake)  # an empty file_search tool would be a 400


def test_web_search_with_url_citations(fake: FakeOpenAI) -> None:
    intro, fact = "Let me check. ", "Python 3.14 is out."
    script = (
        ResponseScript()
        .text([intro])
        .text([fact], annotations=[url_citation("https://python.org/news", "News", 0, 11)])
        .web_search("python release", ["https://python.org/news"])
        .text(
            ["See the notes."], annotations=[url_citation("https://docs.python.org", "Docs", 0, 13)]
        )
    )
    fake.expect("responses.create", script.stream())
    chat, _ = make(fake, tools=("web_search",))
    answer = ask(chat, "Latest Python?")
    first, second = parts(answer, TextPart)
    assert first.text == intro + fact
    [cite] = first.citations  # offsets are in the transcript's text part, across messages
    assert (cite.kind, cite.url, cite.label) == ("url", "https://python.org/news", "News")
    assert first.text[cite.start : cite.end] == "Python 3.14"
    shown, notes = annotate(second.text, second.citations)
    assert shown == "See the notes [1]."
    assert footnotes_markdown(notes) == "1. [Docs](<https://docs.python.org>)"
    [tool] = parts(answer, ToolPart)
    assert tool.tool == "web_search"
    assert json.loads(tool.arguments)["query"] == "python release"
    assert tool.output == "https://python.org/news"
    assert body(fake)["tools"] == [{"type": "web_search"}]


def test_a_reasoning_summary(fake: FakeOpenAI) -> None:
    script = ResponseScript().reasoning([["Consider ", "the data."], ["Then answer."]]).text(["42"])
    fake.expect("responses.create", script.stream())
    chat, _ = make(fake, reasoning={"effort": "high", "summary": "auto"})
    answer = ask(chat, "Why?")
    [reasoning] = parts(answer, ReasoningPart)
    assert reasoning.text == "Consider the data.\n\nThen answer."
    assert answer.text == "42"
    assert body(fake)["reasoning"] == {"effort": "high", "summary": "auto"}


def test_a_refusal_is_shown_as_such(fake: FakeOpenAI) -> None:
    fake.expect(
        "responses.create", ResponseScript().refusal(["I can't ", "help with that."]).stream()
    )
    chat, _ = make(fake)
    answer = ask(chat, "Something bad")
    assert [p.kind for p in answer.parts] == ["refusal"]
    assert parts(answer, RefusalPart)[0].text == "I can't help with that."
    assert answer.status == "complete"


# -- function tools --------------------------------------------------------------------


def test_a_function_call_round_trip(fake: FakeOpenAI) -> None:
    fake.expect(
        "responses.create",
        ResponseScript()
        .function_call("get_weather", '{"city": "Paris"}', call_id="call_1")
        .stream(usage=(5, 5)),
        ResponseScript().text(["It is 21°C in Paris."]).stream(usage=(20, 8)),
    )
    chat, _ = make(fake, functions=("fakes.sample_tools:get_weather",))
    answer = ask(chat, "Weather in Paris?")
    assert answer.status == "complete"
    [tool] = parts(answer, ToolPart)
    assert (tool.tool, tool.name, tool.status) == ("function", "get_weather", "completed")
    assert json.loads(tool.arguments) == {"city": "Paris"}
    assert json.loads(tool.output) == {"city": "Paris", "temperature": 21, "unit": "c"}
    assert answer.text == "It is 21°C in Paris."
    assert [p.kind for p in answer.parts] == ["tool", "text"]
    assert (answer.input_tokens, answer.output_tokens) == (25, 13)
    first, second = fake.calls("responses.create")
    [fn] = first.body["tools"]
    assert fn["type"] == "function" and fn["name"] == "get_weather"
    assert fn["parameters"]["required"] == ["city"]
    assert fn["description"] == "The current weather in a city."
    assert second.body["conversation"] == first.body["conversation"]
    assert second.body["input"] == [
        {"type": "function_call_output", "call_id": "call_1", "output": tool.output}
    ]


def test_a_failing_function_tool_tells_the_model_and_the_user(fake: FakeOpenAI) -> None:
    fake.expect(
        "responses.create",
        ResponseScript().function_call("explode", '{"reason": "x"}', call_id="call_9").stream(),
        text_reply(["The tool failed, sorry."]),
    )
    chat, _ = make(fake, functions=("fakes.sample_tools:explode",))
    answer = ask(chat, "Try it")
    [tool] = parts(answer, ToolPart)
    assert tool.status == "failed"
    assert "explode raised RuntimeError: boom: x" in tool.error
    [output] = body(fake)["input"]
    assert output["call_id"] == "call_9" and output["output"] == tool.error
    assert answer.status == "complete" and answer.text == "The tool failed, sorry."


def test_malformed_tool_arguments_are_reported_and_the_answer_goes_on(fake: FakeOpenAI) -> None:
    fake.expect(
        "responses.create",
        ResponseScript()
        .function_call("get_weather", '{"city": "Par', call_id="c1")
        .function_call("no_such_tool", "{}", call_id="c2")
        .stream(),
        text_reply(["Let me try again later."]),
    )
    chat, _ = make(fake, functions=("fakes.sample_tools:get_weather",))
    answer = ask(chat, "Weather?")
    bad, unknown = parts(answer, ToolPart)
    assert bad.status == "failed" and "not valid JSON" in bad.error
    assert bad.arguments == '{"city": "Par'
    assert unknown.status == "failed" and "no tool named 'no_such_tool'" in unknown.error
    sent = {o["call_id"]: o["output"] for o in body(fake)["input"]}
    assert sent == {"c1": bad.error, "c2": unknown.error}
    assert answer.status == "complete"


def test_a_function_round_trip_in_a_stateless_chat_resends_the_call(fake: FakeOpenAI) -> None:
    fake.expect(
        "responses.create",
        ResponseScript().function_call("get_weather", '{"city": "Oslo"}', call_id="c1").stream(),
        text_reply(["Mild."]),
    )
    chat, _ = make(
        fake,
        conn=connection(fake, state="stateless"),
        functions=("fakes.sample_tools:get_weather",),
    )
    ask(chat, "Weather?")
    question, call, output = body(fake)["input"]
    assert question == {"role": "user", "content": "Weather?"}
    assert (call["type"], call["call_id"], call["name"]) == ("function_call", "c1", "get_weather")
    assert output["type"] == "function_call_output" and output["call_id"] == "c1"
    assert "conversation" not in body(fake) and "previous_response_id" not in body(fake)


def test_previous_response_id_chains_function_rounds(fake: FakeOpenAI) -> None:
    call = ResponseScript().function_call("get_weather", '{"city": "Oslo"}', call_id="c1")
    final = ResponseScript().text(["Mild."])
    fake.expect("responses.create", call.stream(), final.stream())
    chat, _ = make(
        fake,
        conn=connection(fake, state="previous_response_id"),
        functions=("fakes.sample_tools:get_weather",),
    )
    ask(chat, "Weather?")
    assert body(fake)["previous_response_id"] == call.response_id
    assert [i["type"] for i in body(fake)["input"]] == ["function_call_output"]
    assert chat.remote["previous_response_id"] == final.response_id


def test_tool_rounds_are_bounded(fake: FakeOpenAI) -> None:
    def call(n: int) -> Stream:
        return (
            ResponseScript()
            .function_call("get_weather", '{"city": "Rome"}', call_id=f"c{n}")
            .stream()
        )

    fake.expect("responses.create", call(1), call(2), call(3))
    chat, _ = make(fake, functions=("fakes.sample_tools:get_weather",), max_tool_rounds=2)
    answer = ask(chat, "Loop")
    requests = fake.calls("responses.create")
    assert len(requests) == 3
    assert "tool_choice" not in requests[1].body
    assert requests[2].body["tool_choice"] == "none"  # the last round must answer
    assert answer.status == "incomplete"
    assert "max_tool_rounds" in parts(answer, NoticePart)[-1].text
    last = parts(answer, ToolPart)[-1]
    assert last.status == "incomplete" and "limit of 2 tool rounds" in last.error
    # The call left open is answered in the conversation, so the next turn works.
    [settled] = fake.calls("conversations.items.create")
    assert settled.body["items"] == [
        {"type": "function_call_output", "call_id": "c3", "output": last.error}
    ]


# -- ends other than success -----------------------------------------------------------


def test_a_failed_response_is_one_clear_message(fake: FakeOpenAI) -> None:
    fake.expect(
        "responses.create",
        ResponseScript()
        .text(["Part"])
        .stream("failed", error={"code": "server_error", "message": "The model crashed."}),
    )
    chat, _ = make(fake)
    answer = ask(chat, "Hi")
    assert answer.status == "failed"
    assert answer.text == "Part"
    assert answer.error is not None
    assert (
        answer.error.reason
        == "The server, while answering, failed: The model crashed. Retry in a moment."
    )
    assert answer.error.retryable and answer.error.code == "server_error"
    fake.expect(
        "responses.create",
        ResponseScript().stream(
            "failed", error={"code": "invalid_prompt", "message": "Prompt flagged."}
        ),
    )
    again = ask(chat, "Hi")
    assert again.error is not None and not again.error.retryable


def test_an_incomplete_response(fake: FakeOpenAI) -> None:
    fake.expect(
        "responses.create",
        ResponseScript().text(["Long"]).stream("incomplete", incomplete_reason="max_output_tokens"),
    )
    chat, _ = make(fake, max_output_tokens=64)
    answer = ask(chat, "Write a lot")
    assert answer.status == "incomplete"
    assert answer.text == "Long"
    assert parts(answer, NoticePart)[-1].text == (
        "The answer reached its length limit (64 tokens, max_output_tokens)."
    )


def test_an_error_event_mid_stream_keeps_what_arrived(fake: FakeOpenAI) -> None:
    fake.expect("responses.create", error_stream("Overloaded, try later.", after=["Hal"]))
    chat, _ = make(fake)
    answer = ask(chat, "Hi")
    assert answer.status == "failed" and answer.text == "Hal"
    assert answer.error is not None and "Overloaded, try later." in answer.error.reason
    assert answer.error.retryable


def test_429_then_success_is_retried_by_the_sdk(fake: FakeOpenAI) -> None:
    fake.expect(
        "responses.create",
        Error(429, "slow down", "rate_limit_error", headers={"retry-after-ms": "10"}),
        text_reply(["ok"]),
    )
    chat, _ = make(fake, conn=connection(fake, retries=2))
    answer = ask(chat, "Hi")
    assert answer.status == "complete" and answer.text == "ok"
    assert len(fake.calls("responses.create")) == 2


def test_401_and_404_are_explained(fake: FakeOpenAI) -> None:
    fake.expect("responses.create", Error(401, "Incorrect API key", code="invalid_api_key"))
    chat, _ = make(fake)
    answer = ask(chat, "Hi")
    assert answer.error is not None and "refused the API key (401)" in answer.error.reason
    fake.expect(
        "responses.create",
        Error(404, "Vector store with id 'vs_gone' not found.", code="not_found"),
    )
    answer = ask(chat, "Hi")
    assert answer.error is not None
    assert "Vector store with id 'vs_gone' not found" in answer.error.reason
    assert "vector_store_ids" in answer.error.reason
    fake.expect("responses.create", Error(404, "Conversation with id 'conv_1' not found."))
    answer = ask(chat, "Hi")
    assert answer.error is not None and "start a new chat" in answer.error.reason


def test_a_stream_cut_midway_keeps_the_partial_answer(fake: FakeOpenAI) -> None:
    script = ResponseScript().text(["par", "tial", " more"])
    fake.expect("responses.create", script.stream(cut_after=6))  # after "par", "tial"
    chat, _ = make(fake, conn=connection(fake, retries=0))
    answer = ask(chat, "Hi")
    assert answer.status == "failed"
    assert answer.text == "partial"
    assert answer.error is not None and answer.error.retryable
    assert answer.error.code == "stream_cut"


def test_a_stream_that_ends_without_its_last_event_is_a_failure(fake: FakeOpenAI) -> None:
    events = ResponseScript().text(["half"]).sse()[:-1]
    fake.expect("responses.create", Stream(events, done_marker=False))
    chat, _ = make(fake)
    answer = ask(chat, "Hi")
    assert answer.status == "failed" and answer.text == "half"
    assert answer.error is not None and answer.error.code == "stream_cut"


# -- conversation state ----------------------------------------------------------------


def test_no_conversations_api_falls_back_to_stateless(fake: FakeOpenAI) -> None:
    fake.expect("conversations.create", Error(404, "Not Found"))
    conn = connection(fake)
    chat, backend = make(fake, conn=conn)
    first = ask(chat, "first")
    [notice] = parts(first, NoticePart)
    assert notice.level == "warning" and "no Conversations API" in notice.text
    assert first.text == "Fake answer to: first"
    assert "conversation" not in body(fake)
    assert "background" not in body(fake)  # nothing kept remotely, nothing to cancel there
    second = ask(chat, "second")
    assert parts(second, NoticePart) == []  # told once per chat
    assert body(fake)["input"] == [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "Fake answer to: first"},
        {"role": "user", "content": "second"},
    ]
    # Once per connection: a new chat does not ask again.
    other = ChatSession(chat.profile, backend)
    ask(other, "third")
    assert len(fake.calls("conversations.create")) == 1
    assert body(fake)["input"] == [{"role": "user", "content": "third"}]


def test_previous_response_id_mode(fake: FakeOpenAI) -> None:
    one, two = ResponseScript().text(["One."]), ResponseScript().text(["Two."])
    fake.expect("responses.create", one.stream(), two.stream())
    chat, _ = make(fake, conn=connection(fake, state="previous_response_id"))
    ask(chat, "first")
    assert chat.remote["previous_response_id"] == one.response_id
    ask(chat, "second")
    assert "previous_response_id" not in body(fake, 0)
    assert body(fake)["previous_response_id"] == one.response_id
    assert body(fake)["input"] == [{"role": "user", "content": "second"}]
    assert chat.remote["previous_response_id"] == two.response_id
    assert fake.calls("conversations.create") == []


def test_stateless_mode_resends_history_with_attachments(fake: FakeOpenAI) -> None:
    chat, _ = make(fake, conn=connection(fake, state="stateless"))
    ask(chat, "What is this?", [Attachment("cat.png", "image/png", PNG)])
    image_id = chat.messages[0].attachments[0].file_id
    ask(chat, "And now?")
    first, answer, second = body(fake)["input"]
    assert first == {
        "role": "user",
        "content": [
            {"type": "input_text", "text": "What is this?"},
            {"type": "input_image", "file_id": image_id, "detail": "auto"},
        ],
    }
    assert answer["role"] == "assistant"
    assert second == {"role": "user", "content": "And now?"}
    assert "background" not in body(fake)
    assert fake.calls("conversations.create") == []


def test_stop_mid_stream_cancels_the_background_response(fake: FakeOpenAI) -> None:
    script = ResponseScript(background=True).text(["a"] * 300)
    fake.expect("responses.create", script.stream(delay=0.01))
    chat, _ = make(fake)
    chat.submit("long please")
    stream = chat.reply()
    while "aaa" not in stream.message.text:
        assert not stream.poll(0.05)
    stream.cancel()
    assert fake.state["cancel_requested"].wait(10)
    assert fake.state["cancelled"] == [script.response_id]
    assert stream.message.status == "stopped"
    kept = stream.message.text
    assert kept.startswith("aaa") and len(kept) < 300
    # The conversation goes on.
    fake.expect("responses.create", text_reply(["next"]))
    assert ask(chat, "again").text == "next"


def test_stop_in_a_later_round_cancels_that_rounds_response(fake: FakeOpenAI) -> None:
    call = ResponseScript(background=True).function_call("get_weather", '{"city": "Oslo"}')
    answer = ResponseScript(background=True).text(["b"] * 300)
    fake.expect("responses.create", call.stream(), answer.stream(delay=0.01))
    chat, _ = make(fake, functions=("fakes.sample_tools:get_weather",))
    chat.submit("Weather?")
    stream = chat.reply()
    while "bbb" not in stream.message.text:
        assert not stream.poll(0.05)
    assert chat.remote["response"] == answer.response_id
    stream.cancel()
    assert fake.state["cancel_requested"].wait(10)
    assert fake.state["cancelled"] == [answer.response_id]


# -- uploads ---------------------------------------------------------------------------


def test_uploads_are_routed_by_type(fake: FakeOpenAI) -> None:
    chat, _ = make(fake, tools=("code_interpreter", "file_search"))
    files = [
        Attachment("cat.png", "image/png", PNG),
        Attachment("paper.pdf", "application/pdf", b"%PDF-1.7 ..."),
        Attachment("data.csv", "text/csv", b"a,b\n1,2\n"),
        Attachment("notes.docx", "application/octet-stream", b"PK docx"),
    ]
    checks = chat.check_uploads([(f.name, f.mime, f.size) for f in files])
    assert [c.route for c in checks] == ["image", "file", "code_interpreter", "file_search"]
    ask(chat, "Look", files)
    purposes = {c.body["file"]["filename"]: c.body["purpose"] for c in fake.calls("files.create")}
    assert purposes == {
        "cat.png": "vision",
        "paper.pdf": "user_data",
        "data.csv": "assistants",
        "notes.docx": "assistants",
    }
    ids = {a.name: a.file_id for a in chat.messages[0].attachments}
    sent = body(fake)
    assert sent["input"] == [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "Look"},
                {"type": "input_image", "file_id": ids["cat.png"], "detail": "auto"},
                {"type": "input_file", "file_id": ids["paper.pdf"]},
                {"type": "input_text", "text": "[data.csv is in the code interpreter's files]"},
                {"type": "input_text", "text": "[notes.docx is indexed for file search]"},
            ],
        }
    ]
    assert sent["tools"] == [
        {"type": "code_interpreter", "container": {"type": "auto", "file_ids": [ids["data.csv"]]}},
        {"type": "file_search", "vector_store_ids": [chat.remote["vector_store"]]},
    ]
    assert chat.remote["ci_files"] == ids["data.csv"]


def test_a_type_no_enabled_tool_accepts_is_refused_with_a_reason(fake: FakeOpenAI) -> None:
    chat, _ = make(fake)  # no tools at all
    csv, docx, exe, png = chat.check_uploads(
        [
            ("data.csv", "text/csv", 10),
            ("notes.docx", "application/octet-stream", 10),
            ("tool.exe", "application/octet-stream", 10),
            ("cat.png", "image/png", 10),
        ]
    )
    assert not csv.ok and "code interpreter" in csv.reason
    assert not docx.ok and "file search or the code interpreter" in docx.reason
    assert not exe.ok and ".exe" in exe.reason
    assert png.ok  # images are model input, no tool needed
    assert fake.requests == []
    # If one gets through anyway, nothing is sent and the answer says why.
    answer = ask(chat, "Use it", [Attachment("data.csv", "text/csv", b"a\n1\n")])
    assert answer.status == "failed" and answer.error is not None
    assert "data.csv" in answer.error.reason
    assert fake.calls("files.create") == [] and fake.calls("responses.create") == []


def test_one_vector_store_per_conversation_with_indexing_progress(fake: FakeOpenAI) -> None:
    fake.state["index_polls"] = 2
    chat, _ = make(fake, tools=("file_search",), vector_store_ids=("vs_profile",))
    first = ask(
        chat,
        "Read these",
        [
            Attachment("a.docx", "application/octet-stream", b"A"),
            Attachment("b.md", "text/markdown", b"B"),
        ],
    )
    store = chat.remote["vector_store"]
    [indexing] = parts(first, ToolPart)
    assert (indexing.tool, indexing.name, indexing.status) == (
        "file_search",
        "indexing",
        "completed",
    )
    assert json.loads(indexing.arguments)["files"] == ["a.docx", "b.md"]
    assert indexing.output == "2 of 2 file(s) ready for search"
    polls = fake.calls("vector_stores.files.retrieve")
    assert len(polls) >= 6  # in progress twice, then completed, for each file
    assert body(fake)["tools"] == [
        {"type": "file_search", "vector_store_ids": ["vs_profile", store]}
    ]
    # The index is ready before the question is asked.
    assert fake.calls("responses.create")[0].at > polls[-1].at
    ask(chat, "And this", [Attachment("c.txt", "text/plain", b"C")])
    assert len(fake.calls("vector_stores.create")) == 1
    assert len(fake.calls("vector_stores.files.create")) == 3
    assert chat.remote["vector_store"] == store


def test_a_file_that_fails_indexing_is_shown_and_the_answer_goes_on(fake: FakeOpenAI) -> None:
    fake.expect(
        "vector_stores.files.retrieve",
        Json(
            {
                "id": "file-x",
                "object": "vector_store.file",
                "usage_bytes": 0,
                "created_at": 1,
                "vector_store_id": "vs_x",
                "status": "failed",
                "last_error": {"code": "unsupported_file", "message": "No text found."},
            },
            "VectorStoreFileObject",
        ),
    )
    chat, _ = make(fake, tools=("file_search",))
    answer = ask(chat, "Read", [Attachment("scan.docx", "application/octet-stream", b"\x00")])
    [indexing] = parts(answer, ToolPart)
    assert indexing.status == "failed"
    assert indexing.error == "scan.docx could not be indexed: No text found."
    assert answer.status == "complete"


def test_a_file_the_server_rejects(fake: FakeOpenAI) -> None:
    fake.expect(
        "files.create", Error(400, "Invalid file format for purpose.", code="invalid_file_format")
    )
    chat, _ = make(fake, tools=("file_search",))
    answer = ask(chat, "Read", [Attachment("notes.docx", "application/octet-stream", b"PK")])
    assert answer.status == "failed" and answer.error is not None
    assert answer.error.reason.startswith("The server refused notes.docx:")
    assert "Invalid file format for purpose." in answer.error.reason
    assert not answer.error.retryable
    question = chat.messages[0]  # nothing typed or attached is lost
    assert question.text == "Read" and question.attachments[0].data == b"PK"
    assert fake.calls("responses.create") == []


def test_what_an_upload_created_is_kept_when_it_fails_halfway(fake: FakeOpenAI) -> None:
    fake.expect("vector_stores.files.create", Error(400, "Unsupported file.", code="invalid_file"))
    chat, backend = make(fake, tools=("file_search",))
    answer = ask(chat, "Read", [Attachment("a.md", "text/markdown", b"A")])
    assert answer.status == "failed" and answer.error is not None
    assert "Unsupported file." in answer.error.reason
    # The store and the file exist remotely: the chat knows them, to reuse and delete.
    store, uploaded = chat.remote["vector_store"], chat.remote["files"]
    assert store in fake.state["vector_stores"] and uploaded in fake.state["files"]
    backend.delete(dict(chat.remote))
    assert fake.state["vector_stores"] == {} and fake.state["files"] == {}


# -- building, files out, deleting -----------------------------------------------------


def test_a_function_path_that_does_not_import_is_refused_at_build_time(
    fake: FakeOpenAI,
) -> None:
    with pytest.raises(BackendError, match="no_such_module"):
        make(fake, functions=("no_such_module:get_weather",))
    with pytest.raises(BackendError, match="has no 'missing'"):
        make(fake, functions=("fakes.sample_tools:missing",))


def test_a_tool_the_backend_lacks_or_a_local_connection_is_refused(fake: FakeOpenAI) -> None:
    conn = connection(fake)
    prof = Profile.model_construct(
        **{
            **Profile(id="p", title="P", backend="responses", model="m").__dict__,
            "tools": ("computer_use_preview",),
        }
    )
    with pytest.raises(BackendError, match="no tool 'computer_use_preview'"):
        create(prof, conn, load_settings()[0])
    local = Connection(id="local", type="local")
    with pytest.raises(BackendError, match="Chat Completions only"):
        create(
            Profile(id="p", title="P", backend="responses", model="m"), local, load_settings()[0]
        )


def test_delete_removes_the_conversation_its_vector_store_and_files(fake: FakeOpenAI) -> None:
    chat, backend = make(fake, tools=("code_interpreter", "file_search"))
    ask(
        chat,
        "Files",
        [Attachment("d.csv", "text/csv", b"a\n"), Attachment("n.md", "text/markdown", b"# n")],
    )
    remote = dict(chat.remote)
    backend.delete(remote)
    assert fake.state["conversations"] == {}
    assert fake.state["vector_stores"] == {}
    assert fake.state["files"] == {}
    assert len(fake.calls("files.delete")) == 2
    backend.delete(remote)  # already gone: nothing to complain about


def test_azure_uses_the_v1_endpoint_and_its_dialect(fake: FakeOpenAI) -> None:
    conn = connection(fake, type="azure")
    chat, _ = make(fake, conn=conn, model="my-deployment", tools=("web_search",))
    fake.expect("responses.create", text_reply(["Hi from Azure"]))
    answer = ask(chat, "What is this?", [Attachment("cat.png", "image/png", PNG)])
    assert answer.text == "Hi from Azure"
    [created] = fake.calls("conversations.create")
    [request] = fake.calls("responses.create")
    assert created.path == "/openai/v1/conversations"
    assert request.path == "/openai/v1/responses"
    assert request.headers["authorization"] == "Bearer sk-test"
    sent = request.body
    assert sent["model"] == "my-deployment"
    assert sent["tools"] == [{"type": "web_search_preview"}]
    assert "background" not in sent  # Azure streams slowly in background mode
    # Azure cannot reference an uploaded image as input: it goes inline.
    assert fake.calls("files.create") == []
    image = sent["input"][0]["content"][1]
    assert image["type"] == "input_image"
    assert image["image_url"] == "data:image/png;base64," + base64.b64encode(PNG).decode()


def test_azure_uploads_use_the_assistants_purpose(fake: FakeOpenAI) -> None:
    conn = connection(fake, type="azure")
    chat, _ = make(fake, conn=conn, model="dep")
    ask(chat, "Read", [Attachment("paper.pdf", "application/pdf", b"%PDF")])
    [upload] = fake.calls("files.create")
    assert upload.path == "/openai/v1/files"
    assert upload.body["purpose"] == "assistants"


def test_profile_code_interpreter_files_join_the_container(fake: FakeOpenAI) -> None:
    fake.expect("responses.create", text_reply(["ok"]))
    chat, _ = make(
        fake, tools=("code_interpreter",), code_interpreter={"file_ids": ["file-imported"]}
    )
    ask(chat, "hi")
    ci = next(t for t in body(fake)["tools"] if t["type"] == "code_interpreter")
    assert ci["container"]["file_ids"] == ["file-imported"]


@pytest.mark.parametrize("effort", [None, "low"])
def test_the_title_is_one_small_response_not_stored(fake: FakeOpenAI, effort: str | None) -> None:
    """The conversation's title: `responses.create` without streaming, tools or storage,
    a tight output budget (a reasoning model gets room to think first)."""
    from assistants_ui.core.titles import TitleRequest

    fake.expect("responses.title", response_title("Lisbon in three days"))
    reasoning = {"reasoning": {"effort": effort}} if effort else {}
    _, backend = make(fake, tools=["code_interpreter"], **reasoning)
    written = backend.title(TitleRequest("Name it in English.", "User:\nLisbon?", max_tokens=24))
    assert written == "Lisbon in three days"
    [sent] = fake.calls("responses.title")
    assert sent.body == {
        "model": "gpt-test",
        "instructions": "Name it in English.",
        "input": "User:\nLisbon?",
        "max_output_tokens": 24 + (1024 if effort else 0),
        "store": False,
        **({"reasoning": {"effort": "low"}} if effort else {}),
    }
    assert not request_problems(fake, "responses.title")
    assert fake.calls("responses.create") == []  # no conversation, no answer
