"""Helpers of the login tests: secrets.toml in the working directory, the original format."""

from __future__ import annotations

from pathlib import Path

GOOD_KEY = "k" * 8 + "-a-cookie-key-long-enough-for-the-policy"


def write_secrets(text: str) -> Path:
    """`.streamlit/secrets.toml` in the test's working directory."""
    path = Path(".streamlit/secrets.toml")
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


ORIGINAL_SECRETS = f"""
[credentials]
usernames = {{ jsmith = {{ name = "John Smith", password = "abc-password", \
email = "jsmith@gmail.com", failed_login_attempts = 0, logged_in = false }} }}

[cookie]
name = "some_cookie_name"
key = "{GOOD_KEY}"
expiry_days = 30
"""
