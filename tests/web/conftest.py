"""Fixtures of the page's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistants_ui.settings import load_settings
from assistants_ui.storage import Repository, open_database


@pytest.fixture
def repo() -> Iterator[Repository]:
    """The database the page opens, from the same settings (a module may have its own)."""
    db = open_database(load_settings()[0])
    try:
        yield Repository(db)
    finally:
        db.dispose()
