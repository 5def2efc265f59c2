"""`[auth]` validation: what st.login would trip over, said at start-up instead."""

from __future__ import annotations

from typing import Any

import pytest

from assistants_ui.auth.oidc import parse_auth_table

SECRET = "an-oidc-cookie-secret-long-enough-0123456789"
PROVIDER = {
    "client_id": "id",
    "client_secret": "s",
    "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration",
}


def base(**extra: Any) -> dict[str, Any]:
    return {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": SECRET,
        **extra,
    }


def test_absent_is_none() -> None:
    assert parse_auth_table(None, "s") == (None, [])


def test_an_unnamed_provider_in_auth_itself() -> None:
    google = {**PROVIDER, "server_metadata_url": "https://accounts.google.com/.well-known/x"}
    config, problems = parse_auth_table(base(**google), "s")
    assert problems == [] and config is not None
    assert [(p.name, p.label) for p in config.providers] == [(None, "Google")]


@pytest.mark.parametrize(
    ("table", "setting", "words"),
    [
        ({"cookie_secret": SECRET, "google": PROVIDER}, "[auth] redirect_uri", "is missing"),
        (
            base(redirect_uri="http://localhost:8501/", google=PROVIDER),
            "[auth] redirect_uri",
            "/oauth2callback",
        ),
        (
            base(redirect_uri="localhost/oauth2callback", google=PROVIDER),
            "[auth] redirect_uri",
            "absolute",
        ),
        (base(cookie_secret=None, google=PROVIDER), "[auth] cookie_secret", "is missing"),
        (base(cookie_secret="xxx", google=PROVIDER), "[auth] cookie_secret", "sample"),
        (base(cookie_secret="short-secret", google=PROVIDER), "[auth] cookie_secret", "too short"),
        (base(google={"client_id": "id"}), "[auth.google]", "client_secret, server_metadata_url"),
        (
            base(google={**PROVIDER, "server_metadata_url": "idp/x"}),
            "[auth.google] server_metadata_url",
            "absolute",
        ),
        (base(my_idp=PROVIDER), "[auth.my_idp]", "'_'"),
        (base(), "[auth]", "names no provider"),
    ],
)
def test_mistakes_are_problems(table: dict[str, Any], setting: str, words: str) -> None:
    if table.get("cookie_secret") is None:
        table.pop("cookie_secret", None)
    _, problems = parse_auth_table(table, ".streamlit/secrets.toml")
    assert setting in [p.setting for p in problems], problems
    message = next(p.message for p in problems if p.setting == setting)
    assert words in message


def test_labels_of_known_providers() -> None:
    table = base(microsoft=PROVIDER, okta=PROVIDER, auth0=PROVIDER, entra=PROVIDER)
    config, problems = parse_auth_table(table, "s")
    assert problems == [] and config is not None
    assert [p.label for p in config.providers] == [
        "Microsoft",
        "Okta",
        "Auth0",
        "Microsoft Entra ID",
    ]


# -- the allow-list -----------------------------------------------------------------------


def allow(**rules: Any) -> Any:
    config, problems = parse_auth_table(base(google=PROVIDER, **rules), "s")
    assert problems == [] and config is not None
    return config.allow


def test_without_rules_everyone_the_provider_accepts_gets_in() -> None:
    rules = allow()
    assert rules.open and rules.refusal({"sub": "x", "email": "anyone@gmail.com"}) is None


