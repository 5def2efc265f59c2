"""The fake Assistants server, read by the SDK's own `AssistantEventHandler` machinery.

If the SDK's accumulation (message and run-step snapshots, tool-call
callbacks, the final run) accepts what the fake streams, the backend's tests
exercise the real protocol, not a private dialect.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import AssistantEventHandler
from openai.types.beta.threads import Message, Text, TextDelta
from openai.types.beta.threads.runs import RunStep, ToolCall, ToolCallDelta

from fakes.assistants_scripts import (
    add_assistant,
    cite,
    code,
    default_script,
    function_call,
    image_message,
    link,
    script,
    text,
)
from fakes.files_routes import add_file
from fakes.openapi import validate
from fakes.server import FakeOpenAI

pytestmark = [
    pytest.mark.filterwarnings("ignore:The Assistants API is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning"),
]


class Recorder(AssistantEventHandler):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []

    def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        self.calls.append(("text_delta", delta.value))

    def on_text_done(self, text: Text) -> None:
        self.calls.append(("text_done", text.value))

    def on_tool_call_created(self, tool_call: ToolCall) -> None:
        self.calls.append(("tool_created", tool_call.type))

    def on_tool_call_delta(self, delta: ToolCallDelta, snapshot: ToolCall) -> None:
        self.calls.append(("tool_delta", delta.type))

    def on_tool_call_done(self, tool_call: ToolCall) -> None:
        self.calls.append(("tool_done", tool_call.type))

    def on_run_step_done(self, run_step: RunStep) -> None:
        self.calls.append(("step_done", run_step.type))

    def on_message_done(self, message: Message) -> None:
        self.calls.append(("message_done", message.id))


def client(fake: FakeOpenAI) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.base_url, api_key="sk-test", max_retries=0)


def test_sdk_handler_accumulates_a_scripted_run(fake: FakeOpenAI) -> None:
    add_assistant(fake, tools=[{"type": "code_interpreter"}, {"type": "file_search"}])
    chart = add_file(fake, "/mnt/data/chart.png", b"\x89PNG fake")
    data = add_file(fake, "/mnt/data/out.csv", b"a,b\n1,2\n")
    doc = add_file(fake, "manual.pdf", b"%PDF", purpose="assistants")
    script(
        fake,
        code(("import pandas", " as pd\n", "print(1)"), logs="1\n", images=(chart,)),
        image_message(chart),
        text(
            "See ",
            "【4:0†source】",
            " and [out.csv](sandbox:/mnt/data/out.csv).",
            annotations=(cite("【4:0†source】", doc), link("sandbox:/mnt/data/out.csv", data)),
        ),
    )
    c = client(fake)
    thread = c.beta.threads.create()
    c.beta.threads.messages.create(thread.id, role="user", content="Plot it")
    handler = Recorder()
    with c.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id="asst_fake", event_handler=handler
    ) as stream:
        stream.until_done()
    run = handler.get_final_run()
    assert run.status == "completed"
    assert run.usage is not None and run.usage.total_tokens == 46

    steps = handler.get_final_run_steps()
    code_step = next(s for s in steps if s.step_details.type == "tool_calls")
    assert code_step.step_details.type == "tool_calls"
    call = code_step.step_details.tool_calls[0]
    assert call.type == "code_interpreter"
    assert call.code_interpreter.input == "import pandas as pd\nprint(1)"
    kinds = [o.type for o in call.code_interpreter.outputs]
    assert kinds == ["logs", "image"]

    messages = handler.get_final_messages()
    final_text = messages[-1].content[0]
    assert final_text.type == "text"
    assert final_text.text.value == "See 【4:0†source】 and [out.csv](sandbox:/mnt/data/out.csv)."
    notes = {a.type: a for a in final_text.text.annotations}
    assert notes["file_citation"].file_citation.file_id == doc  # type: ignore[union-attr]
    assert notes["file_path"].file_path.file_id == data  # type: ignore[union-attr]
    start = final_text.text.value.index("sandbox:")
    assert (notes["file_path"].start_index, notes["file_path"].end_index) == (
        start,
        start + len("sandbox:/mnt/data/out.csv"),
    )
    assert messages[0].content[0].type == "image_file"

    names = [name for name, _ in handler.calls]
    assert names.count("text_delta") == 3
    assert ("tool_created", "code_interpreter") in handler.calls
    assert ("text_done", final_text.text.value) in handler.calls
    assert "message_done" in names
    # Every request the SDK made carried the Assistants v2 beta header.
    assert {r.headers.get("openai-beta") for r in fake.calls("runs.create")} == {"assistants=v2"}


def test_function_round_trip_through_the_sdk(fake: FakeOpenAI) -> None:
    add_assistant(fake)
    script(fake, function_call((("get_time", '{"tz": "UTC"}'),)))
    script(fake, text("It is noon."))
    c = client(fake)
    thread = c.beta.threads.create()
    c.beta.threads.messages.create(thread.id, role="user", content="Time?")
    with c.beta.threads.runs.stream(thread_id=thread.id, assistant_id="asst_fake") as stream:
        stream.until_done()
        run = stream.get_final_run()
    assert run.status == "requires_action"
    assert run.required_action is not None
    (tool_call,) = run.required_action.submit_tool_outputs.tool_calls
    assert tool_call.function.name == "get_time"
    with c.beta.threads.runs.submit_tool_outputs_stream(
        thread_id=thread.id,
        run_id=run.id,
        tool_outputs=[{"tool_call_id": tool_call.id, "output": "12:00"}],
    ) as stream:
        deltas = list(stream.text_deltas)
        final = stream.get_final_run()
    assert "".join(deltas) == "It is noon."
    assert final.status == "completed"
    steps = c.beta.threads.runs.retrieve(run.id, thread_id=thread.id)
    assert steps.status == "completed"


def test_a_thread_with_an_active_run_refuses_messages(fake: FakeOpenAI) -> None:
    add_assistant(fake)
    script(fake, function_call((("f", "{}"),)))
    c = client(fake)
    thread = c.beta.threads.create()
    c.beta.threads.messages.create(thread.id, role="user", content="go")
    with c.beta.threads.runs.stream(thread_id=thread.id, assistant_id="asst_fake") as stream:
        run = stream.get_final_run()
    with pytest.raises(openai.BadRequestError, match="while a run"):
        c.beta.threads.messages.create(thread.id, role="user", content="again")
    cancelling = c.beta.threads.runs.cancel(run.id, thread_id=thread.id)
    assert cancelling.status == "cancelling"
    assert c.beta.threads.runs.retrieve(run.id, thread_id=thread.id).status == "cancelled"
    c.beta.threads.messages.create(thread.id, role="user", content="again")


def test_stream_events_validate_as_assistant_stream_events() -> None:
    """The validator itself rejects a malformed event (so a passing test means something)."""
    with pytest.raises(AssertionError, match="AssistantStreamEvent"):
        validate("AssistantStreamEvent", {"event": "thread.run.completed", "data": {"id": "x"}})


def test_without_a_script_the_fake_echoes_or_plays_the_default(fake: FakeOpenAI) -> None:
    add_assistant(fake)
    c = client(fake)
    thread = c.beta.threads.create()
    c.beta.threads.messages.create(thread.id, role="user", content="Hello there")
    with c.beta.threads.runs.stream(thread_id=thread.id, assistant_id="asst_fake") as stream:
        assert "".join(stream.text_deltas) == "Fake answer to: Hello there"
    default_script(fake, text("Always this."))
    for _ in range(2):
        with c.beta.threads.runs.stream(thread_id=thread.id, assistant_id="asst_fake") as stream:
            assert "".join(stream.text_deltas) == "Always this."
