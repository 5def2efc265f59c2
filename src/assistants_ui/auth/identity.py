"""Who is using the app: an `Identity`, whatever method proved it.

The page turns an identity into a stored user with
`Repository.ensure_user(auth_provider=..., subject=..., display_name=..., email=...)`;
`auth_provider` + `subject` is the user's permanent key, so each method builds
it from something stable:

- ``password``: the login name, lower-cased (``jsmith``);
- ``oidc``: the ID token's issuer and subject, ``"<iss>|<sub>"`` (a ``sub`` is
  only unique per issuer; renaming a provider section in secrets.toml keeps
  the history);
- ``anonymous``: the random token of a browser's long-lived cookie.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

__all__ = ["AuthProvider", "Identity", "oidc_subject"]

AuthProvider = Literal["password", "oidc", "anonymous"]

SUBJECT_MAX = 255  # users.subject


@dataclass(frozen=True, slots=True)
class Identity:
    """A signed-in person (or an anonymous browser). Hashable, comparable."""

    auth_provider: AuthProvider
    subject: str
    display_name: str = ""
    email: str | None = None

    def __post_init__(self) -> None:
        if not self.subject or len(self.subject) > SUBJECT_MAX:
            raise ValueError(f"subject must be 1..{SUBJECT_MAX} characters")

    @property
    def label(self) -> str:
        """What the page shows for this person."""
        if self.auth_provider == "anonymous":
            return "Guest (this browser)"
        return self.display_name or self.email or self.subject


def oidc_subject(issuer: str, sub: str) -> str:
    """The permanent subject of an OpenID Connect user: ``"<iss>|<sub>"``.

    Too long for the column (rare: both are usually short), it becomes a
    SHA-256 of the same text, which is just as stable.
    """
    if not sub:
        raise ValueError("an ID token without 'sub'")
    subject = f"{issuer}|{sub}"
    if len(subject) > SUBJECT_MAX:
        subject = "sha256:" + hashlib.sha256(subject.encode()).hexdigest()
    return subject
