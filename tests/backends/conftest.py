"""Fixtures of the backends' tests that keep documents: the app's database on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistants_ui.storage import Database, open_url


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_url(f"sqlite:///{tmp_path / 'history.db'}")
    yield database
    database.dispose()
