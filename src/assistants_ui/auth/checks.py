"""`assistants-ui check` rows for the login: blocking problems and warnings fail,
notes (what is configured) pass. Logs nothing: `check` prints, the page logs."""

from __future__ import annotations

from assistants_ui.auth.setup import load_auth
from assistants_ui.checks import Check
from assistants_ui.settings import Settings

__all__ = ["auth_checks"]


def auth_checks(settings: Settings) -> list[Check]:
    setup = load_auth(settings)
    rows = [Check("login", p.setting, False, p.message) for p in setup.problems]
    rows += [Check("login", p.setting, False, p.message) for p in setup.warnings]
    rows += [Check("login", "methods", True, note) for note in setup.notes]
    return rows
