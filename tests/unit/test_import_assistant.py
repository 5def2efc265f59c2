"""`assistants-ui import-assistant`: Assistants definitions become Responses profiles.

Every import is checked the way the app reads it: the written file is loaded
with `load_config`, and the profile must validate and match the assistant.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistants_ui.backends import registry
from assistants_ui.cli import main
from assistants_ui.profiles import Config, load_config
from assistants_ui.settings import load_settings
from fakes.assistants_scripts import add_assistant
from fakes.openapi import validate
from fakes.server import Error, FakeOpenAI

pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")

INSTRUCTIONS = 'You analyse data.\nQuote paths like C:\\data\\x.csv and say """done""".\n'


def assistant(**over: Any) -> dict[str, Any]:
    """An assistant object exactly as GET /v1/assistants/{id} returned it."""
    obj: dict[str, Any] = {
        "id": "asst_abc123",
        "object": "assistant",
        "created_at": 1700000000,
        "name": "Data Helper (v2)",
        "description": "Answers questions about the sales data.",
        "model": "gpt-4o",
        "instructions": INSTRUCTIONS,
        "tools": [
            {"type": "code_interpreter"},
            {"type": "file_search", "file_search": {"max_num_results": 5}},
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "The weather in a city",
                    "parameters": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                    },
                },
            },
        ],
        "tool_resources": {
            "code_interpreter": {"file_ids": ["file-aaa", "file-bbb"]},
            "file_search": {"vector_store_ids": ["vs_123"]},
        },
        "metadata": {"team": "sales"},
        "temperature": 0.3,
        "top_p": 0.9,
        "response_format": {"type": "json_object"},
    }
    obj.update(over)
    validate("AssistantObject", obj)
    return obj


def save(path: Path, payload: Any) -> Path:
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def config() -> Config:
    return load_config(load_settings()[0])


def test_import_writes_a_profile_the_app_loads_and_that_matches(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = save(clean_env / "asst.json", assistant())
    assert main(["import-assistant", str(source)]) == 0
    out = capsys.readouterr().out
    assert "Added 'data-helper-v2' (Data Helper (v2), responses, gpt-4o) to assistants.toml" in out
    assert "function tools need an implementation named in `functions`: get_weather" in out
    assert "ASSISTANT_ID and OPENAI_ASSISTANTS are ignored" in out

    cfg = config()
    assert cfg.problems == []
    (profile,) = cfg.profiles
    assert profile.id == "data-helper-v2"
    assert profile.title == "Data Helper (v2)"
    assert (profile.backend, profile.connection, profile.model) == ("responses", "openai", "gpt-4o")
    assert profile.instructions == INSTRUCTIONS
    assert profile.temperature == 0.3
    assert profile.tools == ("code_interpreter", "file_search")
    assert profile.vector_store_ids == ("vs_123",)
    assert profile.code_interpreter.file_ids == ("file-aaa", "file-bbb")
    assert profile.functions == ()
    # The profile builds a working Responses backend.
    backend = registry.create(profile, cfg.connection_for(profile), cfg.settings)
    assert type(backend).__name__ == "ResponsesBackend"

    text = (clean_env / "assistants.toml").read_text(encoding="utf-8")
    assert "# Imported from the Assistants API assistant asst_abc123" in text
    assert "#   get_weather(city: string, days: integer) - The weather in a city" in text
    assert "name an implementation for each below" in text
    assert "# Not imported: top_p = 0.9 was not carried over" in text
    assert "# Not imported: response_format 'json_object' was not carried over" in text
    assert '# Not imported: metadata {"team": "sales"} was not carried over' in text
    assert '# Not imported: file search options {"max_num_results": 5}' in text


def test_an_existing_file_keeps_its_comments_and_an_id_is_not_overwritten(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = clean_env / "assistants.toml"
    toml.write_text(
        "# Our assistants. Keep this comment.\n\n"
        "[connections.lab]\n"
        'type = "openai"\n'
        'base_url = "http://lab.example/v1"  # the lab server\n\n'
        "[[assistants]]\n"
        'id = "helper"\n'
        'title = "Helper"\n'
        'backend = "chat"\n'
        'connection = "lab"\n',
        encoding="utf-8",
    )
    source = save(clean_env / "asst.json", assistant(name="Helper"))
    assert main(["import-assistant", str(source), "--connection", "lab"]) == 1
    err = capsys.readouterr().err
    assert "already has an assistant with id 'helper'" in err and "--force" in err
    assert main(["import-assistant", str(source), "--id", "helper-2", "--connection", "lab"]) == 0
    text = toml.read_text(encoding="utf-8")
    assert text.startswith("# Our assistants. Keep this comment.\n")
    assert 'base_url = "http://lab.example/v1"  # the lab server' in text
    cfg = config()
    assert cfg.problems == []
    assert [(p.id, p.backend, p.connection) for p in cfg.profiles] == [
        ("helper", "chat", "lab"),
        ("helper-2", "responses", "lab"),
    ]

    # --force replaces that one table, in place.
    source = save(clean_env / "asst.json", assistant(name="Helper", model="gpt-4.1"))
    assert main(["import-assistant", str(source), "--id", "helper-2", "--force"]) == 0
    cfg = config()
    assert [(p.id, p.model) for p in cfg.profiles] == [("helper", None), ("helper-2", "gpt-4.1")]


def test_a_saved_list_page_imports_every_assistant(clean_env: Path) -> None:
    page = {
        "object": "list",
        "data": [assistant(id="asst_1", name="One"), assistant(id="asst_2", name=None)],
        "first_id": "asst_1",
        "last_id": "asst_2",
        "has_more": False,
    }
    validate("ListAssistantsResponse", page)
    source = save(clean_env / "all.json", page)
    assert main(["import-assistant", str(source), "--id", "x"]) == 1
    assert main(["import-assistant", str(source)]) == 0
    cfg = config()
    assert [(p.id, p.title) for p in cfg.profiles] == [("one", "One"), ("asst_2", "asst_2")]


def test_a_minimal_assistant(clean_env: Path) -> None:
    source = save(
        clean_env / "a.json",
        assistant(
            tools=[],
            tool_resources=None,
            instructions=None,
            temperature=None,
            top_p=None,
            metadata={},
            response_format="auto",
            description=None,
        ),
    )
    assert main(["import-assistant", str(source), "--out", "conf/assistants.toml"]) == 1
    (clean_env / "conf").mkdir()
    assert main(["import-assistant", str(source), "--out", "conf/assistants.toml"]) == 0
    text = (clean_env / "conf" / "assistants.toml").read_text(encoding="utf-8")
    assert "Not imported" not in text and "functions" not in text
    settings, _ = load_settings(assistants_file=clean_env / "conf" / "assistants.toml")
    (profile,) = load_config(settings).profiles
    assert (profile.tools, profile.instructions, profile.temperature) == ((), None, None)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "not valid JSON"),
        ('{"id": "asst_1"}', "not an assistant object"),
        ("[]", "holds no assistants"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    clean_env: Path, capsys: pytest.CaptureFixture[str], content: str, says: str
) -> None:
    (clean_env / "bad.json").write_text(content, encoding="utf-8")
    assert main(["import-assistant", "bad.json"]) == 1
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1
    assert not (clean_env / "assistants.toml").exists()


def test_a_profile_that_would_not_validate_is_never_written(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = save(clean_env / "a.json", assistant())
    assert main(["import-assistant", str(source), "--connection", "nowhere"]) == 1
    assert "unknown connection 'nowhere'" in capsys.readouterr().err
    assert not (clean_env / "assistants.toml").exists()
    assert main(["import-assistant"]) == 1
    assert "give either FILE.json or --from-api" in capsys.readouterr().err


def test_from_api_fetches_the_assistant_from_a_server_that_still_answers(
    clean_env: Path,
    fake: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    add_assistant(
        fake,
        assistant_id="asst_live",
        name="Live one",
        tools=[{"type": "code_interpreter"}],
        tool_resources={"code_interpreter": {"file_ids": ["file-1"]}},
    )
    assert main(["import-assistant", "--from-api", "asst_live"]) == 0
    assert "Added 'live-one'" in capsys.readouterr().out
    (profile,) = config().profiles
    assert (profile.model, profile.tools) == ("gpt-4o", ("code_interpreter",))
    assert profile.code_interpreter.file_ids == ("file-1",)
    assert fake.calls("assistants.retrieve")[0].path == "/v1/assistants/asst_live"

    fake.expect("assistants.retrieve", Error(404, "Invalid URL (GET /v1/assistants/asst_x)"))
    assert main(["import-assistant", "--from-api", "asst_x", "--id", "x"]) == 1
    err = capsys.readouterr().err
    assert "Cannot fetch asst_x" in err and "2026-08-26" in err and err.count("\n") == 1
    assert main(["import-assistant", "--from-api", "asst_missing", "--id", "y"]) == 1
    assert "does not know the assistant asst_missing (404)" in capsys.readouterr().err
