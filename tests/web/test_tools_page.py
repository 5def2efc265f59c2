"""Tools on the page (AppTest): an MCP server's tool and a Python function called by a
`chat` assistant are shown like function calls; a server that is down is one warning."""

from __future__ import annotations

import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

from fakes.chat_routes import chat_text, chat_tool_calls
from fakes.server import FakeOpenAI

APP = str(Path(__file__).parents[2] / "streamlit_app.py")
SERVER = Path(__file__).parents[1] / "fakes" / "mcp_server.py"


def test_tool_calls_and_a_server_that_is_down_are_shown(fake: FakeOpenAI, tmp_path: Path) -> None:
    python = sys.executable.replace("\\", "/")
    (tmp_path / "assistants.toml").write_text(f"""
[connections.fake]
type = "openai"
base_url = "{fake.base_url}"

[[assistants]]
id = "tools"
title = "Tools"
backend = "chat"
connection = "fake"
model = "m"
functions = ["fakes.sample_functions:get_weather"]

[[assistants.mcp_servers]]
name = "clock"
command = ["{python}", "{SERVER.as_posix()}"]

[[assistants.mcp_servers]]
name = "gone"
command = ["{python}", "-c", "raise SystemExit(2)"]
""")
    fake.expect(
        "chat.completions",
        chat_tool_calls(
            ("c1", "city_time", '{"city": "Oslo"}'), ("c2", "get_weather", '{"city": "Oslo"}')
        ),
        chat_text(["Noon and sunny in Oslo."]),
    )
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.chat_input[0].set_value("Time and weather in Oslo?").run()
    assert not at.exception
    ended = [e.label for e in at.expander]  # an ended call: an expander (a status runs)
    assert ended == ["Function `city_time`", "Function `get_weather`"], ended
    codes = [c.value for c in at.code]
    assert "It is 12:00 in Oslo." in codes and "Sunny in Oslo (22 °C)" in codes
    assert "Noon and sunny in Oslo." in [m.value for m in at.markdown]
    warnings = [w.value for w in at.warning]
    assert any("The MCP server 'gone' is unavailable" in w for w in warnings), warnings
