"""`assistants-ui users add|passwd|remove|list|hash` and the login rows of `check`."""

from __future__ import annotations

import io
from pathlib import Path

import bcrypt
import pytest
import yaml

from assistants_ui.cli import main
from login_support import GOOD_KEY, ORIGINAL_SECRETS, write_secrets

FILE = Path("data/credentials.yaml")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    stdin: str = "",
    tty: bool = False,
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", Terminal(stdin) if tty else io.StringIO(stdin))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def users() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(FILE.read_text(encoding="utf-8"))
    found: dict[str, dict[str, str]] = data["credentials"]["usernames"]
    return found


def test_add_list_passwd_remove(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(
        capsys, monkeypatch, "users", "add", "Alice", "--name", "Alice Liddell",
        "--email", "alice@example.org", "--password-stdin", stdin="alice-password\n",
    )  # fmt: skip
    assert code == 0, err
    assert "added alice" in out
    assert "[cookie]" in err and "key = " in err  # no key yet: says how to add one
    entry = users()["alice"]
    assert entry["name"] == "Alice Liddell" and entry["email"] == "alice@example.org"
    assert bcrypt.checkpw(b"alice-password", entry["password"].encode())

    code, out, _ = run(capsys, monkeypatch, "users", "list")
    assert code == 0 and "alice" in out and "Alice Liddell" in out and "$2b$" not in out

    code, out, _ = run(
        capsys, monkeypatch, "users", "passwd", "ALICE", "--password-stdin", stdin="new-password\n"
    )
    assert code == 0 and "changed the password of alice" in out
    assert bcrypt.checkpw(b"new-password", users()["alice"]["password"].encode())

    code, out, _ = run(capsys, monkeypatch, "users", "remove", "alice")
    assert code == 0 and "removed alice" in out
    assert users() == {}


def test_prompts_twice_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["typed-password", "typed-password", "one-password", "another-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, _, err = run(capsys, monkeypatch, "users", "add", "bob", tty=True)
    assert code == 0, err
    assert bcrypt.checkpw(b"typed-password", users()["bob"]["password"].encode())
    before = FILE.read_bytes()
    code, _, err = run(capsys, monkeypatch, "users", "passwd", "bob", tty=True)
    assert code == 1 and "the two passwords differ" in err
    assert FILE.read_bytes() == before


def test_refusals_are_one_line_and_change_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, monkeypatch, "users", "add", "carol", "--password-stdin",
               stdin="carol-password\n")[0] == 0  # fmt: skip
    before = FILE.read_bytes()
    cases = [
        (("users", "add", "carol", "--password-stdin"), "x-password\n", "already exists"),
        (("users", "add", "bad name", "--password-stdin"), "x-password\n", "a login name is"),
        (("users", "add", "dave", "--password-stdin"), "short\n", "at least 8 characters"),
        (("users", "add", "dave", "--password-stdin"), "é" * 40 + "\n", "at most 72 bytes"),
        (("users", "passwd", "nobody", "--password-stdin"), "x-password\n", "no user 'nobody'"),
        (("users", "remove", "nobody"), "", "no user 'nobody'"),
        (("users", "add", "dave"), "", "use --password-stdin"),  # no terminal to ask on
    ]
    for args, stdin, words in cases:
        code, _, err = run(capsys, monkeypatch, *args, stdin=stdin)
        assert code == 1 and words in err, (args, err)
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
        assert FILE.read_bytes() == before


def test_a_corrupt_file_is_one_error_and_is_left_untouched(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    FILE.parent.mkdir()
    FILE.write_text("credentials:\n  usernames: {alice: {password: [1]\n", encoding="utf-8")
    before = FILE.read_bytes()
    for args in (
        ("users", "add", "bob", "--password-stdin"),
        ("users", "passwd", "alice", "--password-stdin"),
        ("users", "remove", "alice"),
        ("users", "list"),
    ):
        code, _, err = run(capsys, monkeypatch, *args, stdin="bob-password\n")
        assert code == 1 and "is not valid YAML" in err and str(FILE) in err, err
        assert err.count("\n") == 1
        assert FILE.read_bytes() == before


def test_passwd_for_a_secrets_user_says_where_it_lives(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_secrets(ORIGINAL_SECRETS)
    code, out, _ = run(capsys, monkeypatch, "users", "list")
    assert code == 0 and "jsmith" in out and ".streamlit/secrets.toml" in out
    code, _, err = run(
        capsys, monkeypatch, "users", "passwd", "jsmith", "--password-stdin", stdin="new-password\n"
    )
    assert code == 1 and "[credentials] of .streamlit/secrets.toml" in err
    assert not FILE.exists()


def test_hash_prints_a_hash_for_secrets_toml(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(
        capsys, monkeypatch, "users", "hash", "--password-stdin", stdin="pw-123456\n"
    )
    assert code == 0
    assert bcrypt.checkpw(b"pw-123456", out.strip().encode())


def test_check_fails_on_the_sample_key_and_on_plain_text(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTHENTICATION_REQUIRED", "true")
    write_secrets(ORIGINAL_SECRETS.replace(GOOD_KEY, "some_signature_key"))
    code, out, _ = run(capsys, monkeypatch, "check", "--offline")
    assert code == 1
    assert "FAIL  login [cookie] key" in out and "published sample key" in out
    assert "FAIL  login plain-text passwords" in out and "assistants-ui users hash" in out
    assert "abc-password" not in out

    write_secrets(f'[cookie]\nkey = "{GOOD_KEY}"\n')
    code, out, _ = run(capsys, monkeypatch, "check", "--offline")
    assert code == 1 and "FAIL  login AUTHENTICATION_REQUIRED" in out

    monkeypatch.setenv("AUTHENTICATION_REQUIRED", "false")
    code, out, _ = run(capsys, monkeypatch, "check", "--offline")
    assert "ok    login methods" in out and "anonymous" in out
    assert "FAIL  login" not in out
