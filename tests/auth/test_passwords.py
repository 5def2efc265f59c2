"""Password accounts: the original secrets.toml format, hashing, verification, the file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import bcrypt
import pytest

from assistants_ui.auth import load_auth
from assistants_ui.auth.passwords import (
    CredentialsError,
    CredentialsFile,
    CredentialStore,
    bcrypt_cost,
    hash_password,
    is_bcrypt_hash,
)
from assistants_ui.auth.secrets_toml import read_secrets_tables
from assistants_ui.settings import load_settings
from login_support import GOOD_KEY, ORIGINAL_SECRETS, write_secrets


def required() -> tuple[object, ...]:
    settings, problems = load_settings(authentication_required=True)
    assert problems == []
    return (settings,)


def test_the_original_format_works_and_plain_text_is_hashed_and_dropped() -> None:
    write_secrets(ORIGINAL_SECRETS)
    (settings,) = required()
    setup = load_auth(settings)  # type: ignore[arg-type]
    assert setup.problems == []
    assert setup.password_login
    store = setup.passwords
    assert store is not None
    user = store.users["jsmith"]
    assert user.name == "John Smith" and user.email == "jsmith@gmail.com"
    assert is_bcrypt_hash(user.password_hash)
    assert bcrypt.checkpw(b"abc-password", user.password_hash.encode())
    # The text itself is kept nowhere: not in any field, not in reprs.
    for value in dataclasses.asdict(user).values():
        assert "abc-password" not in str(value)
    assert "abc-password" not in repr(store) and "abc-password" not in repr(setup)
    # ... and the operator is told what to do, naming the user, not the password.
    [warning] = [w for w in setup.warnings if w.setting == "plain-text passwords"]
    assert "jsmith" in warning.message and "assistants-ui users hash" in warning.message
    assert "abc-password" not in warning.message


def test_verify_right_wrong_unknown_and_case() -> None:
    write_secrets(ORIGINAL_SECRETS)
    store = load_auth(load_settings(authentication_required=True)[0]).passwords
    assert store is not None
    assert store.verify("jsmith", "abc-password") is not None
    assert store.verify("  JSmith ", "abc-password") is not None  # names ignore case
    assert store.verify("jsmith", "ABC-password") is None
    assert store.verify("jsmith", "") is None
    assert store.verify("nobody", "abc-password") is None
    assert store.verify("jsmith", "x" * 100) is None  # over bcrypt's 72 bytes: no error


def test_unknown_names_cost_a_bcrypt_check_too(monkeypatch: pytest.MonkeyPatch) -> None:
    store = CredentialStore.load(
        secrets_credentials={"usernames": {"a": {"password": hash_password("password-a")}}},
        secrets_source="s",
        file=None,
        key=GOOD_KEY,
    )
    calls: list[bytes] = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda p, h: calls.append(h) or real(p, h))
    store.verify("a", "wrong-password")
    store.verify("nobody", "wrong-password")
    assert len(calls) == 2 and calls[0] != calls[1]


@pytest.mark.parametrize("costs", [(5,), (6, 5, 6), (4, 7)])
def test_the_dummy_hash_costs_what_the_stored_hashes_cost(
    monkeypatch: pytest.MonkeyPatch, costs: tuple[int, ...]
) -> None:
    """The attack: time a login for a made-up name and for a real one. The dummy
    hash was made at the app's default cost whatever the stored hashes used (cost
    12 vs an operator's 10 is 4x the time), so unknown names answered at another
    speed. Now it has the stored hashes' (most common) cost."""
    hashes = {
        f"user{i}": bcrypt.hashpw(b"pw-long-enough", bcrypt.gensalt(c)).decode()
        for i, c in enumerate(costs)
    }
    store = CredentialStore.load(
        secrets_credentials={"usernames": {n: {"password": h} for n, h in hashes.items()}},
        secrets_source="s",
        file=None,
        key=GOOD_KEY,
    )
    calls: list[bytes] = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda p, h: calls.append(h) or real(p, h))
    store.verify("nobody", "wrong-password")
    [dummy] = calls
    most_common = max(set(costs), key=lambda c: (costs.count(c), c))
    assert bcrypt_cost(dummy.decode()) == most_common
    assert bcrypt_cost(store.users["user0"].password_hash) == costs[0]


