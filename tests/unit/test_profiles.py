"""Profiles: from assistants.toml, from the original environment, and every error."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistants_ui.profiles import DEFAULT_UPLOAD_TYPES, Config, load_config
from assistants_ui.settings import load_settings


def config() -> Config:
    settings, problems = load_settings()
    return load_config(settings, problems)


def write(tmp_path: Path, text: str) -> None:
    (tmp_path / "assistants.toml").write_text(text)


def test_nothing_configured_is_one_local_profile() -> None:
    cfg = config()
    assert cfg.problems == []
    assert [p.id for p in cfg.profiles] == ["local"]
    profile = cfg.profiles[0]
    assert profile.backend == "chat"
    assert cfg.connection_for(profile).type == "local"
    assert cfg.source == "default"


def test_assistant_title_names_the_local_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_TITLE", "Offline helper")
    assert config().profiles[0].title == "Offline helper"


def test_original_single_assistant_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("ASSISTANT_ID", "asst_1")
    monkeypatch.setenv("ASSISTANT_TITLE", "Helper")
    cfg = config()
    assert cfg.problems == []
    (profile,) = cfg.profiles
    assert profile.backend == "assistants"
    assert profile.assistant_id == "asst_1"
    assert profile.title == "Helper"
    assert profile.upload_types == DEFAULT_UPLOAD_TYPES
    assert cfg.connection_for(profile).resolved_key() == "sk-x"


def test_openai_assistants_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv(
        "OPENAI_ASSISTANTS", '[{"id": "asst_a", "title": "A"}, {"id": "asst_b", "title": "B"}]'
    )
    cfg = config()
    assert [(p.id, p.title, p.backend) for p in cfg.profiles] == [
        ("asst_a", "A", "assistants"),
        ("asst_b", "B", "assistants"),
    ]


@pytest.mark.parametrize("value", ["not json", '{"id": "a"}', '[{"title": "no id"}]'])
def test_malformed_openai_assistants_is_a_problem_not_a_fallback(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("OPENAI_ASSISTANTS", value)
    cfg = config()
    assert [p.setting for p in cfg.problems] == ["OPENAI_ASSISTANTS"]
    assert cfg.profiles == []  # never silently the local model instead


def test_empty_upload_message_disables_uploads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_ID", "asst_1")
    monkeypatch.setenv("ENABLED_FILE_UPLOAD_MESSAGE", "")
    (profile,) = config().profiles
    assert not profile.uploads_enabled


def test_upload_message_is_the_upload_label(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_ID", "asst_1")
    monkeypatch.setenv("ENABLED_FILE_UPLOAD_MESSAGE", "Drop your CSV")
    assert config().profiles[0].upload_label == "Drop your CSV"


def test_azure_variables_make_an_azure_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_KEY", "az")
    monkeypatch.setenv("ASSISTANT_ID", "asst_1")
    cfg = config()
    conn = cfg.connection_for(cfg.profiles[0])
    assert conn.type == "azure"
    assert conn.resolved_key() == "az"


def test_base_url_alone_is_a_chat_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("OPENAI_MODEL", "llama3.2")
    (profile,) = config().profiles
    assert (profile.backend, profile.model, profile.connection) == ("chat", "llama3.2", "openai")


def test_key_alone_is_a_responses_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("OPENAI_MODEL", "gpt-test")
    (profile,) = config().profiles
    assert profile.backend == "responses"


def test_assistants_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_KEY", "k-from-env")
    write(
        tmp_path,
        """
[connections.ollama]
type = "openai"
base_url = "http://127.0.0.1:11434/v1"
api_key_env = "OLLAMA_KEY"

[[assistants]]
id = "llama"
title = "Llama"
backend = "chat"
connection = "ollama"
model = "llama3.2"
instructions = "Be kind."
welcome = "Hello!"
upload_types = ["txt"]

[[assistants]]
id = "offline"
backend = "chat"
""",
    )
    cfg = config()
    assert cfg.problems == []
    assert cfg.source.endswith("assistants.toml")
    llama, offline = cfg.profiles
    assert llama.title == "Llama"
    assert llama.welcome == "Hello!"
    assert cfg.connection_for(llama).resolved_key() == "k-from-env"
    assert offline.title == "offline"
    assert cfg.connection_for(offline).type == "local"


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("[[assistants]\nid=", "assistants.toml", "not valid TOML"),
        ('[[assistants]]\nid = "a"\nbackend = "telepathy"\n', "assistants[0]", "unknown backend"),
        ('[[assistants]]\nid = "a"\nbackend = "responses"\n', "assistants[0]", "missing model"),
        (
            '[[assistants]]\nid = "a"\nbackend = "chat"\nmodle = "x"\n',
            "assistants[0]",
            "modle: unknown key",
        ),
        (
            '[[assistants]]\nid = "a"\nbackend = "chat"\n' * 2,
            "assistants[1]",
            "duplicate assistant id",
        ),
        (
            '[[assistants]]\nid = "a"\nbackend = "chat"\nconnection = "nowhere"\n',
            "assistants[0]",
            "unknown connection",
        ),
        (
            '[connections.x]\ntype = "pigeon"\n[[assistants]]\nid = "a"\nbackend = "chat"\n',
            "connections.x",
            "type",
        ),
        ('title = "x"\n', "assistants.toml", "unknown top-level key"),
        ("", "assistants.toml", "declares no [[assistants]]"),
    ],
)
def test_invalid_assistants_toml_is_a_clear_problem(
    tmp_path: Path, text: str, where: str, words: str
) -> None:
    write(tmp_path, text)
    cfg = config()
    assert cfg.problems, "expected a problem"
    joined = [str(p) for p in cfg.problems]
    assert any(where in p and words in p for p in joined), joined


def test_a_bad_profile_does_not_hide_the_good_ones(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
[[assistants]]
id = "good"
backend = "chat"
[[assistants]]
id = "bad"
backend = "nope"
""",
    )
    cfg = config()
    assert [p.id for p in cfg.profiles] == ["good"]
    assert len(cfg.problems) == 1


