"""What an answer adds to its assistant (`core.backend.Turn`) reaches every backend's
request: the reader's and the project's instructions after the profile's own, and the
turn's function tools (the memory tool) through the one tool loop. The model is the
fake OpenAI server, its requests checked against the OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_tool_loop import (  # the requests checked against the schema, as there
    _connection,
    _profile,
    ask,
    requests_match_the_schema,  # noqa: F401
)

from assistants_ui.backends.assistants import backend as assistants
from assistants_ui.backends.chat import backend as chat
from assistants_ui.backends.responses import backend as responses
from assistants_ui.core.backend import Turn
from assistants_ui.core.personal import memory_tool
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import NoticePart, ToolPart
from assistants_ui.settings import load_settings
from fakes.assistants_scripts import add_assistant, function_call, script, text
from fakes.chat_routes import chat_text, chat_tool_calls
from fakes.responses_routes import ResponseScript, text_reply
from fakes.server import FakeOpenAI

pytestmark = [
    pytest.mark.filterwarnings("ignore:The Assistants API is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning"),
]

ADDED = "The person you are talking to wrote this about themselves:\nI keep bees in Kyoto."


def _session(fake: FakeOpenAI, backend: str, turn: Turn, **values: Any) -> ChatSession:
    conn = _connection(fake)
    prof = _profile(backend, connection=conn.id, **values)
    make = {"chat": chat.create, "responses": responses.create, "assistants": assistants.create}
    session = ChatSession(prof, make[backend](prof, conn, load_settings()[0]))
    session.turn = lambda: turn
    return session


def _memory() -> tuple[list[str], Turn]:
    kept: list[str] = []

    def keep(fact: str) -> str:
        kept.append(fact)
        return f"Saved to the user's memory: {fact}"

    return kept, Turn(ADDED, (memory_tool(keep),))


def test_chat_sends_the_turns_instructions_after_the_profiles(fake: FakeOpenAI) -> None:
    fake.expect("chat.completions", chat_text(["Hi."]))
    session = _session(fake, "chat", Turn(ADDED), instructions="Be brief.")
    assert ask(session, "Hello").text == "Hi."
    [system, *_] = fake.calls("chat.completions")[0].body["messages"]
    assert system == {"role": "system", "content": f"Be brief.\n\n{ADDED}"}


def test_chat_without_profile_instructions_sends_the_turns_alone(fake: FakeOpenAI) -> None:
    fake.expect("chat.completions", chat_text(["Hi."]))
    ask(_session(fake, "chat", Turn(ADDED)), "Hello")
    [system, *_] = fake.calls("chat.completions")[0].body["messages"]
    assert system == {"role": "system", "content": ADDED}


def test_responses_sends_the_turns_instructions_after_the_profiles(fake: FakeOpenAI) -> None:
    fake.expect("responses.create", text_reply(["Hi."]))
    session = _session(fake, "responses", Turn(ADDED), instructions="Be brief.")
    assert ask(session, "Hello").text == "Hi."
    assert fake.calls("responses.create")[0].body["instructions"] == f"Be brief.\n\n{ADDED}"


def test_assistants_adds_the_turns_instructions_to_the_run(fake: FakeOpenAI) -> None:
    add_assistant(fake, name="Helper")
    session = _session(
        fake, "assistants", Turn(ADDED), assistant_id="asst_fake", instructions="Be brief."
    )
    script(fake, text("Hi."))
    assert ask(session, "Hello").text == "Hi."
    run = fake.calls("runs.create")[0].body
    assert run["additional_instructions"] == f"Be brief.\n\n{ADDED}"


FILES = "The project's file `hives.md`:\n```\nHive 7 is the strongest.\n```"


def test_backends_without_a_shelf_get_the_projects_files_after_the_turns_instructions(
    fake: FakeOpenAI,
) -> None:
    """Responses and Assistants (and chat without a documents shelf) read a project's
    files in the instructions; chat with a shelf searches them there instead
    (tests/backends/test_project_documents.py)."""
    turn = Turn(ADDED, project_files=FILES)
    fake.expect("responses.create", text_reply(["Hi."]))
    ask(_session(fake, "responses", turn, instructions="Be brief."), "Hello")
    assert fake.calls("responses.create")[0].body["instructions"] == (
        f"Be brief.\n\n{ADDED}\n\n{FILES}"
    )
    add_assistant(fake, name="Helper")
    script(fake, text("Hi."))
    ask(_session(fake, "assistants", Turn(project_files=FILES), assistant_id="asst_fake"), "Hi")
    assert fake.calls("runs.create")[0].body["additional_instructions"] == FILES
    fake.expect("chat.completions", chat_text(["Hi."]))
    ask(_session(fake, "chat", turn), "Hello")
    [system, *_] = fake.calls("chat.completions")[0].body["messages"]
    assert system == {"role": "system", "content": f"{ADDED}\n\n{FILES}"}


def test_chat_offers_and_runs_the_memory_tool(fake: FakeOpenAI) -> None:
    kept, turn = _memory()
    fake.expect(
        "chat.completions",
        chat_tool_calls(("c1", "remember", '{"fact": "Prefers metric units"}')),
        chat_text(["Noted."]),
    )
    answer = ask(_session(fake, "chat", turn), "Remember that I prefer metric units")
    assert answer.text == "Noted." and kept == ["Prefers metric units"]
    [tool] = [p for p in answer.parts if isinstance(p, ToolPart)]
    assert (tool.name, tool.status) == ("remember", "completed")
    first, second = (c.body for c in fake.calls("chat.completions"))
    [offered] = first["tools"]
    assert offered["function"]["name"] == "remember"
    assert offered["function"]["parameters"]["required"] == ["fact"]
    assert second["messages"][-1]["content"] == "Saved to the user's memory: Prefers metric units"


def test_responses_offers_and_runs_the_memory_tool(fake: FakeOpenAI) -> None:
    kept, turn = _memory()
    fake.expect(
        "responses.create",
        ResponseScript().function_call("remember", '{"fact": "Has a cat"}', call_id="m1").stream(),
        text_reply(["Noted."]),
    )
    assert ask(_session(fake, "responses", turn), "Remember my cat").text == "Noted."
    assert kept == ["Has a cat"]
    first = fake.calls("responses.create")[0].body
    assert [t["name"] for t in first["tools"]] == ["remember"]


def test_assistants_offers_and_runs_the_memory_tool(fake: FakeOpenAI) -> None:
    kept, turn = _memory()
    add_assistant(fake, name="Helper", tools=[{"type": "code_interpreter"}])
    session = _session(fake, "assistants", turn, assistant_id="asst_fake")
    script(fake, function_call((("remember", json.dumps({"fact": "Lives in Oslo"})),)))
    script(fake, text("Noted."))
    assert ask(session, "Remember where I live").text == "Noted."
    assert kept == ["Lives in Oslo"]
    names = [
        t["function"]["name"]
        for t in fake.calls("runs.create")[0].body["tools"]
        if t["type"] == "function"
    ]
    assert names == ["remember"]


def test_a_turn_tool_named_like_the_profiles_is_left_out_with_a_notice(
    fake: FakeOpenAI,
) -> None:
    def get_weather(city: str) -> str:
        """Not the profile's."""
        return "never"

    fake.expect("chat.completions", chat_text(["Hi."]))
    session = _session(
        fake,
        "chat",
        Turn("", (get_weather,)),
        functions=("fakes.sample_functions:get_weather",),
    )
    answer = ask(session, "Hello")
    notes = [p.text for p in answer.parts if isinstance(p, NoticePart)]
    assert any("'get_weather' of this conversation is left out" in n for n in notes)
    [offered] = fake.calls("chat.completions")[0].body["tools"]
    assert offered["function"]["description"] != "Not the profile's."
