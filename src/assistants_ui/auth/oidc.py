"""Single sign-on with OpenID Connect: validate `[auth]` for Streamlit's `st.login`.

Streamlit does the protocol (Authlib, PKCE, its own signed identity cookie);
this module only checks the configuration up front, so a mistake is one
clear `Problem` at start-up instead of an exception when someone clicks
"Log in", and lists the providers the login page offers.

    [auth]
    redirect_uri = "https://chat.example.com/oauth2callback"
    cookie_secret = "<at least 32 random characters>"

    [auth.google]                      # one table per provider: st.login("google")
    client_id = "..."
    client_secret = "..."
    server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"

`client_id`, `client_secret` and `server_metadata_url` directly in `[auth]`
make a single unnamed provider (`st.login()`). docs/authentication.md has
Google, Microsoft Entra, Okta, Auth0 and Keycloak.

Who may get in, whatever the provider accepts (`AllowList`), also in `[auth]`:

    allowed_emails = ["ana@example.com"]      # exact addresses (verified e-mail)
    allowed_domains = ["example.com"]         # anyone whose verified e-mail is @example.com
    allowed_groups = ["chat-users"]           # any of these in the ID token's groups claim
    groups_claim = "groups"                   # the claim's name (default "groups")
    admin_groups = ["chat-admins"]            # these see the admin page (auth.admins)
    trusted_email_providers = ["entra"]       # e-mail counts without email_verified

Anyone matching one rule gets in. With none of them, everyone the provider
signs in does, and `assistants-ui check` says so.

An e-mail address counts (for `allowed_emails`, `allowed_domains` and
`ADMIN_USERS`) only when the ID token says it is verified (`email_verified`
true). Some providers never send that claim (Microsoft Entra ID among them,
where an account's e-mail can be any address its owner typed): their
addresses count only if the operator names the provider in
`trusted_email_providers` (the unnamed provider is "default"). An address
the provider marks unverified (`false`) never counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlparse

from assistants_ui.auth.cookies import MIN_KEY_LENGTH, SAMPLE_KEYS
from assistants_ui.settings import Problem

__all__ = ["AllowList", "OidcConfig", "OidcProvider", "Refusal", "parse_auth_table"]

PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
ALLOW_KEYS = ("allowed_emails", "allowed_domains", "allowed_groups")
SHARED_KEYS = frozenset(
    {
        "redirect_uri",
        "cookie_secret",
        "expose_tokens",
        "client_kwargs",
        "groups_claim",
        "admin_groups",
        "trusted_email_providers",
        *ALLOW_KEYS,
    }
)
_LABELS = {
    "google": "Google",
    "microsoft": "Microsoft",
    "entra": "Microsoft Entra ID",
    "azure": "Microsoft Entra ID",
    "okta": "Okta",
    "auth0": "Auth0",
    "keycloak": "Keycloak",
    "github": "GitHub",
    "gitlab": "GitLab",
}
_HOSTS = {
    "accounts.google.com": "Google",
    "login.microsoftonline.com": "Microsoft",
}


@dataclass(frozen=True, slots=True)
class OidcProvider:
    """A button on the login page. `name` None: the unnamed provider, `st.login()`."""

    name: str | None
    label: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a signed-in person is not let in: `email` (the address they signed in with,
    "" if none) for the page's sentence to them, `log` for the operator."""

    email: str
    log: str


