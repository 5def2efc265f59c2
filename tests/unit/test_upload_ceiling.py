"""`assistants-ui run` gives Streamlit the configuration's largest upload as its ceiling
(`server.maxUploadSize`), not Streamlit's 200 MB: Streamlit holds a file's bytes before
the page checks them against the assistant's `max_upload_mb`."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistants_ui.cli import max_upload_option

CONFIG = """
[connections.server]
type = "openai"
base_url = "http://127.0.0.1:9/v1"

[[assistants]]
id = "small"
title = "Small"
backend = "chat"
connection = "server"
model = "m"
upload_types = ["txt"]
max_upload_mb = 3

[[assistants]]
id = "large"
title = "Large"
backend = "chat"
connection = "server"
model = "m"
upload_types = ["pdf"]
max_upload_mb = 40.5

[[assistants]]
id = "none"
title = "No uploads, however large"
backend = "chat"
connection = "server"
model = "m"
upload_types = []
max_upload_mb = 500
"""


def test_the_largest_limit_of_an_assistant_that_takes_files() -> None:
    Path("assistants.toml").write_text(CONFIG, encoding="utf-8")
    assert max_upload_option() == ("--server.maxUploadSize", "41")


def test_the_default_limit_without_a_configuration_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_MODEL", "m")
    monkeypatch.setenv("MAX_UPLOAD_MB", "7")
    assert max_upload_option() == ("--server.maxUploadSize", "7")


def test_a_voice_recording_fits_where_an_assistant_transcribes() -> None:
    text = CONFIG.replace('upload_types = ["pdf"]\nmax_upload_mb = 40.5', "upload_types = []")
    text += 'transcription_model = "whisper-1"\n'  # on "none", the last assistant
    Path("assistants.toml").write_text(text, encoding="utf-8")
    assert max_upload_option() == ("--server.maxUploadSize", "25")
