"""`assistants-ui check`: the table's rows and the exit code, against real servers and files."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from assistants_ui.cli import main
from assistants_ui.storage import open_url
from assistants_ui.storage.migrate import head_revision
from fakes.server import FakeOpenAI


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers = list(root.handlers)
    yield
    root.handlers[:] = handlers


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["check", *args])
    return code, capsys.readouterr().out


def row(out: str, area_name: str) -> str:
    found = [line for line in out.splitlines() if f"  {area_name}  " in f"{line}  "]
    assert found, f"no row {area_name!r} in:\n{out}"
    return found[0]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.local_model  # nothing configured: the bundled model is checked
def test_nothing_configured_is_ok_and_creates_no_database(
    capsys: pytest.CaptureFixture[str], clean_env: Path
) -> None:
    code, out = check(capsys, "--offline")
    assert code == 0, out
    assert row(out, "config profiles").startswith("ok")
    assert row(out, "assistant local").startswith("ok")
    assert "no file yet" in row(out, "database connection")
    assert row(out, "database schema").startswith("ok")
    assert out.rstrip().endswith(" 0 failed")
    assert not (clean_env / "data").exists(), "check created the database"


def test_endpoint_rows_say_whether_each_server_answers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("OPENAI_MODEL", "fake-model")
    code, out = check(capsys)
    assert code == 0, out
    assert row(out, "connection openai").startswith("ok") and "answers" in out

    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{closed_port()}/v1")
    code, out = check(capsys)
    assert code == 1
    assert row(out, "connection openai").startswith("FAIL")


def test_a_base_urls_user_and_password_are_never_printed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    with_user = fake.base_url.replace("http://", "http://user:s3cret-pw@")
    monkeypatch.setenv("OPENAI_BASE_URL", with_user)
    monkeypatch.setenv("OPENAI_MODEL", "fake-model")
    code, out = check(capsys)
    assert code == 0, out
    assert f"{fake.base_url} answers" in row(out, "connection openai")
    assert "s3cret-pw" not in out and "user:" not in out

    closed = f"http://user:s3cret-pw@127.0.0.1:{closed_port()}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", closed)
    code, out = check(capsys)
    assert code == 1
    assert row(out, "connection openai").startswith("FAIL")
    assert closed.replace("user:s3cret-pw@", "") in out
    assert "s3cret-pw" not in out and "user:" not in out


def test_a_bad_setting_fails_and_names_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_UPLOAD_MB", "-3")
    code, out = check(capsys, "--offline")
    assert code == 1
    assert row(out, "config MAX_UPLOAD_MB").startswith("FAIL")


def test_an_unreachable_database_fails_without_showing_its_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"postgresql://app:pw-never-shown@127.0.0.1:{closed_port()}/x?connect_timeout=2"
    monkeypatch.setenv("DATABASE_URL", url)
    code, out = check(capsys, "--offline")
    assert code == 1
    assert row(out, "database connection").startswith("FAIL")
    assert "cannot connect" in out and "pw-never-shown" not in out


def test_a_malformed_database_url_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://u:p@h/db")
    code, out = check(capsys, "--offline")
    assert code == 1 and row(out, "database connection").startswith("FAIL")


def sqlite_at(path: Path, revision: str | None) -> str:
    """A SQLite database migrated to head, then (optionally) stamped `revision`."""
    url = f"sqlite:///{path}"
    db = open_url(url)
    if revision is not None:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    db.dispose()
    return url


@pytest.mark.local_model  # nothing configured: the bundled model is checked
def test_schema_at_head_behind_and_newer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_at(tmp_path / "head.db", None))
    code, out = check(capsys, "--offline")
    assert code == 0, out
    assert f"at {head_revision()}" in row(out, "database schema")
    assert "sqlite" in row(out, "database connection")

    monkeypatch.setenv("DATABASE_URL", sqlite_at(tmp_path / "old.db", "0001"))
    code, out = check(capsys, "--offline")
    assert code == 0, out  # the app migrates at start: reported, not a failure
    assert "behind" in row(out, "database schema")

    newer = tmp_path / "newer.db"
    monkeypatch.setenv("DATABASE_URL", sqlite_at(newer, "9999_from_the_future"))
    before = newer.read_bytes()
    code, out = check(capsys, "--offline")
    assert code == 1
    schema = row(out, "database schema")
    assert schema.startswith("FAIL") and "newer than this version" in schema
    assert newer.read_bytes() == before, "check changed the database"


def test_a_file_that_is_not_a_database_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{junk}")
    code, out = check(capsys, "--offline")
    assert code == 1
    assert row(out, "database connection").startswith("FAIL")


SSO = """
[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "an-oidc-cookie-secret-long-enough-0123456789"
allowed_domains = ["example.com"]
{trusted}

[auth.google]
client_id = "id"
client_secret = "s"
server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"
"""


@pytest.mark.local_model  # nothing configured: the bundled model is checked
@pytest.mark.parametrize(
    ("trusted", "said"),
    [
        ("", "no provider is trusted without it ([auth] trusted_email_providers)"),
        ('trusted_email_providers = ["google"]', "without that claim, trusted from: google"),
    ],
)
def test_check_says_which_providers_e_mail_counts_without_email_verified(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    clean_env: Path,
    trusted: str,
    said: str,
) -> None:
    monkeypatch.setenv("AUTHENTICATION_REQUIRED", "true")
    (clean_env / ".streamlit").mkdir()
    (clean_env / ".streamlit" / "secrets.toml").write_text(SSO.format(trusted=trusted))
    code, out = check(capsys, "--offline")
    assert code == 0, out
    notes = [line for line in out.splitlines() if "single sign-on e-mail" in line]
    assert len(notes) == 1 and notes[0].startswith("ok"), out
    assert "only when the provider marks it verified (email_verified)" in notes[0]
    assert said in notes[0]


RESTRICTED = """
[[assistants]]
id = "owls"
title = "Owl expert"
backend = "chat"
allowed_groups = ["owls", "chat-admins", "night-shift"]

[[assistants]]
id = "desk"
title = "Desk"
backend = "chat"
allowed_users = ["jsmith", "ann@example.com", "ghost"]
"""


def test_check_names_each_group_and_login_an_assistant_names_that_nobody_has(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, clean_env: Path
) -> None:
    """Known groups: [auth]'s, those given on the admin page and those a sign-in brought
    (the database, read without changing it); login names: the password users'."""
    from assistants_ui.settings import load_settings
    from assistants_ui.storage import Repository, open_database
    from assistants_ui.storage.groups import Groups
    from login_support import ORIGINAL_SECRETS

    (clean_env / "assistants.toml").write_text(RESTRICTED)
    (clean_env / ".streamlit").mkdir()
    sso = SSO.format(trusted='admin_groups = ["chat-admins"]')
    (clean_env / ".streamlit" / "secrets.toml").write_text(ORIGINAL_SECRETS + sso)
    monkeypatch.setenv("AUTHENTICATION_REQUIRED", "true")
    db = open_database(load_settings()[0])
    sam = Repository(db).ensure_user(auth_provider="oidc", subject="iss|sam")
    Groups(db).note_sso_groups(user_id=sam.id, groups=["owls"])
    db.dispose()

    code, out = check(capsys, "--offline")
    assert code == 1, out
    owls = [line for line in out.splitlines() if line.split()[1:3] == ["access", "owls"]]
    assert len(owls) == 1 and owls[0].startswith("FAIL"), out
    assert "allowed_groups names night-shift, which no one is known to be in" in owls[0]
    desk = [line for line in out.splitlines() if line.split()[1:3] == ["access", "desk"]]
    assert len(desk) == 1 and desk[0].startswith("FAIL"), out
    assert "allowed_users names ghost, which no password user is" in desk[0]

    # Given to someone on the admin page, the group is known; the list passes.
    db = open_database(load_settings()[0])
    jsmith = Repository(db).ensure_user(auth_provider="password", subject="jsmith")
    Groups(db).set_groups(actor="admin", user_id=jsmith.id, groups=["night-shift"])
    db.dispose()
    (clean_env / "assistants.toml").write_text(RESTRICTED.replace(', "ghost"', ""))
    code, out = check(capsys, "--offline")
    assert row(out, "access owls").startswith("ok") and row(out, "access desk").startswith("ok")
    assert "only for group owls, group chat-admins, group night-shift" in row(out, "access owls")
    assert "only for jsmith, ann@example.com" in row(out, "access desk")


def test_check_says_a_restricted_assistant_is_for_nobody_without_a_login(
    capsys: pytest.CaptureFixture[str], clean_env: Path
) -> None:
    (clean_env / "assistants.toml").write_text(RESTRICTED)
    code, out = check(capsys, "--offline")
    assert code == 1
    assert "AUTHENTICATION_REQUIRED is off: nobody signs in" in row(out, "access owls")
    assert not (clean_env / "data").exists(), "check created the database"
