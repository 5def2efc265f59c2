"""Streamlit Community Cloud: what it installs and what it runs, checked here.

Cloud installs `requirements.txt` and runs `streamlit run streamlit_app.py` from the
repository's root, with the app's secrets as `.streamlit/secrets.toml` in the
original project's format: settings as top-level keys, `[credentials]`, `[cookie]`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import bcrypt
import pytest
from deploy_stack import free_port, healthy, wait_until
from playwright.sync_api import Browser, expect

from browser_support import send
from fakes.server import FakeOpenAI

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


def test_requirements_install_the_repository_editable_without_the_local_model() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines == ["-e ."]
    entry = (ROOT / "streamlit_app.py").read_text()
    assert "from assistants_ui.web.app import main" in entry


def test_the_entry_file_runs_with_secrets_in_the_original_format(
    browser: Browser, fake: FakeOpenAI, tmp_path: Path
) -> None:
    root = tmp_path / "repo"  # laid out like the repository's root, as Cloud checks it out
    (root / ".streamlit").mkdir(parents=True)
    shutil.copy(ROOT / "streamlit_app.py", root / "streamlit_app.py")
    shutil.copy(ROOT / ".streamlit" / "config.toml", root / ".streamlit" / "config.toml")
    hashed = bcrypt.hashpw(b"cloud-password-1", bcrypt.gensalt()).decode()
    (root / ".streamlit" / "secrets.toml").write_text(
        f"""
OPENAI_BASE_URL = "{fake.base_url}"
OPENAI_MODEL = "fake-model"
AUTHENTICATION_REQUIRED = "true"
DATABASE_URL = "sqlite:///{tmp_path / "history.db"}"

[credentials.usernames.jsmith]
name = "John Smith"
email = "jsmith@example.com"
password = "{hashed}"

[cookie]
name = "cloud_login"
key = "a-cloud-cookie-key-that-is-long-enough-0123456789"
expiry_days = 30
""",
        encoding="utf-8",
    )
    port = free_port()
    log = (tmp_path / "cloud.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true"],
        cwd=root,
        env={**os.environ, "HOME": str(tmp_path / "home")},
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    context = browser.new_context()
    try:
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            if proc.poll() is not None:
                raise RuntimeError((tmp_path / "cloud.log").read_text())
            return healthy(url)

        wait_until("streamlit_app.py serving", up, timeout=90)
        page = context.new_page()
        page.goto(url)
        page.get_by_role("textbox", name="Username").fill("jsmith")
        page.get_by_role("textbox", name="Password").fill("cloud-password-1")
        page.get_by_role("button", name="Log in", exact=True).click()
        send(page, "Hello from the cloud")
        expect(page.get_by_text("Fake answer to: Hello from the cloud")).to_be_visible(
            timeout=30_000
        )
    finally:
        context.close()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    assert (tmp_path / "history.db").exists()  # DATABASE_URL came from secrets.toml
