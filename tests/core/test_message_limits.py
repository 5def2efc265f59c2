"""Limits on one message, checked before anything is saved or sent."""

from __future__ import annotations

import pytest

from assistants_ui.core.session import check_message
from assistants_ui.settings import load_settings


def test_within_the_limits_is_fine() -> None:
    assert check_message("x" * 100, 10, max_chars=100, max_files=10) is None


def test_too_long_too_many_files_or_both_is_one_sentence() -> None:
    """The attack: one message with 100,000 files or a megabyte of text, to fill
    the memory, the database and the model's bill."""
    assert check_message("x" * 101, 0, max_chars=100, max_files=10) == (
        "Not sent: it is 101 characters long, over the limit of 100 (MAX_MESSAGE_CHARS)."
    )
    assert check_message("hi", 11, max_chars=100, max_files=10) == (
        "Not sent: it has 11 files attached, over the limit of 10 per message "
        "(MAX_FILES_PER_MESSAGE)."
    )
    both = check_message("x" * 2000, 50, max_chars=1000, max_files=10)
    assert both is not None and both.count("Not sent") == 1
    assert "2,000 characters" in both and "50 files" in both


def test_the_settings_and_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings, problems = load_settings()
    assert problems == []
    assert (settings.max_message_chars, settings.max_files_per_message) == (100_000, 10)
    assert settings.max_search_chars == 200
    monkeypatch.setenv("MAX_FILES_PER_MESSAGE", "0")
    settings, problems = load_settings()
    assert [p.setting for p in problems] == ["MAX_FILES_PER_MESSAGE"]
    assert settings.max_files_per_message == 10
