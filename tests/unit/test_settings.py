"""Settings: every mapped variable, every validation error, the sources' order."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistants_ui.settings import load_settings


def test_defaults_when_nothing_is_set() -> None:
    settings, problems = load_settings()
    assert problems == []
    assert settings.openai_api_key is None
    assert settings.assistant_id is None
    assert settings.enabled_file_upload_message == "Upload a file"
    assert settings.authentication_required is False
    assert settings.assistants_file == Path("assistants.toml")
    assert settings.local_max_tokens == 512


@pytest.mark.parametrize(
    ("name", "value", "field", "expected"),
    [
        ("OPENAI_API_KEY", "sk-test", "openai_api_key", "sk-test"),
        ("ASSISTANT_ID", "asst_123", "assistant_id", "asst_123"),
        (
            "OPENAI_ASSISTANTS",
            '[{"id":"a","title":"A"}]',
            "openai_assistants",
            '[{"id":"a","title":"A"}]',
        ),
        ("ASSISTANT_TITLE", "My helper", "assistant_title", "My helper"),
        (
            "ENABLED_FILE_UPLOAD_MESSAGE",
            "Drop a file",
            "enabled_file_upload_message",
            "Drop a file",
        ),
        ("ENABLED_FILE_UPLOAD_MESSAGE", "", "enabled_file_upload_message", ""),
        ("AUTHENTICATION_REQUIRED", "True", "authentication_required", True),
        ("AUTHENTICATION_REQUIRED", "false", "authentication_required", False),
        (
            "AZURE_OPENAI_ENDPOINT",
            "https://x.openai.azure.com/",
            "azure_openai_endpoint",
            "https://x.openai.azure.com",
        ),
        ("AZURE_OPENAI_KEY", "az-key", "azure_openai_key", "az-key"),
        ("RUN_INSTRUCTIONS", "Be brief.", "run_instructions", "Be brief."),
        (
            "OPENAI_BASE_URL",
            "http://localhost:11434/v1/",
            "openai_base_url",
            "http://localhost:11434/v1",
        ),
        ("OPENAI_MODEL", "llama3.2", "openai_model", "llama3.2"),
        ("LOCAL_MODEL_PATH", "/models/x.gguf", "local_model_path", Path("/models/x.gguf")),
        ("LOCAL_MAX_TOKENS", "64", "local_max_tokens", 64),
        ("MAX_UPLOAD_MB", "5", "max_upload_mb", 5.0),
        ("LOG_LEVEL", "debug", "log_level", "DEBUG"),
    ],
)
def test_each_variable_is_read(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, field: str, expected: object
) -> None:
    monkeypatch.setenv(name, value)
    settings, problems = load_settings()
    assert problems == []
    got = getattr(settings, field)
    if hasattr(got, "get_secret_value"):
        got = got.get_secret_value()
    assert got == expected


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("AUTHENTICATION_REQUIRED", "maybe", "boolean"),
        ("OPENAI_BASE_URL", "localhost:11434", "http://"),
        ("AZURE_OPENAI_ENDPOINT", "ftp://x", "http://"),
        ("LOCAL_MAX_TOKENS", "lots", "integer"),
        ("LOCAL_MAX_TOKENS", "0", "greater than or equal"),
        ("OPENAI_TIMEOUT", "-1", "greater than"),
        ("MAX_UPLOAD_MB", "0", "greater than"),
        ("LOG_LEVEL", "loud", "DEBUG"),
    ],
)
def test_a_bad_value_is_one_problem_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, words: str
) -> None:
    monkeypatch.setenv(name, value)
    settings, problems = load_settings()
    assert len(problems) == 1
    assert problems[0].setting == name
    assert words in problems[0].message
    # The bad value falls back to the default so that the app can start.
    field = name.lower()
    assert getattr(settings, field) == type(settings).model_fields[field].default


def test_two_bad_values_are_two_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_MAX_TOKENS", "x")
    monkeypatch.setenv("AUTHENTICATION_REQUIRED", "x")
    _, problems = load_settings()
    assert {p.setting for p in problems} == {"LOCAL_MAX_TOKENS", "AUTHENTICATION_REQUIRED"}


def test_secret_values_are_not_echoed_in_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "nope")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    _, problems = load_settings()
    assert all("sk-secret-value" not in str(p) for p in problems)


def test_blank_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "  ")
    monkeypatch.setenv("ASSISTANT_ID", "")
    settings, problems = load_settings()
    assert problems == []
    assert settings.openai_api_key is None
    assert settings.assistant_id is None


def test_dotenv_and_streamlit_secrets_are_read_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text('ASSISTANT_TITLE="From dotenv"\nOPENAI_MODEL=dotenv-model\n')
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        'OPENAI_MODEL = "secrets-model"\nASSISTANT_ID = "asst_secret"\n'
        "[credentials]\nusernames = {}\n"
    )
    monkeypatch.setenv("ASSISTANT_TITLE", "From env")
    settings, problems = load_settings()
    assert problems == []
    assert settings.assistant_title == "From env"
    assert settings.openai_model == "dotenv-model"
    assert settings.assistant_id == "asst_secret"


def test_unreadable_secrets_file_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text("this is = = not toml")
    _, problems = load_settings()
    assert len(problems) == 1
    assert "secrets.toml" in problems[0].setting
