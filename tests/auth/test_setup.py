"""Which methods are configured, and what refuses start-up (`auth_problems`)."""

from __future__ import annotations

from assistants_ui.auth import auth_problems, load_auth
from assistants_ui.auth.passwords import CredentialsFile, hash_password
from assistants_ui.settings import load_settings
from login_support import GOOD_KEY, ORIGINAL_SECRETS, write_secrets

AUTH = """
[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "an-oidc-cookie-secret-long-enough-0123456789"

[auth.google]
client_id = "id.apps.googleusercontent.com"
client_secret = "s"
server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"

[auth.keycloak]
client_id = "assistants"
client_secret = "s"
server_metadata_url = "https://sso.example.org/realms/staff/.well-known/openid-configuration"
client_kwargs = { prompt = "login" }
"""


def settings(required: bool = True):  # type: ignore[no-untyped-def]
    return load_settings(authentication_required=required)[0]


def test_required_with_nothing_configured_refuses_with_a_clear_problem() -> None:
    [problem] = auth_problems(settings())
    assert problem.setting == "AUTHENTICATION_REQUIRED"
    assert "no login method is configured" in problem.message
    assert "assistants-ui users add" in problem.message and "[auth]" in problem.message


def test_required_with_an_empty_credentials_table_is_still_nothing() -> None:
    write_secrets(f'[credentials]\nusernames = {{}}\n[cookie]\nkey = "{GOOD_KEY}"\n')
    assert [p.setting for p in auth_problems(settings())] == ["AUTHENTICATION_REQUIRED"]


def test_off_means_anonymous_and_configured_logins_are_only_noted() -> None:
    write_secrets(ORIGINAL_SECRETS.replace(GOOD_KEY, "some_signature_key"))
    setup = load_auth(settings(required=False))
    assert setup.problems == [] and setup.usable and not setup.required
    assert not setup.password_login and not setup.sso_login
    assert "AUTHENTICATION_REQUIRED is off" in setup.notes[0] and "[credentials]" in setup.notes[0]


def test_passwords_with_a_good_key() -> None:
    write_secrets(ORIGINAL_SECRETS)
    setup = load_auth(settings())
    assert setup.usable and setup.password_login and not setup.sso_login
    assert setup.cookie is not None and setup.cookie.name == "some_cookie_name"


def test_only_the_credentials_file_needs_the_cookie_key_too() -> None:
    CredentialsFile(settings().data_dir / "credentials.yaml").add("alice", "alice-password")
    assert [p.setting for p in auth_problems(settings())] == ["[cookie] key"]
    write_secrets(f'[cookie]\nkey = "{GOOD_KEY}"\n')
    setup = load_auth(settings())
    assert setup.problems == [] and setup.password_login and setup.warnings == []


def test_credentials_file_setting_moves_the_file() -> None:
    write_secrets(f'[cookie]\nkey = "{GOOD_KEY}"\n')
    CredentialsFile(settings().data_dir / "elsewhere.yaml").add("alice", "alice-password")
    assert [p.setting for p in auth_problems(settings())] == ["AUTHENTICATION_REQUIRED"]
    moved = load_settings(authentication_required=True, credentials_file="data/elsewhere.yaml")[0]
    assert load_auth(moved).password_login


def test_sso_only_and_both_at_once() -> None:
    write_secrets(AUTH)
    setup = load_auth(settings())
    assert setup.problems == [] and setup.sso_login and not setup.password_login
    assert setup.oidc is not None
    assert [(p.name, p.label) for p in setup.oidc.providers] == [
        ("google", "Google"),
        ("keycloak", "Keycloak"),
    ]
    hashed = hash_password("jsmith-password")
    write_secrets(
        AUTH
        + f'[credentials.usernames.jsmith]\npassword = "{hashed}"\n[cookie]\nkey = "{GOOD_KEY}"\n'
    )
    setup = load_auth(settings())
    assert setup.problems == [] and setup.sso_login and setup.password_login
    assert setup.warnings == []  # a hash is not plain text


def test_check_warns_when_single_sign_on_has_no_allow_list() -> None:
    write_secrets(AUTH)
    [warning] = [n for n in load_auth(settings()).notes if "allow-list" in n]
    assert "anyone the provider accepts gets in" in warning and "External" in warning
    write_secrets(AUTH.replace("[auth.google]", 'allowed_domains = ["example.com"]\n[auth.google]'))
    setup = load_auth(settings())
    assert setup.problems == [] and not any("allow-list" in n for n in setup.notes)
