"""The one tool loop: Python functions and real MCP servers' tools on every backend.

The MCP servers are the test server (`fakes/mcp_server.py`, written with the
SDK's own server side), started over stdio and over streamable HTTP on
127.0.0.1; the model is the fake OpenAI server (its events validated against
the OpenAPI document).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistants_ui.backends.assistants import backend as assistants
from assistants_ui.backends.chat import backend as chat
from assistants_ui.backends.responses import backend as responses
from assistants_ui.backends.tool_calls import (
    MAX_OUTPUT_CHARS,
    Toolbox,
    ToolCall,
    ToolLoop,
    build_toolbox,
)
from assistants_ui.checks import mcp_checks
from assistants_ui.core.backend import BackendError
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Message, NoticePart, ToolPart
from assistants_ui.profiles import Config, Connection, McpServerSettings, Profile, load_config
from assistants_ui.settings import load_settings
from assistants_ui.tools.mcp import McpServer, server_for
from fakes.assistants_scripts import add_assistant, function_call, script, text
from fakes.chat_routes import chat_text, chat_tool_calls
from fakes.mcp_servers import http_server, stdio_settings
from fakes.responses_routes import ResponseScript, request_problems, text_reply
from fakes.server import FakeOpenAI

pytestmark = [
    pytest.mark.filterwarnings("ignore:The Assistants API is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning"),
]

WEATHER = "fakes.sample_functions:get_weather"


def loop_for(
    *servers: McpServerSettings, functions: tuple[str, ...] = (), **profile: Any
) -> ToolLoop:
    prof = Profile(
        id="p",
        title="P",
        backend="chat",
        connection="openai",
        functions=functions,
        mcp_servers=servers,
        **profile,
    )
    loop = ToolLoop(build_toolbox(prof), prof.max_tool_rounds)
    notices = list(loop.start())
    assert not notices, notices
    return loop


def run(loop: ToolLoop, name: str, arguments: dict[str, Any] | str) -> tuple[str, bool]:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    result = loop.run(ToolCall("c1", name, args))
    return result.output, result.ok


@pytest.fixture(autouse=True)
def requests_match_the_schema(fake: FakeOpenAI) -> Iterator[None]:
    yield
    problems = request_problems(fake) + request_problems(
        fake, "chat.completions", "CreateChatCompletionRequest"
    )
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def clock() -> Iterator[McpServerSettings]:
    """The stdio server, shared by the tests of this module (started once)."""
    settings = stdio_settings("clock", timeout=3)
    yield settings
    server_for(settings).close()


# -- the MCP client and the loop's wording of bad input -----------------------------------


def test_a_stdio_servers_tools_are_offered_and_called(clock: McpServerSettings) -> None:
    loop = loop_for(clock, functions=(WEATHER,))
    assert {"get_weather", "city_time", "add", "fail"} <= set(loop.tools)
    city_time = loop.tools["city_time"]
    assert city_time.description == "The local time in a city (always noon here)."
    assert city_time.parameters["required"] == ["city"]
    assert run(loop, "city_time", {"city": "Oslo"}) == ("It is 12:00 in Oslo.", True)
    assert run(loop, "add", {"a": 2, "b": 3}) == ("5", True)
    assert run(loop, "get_weather", {"city": "Oslo"}) == ("Sunny in Oslo (22 °C)", True)


def test_bad_input_is_one_clear_line_and_the_loop_goes_on(clock: McpServerSettings) -> None:
    loop = loop_for(clock)
    output, ok = run(loop, "fail", {"reason": "test"})
    assert not ok and "fail" in output
    output, ok = run(loop, "add", '{"a": 1,')
    assert not ok and output.startswith("Error: the arguments are not valid JSON")
    output, ok = run(loop, "add", {"a": 1})
    assert not ok and "b" in output  # the server's own validation message
    output, ok = run(loop, "nope", {})
    assert not ok and output.startswith("Error: there is no tool named 'nope' (available: ")
    assert run(loop, "add", {"a": 1, "b": 1}) == ("2", True)


def test_a_huge_output_is_cut_with_a_note(clock: McpServerSettings) -> None:
    output, ok = run(loop_for(clock), "huge", {"chars": MAX_OUTPUT_CHARS * 3})
    assert ok
    assert output.startswith("x" * MAX_OUTPUT_CHARS + "\n[... cut: 60,000 characters")
    assert len(output) < MAX_OUTPUT_CHARS + 100


def test_a_tool_that_hangs_is_cut_at_its_timeout(clock: McpServerSettings) -> None:
    loop = loop_for(clock)
    output, ok = run(loop, "sleep", {"seconds": 60})
    assert not ok and output.startswith(
        "Error: sleep did not finish within 3 s (the timeout of the MCP server 'clock');"
    )
    assert run(loop, "add", {"a": 1, "b": 2}) == ("3", True)  # the server still serves


def test_a_python_function_that_hangs_is_left_behind() -> None:
    toolbox = Toolbox(build_toolbox(_profile(functions=(WEATHER,))).functions, timeout=0.5)
    loop = ToolLoop(toolbox, 2)
    list(loop.start())
    loop.tools["get_weather"] = type(loop.tools["get_weather"])(
        "get_weather",
        "",
        {},
        lambda _args: time.sleep(30),  # type: ignore[arg-type,return-value]
    )
    output, ok = run(loop, "get_weather", {"city": "x"})
    assert not ok and "did not finish within 0.5 s (tool_timeout)" in output


def test_a_server_that_dies_mid_call_is_said_and_reopened() -> None:
    settings = stdio_settings("mortal", timeout=10)
    loop = loop_for(settings)
    try:
        output, ok = run(loop, "vanish", {})
        assert not ok and output.startswith("Error: vanish failed on the MCP server 'mortal'")
        assert run(loop, "add", {"a": 4, "b": 4}) == ("8", True)  # a new session
    finally:
        server_for(settings).close()


def test_streamable_http_with_a_header_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with http_server(token="s3cret") as url:
        settings = McpServerSettings(
            name="web", url=url, headers_env={"Authorization": "MCP_TEST_TOKEN"}
        )
        server = McpServer(settings)
        down = Toolbox(servers=[server]).offer()[1]
        assert "MCP_TEST_TOKEN is not set" in down[0].text
        monkeypatch.setenv("MCP_TEST_TOKEN", "Bearer s3cret")
        server = McpServer(settings)
        try:
            tools, notices = Toolbox(servers=[server]).offer()
            assert notices == []
            loop = ToolLoop(Toolbox(servers=[server]), 2)
            list(loop.start())
            assert run(loop, "city_time", {"city": "Lima"}) == ("It is 12:00 in Lima.", True)
            assert "city_time" in [t.name for t in tools]
        finally:
            server.close()


def test_a_server_that_is_down_is_one_notice() -> None:
    settings = McpServerSettings(
        name="broken", command=(sys.executable, "-c", "import sys; sys.exit(3)"), timeout=5
    )
    tools, notices = Toolbox(servers=[McpServer(settings)]).offer()
    assert tools == []
    [notice] = notices
    assert notice.level == "warning"
    assert notice.text.startswith("The MCP server 'broken' is unavailable (")
    assert notice.text.endswith("this answer is made without its tools.")


# -- chat ---------------------------------------------------------------------------------


def _connection(fake: FakeOpenAI) -> Connection:
    return Connection(
        id=f"t{time.monotonic_ns()}",
        type="openai",
        base_url=fake.base_url,
        api_key="sk-test",
        max_retries=0,
        timeout=20,
    )


def _profile(backend: str = "chat", **values: Any) -> Profile:
    return Profile(
        **{"id": "p", "title": "P", "backend": backend, "model": "m", **values}  # type: ignore[arg-type]
    )


def ask(session: ChatSession, question: str) -> Message:
    session.submit(question, [])
    return session.reply().run_to_end()


def tools_of(message: Message) -> list[ToolPart]:
    return [p for p in message.parts if isinstance(p, ToolPart)]


def chat_session(fake: FakeOpenAI, **values: Any) -> ChatSession:
    conn = _connection(fake)
    prof = _profile(connection=conn.id, **values)
    return ChatSession(prof, chat.create(prof, conn, load_settings()[0]))


def test_chat_calls_a_python_function_from_streamed_deltas(fake: FakeOpenAI) -> None:
    fake.expect(
        "chat.completions",
        chat_tool_calls(("call_1", "get_weather", '{"city": "Paris"}'), usage=(5, 2)),
        chat_text(["Sunny", " in Paris."], usage=(9, 4)),
    )
    answer = ask(chat_session(fake, functions=(WEATHER,)), "Weather in Paris?")
    assert answer.status == "complete"
    [tool] = tools_of(answer)
    assert (tool.tool, tool.name, tool.status) == ("function", "get_weather", "completed")
    assert json.loads(tool.arguments) == {"city": "Paris"}
    assert tool.output == "Sunny in Paris (22 °C)"
    assert answer.text == "Sunny in Paris."
    assert [p.kind for p in answer.parts] == ["tool", "text"]
    assert (answer.input_tokens, answer.output_tokens) == (14, 6)
    first, second = (c.body for c in fake.calls("chat.completions"))
    [offered] = first["tools"]
    assert offered["type"] == "function" and offered["function"]["name"] == "get_weather"
    assert offered["function"]["parameters"]["required"] == ["city"]
    assert "tool_choice" not in first
    call, output = second["messages"][-2:]
    assert call["role"] == "assistant"
    assert call["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
    ]
    assert output == {"role": "tool", "tool_call_id": "call_1", "content": tool.output}


def test_chat_calls_an_mcp_tool_and_tells_the_model_about_bad_calls(
    fake: FakeOpenAI, clock: McpServerSettings
) -> None:
    fake.expect(
        "chat.completions",
        chat_tool_calls(
            ("c1", "city_time", '{"city": "Rome"}'),
            ("c2", "fail", '{"reason": "x"}'),
            ("c3", "teleport", "{}"),
            ("c4", "add", '{"a": 1'),
        ),
        chat_text(["Noon in Rome."]),
    )
    answer = ask(chat_session(fake, mcp_servers=(clock,), tool_choice="city_time"), "Time?")
    assert answer.status == "complete" and answer.text == "Noon in Rome."
    ok, raised, unknown, malformed = tools_of(answer)
    assert (ok.status, ok.output) == ("completed", "It is 12:00 in Rome.")
    assert raised.status == "failed" and raised.error
    assert unknown.status == "failed" and "no tool named 'teleport'" in unknown.error
    assert malformed.status == "failed" and "not valid JSON" in malformed.error
    first, second = (c.body for c in fake.calls("chat.completions"))
    assert first["tool_choice"] == {"type": "function", "function": {"name": "city_time"}}
    assert "tool_choice" not in second  # forced only in the first request
    told = {m["tool_call_id"]: m["content"] for m in second["messages"] if m["role"] == "tool"}
    assert told == {
        "c1": ok.output,
        "c2": raised.error,
        "c3": unknown.error,
        "c4": malformed.error,
    }


def test_chat_tool_rounds_are_bounded(fake: FakeOpenAI) -> None:
    fake.expect(
        "chat.completions",
        chat_tool_calls(("c1", "get_weather", '{"city": "A"}')),
        chat_tool_calls(("c2", "get_weather", '{"city": "B"}')),
    )
    answer = ask(chat_session(fake, functions=(WEATHER,), max_tool_rounds=1), "Loop")
    assert answer.status == "incomplete"
    done, refused = tools_of(answer)
    assert done.status == "completed"
    assert refused.status == "incomplete" and "limit of 1 tool rounds" in refused.error
    notes = [p.text for p in answer.parts if isinstance(p, NoticePart)]
    assert "max_tool_rounds" in notes[-1]
    assert fake.calls("chat.completions")[1].body["tool_choice"] == "none"


def test_chat_goes_on_without_a_server_that_is_down(fake: FakeOpenAI) -> None:
    down = McpServerSettings(
        name="gone", command=(sys.executable, "-c", "raise SystemExit(2)"), timeout=5
    )
    fake.expect("chat.completions", chat_text(["Fine without it."]))
    answer = ask(chat_session(fake, mcp_servers=(down,)), "Hi")
    assert answer.status == "complete" and answer.text == "Fine without it."
    [notice] = [p for p in answer.parts if isinstance(p, NoticePart)]
    assert "The MCP server 'gone' is unavailable" in notice.text
    assert "tools" not in fake.calls("chat.completions")[0].body


def test_a_local_profile_with_tools_is_refused_with_a_reason() -> None:
    prof = _profile(connection="local", functions=(WEATHER,))
    local = Connection(id="local", type="local")
    with pytest.raises(BackendError, match="the local model cannot call tools"):
        chat.create(prof, local, load_settings()[0])


# -- responses and assistants -------------------------------------------------------------


def test_responses_calls_an_mcp_tool(fake: FakeOpenAI, clock: McpServerSettings) -> None:
    fake.expect(
        "responses.create",
        ResponseScript().function_call("city_time", '{"city": "Oslo"}', call_id="m1").stream(),
        text_reply(["Noon in Oslo."]),
    )
    conn = _connection(fake)
    prof = _profile("responses", connection=conn.id, mcp_servers=(clock,), functions=(WEATHER,))
    session = ChatSession(prof, responses.create(prof, conn, load_settings()[0]))
    answer = ask(session, "Time in Oslo?")
    assert answer.status == "complete" and answer.text == "Noon in Oslo."
    [tool] = tools_of(answer)
    assert (tool.name, tool.status, tool.output) == (
        "city_time",
        "completed",
        "It is 12:00 in Oslo.",
    )
    first, second = (c.body for c in fake.calls("responses.create"))
    names = [t["name"] for t in first["tools"]]
    assert names[0] == "get_weather" and "city_time" in names
    assert second["input"] == [
        {"type": "function_call_output", "call_id": "m1", "output": "It is 12:00 in Oslo."}
    ]


def test_assistants_offers_and_calls_an_mcp_tool(
    fake: FakeOpenAI, clock: McpServerSettings
) -> None:
    declared = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}
    add_assistant(fake, name="Helper", tools=[{"type": "code_interpreter"}, declared])
    conn = _connection(fake)
    prof = _profile(
        "assistants",
        connection=conn.id,
        assistant_id="asst_fake",
        functions=(WEATHER,),
        mcp_servers=(clock,),
    )
    session = ChatSession(prof, assistants.create(prof, conn, load_settings()[0]))
    script(
        fake,
        function_call((("city_time", '{"city": "Kyiv"}'), ("get_weather", '{"city": "Kyiv"}'))),
    )
    script(fake, text("Noon and sunny."))
    answer = ask(session, "Time and weather in Kyiv?")
    assert answer.status == "complete" and answer.text == "Noon and sunny."
    clock_call, weather = tools_of(answer)
    assert (clock_call.name, clock_call.output) == ("city_time", "It is 12:00 in Kyiv.")
    assert (weather.name, weather.output) == ("get_weather", "Sunny in Kyiv (22 °C)")
    run = fake.calls("runs.create")[0].body
    types = [t["type"] for t in run["tools"]]
    names = [t["function"]["name"] for t in run["tools"] if t["type"] == "function"]
    assert types[0] == "code_interpreter"
    assert names[0] == "get_weather" and "city_time" in names and names.count("get_weather") == 1
    outputs = fake.calls("runs.submit_tool_outputs")[0].body["tool_outputs"]
    assert [o["output"] for o in outputs] == [clock_call.output, weather.output]


def test_the_check_lists_each_servers_tools_or_why_it_is_down(clock: McpServerSettings) -> None:
    down = McpServerSettings(
        name="gone", command=(sys.executable, "-c", "raise SystemExit(2)"), timeout=5
    )
    config = Config(
        settings=load_settings()[0],
        profiles=[
            _profile(connection="openai", mcp_servers=(clock, down)),
            _profile("responses", id="q", connection="openai", mcp_servers=(clock,)),
        ],
    )
    up, gone = mcp_checks(config)
    assert (up.area, up.name, up.ok) == ("mcp", "clock", True)
    assert "tools city_time, add, fail" in up.detail
    assert (gone.name, gone.ok) == ("gone", False)
    assert gone.detail.startswith("MCP server 'gone' (")


def test_mcp_servers_in_assistants_toml(tmp_path: Path) -> None:
    (tmp_path / "assistants.toml").write_text(
        """
[[assistants]]
id = "a"
backend = "chat"
connection = "openai"
tool_timeout = 5
[[assistants.mcp_servers]]
name = "files"
command = ["python", "-m", "server"]
[[assistants.mcp_servers]]
name = "web"
url = "https://mcp.example.com/mcp"
headers_env = { Authorization = "MCP_AUTH" }

[[assistants]]
id = "b"
backend = "chat"
connection = "openai"
[[assistants.mcp_servers]]
name = "both"
command = ["x"]
url = "https://mcp.example.com/mcp"
""",
        encoding="utf-8",
    )
    settings = load_settings()[0].model_copy(
        update={"assistants_file": tmp_path / "assistants.toml"}
    )
    config = load_config(settings)
    [profile] = config.profiles
    files, web = profile.mcp_servers
    assert (files.command, files.url, web.url) == (
        ("python", "-m", "server"),
        None,
        "https://mcp.example.com/mcp",
    )
    assert web.headers_env == {"Authorization": "MCP_AUTH"} and profile.tool_timeout == 5
    [problem] = config.problems
    assert "'b'" in problem.setting
    assert "either `command` (stdio) or `url` (streamable HTTP)" in problem.message