@dataclass(frozen=True, slots=True)
class AllowList:
    """Who may get in after the provider signed them in. Empty: everyone."""

    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    groups_claim: str = "groups"
    # Providers whose e-mail claim counts without `email_verified` ("default": unnamed).
    trusted_email: frozenset[str] = frozenset()

    @property
    def open(self) -> bool:
        return not (self.emails or self.domains or self.groups)

    def verified_email(self, claims: Mapping[str, Any]) -> str | None:
        """The ID token's e-mail, lower-cased, if it proves anything: marked verified
        (`email_verified` true), or from a provider the operator trusts for e-mail and
        not marked unverified. Else None (then no e-mail rule matches)."""
        email = claims.get("email")
        if not isinstance(email, str) or not email.strip():
            return None
        flag = claims.get("email_verified")
        if isinstance(flag, str):
            flag = {"true": True, "false": False}.get(flag.strip().lower())
        provider = str(claims.get("provider") or "default")
        if flag is True or (flag is None and provider in self.trusted_email):
            return email.strip().lower()
        return None

    def groups_of(self, claims: Mapping[str, Any]) -> frozenset[str]:
        """The groups the ID token's groups claim names (none if absent or malformed)."""
        found = claims.get(self.groups_claim)
        if isinstance(found, str):
            found = [found]
        return frozenset(str(g) for g in found) if isinstance(found, list | tuple) else frozenset()

    def refusal(self, claims: Mapping[str, Any]) -> Refusal | None:
        """None if the ID token's claims match a rule (or there are none)."""
        if self.open:
            return None
        claimed = claims.get("email")
        email = claimed.strip().lower() if isinstance(claimed, str) else ""
        # An address the provider has not said it verified proves nothing.
        proven = self.verified_email(claims)
        if proven and (proven in self.emails or proven.rpartition("@")[2] in self.domains):
            return None
        if self.groups & self.groups_of(claims):
            return None
        verified = proven is not None or not email
        who = email or "this account"
        return Refusal(
            email=email,
            log=(
                f"{who} is not on the allow-list ([auth] allowed_emails, allowed_domains, "
                f"allowed_groups){'' if verified else ' (e-mail not verified by the provider)'}"
            ),
        )


@dataclass(frozen=True, slots=True)
class OidcConfig:
    providers: tuple[OidcProvider, ...]
    allow: AllowList = AllowList()
    # `[auth] admin_groups`: members (by the same groups claim) see the admin page.
    admin_groups: frozenset[str] = frozenset()


def _label(name: str | None, metadata_url: object) -> str:
    if name is not None:
        return _LABELS.get(name.lower(), name.replace("-", " ").title())
    host = urlparse(metadata_url).hostname if isinstance(metadata_url, str) else None
    return _HOSTS.get(host or "", "single sign-on")