def test_emails_domains_and_groups() -> None:
    """The attack: Google's "External" consent screen lets any Google account sign
    in; without an allow-list every stranger got an account and the assistants."""
    rules = allow(
        allowed_emails=["Ana@Partner.org"],
        allowed_domains=["example.com", "@corp.example"],
        allowed_groups=["chat-users"],
    )
    assert not rules.open
    ok = [
        {"email": "ana@partner.org", "email_verified": True},
        {"email": "ANA@partner.org", "email_verified": "true"},
        {"email": "bob@example.com", "email_verified": True},
        {"email": "carol@corp.example", "email_verified": True},
        {"email": "stranger@gmail.com", "groups": ["staff", "chat-users"]},
        {"groups": "chat-users"},
    ]
    for claims in ok:
        assert rules.refusal(claims) is None, claims
    refused = [
        {"email": "stranger@gmail.com", "email_verified": True},
        {"email": "ben@partner.org", "email_verified": True},  # another at an allowed domain
        {"email": "bob@sub.example.com", "email_verified": True},  # another domain
        {"email": "bob@example.com.evil.io", "email_verified": True},
        {"email": "bob@example.com", "email_verified": False},  # an unverified claim
        {"email": "bob@example.com"},  # no claim at all: nothing says it was verified
        {"email": "stranger@gmail.com", "groups": ["staff"]},
        {"sub": "no-email"},
    ]
    for claims in refused:
        refusal = rules.refusal(claims)
        assert refusal is not None, claims
        assert refusal.email == str(claims.get("email", "")).lower(), claims
        assert "is not on the allow-list" in refusal.log
    # The sentence the person reads is the page's (web/login_view._refused).


def test_a_custom_groups_claim() -> None:
    rules = allow(allowed_groups=["admins"], groups_claim="roles")
    assert rules.refusal({"roles": ["admins"]}) is None
    assert rules.refusal({"groups": ["admins"]}) is not None


@pytest.mark.parametrize(
    ("rules", "setting"),
    [
        ({"allowed_emails": "not-an-address"}, "[auth] allowed_emails"),
        ({"allowed_domains": [1, 2]}, "[auth] allowed_domains"),
        ({"allowed_groups": {"a": 1}}, "[auth] allowed_groups"),
        ({"groups_claim": ""}, "[auth] groups_claim"),
    ],
)
def test_allow_list_mistakes_are_problems(rules: dict[str, Any], setting: str) -> None:
    _, problems = parse_auth_table(base(google=PROVIDER, **rules), "s")
    assert [p.setting for p in problems] == [setting]


def test_an_e_mail_the_provider_did_not_say_it_verified_matches_nothing() -> None:
    """The attack: a provider that omits `email_verified` (Microsoft Entra ID does; an
    account's e-mail there can be any address its owner typed) was taken as verified:
    someone who set their e-mail to an allowed address got in (and, on ADMIN_USERS,
    became an admin). Now it counts only if the operator trusts that provider."""
    claims = {"provider": "google", "email": "ana@partner.org"}
    strict = allow(allowed_emails=["ana@partner.org"], allowed_domains=["partner.org"])
    assert strict.verified_email(claims) is None
    assert strict.refusal(claims) is not None
    trusting = allow(allowed_emails=["ana@partner.org"], trusted_email_providers=["google"])
    assert trusting.refusal(claims) is None
    # Trust covers a missing claim, never a provider saying "not verified"...
    assert trusting.refusal({**claims, "email_verified": False}) is not None
    assert trusting.refusal({**claims, "email_verified": "false"}) is not None
    # ...and only the provider named.
    assert trusting.refusal({**claims, "provider": "okta"}) is not None


def test_trusted_email_providers_must_name_configured_providers() -> None:
    table = base(google=PROVIDER, trusted_email_providers=["google", "entra"])
    config, problems = parse_auth_table(table, "s")
    assert config is not None and config.allow.trusted_email == {"google"}
    assert [(p.setting, "entra" in p.message) for p in problems] == [
        ("[auth] trusted_email_providers", True)
    ]
    unnamed, problems = parse_auth_table(base(**PROVIDER, trusted_email_providers="default"), "s")
    assert problems == [] and unnamed is not None and unnamed.allow.trusted_email == {"default"}
    _, problems = parse_auth_table(base(google=PROVIDER, trusted_email_providers=[1]), "s")
    assert [p.setting for p in problems] == ["[auth] trusted_email_providers"]