def test_assistants_file_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "elsewhere.toml").write_text('[[assistants]]\nid = "x"\nbackend = "chat"\n')
    monkeypatch.setenv("ASSISTANTS_FILE", str(tmp_path / "elsewhere.toml"))
    assert [p.id for p in config().profiles] == ["x"]


def test_example_file_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).parents[2] / "assistants.example.toml"
    monkeypatch.setenv("ASSISTANTS_FILE", str(example))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    cfg = config()
    assert cfg.problems == []
    assert len(cfg.profiles) >= 3


def test_starters_are_kept_in_order_and_stripped(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
[[assistants]]
id = "s"
backend = "chat"
starters = ["  Summarise this file ", "Plot the second column"]
""",
    )
    cfg = config()
    assert cfg.problems == []
    assert cfg.profiles[0].starters == ("Summarise this file", "Plot the second column")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"Hi"', "starters: Input should be a valid tuple"),
        ('["Hi", ""]', "starters.1: String should have at least 1 character"),
        ('["Hi", 3]', "starters.1: Input should be a valid string"),
        ("[" + ", ".join(['"x"'] * 9) + "]", "starters: Tuple should have at most 8 items"),
    ],
)
def test_a_bad_starter_is_one_problem_naming_it(tmp_path: Path, value: str, expected: str) -> None:
    write(tmp_path, f'[[assistants]]\nid = "s"\nbackend = "chat"\nstarters = {value}\n')
    cfg = config()
    assert cfg.profiles == []
    assert len(cfg.problems) == 1
    assert expected in cfg.problems[0].message


def test_prices_are_numbers_per_million_tokens(tmp_path: Path) -> None:
    write(
        tmp_path,
        '[[assistants]]\nid = "p"\nbackend = "chat"\n'
        "price_per_million_input = 2\nprice_per_million_output = 8.5\n",
    )
    cfg = config()
    assert cfg.problems == []
    assert cfg.profiles[0].price_per_million_input == 2.0
    assert cfg.profiles[0].price_per_million_output == 8.5


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"2.5"', "price_per_million_output: Input should be a valid number"),
        ('"$3"', "price_per_million_output: Input should be a valid number"),
        ("-1", "price_per_million_output: Input should be greater than or equal to 0"),
        ("nan", "price_per_million_output: Input should be a finite number"),
        ("true", "price_per_million_output: Input should be a valid number"),
    ],
)
def test_a_price_that_is_not_a_number_is_one_problem_naming_it(
    tmp_path: Path, value: str, expected: str
) -> None:
    write(
        tmp_path,
        f'[[assistants]]\nid = "p"\nbackend = "chat"\nprice_per_million_output = {value}\n',
    )
    cfg = config()
    assert cfg.profiles == []
    assert len(cfg.problems) == 1
    assert cfg.problems[0].setting.endswith("assistants[0] ('p')")
    assert expected in cfg.problems[0].message


def test_hosted_mcp_servers_of_a_responses_assistant(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
[[assistants]]
id = "docs"
title = "Docs"
backend = "responses"
connection = "openai"
model = "gpt-test"
[[assistants.hosted_mcp]]
server_label = "docs"
server_url = "https://mcp.example.com/mcp"
headers_env = { Authorization = "DOCS_MCP_AUTH" }
allowed_tools = ["search"]

[[assistants]]
id = "chatty"
title = "Chatty"
backend = "chat"
[[assistants.hosted_mcp]]
server_label = "docs"
server_url = "https://mcp.example.com/mcp"

[[assistants]]
id = "bad-label"
title = "Bad"
backend = "responses"
model = "m"
[[assistants.hosted_mcp]]
server_label = "has space"
server_url = "file:///etc/passwd"
""",
    )
    cfg = config()
    [docs] = cfg.profiles
    [server] = docs.hosted_mcp
    assert server.tool({"DOCS_MCP_AUTH": "Bearer t"}) == {
        "type": "mcp",
        "server_label": "docs",
        "server_url": "https://mcp.example.com/mcp",
        "require_approval": "always",
        "headers": {"Authorization": "Bearer t"},
        "allowed_tools": ["search"],
    }
    assert server.missing_env({}) == ["DOCS_MCP_AUTH"]
    problems = {p.setting: p.message for p in cfg.problems}
    assert len(problems) == 2, problems
    assert any("hosted_mcp needs backend 'responses'" in m for m in problems.values())
    bad = next(m for m in problems.values() if "server_label" in m)
    assert "server_url" in bad


def test_transcription_model_needs_a_connection_that_can_transcribe(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
[connections.remote]
type = "openai"
base_url = "http://127.0.0.1:9/v1"

[[assistants]]
id = "voice"
backend = "chat"
connection = "remote"
model = "m"
transcription_model = "whisper-1"

[[assistants]]
id = "offline"
backend = "chat"
transcription_model = "whisper-1"
""",
    )
    cfg = config()
    by_id = {p.id: p for p in cfg.profiles}
    assert by_id["voice"].transcription_model == "whisper-1"
    # The local model cannot transcribe: one problem, and the assistant works without a mic.
    assert by_id["offline"].transcription_model is None
    assert [p.setting for p in cfg.problems] == [
        "assistants.toml: assistants[1] ('offline') transcription_model"
    ]
    assert "local model cannot transcribe" in cfg.problems[0].message
