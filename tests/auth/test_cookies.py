"""The `[cookie]` key policy and the signed re-authentication cookie."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest

from assistants_ui.auth import load_auth
from assistants_ui.auth.cookies import (
    DEFAULT_COOKIE_NAME,
    CookieConfig,
    parse_cookie_table,
    password_fingerprint,
    suggest_key,
)
from assistants_ui.settings import load_settings
from login_support import GOOD_KEY, ORIGINAL_SECRETS, write_secrets


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (None, "is missing"),
        ({"name": "c"}, "is missing"),
        ({"key": "   "}, "is missing"),
        ({"key": 12345}, "must be a string"),
        ({"key": "some_signature_key"}, "published sample key"),
        ({"key": "some_key"}, "published sample key"),
        ({"key": "Some_Signature_Key"}, "published sample key"),
        ({"key": "x" * 31}, "too short (31 characters; at least 32)"),
    ],
)
def test_unusable_keys_are_a_problem_naming_cookie_key(
    table: dict[str, object] | None, expected: str
) -> None:
    config, problems = parse_cookie_table(table, ".streamlit/secrets.toml")
    assert config is None
    [problem] = problems
    assert problem.setting == "[cookie] key"
    assert expected in problem.message and "secrets.toml" in problem.message
    assert "token_urlsafe" in problem.message  # says how to make one


def test_a_good_table_and_defaults() -> None:
    config, problems = parse_cookie_table({"key": "y" * 32}, "s")
    assert problems == [] and config is not None
    assert config.name == DEFAULT_COOKIE_NAME and config.expiry_days == 30 and config.enabled
    assert "y" * 32 not in repr(config)
    config, problems = parse_cookie_table({"key": GOOD_KEY, "name": "a b", "expiry_days": -1}, "s")
    assert config is not None and config.name == DEFAULT_COOKIE_NAME
    assert [p.setting for p in problems] == ["[cookie] name", "[cookie] expiry_days"]
    config, _ = parse_cookie_table({"key": GOOD_KEY, "expiry_days": 0}, "s")
    assert config is not None and not config.enabled
    assert len(suggest_key()) >= 32


def test_the_original_sample_key_refuses_login() -> None:
    write_secrets(ORIGINAL_SECRETS.replace(GOOD_KEY, "some_signature_key"))
    setup = load_auth(load_settings(authentication_required=True)[0])
    assert not setup.usable
    assert [p.setting for p in setup.problems] == ["[cookie] key"]


def test_token_round_trip_and_streamlit_authenticator_claims() -> None:
    config = CookieConfig(name="c", key=GOOD_KEY, expiry_days=30)
    token = config.issue(username="jsmith", fingerprint="fp", session_id="s1")
    claims = config.read(token)
    assert claims is not None and claims.username == "jsmith" and claims.fingerprint == "fp"
    assert claims.session_id == "s1"
    assert claims.expires_at > dt.datetime.now(dt.UTC) + dt.timedelta(days=29)
    # What streamlit-authenticator's CookieModel decodes and checks:
    raw = jwt.decode(token, GOOD_KEY, algorithms=["HS256"])
    assert raw["username"] == "jsmith"
    assert raw["exp_date"] > dt.datetime.now().timestamp()


def test_forged_expired_or_foreign_tokens_are_refused() -> None:
    config = CookieConfig(name="c", key=GOOD_KEY, expiry_days=30)
    other = CookieConfig(name="c", key="z" * 40, expiry_days=30)
    assert config.read(other.issue(username="jsmith", fingerprint="fp", session_id="s1")) is None
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=31)
    old = config.issue(username="jsmith", fingerprint="fp", session_id="s1", now=long_ago)
    assert config.read(old) is None
    token = config.issue(username="jsmith", fingerprint="fp", session_id="s1")
    head, body, sig = token.split(".")
    assert config.read(f"{head}.{body}x.{sig}") is None
    unsigned = jwt.encode({"username": "jsmith", "exp": 2**40, "pwd": "fp"}, "", algorithm="none")
    assert config.read(unsigned) is None
    # streamlit-authenticator's own cookies (no fingerprint) are not enough.
    legacy = jwt.encode({"username": "jsmith", "exp_date": 2e9}, GOOD_KEY, algorithm="HS256")
    assert config.read(legacy) is None
    # Cookies from before server-side sessions (no session id) end too.
    no_sid = jwt.encode({"username": "jsmith", "exp": 2**40, "pwd": "fp"}, GOOD_KEY, "HS256")
    assert config.read(no_sid) is None
    assert config.read("") is None and config.read(None) is None and config.read("a" * 5000) is None


def test_the_fingerprint_changes_with_the_password_and_the_key() -> None:
    a = password_fingerprint(GOOD_KEY, "jsmith", "$2b$12$one")
    assert a == password_fingerprint(GOOD_KEY, "jsmith", "$2b$12$one")
    assert a != password_fingerprint(GOOD_KEY, "jsmith", "$2b$12$two")
    assert a != password_fingerprint("q" * 40, "jsmith", "$2b$12$one")
    assert "one" not in a
