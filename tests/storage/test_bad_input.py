"""DATABASE_URL that is malformed, unsupported or unreachable; settings defaults."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from assistants_ui.settings import load_settings
from assistants_ui.storage import Repository, StorageError, database_url, open_database, open_url


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.mark.parametrize(
    "url", ["nonsense", "://nothing", "sqlite:", "http://example.com/db"], ids=repr
)
def test_malformed_or_unsupported_url(url: str) -> None:
    with pytest.raises(StorageError) as caught:
        open_url(url)
    assert str(caught.value).startswith("DATABASE_URL")
    assert "sqlite:///" in str(caught.value)  # says what is expected


def test_unsupported_driver_hides_the_password() -> None:
    with pytest.raises(StorageError) as caught:
        open_url("mysql://admin:hunter2@db.internal/app")
    assert "hunter2" not in str(caught.value)
    assert "unsupported" in str(caught.value)


def test_errors_carry_their_code_and_slots_the_sentence_is_made_from() -> None:
    with pytest.raises(StorageError) as caught:
        open_url("mysql://admin:hunter2@db.internal/app")
    assert caught.value.code == "unsupported_url"
    assert caught.value.slots == {"url": "mysql://admin:***@db.internal/app", "driver": "mysql"}
    with pytest.raises(StorageError) as caught:
        open_url("://nothing")
    assert caught.value.code == "not_a_url" and caught.value.slots == {"shown": "://nothing"}


def test_unreachable_postgres_is_one_sentence_without_password() -> None:
    url = f"postgresql://admin:hunter2@127.0.0.1:{closed_port()}/app"
    with pytest.raises(StorageError) as caught:
        open_url(url)
    message = str(caught.value)
    assert message.startswith("DATABASE_URL") and "cannot connect" in message
    assert "hunter2" not in message and "\n" not in message


def test_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database" * 100)
    with pytest.raises(StorageError) as caught:
        open_url(f"sqlite:///{path}")
    assert "DATABASE_URL" in str(caught.value)
    assert path.read_bytes() == b"these are my notes, not a database" * 100  # untouched


def test_sqlite_folder_that_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError) as caught:
        open_url(f"sqlite:///{blocker}/sub/history.db")
    assert "cannot create the folder" in str(caught.value)


def test_default_is_a_sqlite_file_under_data_dir(clean_env: Path) -> None:
    settings, problems = load_settings()
    assert problems == []
    assert str(database_url(settings)) == f"sqlite:///{clean_env / 'data' / 'assistants-ui.db'}"
    db = open_database(settings)
    try:
        assert db.dialect == "sqlite"
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        db.dispose()
    assert (clean_env / "data" / "assistants-ui.db").exists()


def test_settings_read_database_url_and_limit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "elsewhere"))
    settings, _ = load_settings()
    assert database_url(settings).database == str(tmp_path / "elsewhere" / "assistants-ui.db")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:hunter2@h/db")
    monkeypatch.setenv("MAX_STORED_FILE_MB", "5")
    settings, _ = load_settings()
    assert "hunter2" not in repr(settings)  # the URL is a secret
    assert str(database_url(settings).drivername) == "postgresql+psycopg"
    assert settings.max_stored_file_mb == 5
    monkeypatch.setenv("MAX_STORED_FILE_MB", "-1")
    settings, problems = load_settings()
    assert [p.setting for p in problems] == ["MAX_STORED_FILE_MB"]
    assert settings.max_stored_file_mb == 50


def test_in_memory_sqlite_works_for_scripts() -> None:
    db = open_url("sqlite://")
    try:
        user = Repository(db).ensure_user(auth_provider="p", subject="s")
        assert Repository(db).find_user(auth_provider="p", subject="s") == user
    finally:
        db.dispose()