def _is_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _provider_problems(where: str, section: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    missing = [k for k in PROVIDER_KEYS if not section.get(k)]
    if missing:
        problems.append(Problem(where, f"is missing {', '.join(missing)}"))
    for key in ("client_id", "client_secret"):
        if key in section and not isinstance(section[key], str):
            problems.append(Problem(f"{where} {key}", "must be a string"))
    url = section.get("server_metadata_url")
    if url and not _is_url(url):
        problems.append(
            Problem(
                f"{where} server_metadata_url",
                "must be an absolute http(s) URL, usually ending in "
                f"/.well-known/openid-configuration (got {url!r})",
            )
        )
    kwargs = section.get("client_kwargs")
    if kwargs is not None and not isinstance(kwargs, Mapping):
        problems.append(Problem(f"{where} client_kwargs", "must be a table"))
    return problems


def _secret_problem(secret: object, source: str) -> Problem | None:
    hint = (
        f"set `cookie_secret` under [auth] in {source} to at least {MIN_KEY_LENGTH} random "
        "characters (it signs Streamlit's identity cookie)"
    )
    if not isinstance(secret, str) or not secret.strip():
        return Problem("[auth] cookie_secret", f"is missing: {hint}")
    if secret.strip().lower() in SAMPLE_KEYS or set(secret) <= {"x"}:
        return Problem("[auth] cookie_secret", f"is a sample value: {hint}")
    if len(secret) < MIN_KEY_LENGTH:
        return Problem("[auth] cookie_secret", f"is too short ({len(secret)} characters): {hint}")
    return None


def parse_auth_table(
    table: Mapping[str, Any] | None, source: str
) -> tuple[OidcConfig | None, list[Problem]]:
    """Validate `[auth]`; None when it is absent or holds no provider."""
    if not table:
        return None, []
    problems: list[Problem] = []
    redirect = table.get("redirect_uri")
    if not isinstance(redirect, str) or not redirect:
        problems.append(
            Problem(
                "[auth] redirect_uri",
                f"is missing in {source}: the app's address followed by /oauth2callback, "
                "e.g. http://localhost:8501/oauth2callback, registered with the provider",
            )
        )
    elif not _is_url(redirect.replace("{port}", "8501")) or not redirect.rstrip("/").endswith(
        "/oauth2callback"
    ):
        problems.append(
            Problem(
                "[auth] redirect_uri",
                f"must be an absolute http(s) URL ending in /oauth2callback (got {redirect!r})",
            )
        )
    secret = _secret_problem(table.get("cookie_secret"), source)
    if secret is not None:
        problems.append(secret)

    providers: list[OidcProvider] = []
    if any(table.get(k) for k in PROVIDER_KEYS):
        problems.extend(_provider_problems("[auth]", table))
        providers.append(OidcProvider(None, _label(None, table.get("server_metadata_url"))))
    for name, section in table.items():
        if name in SHARED_KEYS or name in PROVIDER_KEYS:
            continue
        if not isinstance(section, Mapping):
            continue  # another shared setting Streamlit may add later
        where = f"[auth.{name}]"
        if "_" in name:
            problems.append(
                Problem(where, "provider names cannot contain '_' (Streamlit's rule); use '-'")
            )
            continue
        problems.extend(_provider_problems(where, section))
        providers.append(OidcProvider(name, _label(name, section.get("server_metadata_url"))))
    allow, allow_problems = _allow_list(table)
    problems.extend(allow_problems)
    if not providers:
        problems.append(
            Problem(
                "[auth]",
                f"in {source} names no provider: add an [auth.<name>] table with client_id, "
                "client_secret and server_metadata_url (docs/authentication.md)",
            )
        )
    admin_groups = table.get("admin_groups", [])
    if isinstance(admin_groups, str):
        admin_groups = [admin_groups]
    if not isinstance(admin_groups, list) or not all(
        isinstance(g, str) and g.strip() for g in admin_groups
    ):
        problems.append(
            Problem("[auth] admin_groups", f"must be a list of group names (got {admin_groups!r})")
        )
        admin_groups = []
    groups = frozenset(g.strip() for g in admin_groups)
    trusted, trusted_problems = _trusted_email(table, providers)
    problems.extend(trusted_problems)
    allow = replace(allow, trusted_email=trusted)
    return OidcConfig(providers=tuple(providers), allow=allow, admin_groups=groups), problems


def _trusted_email(
    table: Mapping[str, Any], providers: list[OidcProvider]
) -> tuple[frozenset[str], list[Problem]]:
    """`[auth] trusted_email_providers`: names of configured providers ("default": the
    unnamed one) whose e-mail counts without `email_verified`."""
    raw = table.get("trusted_email_providers", [])
    if isinstance(raw, str):
        raw = [raw]
    setting = "[auth] trusted_email_providers"
    if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
        return frozenset(), [Problem(setting, f"must be a list of provider names (got {raw!r})")]
    names = {p.name or "default" for p in providers}
    wanted = frozenset(v.strip() for v in raw)
    unknown = sorted(wanted - names)
    if unknown:
        known = ", ".join(sorted(names)) or "none"
        problem = Problem(
            setting, f"names {', '.join(unknown)}, which is no provider here (these are: {known})"
        )
        return wanted & names, [problem]
    return wanted, []


def _allow_list(table: Mapping[str, Any]) -> tuple[AllowList, list[Problem]]:
    problems: list[Problem] = []
    values: dict[str, frozenset[str]] = {}
    for key in ALLOW_KEYS:
        raw = table.get(key, [])
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
            problems.append(
                Problem(f"[auth] {key}", f"must be a list of non-empty strings (got {raw!r})")
            )
            raw = []
        values[key] = frozenset(
            v.strip().lower() if key != "allowed_groups" else v.strip() for v in raw
        )
    for email in values["allowed_emails"]:
        if "@" not in email:
            problems.append(Problem("[auth] allowed_emails", f"{email!r} is not an e-mail address"))
    domains = frozenset(d.lstrip("@") for d in values["allowed_domains"])
    claim = table.get("groups_claim", "groups")
    if not isinstance(claim, str) or not claim.strip():
        problems.append(Problem("[auth] groups_claim", f"must be a claim name (got {claim!r})"))
        claim = "groups"
    allow = AllowList(
        emails=values["allowed_emails"],
        domains=domains,
        groups=values["allowed_groups"],
        groups_claim=claim.strip(),
    )
    return allow, problems
