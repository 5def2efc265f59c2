"""A password login attempt, start to end: count it, check the lock, then hash.

`password_login(store, throttle, username, password)` is what the login form
calls (and what the parallel-attempts test races): the attempt is counted
and the lock checked in one transaction (`LoginThrottle.attempt`) before any
bcrypt work, so parallel guesses cannot slip past the limit, and a right
password never lifts a lock another attempt set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assistants_ui.auth.lockout import LockState, LoginThrottle
from assistants_ui.auth.passwords import CredentialStore, PasswordUser

__all__ = ["LoginResult", "password_login"]


@dataclass(frozen=True, slots=True)
class LoginResult:
    """`user`: signed in. Otherwise `checked` False means refused unchecked (locked);
    `disabled`: the right password of an account an admin disabled."""

    user: PasswordUser | None
    state: LockState
    checked: bool
    disabled: bool = False

    @property
    def locked(self) -> bool:
        return self.user is None and self.state.locked


def password_login(
    store: CredentialStore,
    throttle: LoginThrottle,
    username: str,
    password: str,
    *,
    disabled: Callable[[str], bool] | None = None,
) -> LoginResult:
    """`disabled(login name)`: whether an admin disabled the account (asked only once
    the password is right, so that it reveals nothing to someone guessing)."""
    attempt = throttle.attempt(username)
    if not attempt.allowed:
        return LoginResult(user=None, state=attempt.state, checked=False)
    user = store.verify(username, password)
    if user is not None:
        throttle.record_success(username, attempt)
        if disabled is not None and disabled(user.username):
            return LoginResult(user=None, state=attempt.state, checked=True, disabled=True)
    return LoginResult(user=user, state=attempt.state, checked=True)
