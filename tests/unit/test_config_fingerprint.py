"""The runtime is rebuilt when its configuration changes: `config_fingerprint` changes
with the environment, `.env` and the assistants file, and only then (it keeps the
settings it read until what they come from changes, instead of reading them on
every page run)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistants_ui.runtime import config_fingerprint


@pytest.fixture(autouse=True)
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASSISTANTS_FILE", raising=False)
    monkeypatch.delenv("OPENAI_MODEL", raising=False)
    return tmp_path


def _later(path: Path) -> None:
    """Move the file's modification time on, whatever the clock's resolution."""
    stamp = path.stat().st_mtime_ns + 10_000_000
    os.utime(path, ns=(stamp, stamp))


def test_nothing_changed_nothing_to_rebuild() -> None:
    assert config_fingerprint() == config_fingerprint()


def test_an_environment_variable_changes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    before = config_fingerprint()
    monkeypatch.setenv("OPENAI_MODEL", "another-model")
    after = config_fingerprint()
    assert after != before and "another-model" in str(after)


def test_a_written_env_file_changes_it(here: Path) -> None:
    before = config_fingerprint()
    (here / ".env").write_text("OPENAI_MODEL=from-the-file\n")
    after = config_fingerprint()
    assert after != before and "from-the-file" in str(after)
    (here / ".env").write_text("OPENAI_MODEL=edited\n")
    _later(here / ".env")
    assert "edited" in str(config_fingerprint())


def test_the_assistants_file_changes_it(here: Path) -> None:
    (here / "assistants.toml").write_text("")
    before = config_fingerprint()
    _later(here / "assistants.toml")
    assert config_fingerprint() != before


def test_the_page_keeps_its_runtime_until_the_configuration_changes(here: Path) -> None:
    """`resources.runtime`, asked by every page run: the same object while nothing
    changed (without Streamlit's cache lookup), a new one after `.env` changes."""
    from assistants_ui.web import resources

    first = resources.runtime()
    assert resources.runtime() is first
    (here / ".env").write_text("OPENAI_MODEL=from-the-file\n")
    second = resources.runtime()
    assert second is not first
    assert second.config.settings.openai_model == "from-the-file"
    assert resources.runtime() is second
