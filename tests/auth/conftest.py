"""Login tests: cheap bcrypt (cost 4 instead of 12), so that hashing takes no time."""

from __future__ import annotations

import pytest

from assistants_ui.auth import passwords


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)