@pytest.mark.parametrize("prefix", ["$2a$", "$2b$", "$2y$"])
def test_hashes_made_by_streamlit_authenticator_verify(prefix: str) -> None:
    # streamlit-authenticator's Hasher.hash is bcrypt.hashpw(pw, gensalt()) -> "$2b$12$..."
    hashed = bcrypt.hashpw(b"from-hasher", bcrypt.gensalt(4)).decode().replace("$2b$", prefix)
    store = CredentialStore.load(
        secrets_credentials={
            "usernames": {"u": {"password": hashed, "first_name": "U", "last_name": "V"}}
        },
        secrets_source="s",
        file=None,
        key=GOOD_KEY,
    )
    assert store.plain_text == {}
    user = store.verify("u", "from-hasher")
    assert user is not None and user.password_hash == hashed and user.name == "U V"


def test_entries_without_password_or_duplicates_are_skipped_with_a_warning() -> None:
    store = CredentialStore.load(
        secrets_credentials={
            "usernames": {
                "nopass": {"name": "N"},
                "Dup": {"password": "first-password"},
                "dup": {"password": "second-password"},
                "odd": "not a table",
            }
        },
        secrets_source="s",
        file=None,
        key=GOOD_KEY,
    )
    assert set(store.users) == {"dup"}
    assert store.verify("dup", "first-password") is not None
    text = " ".join(str(w) for w in store.warnings)
    assert "nopass" in text and "has no password" in text and "repeats" in text and "odd" in text


def test_the_credentials_file_adds_users_and_wins_over_secrets(tmp_path: Path) -> None:
    write_secrets(ORIGINAL_SECRETS)
    file = CredentialsFile(tmp_path / "data" / "credentials.yaml")
    file.add("alice", "alice-password", name="Alice A", email="a@example.org")
    file.add("jsmith", "new-jsmith-password")
    settings = load_settings(authentication_required=True)[0]
    store = load_auth(settings).passwords
    assert store is not None
    assert store.verify("alice", "alice-password").name == "Alice A"  # type: ignore[union-attr]
    assert store.verify("jsmith", "new-jsmith-password") is not None
    assert store.verify("jsmith", "abc-password") is None


def test_the_file_is_streamlit_authenticator_yaml_written_0600(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "creds.yaml"
    path.write_text("cookie:\n  name: c\npreauthorized: {emails: []}\n", encoding="utf-8")
    file = CredentialsFile(path)
    file.add("Bob", "bob-password", name="Bob B", email="bob@example.org")
    data = yaml.safe_load(path.read_text())
    assert data["cookie"] == {"name": "c"} and "preauthorized" in data  # other keys kept
    entry = data["credentials"]["usernames"]["bob"]
    assert entry["name"] == "Bob B" and entry["email"] == "bob@example.org"
    assert is_bcrypt_hash(entry["password"]) and "bob-password" not in path.read_text()
    assert path.stat().st_mode & 0o777 == 0o600
    file.set_password("BOB", "bob-password-2")
    assert bcrypt.checkpw(b"bob-password-2", file.users()["bob"]["password"].encode())
    file.remove("bob")
    assert file.users() == {}
    assert not list(tmp_path.glob(".credentials-*"))  # no temporary files left


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("credentials: [unclosed\n", "is not valid YAML at line"),
        ("- a list\n", "must be a YAML mapping"),
        ("credentials:\n  usernames: [a, b]\n", "must hold `usernames:`"),
        ("credentials:\n  usernames:\n    a: {name: A}\n", "must be a mapping with a `password`"),
        (
            "credentials:\n  usernames:\n    a: {password: 5}\n",
            "must be a mapping with a `password`",
        ),
    ],
)
def test_a_corrupt_file_is_one_clear_problem_and_stops_password_login(
    tmp_path: Path, text: str, expected: str
) -> None:
    write_secrets(ORIGINAL_SECRETS)
    path = tmp_path / "data" / "credentials.yaml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    before = path.read_bytes()
    setup = load_auth(load_settings(authentication_required=True)[0])
    [problem] = setup.problems
    assert problem.setting == "CREDENTIALS_FILE"
    assert expected in problem.message and str(path.relative_to(tmp_path)) in problem.message
    assert not setup.usable
    with pytest.raises(CredentialsError):
        CredentialsFile(path).add("new", "new-password")
    assert path.read_bytes() == before


def test_read_secrets_tables_prefers_the_project_file(tmp_path: Path) -> None:
    home = tmp_path / "home.toml"
    home.write_text('[cookie]\nkey = "home"\n[auth]\nredirect_uri = "x"\n', encoding="utf-8")
    project = tmp_path / "project.toml"
    project.write_text('[cookie]\nkey = "project"\n', encoding="utf-8")
    tables = read_secrets_tables((project, home))
    assert tables.cookie == {"key": "project"} and tables.sources["cookie"] == project
    assert tables.auth == {"redirect_uri": "x"} and tables.sources["auth"] == home
