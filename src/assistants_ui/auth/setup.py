"""Which login methods are configured, and whether they can be used: `load_auth`.

Everything the login page and `assistants-ui check` need to know, from the
settings and the tables of `.streamlit/secrets.toml`:

- `AUTHENTICATION_REQUIRED` off (the default): nobody signs in; each browser
  gets its own anonymous identity. Configured credentials are not used (a
  note says so).
- on: password login when there are accounts (`[credentials]` and/or the
  credentials file), single sign-on when `[auth]` names providers, both at
  once if both are there.

`problems` are blocking: the page shows them and lets nobody in; `check`
fails. They are a missing, sample or short `[cookie] key` when passwords are
used, a corrupt credentials file, a broken `[auth]`, and authentication
required with no method at all (the original app silently let everyone in).
`warnings` (plain-text passwords, ignored entries) fail `check` but do not
stop the app; `notes` are information.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from assistants_ui.auth.admins import Admins, parse_admins
from assistants_ui.auth.cookies import CookieConfig, parse_cookie_table
from assistants_ui.auth.oidc import OidcConfig, parse_auth_table
from assistants_ui.auth.passwords import CredentialStore, credentials_path
from assistants_ui.auth.secrets_toml import SecretsTables, read_secrets_tables
from assistants_ui.settings import SECRETS_FILES, Problem, Settings

__all__ = ["AuthSetup", "auth_problems", "load_auth"]


@dataclass(slots=True)
class AuthSetup:
    """The login configuration of this process."""

    required: bool
    passwords: CredentialStore | None = None
    cookie: CookieConfig | None = None
    oidc: OidcConfig | None = None
    admins: Admins = field(default_factory=Admins)  # who sees the admin page
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """Whether anyone may be let in (no blocking problem)."""
        return not self.problems

    @property
    def password_login(self) -> bool:
        return self.required and self.passwords is not None and bool(self.passwords.users)

    @property
    def sso_login(self) -> bool:
        return self.required and self.oidc is not None and bool(self.oidc.providers)


def load_auth(
    settings: Settings,
    *,
    files: tuple[Path, ...] = SECRETS_FILES,
    tables: SecretsTables | None = None,
) -> AuthSetup:
    """Read and validate every login setting (hashes plain-text passwords: not free)."""
    tables = tables or read_secrets_tables(files)
    file = credentials_path(settings)
    if not settings.authentication_required:
        setup = AuthSetup(required=False)
        used = [
            label
            for label, present in (
                (f"[credentials] in {tables.source('credentials')}", tables.credentials),
                (f"[auth] in {tables.source('auth')}", tables.auth),
                (str(file), file.exists()),
            )
            if present
        ]
        if used:
            setup.notes.append(
                f"AUTHENTICATION_REQUIRED is off, so {', '.join(used)} is not used: every "
                "browser gets its own anonymous identity. Set AUTHENTICATION_REQUIRED=true "
                "to require a login."
            )
        else:
            setup.notes.append(
                "AUTHENTICATION_REQUIRED is off: no login; every browser gets its own "
                "anonymous identity (its history is kept per browser)."
            )
        setup.warnings.extend(parse_admins(settings.admin_users, required=False)[1])
        return setup

    setup = AuthSetup(required=True)
    wants_passwords = tables.credentials is not None or file.exists()
    if wants_passwords:
        cookie, cookie_problems = parse_cookie_table(tables.cookie, tables.source("cookie"))
        store = CredentialStore.load(
            secrets_credentials=tables.credentials,
            secrets_source=tables.source("credentials"),
            file=file,
            key=cookie.key if cookie else None,
        )
        setup.passwords, setup.cookie = store, cookie
        setup.problems.extend(store.problems)
        setup.warnings.extend(store.plain_text_warnings())
        setup.warnings.extend(store.warnings)
        if store.users or store.problems:
            setup.problems.extend(cookie_problems)
            setup.notes.append(f"password login: {len(store.users)} user(s)")
    oidc, oidc_problems = parse_auth_table(tables.auth, tables.source("auth"))
    setup.oidc = oidc
    setup.problems.extend(oidc_problems)
    if oidc is not None and oidc.providers:
        setup.notes.append(
            "single sign-on: " + ", ".join(p.name or "(default)" for p in oidc.providers)
        )
        trusted = sorted(oidc.allow.trusted_email)
        setup.notes.append(
            "single sign-on e-mail: an address counts for allowed_emails, allowed_domains "
            "and ADMIN_USERS only when the provider marks it verified (email_verified); "
            + (
                f"without that claim, trusted from: {', '.join(trusted)} "
                "([auth] trusted_email_providers)"
                if trusted
                else "no provider is trusted without it ([auth] trusted_email_providers)"
            )
        )
        if oidc.allow.open:
            setup.notes.append(
                "warning: single sign-on has no allow-list, so anyone the provider accepts "
                'gets in (with Google\'s "External" consent screen: any Google account). '
                "Set allowed_emails, allowed_domains or allowed_groups under [auth] "
                "(docs/authentication.md)."
            )
    setup.admins, admin_warnings = parse_admins(
        settings.admin_users,
        required=True,
        oidc=oidc,
        password_users=setup.passwords.users if setup.passwords else (),
    )
    setup.warnings.extend(admin_warnings)
    if not setup.password_login and not setup.sso_login and not setup.problems:
        setup.problems.append(
            Problem(
                "AUTHENTICATION_REQUIRED",
                "is true but no login method is configured, so nobody can sign in: add a "
                "user with `assistants-ui users add NAME` (plus a [cookie] key in "
                ".streamlit/secrets.toml), or [credentials] and [cookie] in "
                ".streamlit/secrets.toml, or an [auth] section for single sign-on "
                "(docs/authentication.md); or set AUTHENTICATION_REQUIRED=false",
            )
        )
    return setup


def auth_problems(settings: Settings) -> list[Problem]:
    """The blocking login problems (for start-up and `assistants-ui check`)."""
    return load_auth(settings).problems
