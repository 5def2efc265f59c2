"""Disabled users through AppTest: signed out at the next run, refused at the password
check, and a disabled guest browser can send nothing."""

from __future__ import annotations

import pytest
from test_login_view import errors, log_in, page, signed_in

from assistants_ui.auth import passwords
from assistants_ui.storage import Repository
from assistants_ui.storage.admin import Admin
from assistants_ui.web.login_view import DISABLED, DISABLED_GUEST
from login_support import ORIGINAL_SECRETS, write_secrets


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)


def _disable(repo: Repository, provider: str, subject: str) -> None:
    user = repo.ensure_user(auth_provider=provider, subject=subject)
    Admin(repo.db).set_disabled(actor="test", user_id=user.id, disabled=True)


def test_a_disabled_user_is_signed_out_and_cannot_sign_in(
    monkeypatch: pytest.MonkeyPatch, repo: Repository
) -> None:
    monkeypatch.setenv("AUTHENTICATION_REQUIRED", "true")
    write_secrets(ORIGINAL_SECRETS)
    at = log_in(page(), "jsmith", "abc-password")
    assert "subject=jsmith" in signed_in(at)

    _disable(repo, "password", "jsmith")
    at.run()  # their next action
    assert signed_in(at) == ""
    assert DISABLED in [i.value for i in at.info]
    at = log_in(at, "jsmith", "abc-password")
    assert signed_in(at) == "" and errors(at) == [DISABLED]
    # A wrong password says nothing about the account being disabled.
    at = log_in(at, "jsmith", "wrong")
    assert errors(at)[0].startswith("Wrong username or password")

    user = repo.find_user(auth_provider="password", subject="jsmith")
    assert user is not None
    Admin(repo.db).set_disabled(actor="test", user_id=user.id, disabled=False)
    assert "subject=jsmith" in signed_in(log_in(at, "jsmith", "abc-password"))


def test_a_disabled_guest_browser_is_told_so(repo: Repository) -> None:
    at = page()
    subject = signed_in(at).split("subject=")[1].split()[0]
    _disable(repo, "anonymous", subject)
    at.run()
    assert signed_in(at) == ""
    assert errors(at) == [DISABLED_GUEST]


@pytest.mark.parametrize("login", ["guest", "password"])
def test_each_run_asks_once_whether_its_user_is_disabled(
    monkeypatch: pytest.MonkeyPatch, repo: Repository, login: str
) -> None:
    """The check in front of the run (`guard`) asks; the run's own sign-in check takes
    its finding instead of asking the database again (a query less in every run, before
    a send's request goes out). Disabling between runs still signs out: the test above."""
    if login == "password":
        monkeypatch.setenv("AUTHENTICATION_REQUIRED", "true")
        write_secrets(ORIGINAL_SECRETS)
        at = log_in(page(), "jsmith", "abc-password")
    else:
        at = page()
    assert signed_in(at)
    asked: list[str] = []
    original = Admin.is_disabled

    def is_disabled(self: Admin, *, auth_provider: str, subject: str) -> bool:
        asked.append(subject)
        return original(self, auth_provider=auth_provider, subject=subject)

    monkeypatch.setattr(Admin, "is_disabled", is_disabled)
    at.run()
    assert signed_in(at)
    assert len(asked) == 1, asked
