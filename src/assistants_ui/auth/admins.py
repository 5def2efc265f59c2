"""Who may open the admin page: `ADMIN_USERS` and `[auth] admin_groups`.

    ADMIN_USERS=alice, ops@example.com     # login names and/or e-mail addresses

A password user is an admin when their login name or their e-mail is
listed; a single sign-on user when their verified e-mail is listed (marked
`email_verified` true, or from a provider named in `[auth]
trusted_email_providers`: `AllowList.verified_email`), or when
the ID token's groups claim (`[auth] groups_claim`, the one the allow-list
reads) names one of `[auth] admin_groups`. Guests (no login) never are.
Names are compared lower-cased.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from assistants_ui.auth.identity import Identity
from assistants_ui.auth.oidc import AllowList, OidcConfig
from assistants_ui.settings import Problem

__all__ = ["Admins", "parse_admins"]


@dataclass(frozen=True, slots=True)
class Admins:
    names: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    oidc: OidcConfig | None = None

    @property
    def anyone(self) -> bool:
        """Whether any rule could make someone an admin."""
        return bool(self.names or self.emails or (self.oidc and self.oidc.admin_groups))

    def is_admin(self, identity: Identity, claims: Mapping[str, Any] | None = None) -> bool:
        """Whether `identity` (with its ID token's `claims` for single sign-on) is an admin."""
        if identity.auth_provider == "password":
            email = (identity.email or "").lower()
            return identity.subject.lower() in self.names or bool(email and email in self.emails)
        if identity.auth_provider != "oidc" or claims is None:
            return False
        oidc = self.oidc
        allow = oidc.allow if oidc is not None else AllowList()
        verified = allow.verified_email(claims)
        if verified is not None and verified in self.emails:
            return True
        return bool(oidc and oidc.admin_groups & allow.groups_of(claims))


def parse_admins(
    raw: str | None,
    *,
    required: bool,
    oidc: OidcConfig | None = None,
    password_users: Collection[str] = (),
) -> tuple[Admins, list[Problem]]:
    """`ADMIN_USERS` split on commas, and warnings about entries that can match nobody."""
    warnings: list[Problem] = []
    entries = [e.strip().lower() for e in (raw or "").replace(";", ",").split(",")]
    entries = [e for e in entries if e]
    emails = frozenset(e for e in entries if "@" in e)
    names = frozenset(e for e in entries if "@" not in e)
    admins = Admins(names=names, emails=emails, oidc=oidc)
    if raw is not None and raw.strip() and not entries:
        warnings.append(Problem("ADMIN_USERS", f"names nobody (got {raw!r}): no one is an admin"))
    if entries and not required:
        warnings.append(
            Problem(
                "ADMIN_USERS",
                "is set but AUTHENTICATION_REQUIRED is off: nobody signs in, so nobody "
                "can open the admin page",
            )
        )
    elif names:
        known = {u.lower() for u in password_users}
        unknown = sorted(names - known)
        if unknown:
            warnings.append(
                Problem(
                    "ADMIN_USERS",
                    f"names {', '.join(unknown)}, which no password user is (single sign-on "
                    "admins are listed by e-mail or [auth] admin_groups)",
                )
            )
    return admins, warnings
