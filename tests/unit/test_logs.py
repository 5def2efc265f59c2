"""Structured, masked log lines (assistants_ui.logs)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistants_ui.logs import LogFormatter, configure_logging, mask, secret_values
from assistants_ui.settings import load_settings


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    app = logging.getLogger("assistants_ui")
    handlers, level, app_level = list(root.handlers), root.level, app.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    app.setLevel(app_level)


def record(msg: str, *args: object, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("assistants_ui.x", level, __file__, 1, msg, args, None)


def test_logfmt_line_has_time_level_logger_and_quoted_message() -> None:
    line = LogFormatter("logfmt").format(record('said "%s" = done', "hi"))
    assert line.startswith("ts=")
    assert ' level=info logger=assistants_ui.x msg="said \\"hi\\" = done"' in line
    assert "\n" not in line


def test_json_line_is_one_object_and_a_traceback_stays_on_it() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        rec = logging.LogRecord(
            "assistants_ui.y", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    line = LogFormatter("json").format(rec)
    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "error" and data["msg"] == "failed"
    assert "ValueError: boom" in data["exc"]


def test_mask_hides_given_values_url_passwords_bearer_tokens_and_openai_keys() -> None:
    text = (
        "key=verysecretvalue db=postgresql://app:hunter22@db:5432/x "
        "auth=Bearer abcdefghijkl token sk-proj-ABCDEFGHIJKLMNOP"
    )
    out = mask(text, {"verysecretvalue"})
    for secret in ("verysecretvalue", "hunter22", "abcdefghijkl", "sk-proj-ABCDEFGHIJKLMNOP"):
        assert secret not in out
    assert "postgresql://***@db:5432/x" in out  # the user name goes too


def test_mask_drops_a_base_urls_user_and_password() -> None:
    text = "POST https://user:secret@llm.example/v1/chat and http://token-only@h:8080/v1 done"
    out = mask(text)
    assert out == "POST https://***@llm.example/v1/chat and http://***@h:8080/v1 done"
    assert mask("a@b.example and https://host/path?to=x@y") == (
        "a@b.example and https://host/path?to=x@y"  # not a URL's user: left alone
    )


def test_secret_values_come_from_settings_environment_and_secrets_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        'OPENAI_API_KEY = "from-secrets-toml-key"\n'
        '[cookie]\nname = "my_cookie_name"\nkey = "cookie-signing-key-123"\nexpiry_days = 30\n'
        '[credentials.usernames.jsmith]\nname = "John Smith"\npassword = "$2b$12$hashhash"\n'
        '[auth]\nclient_secret = "oidc-client-secret"\n'
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-key-1234567")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pg-password-99@h/db")
    settings, _ = load_settings()
    found = secret_values(
        settings,
        environ={"MY_SERVICE_TOKEN": "tok-123456", "HOME": "/home/user"},
        secrets_files=[secrets],
    )
    assert {
        "sk-env-key-1234567",
        "pg-password-99",
        "tok-123456",
        "cookie-signing-key-123",
        "$2b$12$hashhash",
        "oidc-client-secret",
        "from-secrets-toml-key",
    } <= found
    assert "John Smith" not in found and "/home/user" not in found


def test_configure_sets_the_app_level_and_replaces_its_own_handler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-never-show")
    monkeypatch.setenv("LOG_FORMAT", "json")
    out = io.StringIO()
    settings, _ = load_settings()
    configure_logging(settings, stream=out)
    configure_logging(settings, stream=out)  # twice: still one line per record
    app = logging.getLogger("assistants_ui.test")
    app.info("using key %s", "sk-should-never-show")
    app.debug("hidden at INFO")
    logging.getLogger("some.library").info("libraries: warnings only")
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["msg"] == "using key ***"

    monkeypatch.setenv("LOG_LEVEL", "debug")
    configure_logging(load_settings()[0], stream=out)
    app.debug("shown at DEBUG")
    assert "shown at DEBUG" in out.getvalue()


def test_a_connection_key_from_any_variable_is_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistants_ui.runtime import Runtime

    (tmp_path / "assistants.toml").write_text(
        '[connections.x]\ntype = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'
        'api_key_env = "PLAIN_NAME"\n[[assistants]]\nid = "a"\nbackend = "chat"\n'
        'connection = "x"\nmodel = "m"\n'
    )
    key = "zz-a-key-with-no-telltale-shape-123"
    monkeypatch.setenv("PLAIN_NAME", key)
    Runtime.load()
    logging.getLogger("assistants_ui.test").warning("the key is %s", key)
    err = capsys.readouterr().err
    assert "the key is" in err
    assert key not in err
