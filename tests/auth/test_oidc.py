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
