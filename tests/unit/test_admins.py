"""Who is an admin: ADMIN_USERS names and e-mails, [auth] admin_groups, never a guest."""

from __future__ import annotations

from assistants_ui.auth.admins import parse_admins
from assistants_ui.auth.identity import Identity
from assistants_ui.auth.oidc import parse_auth_table

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-long-random-secret-of-at-least-32-chars",
    "client_id": "id",
    "client_secret": "secret",
    "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
    "groups_claim": "roles",
    "admin_groups": ["chat-admins"],
}


def test_password_users_by_login_name_or_email() -> None:
    admins, warnings = parse_admins(
        " Alice , ops@Example.com;", required=True, password_users=["alice", "bob"]
    )
    assert warnings == []
    assert admins.is_admin(Identity("password", "alice"))
    assert admins.is_admin(Identity("password", "bob", email="OPS@example.com"))
    assert not admins.is_admin(Identity("password", "bob", email="bob@example.com"))
    assert not admins.is_admin(Identity("anonymous", "alice"))


def test_single_sign_on_by_verified_email_or_admin_group() -> None:
    oidc, problems = parse_auth_table(AUTH, "secrets.toml")
    assert problems == [] and oidc is not None
    admins, _ = parse_admins("ops@example.com", required=True, oidc=oidc)
    who = Identity("oidc", "iss|1", email="ops@example.com")
    assert admins.is_admin(who, {"email": "ops@example.com", "email_verified": True})
    assert not admins.is_admin(who, {"email": "ops@example.com", "email_verified": False})
    # The attack: a provider that does not say whether the address is verified.
    assert not admins.is_admin(who, {"email": "ops@example.com"})
    assert not admins.is_admin(who, None)
    other = Identity("oidc", "iss|2")
    assert admins.is_admin(other, {"roles": ["users", "chat-admins"]})
    assert admins.is_admin(other, {"roles": "chat-admins"})
    assert not admins.is_admin(other, {"groups": ["chat-admins"]})  # not the configured claim
    # A password user named like a group, or an SSO user named like a login, is not.
    assert not admins.is_admin(Identity("password", "chat-admins"))


def test_an_admin_list_naming_nobody_is_one_clear_warning() -> None:
    admins, warnings = parse_admins(" , ;", required=True)
    assert not admins.anyone
    assert [(w.setting, "names nobody" in w.message) for w in warnings] == [("ADMIN_USERS", True)]
    _, warnings = parse_admins("zed", required=True, password_users=["alice"])
    assert "names zed, which no password user is" in warnings[0].message
    _, warnings = parse_admins("alice", required=False)
    assert "AUTHENTICATION_REQUIRED is off" in warnings[0].message
    assert parse_admins(None, required=True) == (parse_admins("", required=True)[0], [])


def test_admin_groups_must_be_names() -> None:
    _, problems = parse_auth_table({**AUTH, "admin_groups": [""]}, "secrets.toml")
    assert [p.setting for p in problems] == ["[auth] admin_groups"]


def test_an_admin_by_e_mail_from_a_provider_trusted_for_e_mail() -> None:
    oidc, problems = parse_auth_table({**AUTH, "trusted_email_providers": ["default"]}, "s")
    assert problems == [] and oidc is not None
    admins, _ = parse_admins("ops@example.com", required=True, oidc=oidc)
    who = Identity("oidc", "iss|1", email="ops@example.com")
    assert admins.is_admin(who, {"email": "ops@example.com"})  # the unnamed provider
    assert not admins.is_admin(who, {"email": "ops@example.com", "provider": "other"})
    assert not admins.is_admin(who, {"email": "ops@example.com", "email_verified": False})
